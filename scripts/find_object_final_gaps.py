"""List the (relation, core language) pairs whose source templates offer no object-final template.

Usage: python scripts/find_object_final_gaps.py [--sources DIR] [--lexicon-all] [--with-curated]

Reads the shipped raw sources (query-localization, mParaRel, mLAMA), repairs every template, applies the
relation lexicon (to unreviewed mParaRel templates, as the build does; to every source with --lexicon-all)
and prints, per core language, the relations with at least one usable template but none that is
object-final (`morphology.is_object_final`). These are the pairs that need curated templates
(rml_lama/data/curated/templates.jsonl); with --with-curated the curated ones count, so the output should
then be empty.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rml_lama.dataset import morphology
from rml_lama.dataset.sources import SourceSet
from rml_lama.schema import CORE_LANGUAGES, RELATIONS

CURATED = Path(__file__).resolve().parent.parent / "rml_lama" / "data" / "curated" / "templates.jsonl"


def source_patterns(sources: SourceSet, lang: str) -> list[tuple[str, str, str]]:
    """(relation, pattern, source) for every template the raw sources give `lang`."""
    rows = [(t.relation, t.pattern, "query-localization") for t in sources.qloc_templates(lang)]
    for t in sources.mpararel_templates(lang):
        rows.append((t.relation, t.pattern, "mpararel-checked" if t.checked_by_human else "mpararel"))
    rows += [(t.relation, t.pattern, "mlama") for t in sources.mlama_templates(lang)]
    return rows


def curated_patterns(lang: str) -> list[tuple[str, str, str]]:
    rows = []
    for line in CURATED.read_text(encoding="utf-8").splitlines():
        if line.strip():
            obj = json.loads(line)
            if obj["lang"] == lang:
                rows.append((obj["relation"], obj["pattern"], "curated"))
    return rows


def usable_templates(rows, lang: str, lexicon_all: bool) -> dict[str, list[str]]:
    """Repaired, lexicon-accepted templates per relation."""
    out: dict[str, list[str]] = defaultdict(list)
    for relation, pattern, source in rows:
        if relation not in RELATIONS:
            continue
        repaired, _reason = morphology.repair_template(pattern, lang)
        if repaired is None:
            continue
        checked = source == "mpararel" or (lexicon_all and source != "curated")
        if checked and not morphology.lexicon_accepts(repaired, relation, lang):
            continue
        out[relation].append(repaired)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", default=None, help="raw sources folder (default: the shipped copy)")
    parser.add_argument("--lexicon-all", action="store_true", help="apply the lexicon to every source")
    parser.add_argument("--with-curated", action="store_true", help="count the curated templates too")
    args = parser.parse_args(argv)
    sources = SourceSet(args.sources)
    per_lang = {}
    for lang in CORE_LANGUAGES:
        rows = source_patterns(sources, lang) + (curated_patterns(lang) if args.with_curated else [])
        per_lang[lang] = usable_templates(rows, lang, args.lexicon_all)
    in_all = sorted(set.intersection(*(set(v) for v in per_lang.values())), key=lambda r: int(r[1:]))
    print(f"relations with templates in every core language: {len(in_all)}: {' '.join(in_all)}")
    total = 0
    for lang in CORE_LANGUAGES:
        gaps = [rel for rel in in_all if not any(morphology.is_object_final(t, lang) for t in per_lang[lang][rel])]
        total += len(gaps)
        print(f"{lang}: {len(gaps)} without an object-final template: {' '.join(gaps)}")
    print(f"total gaps: {total}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
