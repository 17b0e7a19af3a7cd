"""Query generation on a tiny hand-made SourceSet: 2 relations x 3 facts x the core languages (+ de)."""
from __future__ import annotations

import gzip
import hashlib
import json
from collections import Counter
from pathlib import Path

import pytest

from rml_lama.dataset.generate import generate, object_in_query
from rml_lama.dataset.sources import MLAMA_DIR, MPARAREL_PATTERNS_DIR, MPARAREL_TUPLES_DIR, QLOC_DIR, SourceSet
from rml_lama.errors import InputError
from rml_lama.schema import CORE_LANGUAGES, MASK, make_fact_id, split_of

# (relation, sub_uri, obj_uri) -> {lang: (sub_label, obj_label)}
FACTS = {
    ("P36", "Q142", "Q90"): {
        "en": ("France", "Paris"), "fr": ("France", "Paris"), "fi": ("Ranska", "Pariisi"),
        "hu": ("Franciaország", "Párizs"), "ja": ("フランス", "パリ"), "ko": ("프랑스", "파리"),
        "zh": ("法國", "巴黎"), "de": ("Frankreich", "Paris")},
    ("P36", "Q183", "Q64"): {
        "en": ("Germany", "Berlin"), "fr": ("Allemagne", "Berlin"), "fi": ("Saksa", "Berliini"),
        "hu": ("Németország", "Berlin"), "ja": ("ドイツ", "ベルリン"), "ko": ("독일", "베를린"),
        "zh": ("德國", "柏林")},
    # the capital is spelled inside the subject: every en/fr query leaks the answer -> fact dropped
    ("P36", "Q32", "Q1842"): {
        "en": ("Luxembourg", "Luxembourg"), "fr": ("Luxembourg", "Luxembourg"), "fi": ("Luxemburg", "Luxemburg"),
        "hu": ("Luxemburg", "Luxembourg"), "ja": ("ルクセンブルク", "ルクセンブルク"),
        "ko": ("룩셈부르크", "룩셈부르크"), "zh": ("盧森堡", "盧森堡")},
    ("P19", "Q7186", "Q270"): {
        "en": ("Marie Curie", "Warsaw"), "fr": ("Marie Curie", "Varsovie"), "fi": ("Marie Curie", "Varsova"),
        "hu": ("Marie Curie", "Varsó"), "ja": ("マリ・キュリー", "ワルシャワ"), "ko": ("마리 퀴리", "바르샤바"),
        "zh": ("瑪麗·居禮", "華沙")},
    ("P19", "Q937", "Q3012"): {
        "en": ("Albert Einstein", "Ulm"), "fr": ("Albert Einstein", "Ulm"), "fi": ("Albert Einstein", "Ulm"),
        "hu": ("Albert Einstein", "Ulm"), "ja": ("アルベルト・アインシュタイン", "ウルム"),
        "ko": ("알베르트 아인슈타인", "울름"), "zh": ("愛因斯坦", "烏爾姆")},
    # no Korean fact -> not parallel in the core languages
    ("P19", "Q7251", "Q84"): {
        "en": ("Alan Turing", "London"), "fr": ("Alan Turing", "Londres"), "fi": ("Alan Turing", "Lontoo"),
        "hu": ("Alan Turing", "London"), "ja": ("アラン・チューリング", "ロンドン"), "zh": ("圖靈", "倫敦")},
}
ZH_HANS_TUPLES = {("P36", "Q142", "Q90"): ("法兰西共和国", "巴黎")}  # preferred over mLAMA zh labels

QLOC = {  # query-localization templates: en/fr line-aligned (same counts), the others too
    "en_fr/en": {"P36": ["The capital of [X] is [Y] .", "[X]'s capital is [Y]."],
                 "P19": ["[X] was born in [Y].", "[X] is originally from [Y]."]},
    "en_fr/fr": {"P36": ["La capitale de [X] est [Y].", "[X] a pour capitale [Y]."],
                 "P19": ["[X] est né à [Y].", "[X] est originaire de [Y]."]},
    "fi_hu/fi": {"P36": ["[X], jonka pääkaupunki on [Y]."],
                 "P19": ["[X] syntyi kaupungissa [Y].", "[X] on kotoisin kaupungista [Y]."]},
    "fi_hu/hu": {"P36": ["[X] fővárosa [Y].", "[Y] [X] fővárosa."],
                 "P19": ["[X] [Y]-ben született.", "[X] születési helye [Y]."]},
    "ja_ko/ja": {"P36": ["[X]の首都は[Y]です。", "[Y]は[X]の首都です。"],
                 "P19": ["[X]は[Y]で生まれた。", "[X]の出身地は[Y]です。"]},
    "ja_ko/ko": {"P36": ["[X]의 수도는 [Y]이다.", "[Y]는 [X]의 수도이다."],
                 "P19": ["[X]는 [Y]에서 태어났다.", "[X]의 출생지는 [Y]이다."]},
}
MPARAREL = {  # (pattern, checked-by-human)
    "zh-hans": {"P36": [("[X]的首都是[Y]", True), ("[Y]是[X]的首都", True)],
                "P19": [("[X]出生于[Y]", True), ("[X]的出生地是[Y]", True)]},
    "fi": {"P36": [("[X]n] pääkaupunki on [Y]", False),  # broken slot -> repair rejects it
                   ("[X], jonka pääoma on [Y]", False),  # "financial capital" -> lexicon rejects it
                   ("Maan [X] pääkaupunki on [Y]", False)]},
    "de": {"P36": [("Die Hauptstadt von [X] ist [Y]", True)]},
}
MLAMA_TEMPLATES = {"en": {"P36": "The capital of [X] is [Y] .", "P19": "[X] was born in [Y] ."},
                   "de": {"P36": "Die Hauptstadt von [X] ist [Y] ."}}


def jsonl(rows) -> str:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def build_sources(root: Path, qloc: dict = QLOC) -> Path:
    files: dict[str, str] = {}
    for lang in (*CORE_LANGUAGES, "de"):
        for relation in ("P36", "P19"):
            rows = [{"sub_uri": key[1], "obj_uri": key[2], "sub_label": labels[lang][0],
                     "obj_label": labels[lang][1], "lineid": i, "uuid": f"{key[1]}-{key[2]}"}
                    for i, (key, labels) in enumerate(FACTS.items()) if key[0] == relation and lang in labels]
            if rows:
                files[f"{MLAMA_DIR}/{lang}/{relation}.jsonl"] = jsonl(rows)
    files[f"{MPARAREL_TUPLES_DIR}/zh-hans/P36.jsonl"] = jsonl(
        [{"sub_uri": k[1], "obj_uri": k[2], "sub_label": s, "obj_label": o, "lineid": 0}
         for k, (s, o) in ZH_HANS_TUPLES.items()])
    for folder, per_relation in qloc.items():
        files[f"{QLOC_DIR}/{folder}/final_template.jsonl"] = jsonl(
            [{"relation": rel, "pattern": p} for rel, patterns in per_relation.items() for p in patterns])
    for code, per_relation in MPARAREL.items():
        for rel, patterns in per_relation.items():
            files[f"{MPARAREL_PATTERNS_DIR}/{code}/{rel}.jsonl"] = jsonl(
                [{"pattern": p, "checked-by-human": c} for p, c in patterns])
    for lang, per_relation in MLAMA_TEMPLATES.items():
        files[f"{MLAMA_DIR}/{lang}/templates.jsonl"] = jsonl(
            [{"relation": rel, "template": t} for rel, t in per_relation.items()])
    sums = []
    for rel, text in sorted(files.items()):
        data = text.encode("utf-8")
        sums.append(f"{hashlib.sha256(data).hexdigest()}  {rel}\n")
        path = root / (rel + ".gz")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(gzip.compress(data, mtime=0))
    (root / "SHA256SUMS").write_text("".join(sums))
    return root


NO_REVIEW = Path("/nonexistent/reviewed_templates.jsonl")  # the source pipeline (extended languages) alone

REVIEWED = {  # a reviewed set for the tiny facts: every core language, both relations
    "en": {"P36": ["The capital of [X:def] is [Y].", "[X:def]'s capital is [Y]."],
           "P19": ["[X] was born in [Y:def].", "The birthplace of [X] is [Y:def]."]},
    "fr": {"P36": ["La capitale de [X:def] est [Y].", "[X:def] a pour capitale [Y]."],
           "P19": ["Le lieu de naissance de [X:def] est [Y:def].", "[X:def] a vu le jour [Y:loc]."]},
    "fi": {"P36": ["[X:gen] pääkaupunki on [Y].", "[X] on alue, jonka pääkaupunki on [Y]."],
           "P19": ["[X:gen] syntymäpaikka on [Y].", "Paikka, jossa [X] syntyi, on [Y]."]},
    "hu": {"P36": ["[X] fővárosa [Y].", "[X] fővárosának neve [Y]."],
           "P19": ["[X] születési helye [Y].", "[X] szülővárosa [Y]."]},
    "ja": {"P36": ["[X]の首都は[Y]です。", "[X]の首都となっている都市は[Y]である。"],
           "P19": ["[X]の出生地は[Y]です。", "[X]が生まれた場所は[Y]である。"]},
    "ko": {"P36": ["[X]의 수도는 [Y]이다.", "[X]의 수도인 도시는 [Y]이다."],
           "P19": ["[X]의 출생지는 [Y]이다.", "[X]가 태어난 곳은 [Y]이다."]},
    "zh": {"P36": ["[X]的首都是[Y]。", "[X]的首府是[Y]。"], "P19": ["[X]出生于[Y]。", "[X]的出生地是[Y]。"]},
}


def test_reviewed_templates_replace_the_sources_in_their_languages(tmp_path: Path) -> None:
    root = build_sources(tmp_path / "sources")
    reviewed = tmp_path / "reviewed.jsonl"
    reviewed.write_text(jsonl({"relation": rel, "lang": lang, "pattern": p, "review": "ok"}
                              for lang, rels in REVIEWED.items() for rel, ps in rels.items() for p in ps))
    generation = generate(SourceSet(root), languages=(*CORE_LANGUAGES, "de"), reviewed_path=reviewed,
                          curated_path=tmp_path / "none.jsonl")
    assert queries_of(generation, "fi", FRANCE) == ["Ranska on alue, jonka pääkaupunki on [MASK].",
                                                    "Ranskan pääkaupunki on [MASK]."]
    assert queries_of(generation, "fr", FRANCE) == ["La France a pour capitale [MASK].",
                                                    "La capitale de la France est [MASK]."]
    assert queries_of(generation, "fr", CURIE) == ["Le lieu de naissance de Marie Curie est [MASK].",
                                                   "Marie Curie a vu le jour à [MASK]."]
    # the extended language keeps the sources' templates
    assert queries_of(generation, "de", FRANCE) == ["Die Hauptstadt von Frankreich ist [MASK]."]
    en = {r.template: r for r in generation.records if r.lang == "en" and r.fact_id == make_fact_id(*FRANCE)}
    assert en["The capital of [X] is [Y]."].source == "query-localization"  # the source's wording, credited
    assert en["The capital of [X] is [Y]."].answer_hint is False
    hinted = {r.template: r.answer_hint for r in generation.records if r.lang == "fr" and r.relation == "P19"}
    assert hinted == {"[X] a vu le jour [Y].": True, "Le lieu de naissance de [X] est [Y].": True}
    assert generation.report["rejected"]["templates"]["en"]["not-in-review"] > 0


@pytest.fixture
def tiny(tmp_path: Path):
    root = build_sources(tmp_path / "sources")
    empty_curated = tmp_path / "curated.jsonl"
    empty_curated.write_text("")
    return generate(SourceSet(root), reviewed_path=NO_REVIEW, languages=(*CORE_LANGUAGES, "de"), curated_path=empty_curated)


def queries_of(generation, lang: str, fact_key) -> list[str]:
    fact_id = make_fact_id(*fact_key)
    return sorted(r.query for r in generation.records if r.lang == lang and r.fact_id == fact_id)


FRANCE, GERMANY, LUX = ("P36", "Q142", "Q90"), ("P36", "Q183", "Q64"), ("P36", "Q32", "Q1842")
CURIE, EINSTEIN, TURING = ("P19", "Q7186", "Q270"), ("P19", "Q937", "Q3012"), ("P19", "Q7251", "Q84")


def test_hand_computed_queries(tiny) -> None:
    assert queries_of(tiny, "en", FRANCE) == ["France's capital is [MASK].", "The capital of France is [MASK]."]
    assert queries_of(tiny, "fi", FRANCE) == ["Maan Ranska pääkaupunki on [MASK].",
                                              "Ranska, jonka pääkaupunki on [MASK]."]
    # Korean particles: the subject particle by the subject, the one after [MASK] by the gold object
    assert (queries_of(tiny, "ko", GERMANY)) == ["[MASK]은 독일의 수도이다.", "독일의 수도는 [MASK]이다."]
    assert (queries_of(tiny, "ko", FRANCE)) == ["[MASK]는 프랑스의 수도이다.", "프랑스의 수도는 [MASK]이다."]
    assert "알베르트 아인슈타인은 [MASK]에서 태어났다." in queries_of(tiny, "ko", EINSTEIN)
    assert "마리 퀴리는 [MASK]에서 태어났다." in queries_of(tiny, "ko", CURIE)
    # Hungarian suffix glued to the object slot follows the answer's vowel harmony (Varsó: back vowels)
    assert "Marie Curie [MASK]-ban született." in queries_of(tiny, "hu", CURIE)
    # Chinese: Simplified script; zh-hans tuple labels preferred, mLAMA labels converted with t2s
    assert (queries_of(tiny, "zh", FRANCE)) == ["[MASK]是法兰西共和国的首都。", "法兰西共和国的首都是[MASK]。"]
    assert "德国的首都是[MASK]。" in queries_of(tiny, "zh", GERMANY)
    zh_einstein = [r for r in tiny.records if r.lang == "zh" and r.relation == "P19" and r.sub_uri == "Q937"]
    assert {(r.sub_label, r.obj_label) for r in zh_einstein} == {("爱因斯坦", "乌尔姆")}
    # extended language: only the kept facts it has
    assert queries_of(tiny, "de", FRANCE) == ["Die Hauptstadt von Frankreich ist [MASK]."]
    assert queries_of(tiny, "de", GERMANY) == []


def test_record_fields(tiny) -> None:
    [record] = [r for r in tiny.records if r.lang == "en" and r.query == "The capital of France is [MASK]."]
    assert record.fact_id == "P36:Q142:Q90" and record.template == "The capital of [X] is [Y]."
    assert record.source == "query-localization" and record.aligned_id == "P36.qloc.0"
    assert record.object_final is True and (record.sub_label, record.obj_label) == ("France", "Paris")
    fr = [r for r in tiny.records if r.lang == "fr" and r.fact_id == record.fact_id and r.aligned_id == "P36.qloc.0"]
    assert [r.query for r in fr] == ["La capitale de France est [MASK]."]
    assert {r.object_final for r in tiny.records if r.lang == "ja" and r.template.startswith("[Y]")} == {False}
    for r in tiny.records:
        assert r.query.count(MASK) == 1 and "[X]" not in r.query and "[Y]" not in r.query
        assert split_of(r.fact_id) in ("validation", "test")


def test_facts_kept_and_rejections_counted(tiny) -> None:
    report = tiny.report
    kept = {r.fact_id for r in tiny.records}
    assert kept == {make_fact_id(*k) for k in (FRANCE, GERMANY, CURIE, EINSTEIN)}
    assert report["facts_parallel_core"] == 4
    # Turing; Luxembourg, whose answer is its subject's label (dropped before any query is filled)
    assert report["rejected"]["facts"] == {"missing-in:ko": 1, "subject-contains-object:en": 1}
    assert "en" not in report["rejected"]["queries"]
    fi = report["rejected"]["templates"]["fi"]
    assert fi == {"repair:broken-slot": 1, "lexicon": 1}
    assert report["rejected"]["templates"]["en"] == {"duplicate:mlama": 2}  # mLAMA's = the qloc lines
    assert report["queries"] == dict.fromkeys(CORE_LANGUAGES, 8) | {"de": 1}
    assert report["queries_core_total"] == 56
    assert report["rephrasings"]["en"] == {"min": 2, "mean": 2.0}
    assert report["object_final_coverage"] == dict.fromkeys(CORE_LANGUAGES, 1.0) | {"de": 0.25}
    assert report["coverage_of_core_facts"]["de"] == 0.25
    assert report["templates"]["fi"]["by_source"]["mpararel"] == 1
    assert report["templates"]["en"]["aligned"] == 4
    assert report["zh"]["label_origin"] == {"mlama-zh": 5, "zh-hans-tuples": 1}
    json.dumps(report)  # JSON-able


def test_generation_is_deterministic_and_sorted(tmp_path: Path, tiny) -> None:
    root = build_sources(tmp_path / "again")
    empty = tmp_path / "none.jsonl"
    again = generate(SourceSet(root), reviewed_path=NO_REVIEW, languages=(*CORE_LANGUAGES, "de"), curated_path=empty)
    assert again.records == tiny.records and again.report == tiny.report
    keys = [(r.lang, r.fact_id, r.template_id) for r in tiny.records]
    assert keys == sorted(keys)
    assert len(set((r.lang, r.fact_id, r.query) for r in tiny.records)) == len(tiny.records)


def test_curated_templates_join_and_cap_keeps_an_object_final_one(tmp_path: Path) -> None:
    root = build_sources(tmp_path / "sources")
    curated = tmp_path / "curated.jsonl"
    curated.write_text(jsonl([{"relation": "P19", "lang": "ja", "pattern": "[X]の生まれた場所は[Y]です。", "note": "t"}]))
    capped = generate(SourceSet(root), reviewed_path=NO_REVIEW, languages=CORE_LANGUAGES, curated_path=curated, max_templates=1,
                      min_rephrasings=1)
    # ja P19: the cap keeps the first (not object-final) template and adds the best object-final one
    ja = Counter(r.source for r in capped.records if r.lang == "ja" and r.relation == "P19")
    assert ja == {"query-localization": 4}
    full = generate(SourceSet(root), reviewed_path=NO_REVIEW, languages=CORE_LANGUAGES, curated_path=curated)
    assert Counter(r.source for r in full.records if r.lang == "ja" and r.relation == "P19")["curated"] == 2


def test_without_object_final_requirement_relation_is_used(tmp_path: Path) -> None:
    empty = tmp_path / "none.jsonl"
    empty.write_text("")
    # ja's P19 templates without the object-final one: P19 then has no object-final ja template
    qloc = QLOC | {"ja_ko/ja": QLOC["ja_ko/ja"] | {"P19": ["[X]は[Y]で生まれた。", "[X]は[Y]の出身だ。"]}}
    root = build_sources(tmp_path / "other", qloc)
    strict = generate(SourceSet(root), reviewed_path=NO_REVIEW, languages=CORE_LANGUAGES, curated_path=empty)
    assert strict.report["rejected"]["relations"] == {"P19:no-object-final-template:ja": 1}
    assert {r.relation for r in strict.records} == {"P36"}
    loose = generate(SourceSet(root), reviewed_path=NO_REVIEW, languages=CORE_LANGUAGES, curated_path=empty, require_object_final=False)
    assert {r.relation for r in loose.records} == {"P19", "P36"}


def test_bad_curated_line_and_unknown_language(tmp_path: Path) -> None:
    root = build_sources(tmp_path / "sources")
    curated = tmp_path / "curated.jsonl"
    curated.write_text(jsonl([{"relation": "P36", "lang": "xx", "pattern": "[X] [Y]"}]))
    with pytest.raises(InputError, match="unknown language") as info:
        generate(SourceSet(root), reviewed_path=NO_REVIEW, languages=CORE_LANGUAGES, curated_path=curated)
    assert (info.value.line, info.value.field) == (1, "lang")
    with pytest.raises(ValueError, match="unknown language"):
        generate(SourceSet(root), reviewed_path=NO_REVIEW, languages=("en", "xx"))


@pytest.mark.parametrize("obj, query, lang, leaks", [
    ("Paris", "Paris Saint-Germain is based in [MASK].", "en", True),
    ("Paris", "Parisian food comes from [MASK].", "en", False),  # not a whole word
    ("jazz", "The Jazz Messengers play [MASK].", "en", True),  # case-insensitive
    ("서울", "서울특별시의 [MASK]", "ko", True),  # no word boundaries in CJK/Korean
    ("巴黎", "巴黎圣母院位于[MASK]。", "zh", True),
])
def test_object_in_query(obj: str, query: str, lang: str, leaks: bool) -> None:
    assert object_in_query(obj, query, lang) is leaks


@pytest.mark.slow
def test_full_generation_meets_the_targets() -> None:
    """The issue's targets, measured on the shipped sources (about 15 s of CPU)."""
    from rml_lama.schema import EXTENDED_LANGUAGES, TEMPLATE_SOURCES

    generation = generate()
    report = generation.report
    assert report["facts_parallel_core"] >= 7849
    assert report["queries_core_total"] >= 170_000
    for lang in CORE_LANGUAGES:
        assert report["rephrasings"][lang]["min"] >= 2 and report["rephrasings"][lang]["mean"] >= 4
        assert report["object_final_coverage"][lang] == 1.0
        assert report["coverage_of_core_facts"][lang] == 1.0
    for lang in EXTENDED_LANGUAGES:
        assert report["coverage_of_core_facts"][lang] > 0.5
    assert {r.source for r in generation.records} <= set(TEMPLATE_SOURCES)
    zh = [r for r in generation.records if r.lang == "zh"]
    from rml_lama.dataset.morphology import to_simplified

    assert all(to_simplified(r.query) == r.query for r in zh[::97])


# ---------------------------------------------------------------- near-duplicates, labels, final punctuation


def test_templates_equal_after_the_checks_normalisation_are_one(tmp_path: Path) -> None:
    from rml_lama.dataset.generate import Candidate, Rejections, near_duplicate_key, prepare_templates

    de = [Candidate("P106", "[X] ist im Bereich [Y] tätig", "curated"),
          Candidate("P106", "[X] ist im bereich [Y] tätig", "curated"),  # case only
          Candidate("P106", "[X] ist im Bereich: [Y] tätig", "curated"),  # punctuation only
          Candidate("P106", "[X] arbeitet als [Y]", "curated")]
    rejected = Rejections()
    kept = prepare_templates(de, "de", rejected)
    assert [t.template for t in kept["P106"]] == ["[X] ist im Bereich [Y] tätig.", "[X] arbeitet als [Y]."]
    assert rejected.as_dict()["templates"] == {"de": {"duplicate:curated": 2}}
    zh = [Candidate("P106", "[X]按职业分是[Y]", "curated"), Candidate("P106", "[X]按职业分，是[Y]", "curated")]
    assert [t.template for t in prepare_templates(zh, "zh", Rejections())["P106"]] == ["[X]按职业分是[Y]。"]
    assert near_duplicate_key("Label: [Y].") == near_duplicate_key("label [Y]") == "labely"


def test_queries_equal_after_normalisation_are_one() -> None:
    from rml_lama.dataset.generate import PreparedTemplate, Rejections, fact_queries
    from rml_lama.dataset.sources import Fact

    def prepared(text: str) -> PreparedTemplate:
        return PreparedTemplate("P19", "en", text, "curated", None, False, text)

    fact = Fact("P19", "Q1", "Q2", "Ada", "London", 0)
    rejected = Rejections()
    queries = fact_queries(fact, "en", [prepared("[X] was born in [Y]."), prepared("[X] was born in: [Y]."),
                                        prepared("[X] was born in [Y] !")], rejected)
    assert [q.query for q in queries] == [f"Ada was born in {MASK}."]
    assert rejected.as_dict()["queries"] == {"en": {"duplicate": 2}}


def write_plain_sources(root: Path, files: dict[str, list[dict]]) -> SourceSet:
    for rel, rows in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(jsonl(rows), encoding="utf-8")
    return SourceSet(root, verify_checksums=False)


def test_zh_labels_are_one_per_entity_preferring_zh_hans(tmp_path: Path) -> None:
    from rml_lama.dataset.generate import LabelConverter, Rejections, chinese_facts

    def fact(sub, obj, sub_label, obj_label):
        return {"sub_uri": sub, "obj_uri": obj, "sub_label": sub_label, "obj_label": obj_label, "lineid": 0}

    sources = write_plain_sources(tmp_path, {
        # Q142 (France) is the subject of a P36 fact with a zh-hans tuple, and the object of a P17 fact without
        f"{MLAMA_DIR}/zh/P36.jsonl": [fact("Q142", "Q90", "法國", "巴黎")],
        f"{MLAMA_DIR}/zh/P17.jsonl": [fact("Q90", "Q142", "巴黎", "法國"), fact("Q1", "Q2", "臺北", "中華民國")],
        f"{MPARAREL_TUPLES_DIR}/zh-hans/P36.jsonl": [fact("Q142", "Q90", "法兰西共和国", "巴黎市")],
    })
    facts, report = chinese_facts(sources, Rejections(), LabelConverter())
    labels = {key: (f.sub_label, f.obj_label) for key, f in facts.items()}
    assert labels == {("P36", "Q142", "Q90"): ("法兰西共和国", "巴黎市"),
                      ("P17", "Q90", "Q142"): ("巴黎市", "法兰西共和国"),  # zh-hans label, though no tuple here
                      ("P17", "Q1", "Q2"): ("台北", "中华民国")}  # mLAMA's, converted to Simplified
    assert (report["entities"], report["entities_labelled_from_zh_hans"], report["facts_relabelled"]) == (4, 2, 3)
    # relabelled: every fact's labels differ from mLAMA's (zh-hans labels, or t2s)


def test_other_languages_get_one_label_per_entity() -> None:
    from rml_lama.dataset.generate import entity_labels, relabel
    from rml_lama.dataset.sources import Fact

    facts = {("P36", "Q142", "Q90"): Fact("P36", "Q142", "Q90", "France", "Paris", 0),
             ("P17", "Q90", "Q142"): Fact("P17", "Q90", "Q142", "Paris", "French Republic", 1)}
    relabelled, changed = relabel(facts, entity_labels(facts.values()))
    assert relabelled[("P17", "Q90", "Q142")].obj_label == "France" and changed == 1
