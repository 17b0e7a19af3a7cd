"""Human review of a release, recorded: `rml-lama review-sample --lang L --n 60 --seed S` draws a seeded sample
of a language's queries, each with its gold answer filled in; a native reader judges each one OK / minor /
major with a reason, and the judgements are kept in validation/review/<lang>.jsonl (one JSON object a line:
query, filled, answer, judgement, reason, plus the row's ids). `review_table` turns them into rates for the
card and the validation report.

minor: the meaning is intact, with one or two slips (an article, elision, agreement, a stiff word order).
major: a broken construction or missing obligatory case, a wrong meaning or relation, a leaked answer, or a
query a speaker could not answer.

This module reads and summarises (the dataset card and the validation report use it); the command that draws
a sample is `rml_lama.checks.review`."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Union

from ..paths import REPOSITORY_EXPECTATIONS
from ..schema import LANGUAGES, MASK, F

JUDGEMENTS = ("OK", "minor", "major")
REVIEW_DIR = REPOSITORY_EXPECTATIONS.parent / "review"


def sample_rows(frame, lang: str, n: int, seed: int) -> list[dict]:
    """A seeded sample of `n` queries of `lang` (rows sorted by fact and template first, so the sample depends
    only on the release and the seed), each with the answer filled in."""
    rows = frame[frame[F.LANG] == lang].sort_values([F.FACT_ID, F.TEMPLATE_ID]).reset_index(drop=True)
    picked = rows.sample(n=min(n, len(rows)), random_state=seed) if len(rows) else rows
    return [{"lang": lang, "fact_id": r[F.FACT_ID], "template_id": r[F.TEMPLATE_ID], "relation": r[F.RELATION],
             "source": r[F.SOURCE], "query": r[F.QUERY], "answer": r[F.OBJ_LABEL],
             "filled": r[F.QUERY].replace(MASK, r[F.OBJ_LABEL]), "judgement": None, "reason": ""}
            for _, r in picked.iterrows()]


def read_judgements(path: Union[str, Path]) -> list[dict]:
    rows = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        row = json.loads(line)
        if row.get("judgement") not in JUDGEMENTS:
            raise ValueError(f"{path}:{number}: judgement must be one of {JUDGEMENTS}, not {row.get('judgement')!r}")
        rows.append(row)
    return rows


def review_table(folder: Union[str, Path, None] = None) -> dict[str, dict]:
    """{lang: {"n", "OK", "minor", "major", "major_rate", "defect_rate", "seed", "release"}} from the judgement files
    in `folder` (default validation/review); empty when there are none."""
    folder = Path(folder) if folder is not None else REVIEW_DIR
    out = {}
    order = list(LANGUAGES)
    paths = sorted(folder.glob("*.jsonl"), key=lambda p: (order.index(p.stem) if p.stem in order else len(order), p.stem)) \
        if folder.is_dir() else []
    for path in paths:
        rows = read_judgements(path)
        if not rows:
            continue
        counts = {j: sum(r["judgement"] == j for r in rows) for j in JUDGEMENTS}
        n = len(rows)
        out[path.stem] = {"n": n, **counts, "major_rate": round(counts["major"] / n, 4),
                          "defect_rate": round((counts["minor"] + counts["major"]) / n, 4),
                          "seed": rows[0].get("seed"), "release": rows[0].get("release")}
    return out


def review_markdown(table: dict[str, dict]) -> str:
    if not table:
        return "No recorded review.\n"
    lines = ["| lang | sample | OK | minor | major | major rate | any defect |", "|---|---|---|---|---|---|---|"]
    for lang, r in table.items():
        lines.append(f"| {lang} | {r['n']} | {r['OK']} | {r['minor']} | {r['major']} | {r['major_rate']:.1%} | "
                     f"{r['defect_rate']:.1%} |")
    return "\n".join(lines) + "\n"


