"""A tiny parallel release in the 7 core languages whose words H4's tiny tokenizer encodes (tests only)."""
from __future__ import annotations

import pandas as pd

from rml_lama.schema import CORE_LANGUAGES, FIELDS, MASK, F, make_fact_id, template_id

FACTS = [("Q142", "France", "Q90", "Paris"), ("Q38", "Italy", "Q220", "Rome"), ("Q17", "Japan", "Q1490", "Tokyo"),
         ("Q183", "Germany", "Q64", "Berlin"), ("Q33", "Finland", "Q1757", "Paris"),
         ("Q28", "Magyar", "Q1781", "Rome"), ("Q20", "Suomi", "Q585", "Berlin"), ("Q36", "Ranska", "Q270", "Tokyo"),
         ("Q40", "Deutsch", "Q1741", "Paris"), ("Q45", "Lombard", "Q597", "Rome")]
CJK_SUBJECTS = {"ja": {"Q142": "フランス", "Q17": "日本"}, "zh": {"Q142": "法国", "Q17": "日本"},
                "ko": {"Q142": "프랑스", "Q17": "일본"}}
TEMPLATES = {
    "en": ["The capital of [X] is [Y].", "[Y] is the capital of [X].", "The official capital of [X] is [Y]."],
    "fr": ["La capitale de [X] est [Y].", "[Y] est la capitale de [X].", "La capitale officielle de [X] est [Y]."],
    "fi": ["[X] pääkaupunki on [Y].", "[Y] on [X] pääkaupunki.", "[X] virallinen pääkaupunki on [Y]."],
    "hu": ["[X] fővárosa [Y].", "[Y] [X] fővárosa.", "[X] hivatalos fővárosa [Y]."],
    "ja": ["[X]の首都は[Y]です。", "[Y]は[X]の首都です。", "[X]の首都は[Y]。"],
    "ko": ["[X]의 수도는 [Y]이다.", "[Y]는 [X]의 수도이다.", "[X]의 수도는 [Y]."],
    "zh": ["[X]的首都是[Y]。", "[Y]是[X]的首都。", "[X]的首都[Y]。"],
}


def tiny_parallel_release() -> pd.DataFrame:
    """10 facts of P36 x 7 core languages x 3 templates (210 queries); objects are single tokens."""
    rows = []
    for sub_uri, subject, obj_uri, obj in FACTS:
        for lang in CORE_LANGUAGES:
            sub_label = CJK_SUBJECTS.get(lang, {}).get(sub_uri, subject)
            for template in TEMPLATES[lang]:
                rows.append({
                    F.FACT_ID: make_fact_id("P36", sub_uri, obj_uri), F.RELATION: "P36", F.LANG: lang,
                    F.SUB_URI: sub_uri, F.OBJ_URI: obj_uri, F.SUB_LABEL: sub_label, F.OBJ_LABEL: obj,
                    F.TEMPLATE_ID: template_id("P36", lang, template), F.TEMPLATE: template,
                    F.QUERY: template.replace("[X]", sub_label).replace("[Y]", MASK),
                    F.OBJECT_FINAL: template.endswith("[Y].") or template.endswith("[Y]。"),
                    F.SOURCE: "curated", F.ALIGNED_ID: None,
                })
    return pd.DataFrame(rows, columns=list(FIELDS))
