#!/usr/bin/env python
"""Rebuild the release shipped inside the package (rml_lama/data/release) and its card dataset_card.md.

Run after changing the sources, the curated data or the generation code; commit both outputs."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

from rml_lama.dataset.release import CARD_FILE, SHIPPED_RELEASE, build, stats_table

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    stats = build(SHIPPED_RELEASE)
    shutil.copyfile(SHIPPED_RELEASE / CARD_FILE, ROOT / "dataset_card.md")
    print(stats_table(stats))
    print(f"release {stats['checksum'][:12]} written to {SHIPPED_RELEASE}; card copied to dataset_card.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
