"""Facts x templates -> queries: template selection, slot filling, rejection reasons.

    sources -> facts per language (zh labels in Simplified script) -> facts parallel across the core languages
    sources -> template candidates per (relation, language), in order of preference
            -> repaired, lexicon-checked (all but curated), normalised, deduplicated, selected
    fact x selected template -> query (subject filled with morphology rules, object = MASK), object_final flag,
            object-in-query and duplicate checks -> QueryRecord

Nothing is dropped silently: every rejected template, fact and query is counted by reason in the report.
Language rules (Korean particles, Hungarian harmony, script conversion, spacing, punctuation, object-final
detection, repair, the relation lexicon) live in `morphology`; this module only decides what to keep.
"""
from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from statistics import mean
from typing import Optional, Union

from ..errors import InputError
from ..paths import CURATED_TEMPLATES, REVIEWED_TEMPLATES
from ..schema import (
    CORE_LANGUAGES,
    EXTENDED_LANGUAGES,
    OBJECT_SLOT,
    RELATIONS,
    SUBJECT_SLOT,
    TEMPLATE_SOURCES,
    QueryRecord,
    language,
    make_fact_id,
    template_id,
)
from ..text import letters_keys, normalize
from . import morphology
from .sources import Fact, SourceSet, Template, field_value, iter_json_lines

MIN_REPHRASINGS = 2
"""Each (core fact, core language) needs at least this many distinct queries, else the fact is dropped."""

DEFAULT_MAX_TEMPLATES: Optional[int] = 8
"""Templates kept per (relation, language), best first (plus one object-final template if none of those is);
None keeps every template that passes. 8 keeps the cleaner sources and drops the tail of unreviewed mParaRel
templates: on the shipped sources, 384k instead of 525k core queries, mean 6-7 instead of 8-12 per fact."""

SOURCE_RANK = {source: rank for rank, source in enumerate(TEMPLATE_SOURCES)}
Key = tuple[str, str, str]  # (relation, sub_uri, obj_uri)


@dataclass(frozen=True)
class Candidate:
    """A raw template offered for a (relation, language) by one source, before repair and normalisation."""

    relation: str
    pattern: str
    source: str  # one of schema.TEMPLATE_SOURCES
    aligned_id: Optional[str] = None
    subject_form: Optional[str] = None  # a slot form of a reviewed template (morphology.SLOT_FORMS)
    object_form: Optional[str] = None


@dataclass(frozen=True)
class PreparedTemplate:
    """A template that passed repair, the lexicon (where it applies), normalisation and deduplication."""

    relation: str
    lang: str
    template: str
    source: str
    aligned_id: Optional[str]
    object_final: bool
    template_id: str
    subject_form: Optional[str] = None
    object_form: Optional[str] = None
    answer_hint: bool = False


@dataclass
class Generation:
    """The generated queries (sorted by language, fact, template) and the JSON-able build report."""

    records: list[QueryRecord]
    report: dict = field(default_factory=dict)


class Rejections:
    """Counters of rejected items by (kind, language or None, reason)."""

    def __init__(self) -> None:
        self.counts: dict[str, dict] = {"facts": Counter(), "relations": Counter(),
                                        "templates": defaultdict(Counter), "queries": defaultdict(Counter)}

    def add(self, kind: str, reason: str, lang: Optional[str] = None, n: int = 1) -> None:
        target = self.counts[kind] if lang is None else self.counts[kind][lang]
        target[reason] += n

    def as_dict(self) -> dict:
        def plain(value):
            if isinstance(value, dict):
                return {key: plain(value[key]) for key in sorted(value)}
            return value

        return plain({kind: dict(value) for kind, value in self.counts.items()})


# ------------------------------------------------------------------------------------------ templates
def _template_lines(path: Path):
    """(line, object, relation, lang) of each line of a curated template file, relation and language checked."""
    for line, obj in iter_json_lines(path.read_bytes(), path):
        relation = field_value(obj, "relation", str, path, line)
        lang = field_value(obj, "lang", str, path, line)
        if relation not in RELATIONS:
            raise InputError(f"unknown relation {relation!r}", path, line, "relation")
        try:
            language(lang)
        except ValueError:
            raise InputError(f"unknown language {lang!r}", path, line, "lang") from None
        yield line, obj, relation, lang


def curated_candidates(path: Union[str, Path] = CURATED_TEMPLATES) -> dict[str, list[Candidate]]:
    """The project's curated templates ({"relation", "lang", "pattern", "note"} per line), by language."""
    path = Path(path)
    if not path.is_file():
        return {}
    out: dict[str, list[Candidate]] = defaultdict(list)
    for line, obj, relation, lang in _template_lines(path):
        out[lang].append(Candidate(relation, field_value(obj, "pattern", str, path, line), "curated"))
    return dict(out)


REVIEW_STATES = ("ok", "rejected")


def reviewed_candidates(path: Union[str, Path] = REVIEWED_TEMPLATES) -> dict[str, list[Candidate]]:
    """The reviewed templates ({"relation", "lang", "pattern", "review"} per line; slot forms such as
    "[X:gen]" in the pattern), by language; only those whose review is "ok". Empty when the file is absent."""
    path = Path(path)
    if not path.is_file():
        return {}
    out: dict[str, list[Candidate]] = defaultdict(list)
    for line, obj, relation, lang in _template_lines(path):
        review = field_value(obj, "review", str, path, line)
        if review not in REVIEW_STATES:
            raise InputError(f"unknown review state {review!r}; known: {', '.join(REVIEW_STATES)}", path, line, "review")
        if review != "ok":
            continue
        pattern, subject_form, object_form = morphology.split_slot_forms(field_value(obj, "pattern", str, path, line))
        out[lang].append(Candidate(relation, pattern, "curated", None, subject_form, object_form))
    return dict(out)


def credit_sources(reviewed: Sequence[Candidate], offered: Sequence[Candidate], lang: str) -> list[Candidate]:
    """The reviewed templates, each credited to the first source that offers the same wording (a source
    template kept because it passed review); those written here stay "curated"."""
    first: dict[tuple[str, str], Candidate] = {}
    for candidate in offered:
        repaired, _ = morphology.repair_template(
            morphology.to_simplified(candidate.pattern) if lang == "zh" else candidate.pattern, lang)
        if repaired is not None:
            first.setdefault((candidate.relation, near_duplicate_key(repaired)), candidate)
    out = []
    for candidate in reviewed:
        match = first.get((candidate.relation, near_duplicate_key(morphology.normalize_template(candidate.pattern, lang))))
        if match is not None and match.source != "curated":
            candidate = Candidate(candidate.relation, candidate.pattern, match.source, match.aligned_id,
                                  candidate.subject_form, candidate.object_form)
        out.append(candidate)
    return out


def source_candidates(sources: SourceSet, lang: str, curated: Sequence[Candidate] = ()) -> list[Candidate]:
    """Every template the sources offer for a language, in order of preference (then file order).

    query-localization (aligned lines first) > mParaRel human-checked > other mParaRel > mLAMA > curated.
    """
    qloc = sources.qloc_templates(lang)
    aligned_first = sorted(qloc, key=lambda t: t.aligned_index is None)  # stable: keeps file order within
    candidates = [Candidate(t.relation, t.pattern, "query-localization", _aligned_id(t)) for t in aligned_first]
    mpararel = sources.mpararel_templates(lang)
    candidates += [Candidate(t.relation, t.pattern, "mpararel-checked") for t in mpararel if t.checked_by_human]
    candidates += [Candidate(t.relation, t.pattern, "mpararel") for t in mpararel if not t.checked_by_human]
    candidates += [Candidate(t.relation, t.pattern, "mlama") for t in sources.mlama_templates(lang)]
    candidates += list(curated)
    return candidates


def _aligned_id(template: Template) -> Optional[str]:
    if template.aligned_index is None:
        return None
    return f"{template.relation}.qloc.{template.aligned_index}"


def user_candidates(templates: dict[str, list[Template]], source: str = "mpararel") -> list[Candidate]:
    """Candidates from a user's template folder (`sources.read_template_dir`), human-checked ones first."""
    rows = [t for rel in sorted(templates) for t in templates[rel]]
    checked = [Candidate(t.relation, t.pattern, "mpararel-checked") for t in rows if t.checked_by_human]
    return checked + [Candidate(t.relation, t.pattern, source) for t in rows if not t.checked_by_human]


def prepare_templates(candidates: Iterable[Candidate], lang: str, rejected: Rejections,
                      max_templates: Optional[int] = DEFAULT_MAX_TEMPLATES) -> dict[str, list[PreparedTemplate]]:
    """Repair, filter, normalise, deduplicate and select the templates of one language, per relation.

    Every template but the curated ones must pass the relation lexicon. Templates equal after
    `near_duplicate_key` (case, punctuation, spacing, Unicode form) are one: the first (preferred) is kept.
    With `max_templates`, the best ones are kept (preference order), plus the best object-final one when
    none of those is object-final.
    """
    kept: dict[str, list[PreparedTemplate]] = defaultdict(list)
    seen: set[tuple[str, str]] = set()
    for candidate in candidates:
        prepared = _prepare_one(candidate, lang, rejected)
        if prepared is None:
            continue
        key = (prepared.relation, near_duplicate_key(prepared.template))
        if key in seen:  # the preferred source's spelling was kept
            rejected.add("templates", f"duplicate:{candidate.source}", lang)
            continue
        seen.add(key)
        kept[prepared.relation].append(prepared)
    return {relation: _select(kept[relation], max_templates, lang, rejected) for relation in sorted(kept)}


def near_duplicate_keys(texts: Sequence[str]) -> list[str]:
    """The texts as the `near-duplicates` check compares them (rml_lama.text: NFKC, case folding, no
    punctuation, spaces or symbols): two templates or queries with one key are one rephrasing."""
    return letters_keys([normalize(text) for text in texts]) if texts else []


def near_duplicate_key(text: str) -> str:
    """`near_duplicate_keys` of one text."""
    return near_duplicate_keys([text])[0]


LEXICON_CHECKED = frozenset({"query-localization", "mpararel-checked", "mpararel", "mlama"})
"""Every source template must pass the relation lexicon; only curated ones (reviewed here) are exempt.
The sources' own reviews missed mistranslations (mLAMA ja P36 "大文字", upper-case letter)."""


def _prepare_one(candidate: Candidate, lang: str, rejected: Rejections) -> Optional[PreparedTemplate]:
    if candidate.relation not in RELATIONS:
        rejected.add("templates", "relation-not-in-lama-trex", lang)
        return None
    pattern = morphology.to_simplified(candidate.pattern) if lang == "zh" else candidate.pattern
    repaired, reason = morphology.repair_template(pattern, lang)
    if repaired is None:
        rejected.add("templates", f"repair:{reason}", lang)
        return None
    if candidate.source in LEXICON_CHECKED and not morphology.lexicon_accepts(repaired, candidate.relation, lang):
        rejected.add("templates", "lexicon", lang)
        return None
    template = morphology.normalize_template(repaired, lang)
    if template.count(SUBJECT_SLOT) != 1 or template.count(OBJECT_SLOT) != 1:
        rejected.add("templates", "slot-count", lang)
        return None
    return PreparedTemplate(
        relation=candidate.relation, lang=lang, template=template, source=candidate.source,
        aligned_id=candidate.aligned_id, object_final=morphology.is_object_final(template, lang),
        template_id=template_id(candidate.relation, lang, template),
        subject_form=candidate.subject_form, object_form=candidate.object_form,
        answer_hint=template_answer_hint(template, lang, candidate.object_form),
    )


HINT_PROBES: dict[str, tuple[str, ...]] = {
    "en": ("Paris", "United States", "actor", "engineer", "Islam"),
    "fr": ("Paris", "France", "Japon", "Iran", "États-Unis", "anglais", "Zorglub"),
    "hu": ("Párizs", "Berlin", "Győr", "Afrika"),
    "ko": ("서울", "파리", "런던"),
}
"""Answers of every form the rules tell apart (article class, initial and final sound, vowel harmony)."""


def template_answer_hint(template: str, lang: str, object_form: Optional[str] = None) -> bool:
    """True when the text around [MASK] depends on the answer: filled with answers of different forms, the
    template gives different queries (an article, a/an, elision, a particle or suffix that agrees)."""
    probes = HINT_PROBES.get(lang)
    if not probes:
        return False
    return len({morphology.fill_object_mask(template, lang, probe, object_form) for probe in probes}) > 1


def _select(templates: list[PreparedTemplate], max_templates: Optional[int], lang: str,
            rejected: Rejections) -> list[PreparedTemplate]:
    if max_templates is None or len(templates) <= max_templates:
        return templates
    chosen = templates[:max_templates]
    if not any(t.object_final for t in chosen):
        chosen += [t for t in templates[max_templates:] if t.object_final][:1]
    rejected.add("templates", "over-max-templates", lang, len(templates) - len(chosen))
    return chosen


# ---------------------------------------------------------------------------------------------- facts
class LabelConverter:
    """Traditional -> Simplified Chinese, once per unique label (opencc is the slow part)."""

    def __init__(self) -> None:
        self.cache: dict[str, str] = {}

    def __call__(self, text: str) -> str:
        converted = self.cache.get(text)
        if converted is None:
            converted = self.cache[text] = morphology.to_simplified(text)
        return converted

    @property
    def changed(self) -> int:
        return sum(source != target for source, target in self.cache.items())


def facts_by_key(facts: Iterable[Fact], lang: str, rejected: Rejections) -> dict[Key, Fact]:
    """One fact per (relation, sub_uri, obj_uri); later duplicates are counted and dropped."""
    out: dict[Key, Fact] = {}
    for fact in facts:
        if fact.relation not in RELATIONS:
            rejected.add("facts", f"relation-not-in-lama-trex:{lang}")
        elif fact.key in out:
            rejected.add("facts", f"duplicate:{lang}")
        else:
            out[fact.key] = fact
    return out


def entity_labels(facts: Iterable[Fact]) -> dict[str, str]:
    """QID -> label, the first one a fact gives it as subject or object (facts in the given order)."""
    labels: dict[str, str] = {}
    for fact in facts:
        labels.setdefault(fact.sub_uri, fact.sub_label)
        labels.setdefault(fact.obj_uri, fact.obj_label)
    return labels


def relabel(facts: dict[Key, Fact], labels: dict[str, str]) -> tuple[dict[Key, Fact], int]:
    """The facts with every entity labelled from `labels` (one label per QID), and how many facts changed."""
    out, changed = {}, 0
    for key, fact in facts.items():
        sub_label, obj_label = labels.get(fact.sub_uri, fact.sub_label), labels.get(fact.obj_uri, fact.obj_label)
        changed += (sub_label, obj_label) != (fact.sub_label, fact.obj_label)
        out[key] = Fact(fact.relation, fact.sub_uri, fact.obj_uri, sub_label, obj_label, fact.lineid, fact.uuid)
    return out, changed


def language_facts(sources: SourceSet, lang: str, rejected: Rejections) -> tuple[dict[Key, Fact], int]:
    """mLAMA facts of a language with one label per entity (QID), whichever fact it appears in."""
    facts = facts_by_key(sources.facts(lang), lang, rejected)
    return relabel(facts, entity_labels(facts.values()))


def chinese_facts(sources: SourceSet, rejected: Rejections, convert: LabelConverter) -> tuple[dict[Key, Fact], dict]:
    """mLAMA zh facts with one Simplified label per entity (QID), in every fact it appears in: the label of
    mParaRel's zh-hans tuples wherever any tuple gives that entity one, else mLAMA's label converted by t2s.
    (Taking the zh-hans labels only for the facts that have a tuple gave one entity two labels.)"""
    hans_facts = sources.zh_hans_facts()
    hans_keys = {fact.key for fact in hans_facts}
    hans_labels = entity_labels(hans_facts)
    facts = facts_by_key(sources.facts("zh"), "zh", rejected)
    mlama_labels = entity_labels(facts.values())
    labels = {qid: convert(hans_labels.get(qid, label)) for qid, label in mlama_labels.items()}
    out, changed = relabel(facts, labels)
    origin = Counter("zh-hans-tuples" if key in hans_keys else "mlama-zh" for key in facts)
    return out, {"label_origin": dict(sorted(origin.items())), "labels_converted": len(convert.cache),
                 "labels_changed_by_t2s": convert.changed, "entities": len(mlama_labels),
                 "entities_labelled_from_zh_hans": sum(qid in hans_labels for qid in mlama_labels),
                 "facts_relabelled": changed}


# -------------------------------------------------------------------------------------------- queries
_SUBSTRING_MATCH_LANGS = {"ja", "zh", "ko"}  # no spaces (ja, zh) or particles glued to words (ko)


def object_in_query(obj_label: str, query: str, lang: str) -> bool:
    """True when the answer is spelled inside its own query (case-insensitive; whole words where spaced)."""
    return _spells(obj_label.casefold(), query, lang)


def _spells(needle: str, query: str, lang: str) -> bool:
    hay = query.casefold()
    if needle not in hay:
        return False
    if lang in _SUBSTRING_MATCH_LANGS:
        return True
    return re.search(rf"(?<!\w){re.escape(needle)}(?!\w)", hay) is not None


def fact_queries(fact: Fact, lang: str, templates: Sequence[PreparedTemplate],
                 rejected: Rejections) -> list[QueryRecord]:
    """The queries of one fact in one language, one per template that fills cleanly, near-duplicates removed."""
    filled = _filled_queries(fact, lang, templates, rejected)
    return _distinct_records(fact, lang, filled, near_duplicate_keys([query for _, query in filled]), rejected)


def _filled_queries(fact: Fact, lang: str, templates: Sequence[PreparedTemplate],
                    rejected: Rejections) -> list[tuple[PreparedTemplate, str]]:
    needle = fact.obj_label.casefold()
    filled = []
    for template in templates:
        query, reason = _fill_query(template, lang, fact)
        if reason is None and _spells(needle, query, lang):
            reason = "object-in-query"
        if reason:
            rejected.add("queries", reason, lang)
        else:
            filled.append((template, query))
    return filled


def _distinct_records(fact: Fact, lang: str, filled: Sequence[tuple[PreparedTemplate, str]], keys: Sequence[str],
                      rejected: Rejections) -> list[QueryRecord]:
    """One record per near-duplicate key (the first template's): filling can make two templates one query."""
    fact_id = make_fact_id(*fact.key)
    records, seen = [], set()
    for (template, query), key in zip(filled, keys):
        if key in seen:
            rejected.add("queries", "duplicate", lang)
            continue
        seen.add(key)
        records.append(QueryRecord(
            fact_id=fact_id, relation=fact.relation, lang=lang, sub_uri=fact.sub_uri, obj_uri=fact.obj_uri,
            sub_label=fact.sub_label, obj_label=fact.obj_label, template_id=template.template_id,
            template=template.template, query=query, object_final=template.object_final,
            source=template.source, aligned_id=template.aligned_id, answer_hint=template.answer_hint,
        ))
    return records


def _fill_query(template: PreparedTemplate, lang: str, fact: Fact) -> tuple[Optional[str], Optional[str]]:
    """(query, None), or (None, the reason it cannot be filled)."""
    with_subject = morphology.fill_subject(template.template, lang, fact.sub_label, template.subject_form)
    if with_subject is None:
        return None, f"subject-fill{':' + template.subject_form if template.subject_form else ''}"
    query = morphology.fill_object_mask(with_subject, lang, fact.obj_label, template.object_form)
    if query is None:
        return None, "object-fill"
    query = morphology.merge_final_punctuation(query, lang)
    if query is None:
        return None, "label-final-punctuation"
    return query, None


def language_queries(lang: str, facts: dict[Key, Fact], templates: dict[str, list[PreparedTemplate]],
                     keys: Iterable[Key], rejected: Rejections) -> dict[Key, list[QueryRecord]]:
    """Queries of the given fact keys in one language (keys without a fact in that language are skipped)."""
    filled = {}
    for key in keys:
        if key not in facts:
            continue
        if subject_leaks(facts[key].sub_label, facts[key].obj_label):
            rejected.add("queries", "subject-contains-object", lang, len(templates.get(key[0], ())))
            continue
        filled[key] = _filled_queries(facts[key], lang, templates.get(key[0], ()), rejected)
    keys_flat = iter(near_duplicate_keys([query for rows in filled.values() for _, query in rows]))  # one batch
    return {key: _distinct_records(facts[key], lang, rows, [next(keys_flat) for _ in rows], rejected)
            for key, rows in filled.items()}


# ------------------------------------------------------------------------------------------- generate
def generate(
    sources: Optional[SourceSet] = None,
    languages: Sequence[str] = CORE_LANGUAGES + EXTENDED_LANGUAGES,
    max_templates: Optional[int] = DEFAULT_MAX_TEMPLATES,
    min_rephrasings: int = MIN_REPHRASINGS,
    require_object_final: bool = True,
    curated_path: Union[str, Path] = CURATED_TEMPLATES,
    progress: bool = False,
    reviewed_path: Union[str, Path] = REVIEWED_TEMPLATES,
) -> Generation:
    """Generate RML-LAMA: queries for the facts parallel across the core languages among `languages`.

    A relation is used when every core language has at least `min_rephrasings` templates for it (and, with
    `require_object_final`, an object-final one). A core fact is kept when it exists in every core language
    and yields, in each, at least `min_rephrasings` queries (and an object-final query). Extended languages
    get queries for the kept facts they have. Output is sorted by (language, fact_id, template_id).
    """
    sources = sources if sources is not None else SourceSet()
    for code in languages:
        language(code)  # unknown code -> ValueError naming the known ones
    core = [code for code in CORE_LANGUAGES if code in languages]
    extended = [code for code in languages if code not in core]
    if not core:
        raise InputError(f"no core language among {list(languages)}; core languages: {', '.join(CORE_LANGUAGES)}")
    rejected = Rejections()
    convert = LabelConverter()
    curated = curated_candidates(curated_path)
    reviewed = reviewed_candidates(reviewed_path)

    langs = _progress(core + extended, progress, "templates and facts")
    templates = {}
    for lang in langs:
        offered = source_candidates(sources, lang, curated.get(lang, ()))
        if lang in reviewed:  # a reviewed language: only its reviewed templates, credited to their source
            rejected.add("templates", "not-in-review", lang, len(offered))
            templates[lang] = prepare_templates(credit_sources(reviewed[lang], offered, lang), lang, rejected, None)
        else:
            templates[lang] = prepare_templates(offered, lang, rejected, max_templates)
    facts, zh_report, relabelled = _facts_per_language(sources, core + extended, rejected, convert)

    with_facts = {key[0] for lang in core for key in facts[lang]}
    relations = _usable_relations(templates, core, with_facts, min_rephrasings, require_object_final, rejected)
    candidates = _parallel_keys(facts, core, relations, rejected)
    candidates = _without_leaks(candidates, facts, core, rejected)
    per_lang = {lang: language_queries(lang, facts[lang], templates[lang], candidates, rejected)
                for lang in _progress(core, progress, "core queries")}
    kept = _keep_complete_facts(candidates, per_lang, core, min_rephrasings, require_object_final, rejected)
    for lang in _progress(extended, progress, "extended queries"):
        per_lang[lang] = language_queries(lang, facts[lang], templates[lang], kept, rejected)

    records = [record for lang in core + extended for key in kept for record in per_lang[lang].get(key, ())]
    records.sort(key=lambda r: (r.lang, r.fact_id, r.template_id))
    report = _report(records, templates, facts, kept, relations, core, extended, rejected, zh_report,
                     {"max_templates": max_templates, "min_rephrasings": min_rephrasings,
                      "require_object_final": require_object_final})
    report["facts_relabelled_for_one_label_per_entity"] = relabelled
    return Generation(records, report)


def _progress(items, enabled: bool, desc: str):
    if not enabled:
        return items
    from tqdm import tqdm

    return tqdm(items, desc=desc, unit="lang")


def _facts_per_language(sources: SourceSet, langs: Sequence[str], rejected: Rejections,
                        convert: LabelConverter) -> tuple[dict[str, dict[Key, Fact]], dict, dict[str, int]]:
    """Facts per language, one label per entity; the zh label report; facts relabelled per language."""
    facts, zh_report, relabelled = {}, {}, {}
    for lang in langs:
        if lang == "zh":
            facts[lang], zh_report = chinese_facts(sources, rejected, convert)
            relabelled[lang] = zh_report["facts_relabelled"]
        else:
            facts[lang], relabelled[lang] = language_facts(sources, lang, rejected)
    return facts, zh_report, relabelled


def _shortfall(items_by_lang: dict[str, Sequence], noun: str, min_rephrasings: int,
               require_object_final: bool) -> Optional[str]:
    """Why templates or queries (items with `object_final`) fall short in some language, or None."""
    plural = {"template": "templates", "query": "queries"}[noun]
    for lang, items in items_by_lang.items():
        if len(items) < min_rephrasings:
            return f"too-few-{plural}:{lang}"
        if require_object_final and not any(item.object_final for item in items):
            return f"no-object-final-{noun}:{lang}"
    return None


def _usable_relations(templates: dict[str, dict[str, list[PreparedTemplate]]], core: Sequence[str],
                      with_facts: set[str], min_rephrasings: int, require_object_final: bool,
                      rejected: Rejections) -> list[str]:
    """Relations (with facts) that have enough templates, and an object-final one if required, in every core language."""
    usable = []
    for relation in (pid for pid in RELATIONS if pid in with_facts):
        reason = _shortfall({lang: templates[lang].get(relation, []) for lang in core}, "template",
                            min_rephrasings, require_object_final)
        if reason:
            rejected.add("relations", f"{relation}:{reason}")
        else:
            usable.append(relation)
    return usable


def _parallel_keys(facts: dict[str, dict[Key, Fact]], core: Sequence[str], relations: Sequence[str],
                   rejected: Rejections) -> list[Key]:
    """Fact keys of the usable relations present in every core language, sorted; the others counted."""
    usable = set(relations)
    every = set().union(*(facts[lang].keys() for lang in core))
    keys = []
    for key in sorted(every):
        if key[0] not in usable:
            rejected.add("facts", "relation-unused")
            continue
        missing = next((lang for lang in core if key not in facts[lang]), None)
        if missing is not None:
            rejected.add("facts", f"missing-in:{missing}")
            continue
        keys.append(key)
    return keys


def subject_leaks(sub_label: str, obj_label: str) -> bool:
    """True when the object label (NFKC, case-folded, spaces collapsed) is spelled inside the subject label or
    its qualifier: "Indianapolis" -> Indiana, "Louis Ferdinand (Saksan prinssi)" -> Saksa (by its stem)."""
    from ..text import normalize

    sub, obj = normalize(sub_label), normalize(obj_label).strip()
    unspaced = not obj.isascii() and all(not ch.isspace() for ch in obj) and any(
        "\u3040" <= ch <= "\u9fff" or "\uac00" <= ch <= "\ud7a3" for ch in obj)
    if len(obj) < (2 if unspaced else 3):  # "R", "C", "中": a letter is not a leak
        return False
    if obj in sub:
        return unspaced or len(obj) >= 4 or re.search(rf"(?<!\w){re.escape(obj)}(?!\w)", sub) is not None
    # an inflected stem: Saksa -> "Saksan"; only for words long enough to be a name, not a syllable
    stem = obj[:-1] if len(obj) >= 5 and " " not in obj else None
    return stem is not None and re.search(rf"(?<!\w){re.escape(stem)}", sub) is not None


def _without_leaks(keys: Sequence[Key], facts: dict[str, dict[Key, Fact]], core: Sequence[str],
                   rejected: Rejections) -> list[Key]:
    kept = []
    for key in keys:
        leak = next((lang for lang in core if subject_leaks(facts[lang][key].sub_label, facts[lang][key].obj_label)), None)
        if leak is None:
            kept.append(key)
        else:
            rejected.add("facts", f"subject-contains-object:{leak}")
    return kept


def _keep_complete_facts(keys: Sequence[Key], per_lang: dict[str, dict[Key, list[QueryRecord]]],
                         core: Sequence[str], min_rephrasings: int, require_object_final: bool,
                         rejected: Rejections) -> list[Key]:
    kept = []
    for key in keys:
        reason = _shortfall({lang: per_lang[lang][key] for lang in core}, "query",
                            min_rephrasings, require_object_final)
        if reason:
            rejected.add("facts", reason)
        else:
            kept.append(key)
    return kept


def _report(records: list[QueryRecord], templates: dict, facts: dict, kept: list[Key], relations: list[str],
            core: list[str], extended: list[str], rejected: Rejections, zh_report: dict, options: dict) -> dict:
    per_fact: dict[str, Counter] = defaultdict(Counter)
    final_facts: dict[str, set] = defaultdict(set)
    for record in records:
        per_fact[record.lang][record.fact_id] += 1
        if record.object_final:
            final_facts[record.lang].add(record.fact_id)
    n_core = len(kept)
    langs = core + extended
    queries = {lang: sum(per_fact[lang].values()) for lang in langs}
    return {
        "options": options,
        "core_languages": core,
        "extended_languages": extended,
        "relations_used": relations,
        "facts_parallel_core": n_core,
        "facts_per_language": {lang: len(per_fact[lang]) for lang in langs},
        "coverage_of_core_facts": {lang: round(len(per_fact[lang]) / n_core, 4) if n_core else 0.0 for lang in langs},
        "queries": queries,
        "queries_core_total": sum(queries[lang] for lang in core),
        "rephrasings": {lang: {"min": min(per_fact[lang].values(), default=0),
                               "mean": round(mean(per_fact[lang].values()), 3) if per_fact[lang] else 0.0}
                        for lang in langs},
        "object_final_coverage": {lang: round(len(final_facts[lang]) / n_core, 4) if n_core else 0.0
                                  for lang in langs},
        "templates": {lang: _template_counts(templates[lang], relations) for lang in langs},
        "source_facts": {lang: len(facts[lang]) for lang in langs},
        "zh": zh_report,
        "rejected": rejected.as_dict(),
    }


def _template_counts(per_relation: dict[str, list[PreparedTemplate]], relations: list[str]) -> dict:
    used = [t for relation in relations for t in per_relation.get(relation, ())]
    by_source = Counter(t.source for t in used)
    return {
        "by_source": {source: by_source[source] for source in TEMPLATE_SOURCES},
        "total": len(used),
        "object_final": sum(t.object_final for t in used),
        "aligned": sum(t.aligned_id is not None for t in used),
    }


def report_json(report: dict) -> str:
    """The report as stable, pretty JSON."""
    return json.dumps(report, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
