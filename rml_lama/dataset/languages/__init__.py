"""Language rules, one module per family of rules, shared by query generation (`rml_lama.dataset.morphology`,
`rml_lama.dataset.generate`) and by the validator's checks (`rml_lama.checks`), so that both read a text the
same way: punctuation, chinese (script), korean (particles), hungarian (suffixes, articles), finnish (generated
genitives, colon endings), french (articles, elision, contractions), english (the, a/an), german (noun case).
No torch, no pandas: pure functions over strings and the curated lexicons in data/curated."""
