"""Human review of a release, recorded: `rml-lama review-sample --lang L --n 60 --seed S` draws a seeded sample
of a language's queries, each with its gold answer filled in; a native reader judges each one OK / minor /
major with a reason, and the judgements are kept in validation/review/<lang>.jsonl (one JSON object a line:
query, filled, answer, judgement, reason, plus the row's ids). `review_table` turns them into rates for the
card and the validation report.

minor: the meaning is intact, with one or two slips (an article, elision, agreement, a stiff word order).
major: a broken construction or missing obligatory case, a wrong meaning or relation, a leaked answer, or a
query a speaker could not answer."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Union

from ..paths import REPOSITORY_EXPECTATIONS
from ..schema import MASK, F

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
    from ..schema import LANGUAGES

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


def cmd_review_sample(args: argparse.Namespace) -> int:
    from ..dataset.release import SHIPPED_RELEASE, read_release, read_stats

    release = Path(args.release) if args.release else SHIPPED_RELEASE
    frame = read_release(release, langs=[args.lang])
    checksum = read_stats(release).get("checksum", "")[:12]
    rows = [{**row, "seed": args.seed, "release": checksum} for row in sample_rows(frame, args.lang, args.n, args.seed)]
    text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"{len(rows)} queries of {args.lang} (seed {args.seed}, release {checksum}) -> {args.out}; "
              f"fill in judgement ({'/'.join(JUDGEMENTS)}) and reason, keep as validation/review/{args.lang}.jsonl")
    else:
        sys.stdout.write(text)
    return 0


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--lang", required=True)
    p.add_argument("--n", type=int, default=60, help="queries to sample (default: %(default)s)")
    p.add_argument("--seed", type=int, required=True, help="a fresh seed, not one the templates were tuned on")
    p.add_argument("--release", default=None, help="release folder (default: the shipped release)")
    p.add_argument("--out", default=None, help="JSONL to write (default: standard output)")
