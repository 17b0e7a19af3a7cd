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
REVIEWED_TEMPLATES = CURATED_DIR / "reviewed_templates.jsonl"  # the core languages' templates, reviewed
RELATION_GLOSSES = CURATED_DIR / "relation_glosses.json"  # one line per relation: what a template must state
FI_GENITIVES = CURATED_DIR / "fi_genitives.tsv"  # Finnish genitives of subject labels (pykko, reviewed)
FR_ARTICLES = CURATED_DIR / "fr_articles.tsv"  # French article classes of the labels that take one
DEFAULT_MODEL_DIR = DATA_DIR / "models" / "rml-lama-mini"
REPOSITORY_EXPECTATIONS = PACKAGE_DIR.parent / "validation" / "languages.json"  # a source checkout
PACKAGED_EXPECTATIONS = DATA_DIR / "validation_languages.json"  # an installed wheel (a link to the above)

# ------------------------------------------------------- any output folder (a release, a model)
OUTPUT_MARKER_FILE = "rml-lama-output.json"  # {"kind": "release" | "model", "rml_lama_version": ...}
CHECKSUMS_FILE = "SHA256SUMS"  # sha256 of every file of the output folder, `sha256sum -c` format

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
RUN_PLAN_FILE = "plan.json"  # the facts a run will evaluate (so a partial run can say it is partial)
RUN_REPORT_FILE = "report.md"


def shard_path(out: Path, rank: int) -> Path:
    return Path(out) / f"{SHARD_PREFIX}{rank}.jsonl"


def lock_path(out: Path, rank: int) -> Path:
    """The advisory lock (with the writer's pid) held while a process writes rank `rank`'s shard."""
    return Path(out) / f".{SHARD_PREFIX}{rank}.lock"


# ------------------------------------------------------------------------------ environment variables
CACHE_ENV = "RML_LAMA_CACHE"  # tokenizer and converted-model caches (default ~/.cache/rml-lama)
EXPECTATIONS_ENV = "RML_LAMA_EXPECTATIONS"  # a per-language expectations file for the validator
NO_EXCHANGE_ENV = "RML_LAMA_NO_EXCHANGE"  # set: replace folders by two renames, not an atomic exchange (tests)


def cache_dir() -> Path:
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "rml-lama")
