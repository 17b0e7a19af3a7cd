"""`rml-lama validate-language`: check a proposed language's templates and facts on their own and against a
release, with every release check, and optionally write a copy of the release with the new config."""
from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import pandas as pd

from ..dataset.generate import Rejections, facts_by_key, language_queries, prepare_templates, user_candidates
from ..dataset.release import read_release, records_frame, release_checksum, write_release
from ..dataset.sources import read_fact_dir, read_template_dir
from ..errors import InputError, RmlLamaError
from ..frames import parallel_facts
from ..paths import BUILD_REPORT_FILE
from ..schema import (
    CORE_LANGUAGES,
    FIELDS,
    LANGUAGES,
    F,
    Language,
    QueryRecord,
    check_lang_code,
    proposed_language,
)
from . import CHECKS
from .expectations import Expectations, LanguageExpectation, load_expectations
from .registry import Check, CheckContext, CheckResult, Finding, to_result
from .report import ValidationReport, render_text, write_report
from .runner import validate_frame

NOT_FOR_A_PROPOSAL = ("core-parallel", "release-stats", "release-card")  # never core; no stats.json or card yet


@dataclass
class Proposal:
    lang: str
    frame: pd.DataFrame  # the proposal's queries for the release's core facts (schema.FIELDS + split)
    templates: dict  # relation -> prepared templates
    core_keys: list  # the release's core facts as (relation, sub_uri, obj_uri)
    release_relations: list[str]
    rejections: dict


def proposed_entry(expected: LanguageExpectation) -> Language:
    """A language-table entry for a proposed language, from what validation/languages.json declares for it
    (the table's own entry when the language is already known)."""
    if expected.code in LANGUAGES:
        return LANGUAGES[expected.code]
    return Language(expected.code, expected.name, "?", expected.script, expected.final_punct, False, expected.spaced,
                    expected.langdetect)


def core_fact_keys(release: pd.DataFrame) -> list[tuple[str, str, str]]:
    present = [lang for lang in CORE_LANGUAGES if lang in set(release[F.LANG])]
    facts = parallel_facts(release, present)
    return sorted(zip(facts[F.RELATION], facts[F.SUB_URI], facts[F.OBJ_URI]))


def build_proposal(lang: str, templates_dir: Path, facts_dir: Path, release: pd.DataFrame,
                   expected: LanguageExpectation) -> Proposal:
    """Read the proposal (sources readers), prepare its templates and generate its queries for the release's
    core facts with the same rules as the shipped languages (rml_lama.dataset.generate)."""

    raw_templates = read_template_dir(templates_dir)
    raw_facts = read_fact_dir(facts_dir)
    if not any(raw_templates.values()):
        raise InputError("no template in any P*.jsonl file", templates_dir)
    if not raw_facts:
        raise InputError("no fact in any P*.jsonl file", facts_dir)
    keys = core_fact_keys(release)
    rejected = Rejections()
    with proposed_language(proposed_entry(expected)):
        templates = prepare_templates(user_candidates(raw_templates), lang, rejected)
        facts = facts_by_key(raw_facts, lang, rejected)
        queries = language_queries(lang, facts, templates, keys, rejected)
    records = [record for key in keys for record in queries.get(key, ())]
    frame = records_frame(records) if records else pd.DataFrame(columns=list(FIELDS) + ["split"])
    relations = sorted(release[F.RELATION].unique(), key=lambda pid: int(pid[1:]))
    return Proposal(lang, frame, templates, keys, relations, rejected.as_dict())


# ------------------------------------------------------------------------------------ proposal checks
@dataclass
class ProposalContext:
    proposal: Proposal
    expected: LanguageExpectation


def _relations_covered(ctx: ProposalContext) -> Finding:
    p = ctx.proposal
    missing = [rel for rel in p.release_relations if not p.templates.get(rel)]
    return Finding(counts={p.lang: len(missing)},
                   examples=[{"lang": p.lang, "fact_id": "", "template_id": rel, "text": "",
                              "detail": "no usable template for this relation"} for rel in missing],
                   metric_name="relations covered",
                   metric={p.lang: 1 - len(missing) / max(len(p.release_relations), 1)})


def _templates_per_relation(ctx: ProposalContext) -> Finding:
    p, minimum = ctx.proposal, ctx.expected.min_templates_per_relation
    few = {rel: len(p.templates.get(rel, ())) for rel in p.release_relations
           if 0 < len(p.templates.get(rel, ())) < minimum}
    counts = [len(p.templates.get(rel, ())) for rel in p.release_relations if p.templates.get(rel)]
    return Finding(counts={p.lang: len(few)},
                   examples=[{"lang": p.lang, "fact_id": "", "template_id": rel, "text": "",
                              "detail": f"{n} template(s), want >= {minimum}"} for rel, n in few.items()],
                   metric_name="templates per relation (mean)", metric_kind="mean",
                   metric={p.lang: sum(counts) / len(counts) if counts else 0.0})


def _core_coverage(ctx: ProposalContext) -> Finding:
    p = ctx.proposal
    covered = p.frame[F.FACT_ID].nunique() if len(p.frame) else 0
    share = covered / max(len(p.core_keys), 1)
    ok = share >= ctx.expected.min_core_coverage
    return Finding(failed_langs=set() if ok else {p.lang}, metric_name="share of the release's core facts",
                   metric={p.lang: share}, counts={p.lang: len(p.core_keys) - covered},
                   message=f"{covered:,} of {len(p.core_keys):,} core facts have a query ({share:.1%}; "
                           f"minimum {ctx.expected.min_core_coverage:.0%})")


PROPOSAL_CHECKS: dict[str, Check] = {
    check.name: check for check in (
        Check("relations-covered", "warning", "every relation of the release has a usable template in the proposal",
              _relations_covered),
        Check("templates-per-relation", "warning", "relations with templates have at least the minimum number",
              _templates_per_relation),
        Check("core-coverage", "error", "the proposal's facts and templates give queries for enough core facts",
              _core_coverage),
    )
}


def run_proposal_checks(proposal: Proposal, expected: LanguageExpectation) -> list[CheckResult]:
    ctx = ProposalContext(proposal, expected)
    dummy = CheckContext(frame=proposal.frame, expectations=Expectations({}))
    return [to_result(check, check.function(ctx), dummy) for check in PROPOSAL_CHECKS.values()]


# ------------------------------------------------------------------------------------------- workflow
def check_proposal(lang: str, templates_dir: Path, facts_dir: Path, release_dir: Path, seed: int = 0,
                   tokenizer: Optional[str] = None, expectations: Optional[Expectations] = None,
                   workers: int = 2, cache_dir: Optional[Path] = None) -> tuple[ValidationReport, Proposal]:
    """Validate a proposed language against a release; returns the report and the generated proposal."""

    expectations = expectations or load_expectations()
    expected = expectations[lang]
    release = read_release(release_dir)
    proposal = build_proposal(lang, Path(templates_dir), Path(facts_dir), release, expected)
    own = run_proposal_checks(proposal, expected)
    tokenize = None
    if tokenizer:
        from .tokens import auto_tokenizer  # transformers only when a tokenizer is asked for

        tokenize = auto_tokenizer(tokenizer)
    if len(proposal.frame):
        names = [name for name in CHECKS if name not in NOT_FOR_A_PROPOSAL]
        with proposed_language(proposed_entry(expected)):
            report = validate_frame(proposal.frame, expectations, seed=seed, tokenizer=tokenize, workers=workers,
                                    cache_dir=cache_dir, names=names, progress=True)
        report.results = own + report.results
    else:
        report = ValidationReport(own, [lang], {"queries": {lang: 0}}, {"seed": seed})
    report.provenance.update({"proposed_language": lang, "templates": str(templates_dir), "facts": str(facts_dir),
                              "release_checksum": release_checksum(release_dir)})
    report.extra = {"template_and_query_rejections": proposal.rejections}
    return report, proposal


def add_language(release_dir: Path, proposal: Proposal, out: Path) -> Path:
    """Write a copy of the release with the proposal's config added (atomic; the release is untouched)."""

    release = read_release(release_dir)
    if proposal.lang in set(release[F.LANG]):
        raise RmlLamaError(f"{release_dir} already has a {proposal.lang!r} config; --add-to adds new languages only")
    if Path(out).resolve() == Path(release_dir).resolve():
        raise RmlLamaError("--add-to must name a new folder, not the release itself")
    combined = pd.concat([release[list(FIELDS)], proposal.frame[list(FIELDS)]], ignore_index=True)
    records = [QueryRecord(**{k: (None if k == F.ALIGNED_ID and not isinstance(v, str) else v)
                              for k, v in row.items()}) for row in combined.to_dict("records")]
    build_report = {}
    report_path = Path(release_dir) / BUILD_REPORT_FILE
    if report_path.is_file():
        build_report = json.loads(report_path.read_text(encoding="utf-8"))
    build_report.setdefault("added_languages", {})[proposal.lang] = proposal.rejections
    return write_release(records, out, build_report)


def validate_language(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    check_lang_code(args.lang, "--lang")  # it names the report folder and the new config's folder
    expectations = load_expectations()
    report, proposal = check_proposal(args.lang, Path(args.templates), Path(args.facts), Path(args.release),
                                      seed=args.seed, tokenizer=args.tokenizer, expectations=expectations)
    report_dir = Path(args.report_dir) if args.report_dir else Path(f"validation-{args.lang}")
    json_path, md_path = write_report(report, report_dir)
    print(render_text(report))
    print(f"reports: {json_path}, {md_path} ({time.perf_counter() - started:.1f} s)")
    if args.add_to:
        if not report.passed:
            print(f"not written: {args.add_to} (fix the errors above first)")
        else:
            with proposed_language(expectations[args.lang]):
                out = add_language(Path(args.release), proposal, Path(args.add_to))
            print(f"wrote {out}: the release plus the {args.lang!r} config")
    return 0 if report.passed else 1
