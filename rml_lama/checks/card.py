"""The dataset card check: the release's README.md is what `load_dataset` and the Hub read, so a card that does
not parse, points at missing files, or disagrees with the rows fails the release."""
from __future__ import annotations

import fnmatch
from pathlib import Path
from typing import Any, Optional

from ..paths import CARD_FILE, SPLIT_COLUMN
from ..schema import F
from .registry import CheckContext, Finding, register


def _first_line(error: Exception) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


def front_matter(text: str) -> tuple[Optional[str], Optional[str]]:
    """(the YAML between the leading `---` lines, None) or (None, what is wrong)."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        return None, "does not start with a YAML block (a first line `---`)"
    for number, line in enumerate(lines[1:], start=1):
        if line.strip() == "---":
            return "\n".join(lines[1:number]), None
    return None, "its YAML block is not closed by a `---` line"


def parse_yaml(block: str) -> tuple[Optional[dict], Optional[str]]:
    import yaml

    try:
        data = yaml.safe_load(block)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 2}" if mark is not None else ""  # +1 for 1-based, +1 for the `---` line
        return None, f"YAML does not parse{where}: {getattr(error, 'problem', None) or _first_line(error)}"
    if not isinstance(data, dict):
        return None, f"YAML block is a {type(data).__name__}, not a mapping"
    return data, None


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def config_problems(configs: Any, root: Path, files: list[str]) -> list[str]:
    """Every config names its files by patterns that match files of the release."""
    if not isinstance(configs, list) or not configs:
        return ["`configs` is missing or not a list: load_dataset would not know the configs"]
    problems = []
    for config in configs:
        name = config.get("config_name") if isinstance(config, dict) else None
        if not name:
            problems.append(f"a config without config_name: {config!r}"[:200])
            continue
        for item in _as_list(config.get("data_files") or []):
            patterns = _as_list(item.get("path") if isinstance(item, dict) else item)
            for pattern in patterns:
                if not isinstance(pattern, str) or not fnmatch.filter(files, pattern):
                    problems.append(f"config {name!r}: {pattern!r} matches no file in {root.name}")
    defaults = [c.get("config_name") for c in configs if isinstance(c, dict) and c.get("default")]
    if len(defaults) != 1:
        problems.append(f"{len(defaults)} configs marked `default: true` (want 1): a bare load_dataset(path) "
                        "would ask for a config name")
    return problems


def metadata_problems(data: dict) -> list[str]:
    """What `datasets` makes of the metadata, offline: the configs and the dataset_info of each."""
    from datasets.info import DatasetInfosDict
    from datasets.utils.metadata import MetadataConfigs
    from huggingface_hub import DatasetCardData

    try:
        card_data = DatasetCardData(**data)
        configs = MetadataConfigs.from_dataset_card_data(card_data)
        configs.get_default_config_name()
        DatasetInfosDict.from_dataset_card_data(card_data)
    except Exception as error:  # datasets raises ValueError/TypeError/KeyError with multi-line text
        return [f"`datasets` cannot read the metadata: {_first_line(error)}"]
    return []


def statistics_problems(data: dict, ctx: CheckContext) -> list[str]:
    """The card's per-config split sizes and language list agree with the rows."""
    frame = ctx.frame
    problems = []
    langs = ctx.languages
    declared = _as_list(data.get("language") or [])
    if sorted(map(str, declared)) != sorted(langs):
        problems.append(f"card languages {declared} differ from the release's {langs}")
    if SPLIT_COLUMN not in frame:
        return problems
    sizes = frame.groupby([F.LANG, SPLIT_COLUMN]).size().to_dict()
    for info in _as_list(data.get("dataset_info") or []):
        if not isinstance(info, dict):
            continue
        name = info.get("config_name")
        members = langs if name not in langs else [name]
        for split in _as_list(info.get("splits") or []):
            if not isinstance(split, dict):
                continue
            rows = sum(sizes.get((lang, split.get("name")), 0) for lang in members)
            if split.get("num_examples") != rows:
                problems.append(f"config {name!r} split {split.get('name')!r}: the card says "
                                f"{split.get('num_examples')} examples, the rows are {rows}")
    return problems


@register("release-card", "error",
          "README.md (dataset card): YAML parses, configs point at existing files, one default config, "
          "`datasets` reads the metadata offline, split sizes and languages agree with the rows")
def check_card(ctx: CheckContext) -> Finding:
    if ctx.release_dir is None:
        return Finding(message="skipped: not a release folder")
    root = Path(ctx.release_dir)
    path = root / CARD_FILE
    if not path.is_file():
        problem = f"no {CARD_FILE} (dataset card): load_dataset and the Hub need it; rebuild the release"
        return Finding(problems=[problem], message=problem)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        problem = f"{CARD_FILE} cannot be read as UTF-8 text ({_first_line(error)})"
        return Finding(problems=[problem], message=problem)
    block, problem = front_matter(text)
    data = None
    if problem is None:
        data, problem = parse_yaml(block)
    if problem is not None:
        problem = f"{CARD_FILE}: {problem}"
        return Finding(problems=[problem], message=problem)
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    problems = config_problems(data.get("configs"), root, files)
    problems += metadata_problems(data)
    problems += statistics_problems(data, ctx)
    problems = [f"{CARD_FILE}: {p}" for p in problems]
    return Finding(problems=problems, message="; ".join(problems[:3]) if problems else "")
