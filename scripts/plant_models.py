#!/usr/bin/env python
"""Plant facts into the shipped default model: a model with a known ground truth for scoring localizers.

Same as `rml-lama plant --facts 10 --out models/rml-lama-mini-planted`; extra arguments are passed on
(e.g. --facts 20 --agnostic-share 0.5 --seed 1). Then: `rml-lama evaluate --model models/rml-lama-mini-planted`.
"""
from __future__ import annotations

import sys

from rml_lama.cli import main

if __name__ == "__main__":
    args = sys.argv[1:]
    if "--out" not in args:
        args += ["--out", "models/rml-lama-mini-planted"]
    sys.exit(main(["plant", *args]))
