"""`rml-lama review-sample --lang L --n 60 --seed S`: draw a seeded sample of a release's queries, answers
filled in, for a native reader to judge (OK / minor / major, with a reason) and keep as
validation/review/<lang>.jsonl. The reading and the rates live in `rml_lama.dataset.review`."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..dataset.release import SHIPPED_RELEASE, read_release, read_stats
from ..dataset.review import JUDGEMENTS, sample_rows


def cmd_review_sample(args: argparse.Namespace) -> int:
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
