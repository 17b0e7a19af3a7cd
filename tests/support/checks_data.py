"""A small clean release for the validation tests: 2 capital facts x 7 core languages x 5 templates,
queries filled with the project's own morphology rules. Every check passes on it (test_checks.py)."""
from __future__ import annotations

from rml_lama.dataset import morphology
from rml_lama.dataset.release import records_frame
from rml_lama.schema import QueryRecord, make_fact_id, template_id

RELATION = "P36"
FACTS = [  # sub_uri, obj_uri, {lang: (subject, object)}
    ("Q142", "Q90", {"en": ("France", "Paris"), "fr": ("France", "Paris"), "fi": ("Ranska", "Pariisi"),
                     "hu": ("Franciaország", "Párizs"), "ja": ("フランス", "パリ"), "ko": ("프랑스", "파리"),
                     "zh": ("法国", "巴黎")}),
    ("Q183", "Q64", {"en": ("Germany", "Berlin"), "fr": ("Allemagne", "Berlin"), "fi": ("Saksa", "Berliini"),
                     "hu": ("Németország", "Berlin"), "ja": ("ドイツ", "ベルリン"), "ko": ("독일", "베를린"),
                     "zh": ("德国", "柏林")}),
]
TEMPLATES = {
    "en": ["The capital of [X] is [Y], where the national government has its seat.",
           "Everybody knows that the capital city of the country [X] is [Y].",
           "[Y] is the capital city and the seat of the government of [X].",
           "The government of [X] works in its capital, which is called [Y].",
           "Many people from [X] live in [Y], which is the capital of their country."],
    "fr": ["La capitale de [X] est [Y], où siège le gouvernement national du pays.",
           "Tout le monde sait que la capitale du pays [X] est la ville de [Y].",
           "[Y] est la capitale et le siège du gouvernement de [X].",
           "Le gouvernement de [X] travaille dans sa capitale, qui s'appelle [Y].",
           "Beaucoup d'habitants du pays [X] vivent à [Y], qui est leur capitale."],
    "fi": ["Maan [X] pääkaupunki on [Y], jossa hallitus ja eduskunta toimivat.",
           "Kaikki tietävät, että valtion [X] pääkaupunki on [Y].",
           "[Y] on valtion [X] pääkaupunki ja hallituksen kotipaikka.",
           "Valtion [X] hallitus työskentelee pääkaupungissa, jonka nimi on [Y].",
           "Monet valtion [X] asukkaat asuvat kaupungissa [Y], joka on heidän pääkaupunkinsa."],
    "hu": ["[X] fővárosa [Y], ahol az ország kormánya és parlamentje működik.",
           "Mindenki tudja, hogy [X] fővárosa nem más, mint [Y].",
           "[Y] a fővárosa és a kormány székhelye ennek az országnak: [X].",
           "[X] kormánya a fővárosban dolgozik, amelynek a neve [Y].",
           "Sok ember él [X] fővárosában, amelynek a neve [Y], és nagyon szép."],
    "ja": ["[X]の首都は[Y]です。",
           "[Y]は[X]の首都であり、政府の所在地です。",
           "[X]の政府が置かれている首都は[Y]である。",
           "[Y]は[X]で最も重要な都市であり、首都でもある。",
           "[X]の首都である[Y]には多くの人が住んでいる。"],
    "ko": ["[X]의 수도는 [Y]이다.",
           "[Y]는 [X]의 수도이자 정부 소재지이다.",
           "[X]는 수도로 [Y]를 가지고 있다.",
           "모두가 알다시피 [X]의 수도는 [Y]입니다.",
           "[X]의 정부는 수도인 [Y]에 있다."],
    "zh": ["[X]的首都是[Y]。",
           "[Y]是[X]的首都，也是政府所在地。",
           "众所周知，[X]的首都就是[Y]。",
           "[X]政府所在的首都城市是[Y]。",
           "很多[X]人住在[Y]，那里是他们的首都。"],
}


def make_record(sub_uri: str, obj_uri: str, lang: str, subject: str, obj: str, template: str,
                relation: str = RELATION) -> QueryRecord:
    with_subject = morphology.fill_subject(template, lang, subject)
    query = morphology.fill_object_mask(with_subject, lang, obj)
    return QueryRecord(
        fact_id=make_fact_id(relation, sub_uri, obj_uri), relation=relation, lang=lang, sub_uri=sub_uri,
        obj_uri=obj_uri, sub_label=subject, obj_label=obj, template_id=template_id(relation, lang, template),
        template=template, query=query, object_final=morphology.is_object_final(template, lang), source="curated",
    )


def clean_records(langs=tuple(TEMPLATES)) -> list[QueryRecord]:
    return [make_record(sub_uri, obj_uri, lang, *labels[lang], template)
            for sub_uri, obj_uri, labels in FACTS for lang in langs for template in TEMPLATES[lang]]


def clean_frame():
    return records_frame(clean_records())
