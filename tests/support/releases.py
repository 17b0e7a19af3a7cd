"""Small hand-made releases for tests (importable by any test module)."""
from __future__ import annotations

from rml_lama.schema import MASK, QueryRecord, make_fact_id, template_id

FACTS = [  # relation, sub_uri, obj_uri, {lang: (subject, object)}
    ("P36", "Q142", "Q90", {"en": ("France", "Paris"), "fr": ("France", "Paris"), "ja": ("フランス", "パリ")}),
    ("P36", "Q183", "Q64", {"en": ("Germany", "Berlin"), "fr": ("Allemagne", "Berlin"), "ja": ("ドイツ", "ベルリン")}),
    ("P36", "Q159", "Q649", {"en": ("Russia", "Moscow"), "fr": ("Russie", "Moscou"), "ja": ("ロシア", "モスクワ")}),
    ("P19", "Q937", "Q3012", {"en": ("Albert Einstein", "Ulm"), "fr": ("Albert Einstein", "Ulm"),
                             "ja": ("アルベルト・アインシュタイン", "ウルム")}),
]
TEMPLATES = {
    ("P36", "en"): ["The capital of [X] is [Y].", "[X]'s capital city is [Y]."],
    ("P36", "fr"): ["La capitale de [X] est [Y].", "[X] a pour capitale [Y]."],
    ("P36", "ja"): ["[X]の首都は[Y]です。", "[Y]は[X]の首都です。"],
    ("P19", "en"): ["[X] was born in [Y].", "[X] is a native of [Y]."],
    ("P19", "fr"): ["[X] est né à [Y].", "[X] est originaire de [Y]."],
    ("P19", "ja"): ["[X]は[Y]で生まれた。", "[X]は[Y]出身です。"],
}


def tiny_records(langs=("en", "fr", "ja")) -> list[QueryRecord]:
    records = []
    for rel, sub_uri, obj_uri, labels in FACTS:
        for lang in langs:
            subject, obj = labels[lang]
            for template in TEMPLATES[(rel, lang)]:
                query = template.replace("[X]", subject).replace("[Y]", MASK)
                tail = template.split("[Y]", 1)[1]
                records.append(QueryRecord(
                    fact_id=make_fact_id(rel, sub_uri, obj_uri), relation=rel, lang=lang, sub_uri=sub_uri,
                    obj_uri=obj_uri, sub_label=subject, obj_label=obj, template_id=template_id(rel, lang, template),
                    template=template, query=query, object_final=tail in (".", "。", "です。"), source="curated",
                ))
    return records
