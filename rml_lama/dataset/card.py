"""The dataset card (the release's README.md): YAML configs for `datasets` and the Hub, and a body whose
statistics are computed from the release's rows."""
from __future__ import annotations

import pandas as pd
from huggingface_hub import DatasetCardData

from ..schema import (
    ALL_CONFIG,
    ARROW_TYPES,
    FIELD_DESCRIPTIONS,
    FIELDS,
    LANGUAGES,
    RELATIONS,
    SPLITS,
    TEMPLATE_SOURCES,
    F,
)

CITATION = """\
@article{cao2024onemind,
  title   = {One Mind, Many Tongues: A Deep Dive into Language-Agnostic Knowledge Neurons in Large Language Models},
  author  = {Cao, Pengfei and Chen, Yuheng and Jin, Zhuoran and Chen, Yubo and Liu, Kang and Zhao, Jun},
  journal = {arXiv preprint arXiv:2411.17401},
  year    = {2024}
}"""

SOURCES_TEXT = """\
| source | what RML-LAMA takes from it | licence |
|---|---|---|
| mLAMA 1.1 (Kassner, Dufter & Schütze, EACL 2021), T-REx part of LAMA (Petroni et al., 2019) | facts (Wikidata ids and labels per language), one template per relation | CC BY-NC 4.0 |
| mParaRel (Fierro & Søgaard, Findings of ACL 2022) | paraphrase templates per language; Simplified-Chinese labels | no licence stated; derived from ParaRel (MIT) and mLAMA (CC BY-NC 4.0), used under CC BY-NC 4.0 |
| ParaRel (Elazar et al., TACL 2021) | English paraphrase patterns and their metadata | MIT |
| Query-localization templates (Chen et al., 2024, arXiv 2405.14117) | paraphrase templates aligned across en fr fi hu ja ko | CC BY 4.0 |
| reviewed templates (this project) | every core-language template: written or kept from a source after a native reading, with a gloss per relation | CC BY-NC 4.0 |"""


DEFAULT_CONFIG = ALL_CONFIG  # every language; `load_dataset(path)` without a config name loads it


def _data_files(langs: list[str], split: str) -> list[str]:
    return [f"data/{lang}/{split}-*.parquet" for lang in langs]


def card_data(stats: dict, sizes: dict[tuple[str, str], tuple[int, int]]) -> DatasetCardData:
    """YAML metadata; `sizes` maps (language, split) to (rows, Arrow bytes) of each data file."""
    langs = stats["languages"]
    features = [{"name": name, "dtype": ARROW_TYPES[name]} for name in FIELDS]
    configs, infos = [], []
    for config in langs + [ALL_CONFIG]:
        members = langs if config == ALL_CONFIG else [config]
        files = {split: [lang for lang in members if (lang, split) in sizes] for split in SPLITS}
        present = [split for split in SPLITS if files[split]]
        entry = {
            "config_name": config,
            "data_files": [{"split": split, "path": _data_files(files[split], split)} for split in present],
        }
        if config == DEFAULT_CONFIG:  # what a bare load_dataset("rml-lama") loads
            entry["default"] = True
        configs.append(entry)
        infos.append({
            "config_name": config,
            "features": features,
            "splits": [
                {
                    "name": split,
                    "num_bytes": sum(sizes[(lang, split)][1] for lang in files[split]),
                    "num_examples": sum(sizes[(lang, split)][0] for lang in files[split]),
                }
                for split in present
            ],
        })
    return DatasetCardData(
        language=[lang for lang in langs],
        license="cc-by-nc-4.0",
        pretty_name="RML-LAMA",
        multilinguality="multilingual",
        task_categories=["fill-mask", "text-generation"],
        size_categories=["100K<n<1M"] if stats["queries_total"] >= 100_000 else ["10K<n<100K"],
        source_datasets=["extended|m_lama"],
        configs=configs,
        dataset_info=infos,
    )


def _language_table(stats: dict) -> str:
    lines = ["| config | language | family | script | core | facts | share of core facts | queries | "
             "rephrasings per fact (min / mean) | templates | facts with an object-final query | "
             "queries with an answer hint |",
             "|" + "---|" * 12]
    for lang in stats["languages"]:
        info = LANGUAGES.get(lang)
        name, family, script = (info.name, info.family, info.script) if info else (lang, "?", "?")
        lines.append(
            f"| `{lang}` | {name} | {family} | {script} | {'yes' if info and info.core else 'no'} | "
            f"{stats['facts'][lang]:,} | {stats['coverage_of_core_facts'][lang]:.1%} | {stats['queries'][lang]:,} | "
            f"{stats['rephrasings_min'][lang]} / {stats['rephrasings_mean'][lang]:.2f} | {stats['templates'][lang]} | "
            f"{stats['object_final_fact_coverage'][lang]:.1%} | {stats.get('answer_hint_share', {}).get(lang, 0):.1%} |"
        )
    return "\n".join(lines)


def _relation_table(frame: pd.DataFrame, stats: dict) -> str:
    core = stats["core_languages"]
    core_rows = frame[frame[F.LANG].isin(core)]
    facts = core_rows.groupby(F.RELATION)[F.FACT_ID].nunique()
    queries = core_rows.groupby([F.RELATION, F.LANG]).size()
    lines = ["| relation | label | facts | " + " | ".join(f"queries {lang}" for lang in core) + " |",
             "|" + "---|" * (3 + len(core))]
    for pid in stats["relations"]:
        label = RELATIONS[pid].label if pid in RELATIONS else "?"
        counts = " | ".join(f"{int(queries.get((pid, lang), 0)):,}" for lang in core)
        lines.append(f"| {pid} | {label} | {int(facts.get(pid, 0)):,} | {counts} |")
    return "\n".join(lines)


def _source_table(stats: dict, key: str) -> str:
    """Per language and template source: templates (`template_sources`) or queries (`sources`)."""
    lines = ["| config | " + " | ".join(TEMPLATE_SOURCES) + " |", "|" + "---|" * (1 + len(TEMPLATE_SOURCES))]
    for lang in stats["languages"]:
        counts = stats.get(key, {}).get(lang, {})
        lines.append(f"| `{lang}` | " + " | ".join(f"{counts.get(s, 0):,}" for s in TEMPLATE_SOURCES) + " |")
    return "\n".join(lines)


def _extended_section(frame: pd.DataFrame, stats: dict) -> str:
    """What the extended languages are: unreviewed source templates, with the share of German queries whose
    template lower-cases a noun (the `de-noun-case` check)."""
    from .languages import german

    extended = [lang for lang in stats["languages"] if lang not in stats["core_languages"]]
    if not extended:
        return "No extended language in this build."
    text = (f"The extended languages ({', '.join(f'`{lang}`' for lang in extended)}) use the sources' templates, "
            "which have not been reviewed; they are reported as failing the native-reading standard and are "
            "not held to the text-quality checks (`validation/languages.json`: `text_quality_required: false`).")
    if "de" in extended:
        templates = frame.loc[frame[F.LANG] == "de", F.TEMPLATE]
        share = float(templates.map(lambda t: bool(german.lowercase_nouns(t))).mean()) if len(templates) else 0.0
        text += f" In German, {share:.1%} of the queries come from a template with a lower-cased noun."
    return text


def _review_section() -> str:
    from .review import review_markdown, review_table

    table = review_table()
    if not table:
        return "No native review is recorded for this release."
    seeds = sorted({str(r.get("seed")) for r in table.values()})
    return (f"A seeded random sample per language (`rml-lama review-sample --lang L --n 60 --seed S`, seed "
            f"{', '.join(seeds)}), each query read with its gold answer in place by a reader of the language and "
            "judged OK, minor (meaning intact, one or two slips: an article, elision, agreement, a stiff word "
            "order) or major (broken construction or missing case, wrong meaning or relation, leaked answer, "
            "unanswerable). The judgements are in `validation/review/<lang>.jsonl` of the repository.\n\n"
            + review_markdown(table))


def _flatten_counts(report: dict, prefix: str = "", depth: int = 0) -> list[tuple[str, int]]:
    rows: list[tuple[str, int]] = []
    for key in sorted(report):
        value, name = report[key], f"{prefix}{key}"
        if isinstance(value, bool):
            continue
        if isinstance(value, int):
            rows.append((name, value))
        elif isinstance(value, dict) and depth < 2:
            rows.extend(_flatten_counts(value, f"{name} / ", depth + 1))
    return rows


def _report_section(report: dict) -> str:
    rejected = report.get("rejected") or report.get("rejections")
    rows = _flatten_counts(rejected if isinstance(rejected, dict) else {})
    if not rows:
        return "See `build_report.json` for the build's counts."
    lines = ["| what was rejected, and why | count |", "|---|---|"]
    lines += [f"| {name} | {count:,} |" for name, count in rows]
    return "\n".join(lines) + "\n\nThe full counts are in `build_report.json`."


def render_card(frame: pd.DataFrame, stats: dict, report: dict, sizes: dict[tuple[str, str], tuple[int, int]]) -> str:
    fields = "\n".join(f"| `{name}` | {ARROW_TYPES[name]} | {FIELD_DESCRIPTIONS[name]} |" for name in FIELDS)
    core = ", ".join(f"`{lang}`" for lang in stats["core_languages"])
    extended = [lang for lang in stats["languages"] if lang not in stats["core_languages"]]
    extended_min = ", ".join(f"{lang}: min {stats['rephrasings_min'][lang]}" for lang in extended) or "none built"
    splits = stats["splits"]
    body = f"""
# RML-LAMA: Rephrased Multilingual LAMA

Cloze-style queries for LAMA / mLAMA facts, **parallel across languages**: every core fact exists in every
core language ({core}), with **at least {min(stats['rephrasings_min'][lang] for lang in stats['core_languages'])}
rephrasings per fact in each core language** (mean {min(stats['rephrasings_mean'][lang] for lang in stats['core_languages']):.2f} or more); the extended
languages have fewer for some facts ({extended_min}), see the table below. Built to find where multilingual
language models store facts (knowledge neurons, and the language-agnostic ones among them), after
Cao et al., *One Mind, Many Tongues* (arXiv 2411.17401).

- **{stats['facts_parallel_core']:,} facts** parallel across the {len(stats['core_languages'])} core languages,
  {len(stats['relations'])} relations;
- **{stats['queries_core_total']:,} queries** in the core languages ({stats['queries_total']:,} with the extended ones);
- splits by fact, identical in every language: `validation` ({splits['validation']['facts_parallel_core']:,} core
  facts, for tuning thresholds) and `test` ({splits['test']['facts_parallel_core']:,}).

## Usage

```python
from datasets import load_dataset
ds = load_dataset("path/to/rml-lama")              # the default config, `all`: every language
ds = load_dataset("path/to/rml-lama", "fr")        # or load_dataset("ORG/rml-lama", "fr") from the Hub
print(ds["test"][0]["query"])                      # the object is the [MASK]; its answer is obj_label

import rml_lama                                    # pip install rml-lama: the release ships inside
rml_lama.load("ja", split="test")
```

A config per language, and `all` (the default) with every language. For left-to-right (causal) models use the queries
with `object_final == True` and probe with the text before `[MASK]`.

## Languages

{_language_table(stats)}

Families as linguists file them; the paper counts four families over the core languages (Indo-European,
Uralic, Sino-Tibetan and "Altaic" for Japanese and Korean together, a grouping no longer accepted: Japanese
is Japonic, Korean Koreanic). An *answer hint* is text next to `[MASK]` that depends on the answer (a French
article or preposition of place, d' before a vowel, English a/an): such queries are flagged `answer_hint`.

## Native review

{_review_section()}

{_extended_section(frame, stats)}

## Relations (core languages)

{_relation_table(frame, stats)}

## Fields

| field | type | meaning |
|---|---|---|
{fields}

## Construction

1. **Facts** come from mLAMA 1.1 (T-REx) and are joined across languages on (relation, subject QID, object
   QID); a fact is *core* when it exists in all core languages. Chinese labels are converted to Simplified
   script (OpenCC `t2s`).
2. **Templates.** Core languages: the reviewed templates only (`data/curated/reviewed_templates.jsonl`): at
   least three per relation and language, each checked against a one-line gloss of the relation's Wikidata
   meaning, written to keep the object in its citation form and last where the language allows; a template
   is credited to a source (query-localization, mParaRel, mLAMA) when the source offers the same wording,
   else it is `curated`. Extended languages: the sources' templates, in order of preference (query-
   localization, mParaRel checked by a native speaker, other mParaRel passing repair and the relation
   lexicon, mLAMA); they have not been reviewed and fail the text-quality checks where the report says so.
3. **Queries**: the subject fills `[X]` with the form the template asks for (the Finnish genitive generated by
   the pykko transducers, never "X:n"; the article a country, region, language or religion takes in English,
   French and Hungarian, with French contraction and elision: du, des, au, aux, d', l'; Korean particles by
   the preceding syllable), the object slot becomes `[MASK]` with the object in its citation form (so
   `obj_label` is the exact answer), one sentence-final punctuation mark per language; facts whose answer is
   spelled inside the subject label in a core language, queries that spell their own answer, and duplicates
   are removed.

Templates per source (distinct templates used):

{_source_table(stats, "template_sources")}

Queries per template source:

{_source_table(stats, "sources")}

Rejections in this build:

{_report_section(report)}

## Sources and licences

{SOURCES_TEXT}

The dataset is released under **CC BY-NC 4.0** (non-commercial research use), attributing LAMA, mLAMA, ParaRel,
mParaRel and the query-localization templates.

## Citation

```bibtex
{CITATION}
```
"""
    return f"---\n{card_data(stats, sizes).to_yaml()}\n---\n{body}"
