"""The release: a hub-ready folder of parquet files (one config per language, plus `all`), its dataset card,
statistics and build report; and the readers that load it back.

    <release>/README.md                                   dataset card (YAML configs + statistics)
    <release>/stats.json                                  figures, for machines
    <release>/build_report.json                           what the build rejected, by reason
    <release>/data/<lang>/<split>-00000-of-00001.parquet  one config per language; `all` globs them
    <release>/rml-lama-output.json, SHA256SUMS            marker and checksums: a folder `build` may replace

`build --out DIR` writes only into an absent or empty folder or over a release it wrote (validation reports
beside it allowed); anything else is refused before the build starts (rml_lama.io.check_replaceable).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Optional, Union

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .._version import __version__
from ..errors import RmlLamaError
from ..frames import facts_by_lang, parallel_fact_ids
from ..io import atomic_directory, atomic_write_json, check_replaceable, recover_directory
from ..paths import (
    BUILD_REPORT_FILE,
    CARD_FILE,
    RELEASE_DATA_DIR,
    SHIPPED_RELEASE,
    SPLIT_COLUMN,
    STATS_FILE,
    VALIDATION_REPORT_JSON,
    VALIDATION_REPORT_MD,
)
from ..schema import (
    ALL_CONFIG,
    ARROW_TYPES,
    CORE_LANGUAGES,
    EXTENDED_LANGUAGES,
    FIELDS,
    SPLITS,
    F,
    QueryRecord,
    check_lang_code,
    ordered_languages,
    split_of,
)
from .card import render_card

PathLike = Union[str, Path]

ARROW_SCHEMA = pa.schema(
    [pa.field(name, pa.bool_() if ARROW_TYPES[name] == "bool" else pa.string(), nullable=True) for name in FIELDS]
)


def parquet_path(lang: str, split: str) -> str:
    check_lang_code(lang, "config")  # it names a folder of the release
    return f"data/{lang}/{split}-00000-of-00001.parquet"


# ---------------------------------------------------------------------------------------------- writing
SORT_KEYS = [(F.LANG, "ascending"), (F.FACT_ID, "ascending"), (F.TEMPLATE_ID, "ascending")]


def records_table(records: Iterable[QueryRecord]) -> pa.Table:
    """The records as one Arrow table in release order, with the split of each fact as an extra column."""
    records = list(records)
    columns = {name: [getattr(record, name) for record in records] for name in FIELDS}
    split_by_fact = {fact_id: split_of(fact_id) for fact_id in set(columns[F.FACT_ID])}
    columns[SPLIT_COLUMN] = [split_by_fact[fact_id] for fact_id in columns[F.FACT_ID]]
    schema = ARROW_SCHEMA.append(pa.field(SPLIT_COLUMN, pa.string()))
    return pa.Table.from_pydict(columns, schema=schema).sort_by(SORT_KEYS)


def records_frame(records: Iterable[QueryRecord]) -> pd.DataFrame:
    return records_table(records).to_pandas()


def split_tables(table: pa.Table) -> dict[tuple[str, str], pa.Table]:
    """One table of release columns per (language, split) that has rows."""
    parts = {}
    for lang in ordered_languages(table.column(F.LANG).unique().to_pylist()):
        of_lang = table.filter(pc.equal(table.column(F.LANG), lang))
        for split in SPLITS:
            part = of_lang.filter(pc.equal(of_lang.column(SPLIT_COLUMN), split)).select(list(FIELDS))
            if part.num_rows:  # `datasets` cannot read an empty parquet file: an empty split has no file
                parts[(lang, split)] = part
    return parts


def _write_parquet(table: pa.Table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression="zstd", compression_level=9, row_group_size=50_000)


def compute_stats(frame: pd.DataFrame) -> dict:
    """Figures of a release, computed from its rows alone (the card and the validator agree on these)."""
    langs = ordered_languages(frame[F.LANG].unique())
    core = [lang for lang in CORE_LANGUAGES if lang in langs]
    facts_of = facts_by_lang(frame)
    parallel = parallel_fact_ids(frame, core)
    per_fact = frame.groupby([F.LANG, F.FACT_ID]).size()
    final = frame[frame[F.OBJECT_FINAL]].groupby(F.LANG)[F.FACT_ID].nunique()
    stats = {
        "version": __version__,
        "core_languages": core,
        "languages": langs,
        "facts_parallel_core": len(parallel),
        "relations": sorted(frame[F.RELATION].unique(), key=lambda pid: int(pid[1:])),
        "queries": {lang: int((frame[F.LANG] == lang).sum()) for lang in langs},
        "queries_core_total": int(frame[F.LANG].isin(core).sum()),
        "queries_total": int(len(frame)),
        "facts": {lang: len(facts_of[lang]) for lang in langs},
        "coverage_of_core_facts": {
            lang: round(len(facts_of[lang] & parallel) / max(len(parallel), 1), 4) for lang in langs
        },
        "rephrasings_min": {lang: int(per_fact[lang].min()) for lang in langs},
        "rephrasings_mean": {lang: round(float(per_fact[lang].mean()), 3) for lang in langs},
        "templates": {lang: int(frame.loc[frame[F.LANG] == lang, F.TEMPLATE_ID].nunique()) for lang in langs},
        "object_final_fact_coverage": {
            lang: round(int(final.get(lang, 0)) / len(facts_of[lang]), 4) for lang in langs
        },
        "splits": {
            split: {
                "facts_parallel_core": len({f for f in parallel if split_of(f) == split}),
                "queries": {lang: int(((frame[F.LANG] == lang) & (frame[SPLIT_COLUMN] == split)).sum())
                            for lang in langs},
            }
            for split in SPLITS
        },
        "sources": {lang: dict(sorted(Counter(frame.loc[frame[F.LANG] == lang, F.SOURCE]).items()))
                    for lang in langs},
        "template_sources": {
            lang: dict(sorted(Counter(frame.loc[frame[F.LANG] == lang].drop_duplicates(F.TEMPLATE_ID)[F.SOURCE]).items()))
            for lang in langs},
        "answer_hint_share": {lang: round(float(frame.loc[frame[F.LANG] == lang, F.ANSWER_HINT].mean()), 4)
                              for lang in langs},
    }
    return stats


def release_checksum(folder: PathLike) -> str:
    """sha256 over the release's parquet files (names and bytes), the identity of its data."""
    digest = hashlib.sha256()
    for path in sorted(Path(folder).glob("data/*/*.parquet")):
        digest.update(path.relative_to(folder).as_posix().encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


RELEASE_KIND = "release"
RELEASE_EXTRAS = (VALIDATION_REPORT_JSON, VALIDATION_REPORT_MD)  # `validate` writes its reports beside the data


def check_release_out(out: PathLike) -> None:
    """Refuse (one line) an --out that is neither absent, empty, nor an unchanged release; finish a swap a
    kill interrupted first."""
    check_replaceable(out, RELEASE_KIND, RELEASE_EXTRAS)
    recover_directory(out)
    check_replaceable(out, RELEASE_KIND, RELEASE_EXTRAS)


def write_release(
    records: Iterable[QueryRecord], out: PathLike, report: Optional[dict] = None
) -> Path:
    """Write a complete release folder atomically (a failure or kill leaves any earlier release in place); `out`
    must be absent, empty or a release this toolkit wrote (see check_release_out)."""
    table = records_table(records)
    if table.num_rows == 0:
        raise RmlLamaError("refusing to write an empty release")
    out = Path(out)
    with atomic_directory(out, RELEASE_KIND, RELEASE_EXTRAS) as tmp:
        parts = split_tables(table)
        for (lang, split), part in parts.items():
            _write_parquet(part, tmp / parquet_path(lang, split))
        frame = table.to_pandas()
        stats = compute_stats(frame)
        stats["checksum"] = release_checksum(tmp)
        sizes = {key: (part.num_rows, part.nbytes) for key, part in parts.items()}
        atomic_write_json(tmp / STATS_FILE, stats)
        atomic_write_json(tmp / BUILD_REPORT_FILE, report or {})
        (tmp / CARD_FILE).write_text(render_card(frame, stats, report or {}, sizes), encoding="utf-8")
    return out


# ---------------------------------------------------------------------------------------------- reading
def _release_folder(folder: Optional[PathLike]) -> Path:
    path = Path(folder) if folder is not None else SHIPPED_RELEASE
    if not (path / STATS_FILE).is_file() or not (path / RELEASE_DATA_DIR).is_dir():
        hint = " (run `rml-lama build` first)" if folder is not None else " (the package ships no release)"
        raise RmlLamaError(f"{path} is not an RML-LAMA release: no {STATS_FILE} or data/ folder{hint}")
    return path


def read_stats(folder: Optional[PathLike] = None) -> dict:
    path = _release_folder(folder) / STATS_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        raise RmlLamaError(f"{path}: not valid JSON ({error})") from None


def release_languages(folder: Optional[PathLike] = None) -> list[str]:
    root = _release_folder(folder)
    return ordered_languages(p.name for p in (root / RELEASE_DATA_DIR).iterdir() if p.is_dir())


def read_release(
    folder: Optional[PathLike] = None,
    langs: Optional[Sequence[str]] = None,
    split: Optional[str] = None,
) -> pd.DataFrame:
    """All rows of a release (default: the one shipped in the package) as a DataFrame with a `split` column."""
    root = _release_folder(folder)
    available = release_languages(root)
    wanted = list(langs) if langs is not None else available
    missing = [lang for lang in wanted if lang not in available]
    if missing:
        raise RmlLamaError(f"{root}: no config for {', '.join(missing)}; it has {', '.join(available)}")
    splits = [split] if split is not None else list(SPLITS)
    if split is not None and split not in SPLITS:
        raise RmlLamaError(f"unknown split {split!r}; splits are {', '.join(SPLITS)}")
    frames = []
    for lang in wanted:
        for name in splits:
            path = root / parquet_path(lang, name)
            if not path.exists():
                continue
            try:
                frame = pq.read_table(path).to_pandas()
            except (OSError, pa.ArrowException) as error:
                raise RmlLamaError(f"{path}: cannot read parquet ({error})") from None
            frame[SPLIT_COLUMN] = name
            frames.append(frame)
    if not frames:
        return pd.DataFrame({name: pd.Series(dtype="object") for name in (*FIELDS, SPLIT_COLUMN)})
    return pd.concat(frames, ignore_index=True)


def load(lang: str, split: Optional[str] = None, folder: Optional[PathLike] = None):
    """Load a config with `datasets` (offline): the shipped release unless `folder` names another."""
    import datasets

    root = _release_folder(folder)
    configs = release_languages(root) + [ALL_CONFIG]
    if lang not in configs:
        raise RmlLamaError(f"{root}: no config {lang!r}; configs are {', '.join(configs)}")
    return datasets.load_dataset(str(root), lang, split=split)


# ------------------------------------------------------------------------------------------------ build
def build(out: PathLike, sources_root: Optional[PathLike] = None, extended: bool = True) -> dict:
    """Generate RML-LAMA from the sources and write the release folder; returns its stats."""
    from .generate import generate  # generation only when building: rml_lama.load() stays light
    from .sources import SourceSet

    check_release_out(out)  # before the minutes of generation, not after
    languages = CORE_LANGUAGES + (EXTENDED_LANGUAGES if extended else ())
    sources = SourceSet(sources_root) if sources_root is not None else None
    generation = generate(sources, languages=languages, progress=True)
    write_release(generation.records, out, generation.report)
    return read_stats(out)


def stats_table(stats: dict) -> str:
    header = "| lang | facts | core coverage | queries | rephrasings min/mean | templates | object-final facts |"
    lines = [header, "|" + "---|" * 7]
    for lang in stats["languages"]:
        lines.append(
            f"| {lang} | {stats['facts'][lang]:,} | {stats['coverage_of_core_facts'][lang]:.1%} | "
            f"{stats['queries'][lang]:,} | {stats['rephrasings_min'][lang]} / {stats['rephrasings_mean'][lang]:.2f} | "
            f"{stats['templates'][lang]} | {stats['object_final_fact_coverage'][lang]:.1%} |"
        )
    return "\n".join(lines)


def cmd_build(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    stats = build(args.out, args.sources, extended=not args.no_extended)
    print(stats_table(stats))
    print(
        f"\n{stats['facts_parallel_core']:,} facts parallel across {len(stats['core_languages'])} core languages, "
        f"{stats['queries_core_total']:,} core queries ({stats['queries_total']:,} in all); "
        f"written to {args.out} in {time.perf_counter() - started:.1f} s"
    )
    return 0
