#!/usr/bin/env python
"""Rebuild the shipped default model (rml_lama/data/models/rml-lama-mini) from the shipped release.

Same as `rml-lama train-model --out rml_lama/data/models/rml-lama-mini`; extra arguments are passed on
(e.g. --threads 1 --max-steps 12000). Deterministic for a given seed and thread count.
"""
from __future__ import annotations

import sys

from rml_lama.cli import main
from rml_lama.testbeds.train import default_model_path

if __name__ == "__main__":
    sys.exit(main(["train-model", "--out", str(default_model_path()), *sys.argv[1:]]))
