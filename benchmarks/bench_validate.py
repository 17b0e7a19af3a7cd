"""Time `rml-lama validate` on a release (default: the one shipped in the package). Target: < 60 s on 2 cores.

    python benchmarks/bench_validate.py [RELEASE] [--workers 2] [--cold]

--cold uses an empty tokenizer cache, so the sentencepiece model is trained inside the measured time."""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from rml_lama.checks.report import write_report
from rml_lama.checks.runner import validate_release
from rml_lama.dataset.release import SHIPPED_RELEASE


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("release", nargs="?", default=str(SHIPPED_RELEASE))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--cold", action="store_true", help="train the tokenizer inside the measured time")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "cache" if args.cold else None
        started = time.perf_counter()
        report = validate_release(Path(args.release), workers=args.workers, cache_dir=cache)
        write_report(report, Path(tmp))
        elapsed = time.perf_counter() - started
    rows = report.figures["queries_total"]
    print(f"validated {rows:,} queries in {len(report.languages)} languages with {len(report.results)} checks: "
          f"{elapsed:.1f} s ({'cold' if args.cold else 'warm'} tokenizer cache, {args.workers} workers); "
          f"{'passed' if report.passed else 'failed: ' + ', '.join(report.errors)}")
    print(f"target < 60 s: {'met' if elapsed < 60 else 'NOT met'}")


if __name__ == "__main__":
    main()
