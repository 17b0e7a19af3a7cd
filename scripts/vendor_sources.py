#!/usr/bin/env python
"""Copy the subsets of the raw sources that RML-LAMA needs into the package (run once; output committed).

    python scripts/vendor_sources.py --src ../shared/data/sources

Writes `rml_lama/data/sources/`: every `.jsonl` gzipped deterministically as `<name>.jsonl.gz` (mtime 0, no
file name in the header), licence and README files copied as they are, original relative paths kept,
`PROVENANCE.json` (origin repo, commit, paths, licence per source) and `SHA256SUMS` (sha256 of each
*uncompressed* file under its upstream relative path, so it can be checked with `sha256sum -c` in a checkout
of the raw sources). The folder is replaced atomically.
"""
from __future__ import annotations

import argparse
import fnmatch
import gzip
import hashlib
import io
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from rml_lama.io import atomic_directory  # noqa: E402

DEFAULT_SRC = REPO.parent / "shared" / "data" / "sources"
DEFAULT_DEST = REPO / "rml_lama" / "data" / "sources"

FACT_LANGUAGES = ("en", "fr", "fi", "hu", "ja", "ko", "zh", "de", "es", "ru", "ar", "hi")
MLAMA = "mlama1.1/datasets/mlama1.1"
MPARAREL = "mpararel/data/mpararel_reviewed"

SOURCES: dict[str, dict] = {
    "mlama1.1": {
        "origin": "https://github.com/xzhao-tkl/fact-cl (unmodified copy of the official mLAMA 1.1 zip, "
        "cistern.cis.lmu.de/mlama/mlama1.1.zip)",
        "commit": "3e50a5ab398a1a37ddd03ad0e30346ba1db55bac",
        "licence": "CC BY-NC 4.0 (LICENSE of norakassner/mlama @ bc51dee1ed417a4dfab4179d5f8ec39352b8544a, "
        "copied as mlama1.1/LICENSE.from-norakassner-mlama)",
        "citation": "Kassner, Dufter & Schuetze, Multilingual LAMA, EACL 2021",
        "patterns": [f"{MLAMA}/{lang}/P*.jsonl" for lang in FACT_LANGUAGES]
        + [f"{MLAMA}/*/templates.jsonl", "mlama1.1/LICENSE.from-norakassner-mlama"],
    },
    "mpararel": {
        "origin": "https://github.com/coastalcph/mpararel",
        "commit": "7153b7bdc86901fbe23d0c2909a4f2d4609b09d9",
        "licence": "no licence file; derived from ParaRel (MIT) and mLAMA (CC BY-NC 4.0): treated as CC BY-NC 4.0, "
        "research use",
        "citation": "Fierro & Soegaard, Factual Consistency of Multilingual Pretrained Language Models, "
        "Findings of ACL 2022",
        "patterns": [f"{MPARAREL}/patterns/*/P*.jsonl", f"{MPARAREL}/tuples/zh-hans/P*.jsonl",
                     f"{MPARAREL}/tuples/zh-hant/P*.jsonl"],
    },
    "pararel": {
        "origin": "https://github.com/yanaiela/pararel",
        "commit": "cb5554678457beb5ac163d888f1ce8cf174b3f0b",
        "licence": "MIT (pararel/LICENSE)",
        "citation": "Elazar et al., Measuring and Improving Consistency in Pretrained Language Models, TACL 2021",
        "patterns": ["pararel/data/pattern_data/graphs_json/P*.jsonl", "pararel/LICENSE"],
    },
    "query-localization-mlama": {
        "origin": "https://github.com/heng840/Dataset",
        "commit": "b998783e9e55f8b9d68f6c7f3d925a478789a1f0",
        "licence": "CC BY 4.0 (stated in query-localization-mlama/README.md)",
        "citation": "Chen et al., Knowledge Localization: Mission Not Accomplished? Enter Query Localization!, "
        "arXiv 2405.14117",
        "patterns": ["query-localization-mlama/my_mlama/*/*/*.jsonl", "query-localization-mlama/README.md"],
    },
}
EXTRA_FILES = ("README.md",)  # the raw sources' README: origins, licences, formats


def selected_files(src: Path) -> dict[str, list[str]]:
    """Relative paths (posix) of the files each source contributes, sorted."""
    every = sorted(p.relative_to(src).as_posix() for p in src.rglob("*") if p.is_file())
    chosen = {}
    for name, spec in SOURCES.items():
        chosen[name] = [rel for rel in every if any(fnmatch.fnmatchcase(rel, pat) for pat in spec["patterns"])]
        if not chosen[name]:
            raise SystemExit(f"{name}: no file under {src} matches {spec['patterns']}")
    return chosen


def gzip_bytes(data: bytes) -> bytes:
    """Deterministic gzip: mtime 0 and no file name in the header."""
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=9, mtime=0, filename="") as handle:
        handle.write(data)
    return buffer.getvalue()


def stored_name(rel: str) -> str:
    return rel + ".gz" if rel.endswith(".jsonl") else rel


def vendor(src: Path, dest: Path) -> dict:
    chosen = selected_files(src)
    sums: list[str] = []
    total = 0
    with atomic_directory(dest) as tmp:
        for rel in sorted({r for rels in chosen.values() for r in rels} | set(EXTRA_FILES)):
            data = (src / rel).read_bytes()
            sums.append(f"{hashlib.sha256(data).hexdigest()}  {rel}")
            out = tmp / stored_name(rel)
            out.parent.mkdir(parents=True, exist_ok=True)
            stored = gzip_bytes(data) if rel.endswith(".jsonl") else data
            out.write_bytes(stored)
            total += len(stored)
        provenance = {
            "about": "Subsets of the raw sources vendored by scripts/vendor_sources.py. Each .jsonl is stored "
            "gzipped as .jsonl.gz; SHA256SUMS holds the sha256 of the uncompressed upstream file.",
            "sources": {
                name: {key: value for key, value in spec.items() if key != "patterns"}
                | {"paths": spec["patterns"], "files": len(chosen[name])}
                for name, spec in SOURCES.items()
            },
        }
        (tmp / "PROVENANCE.json").write_text(
            json.dumps(provenance, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
        (tmp / "SHA256SUMS").write_text("\n".join(sums) + "\n", encoding="utf-8")
    return {"files": len(sums), "bytes": total}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, default=DEFAULT_SRC, help="raw sources folder (default: %(default)s)")
    parser.add_argument("--dest", type=Path, default=DEFAULT_DEST, help="output folder (default: %(default)s)")
    args = parser.parse_args()
    summary = vendor(args.src, args.dest)
    print(f"vendored {summary['files']} files, {summary['bytes'] / 1e6:.1f} MB stored, into {args.dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
