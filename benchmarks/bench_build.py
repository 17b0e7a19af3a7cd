#!/usr/bin/env python
"""Time query generation from the shipped sources and print the benchmark's headline figures.

    python benchmarks/bench_build.py [--repeat 1] [--core-only]

Reports the wall time of `rml_lama.dataset.generate.generate()` (reading + checksums + templates + queries), the
time spent reading the sources alone, and the figures the issue sets as targets.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rml_lama.dataset.generate import generate
from rml_lama.dataset.sources import SourceSet
from rml_lama.schema import CORE_LANGUAGES, EXTENDED_LANGUAGES


def time_reading(languages) -> float:
    started = time.perf_counter()
    sources = SourceSet()
    for lang in languages:
        sources.facts(lang), sources.mpararel_templates(lang), sources.qloc_templates(lang)
    sources.zh_hans_facts()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="timed runs (the best is reported)")
    parser.add_argument("--core-only", action="store_true", help="the 7 core languages only")
    args = parser.parse_args()
    languages = CORE_LANGUAGES if args.core_only else CORE_LANGUAGES + EXTENDED_LANGUAGES

    reading = time_reading(languages)
    times, cpu, generation = [], [], None
    for _ in range(args.repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        generation = generate(languages=languages)
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    report = generation.report
    core = report["core_languages"]
    print(f"generate(): best of {args.repeat}: {min(times):.1f} s wall, {min(cpu):.1f} s CPU (one process; wall time "
          f"grows when other work shares the cores); reading + verifying the sources alone: {reading:.1f} s wall; "
          f"{len(generation.records):,} records, {len(languages)} languages")
    print(f"facts parallel in the {len(core)} core languages: {report['facts_parallel_core']:,} (target >= 7,849)")
    print(f"core queries: {report['queries_core_total']:,} (target >= 170,000)")
    for lang in report["core_languages"] + report["extended_languages"]:
        reph = report["rephrasings"][lang]
        print(f"  {lang}: {report['queries'][lang]:>7,} queries, rephrasings min {reph['min']} mean {reph['mean']:.2f}, "
              f"object-final coverage {report['object_final_coverage'][lang]:.1%}, "
              f"core-fact coverage {report['coverage_of_core_facts'][lang]:.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
