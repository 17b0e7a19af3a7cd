"""Where things are: the package's data folders, every file name the toolkit reads or writes, and the
environment variables that move caches and expectations. Each is defined here once."""
from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = PACKAGE_DIR / "data"

# ---------------------------------------------------------------------------- shipped with the package
SHIPPED_SOURCES = DATA_DIR / "sources"
SHIPPED_RELEASE = DATA_DIR / "release"
CURATED_DIR = DATA_DIR / "curated"
CURATED_TEMPLATES = CURATED_DIR / "templates.jsonl"
RELATION_LEXICON = CURATED_DIR / "relation_lexicon.json"
DEFAULT_MODEL_DIR = DATA_DIR / "models" / "rml-lama-mini"
REPOSITORY_EXPECTATIONS = PACKAGE_DIR.parent / "validation" / "languages.json"  # a source checkout
PACKAGED_EXPECTATIONS = DATA_DIR / "validation_languages.json"  # an installed wheel (a link to the above)

# ------------------------------------------------------------------------------- a release folder
RELEASE_DATA_DIR = "data"
STATS_FILE = "stats.json"
BUILD_REPORT_FILE = "build_report.json"
CARD_FILE = "README.md"
SPLIT_COLUMN = "split"  # the extra parquet column beside the record fields: "validation" or "test"
VALIDATION_REPORT_JSON = "validation_report.json"
VALIDATION_REPORT_MD = "validation_report.md"

# --------------------------------------------------------------------------------- a model folder
MODEL_CONFIG_FILE = "config.json"
MODEL_FACTS_FILE = "rml_lama_facts.json"  # the facts a trained model was taught (and its held-out templates)
TRAINING_REPORT_FILE = "training_report.json"
TRUTH_FILE = "truth.json"  # a planted model's ground truth
EDIT_NOTE_FILE = "edit.json"  # a model copy written by `rml-lama edit --save-edited`: which edit it holds

# ------------------------------------------------------------------------------ a results folder
RUN_CONFIG_FILE = "config.json"
SHARD_PREFIX = "results.rank"
SHARD_GLOB = SHARD_PREFIX + "*.jsonl"
SUMMARY_FILE = "summary.json"
RUN_REPORT_FILE = "report.md"


def shard_path(out: Path, rank: int) -> Path:
    return Path(out) / f"{SHARD_PREFIX}{rank}.jsonl"


# ------------------------------------------------------------------------------ environment variables
CACHE_ENV = "RML_LAMA_CACHE"  # tokenizer and converted-model caches (default ~/.cache/rml-lama)
EXPECTATIONS_ENV = "RML_LAMA_EXPECTATIONS"  # a per-language expectations file for the validator


def cache_dir() -> Path:
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "rml-lama")
