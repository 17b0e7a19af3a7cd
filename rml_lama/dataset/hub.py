"""Publishing a release folder to the Hugging Face Hub (a thin wrapper over `huggingface_hub`)."""
from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Optional

from ..errors import RmlLamaError
from ..paths import CARD_FILE
from .release import read_stats

REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*$")
UPLOADED = ("README.md", "stats.json", "build_report.json", "data/*/*.parquet")


def release_files(folder: Path) -> list[Path]:
    files = sorted({path for pattern in UPLOADED for path in folder.glob(pattern) if path.is_file()})
    return [path.relative_to(folder) for path in files]


def publish(
    folder: str | Path,
    repo_id: str,
    *,
    dry_run: bool = False,
    private: bool = False,
    revision: Optional[str] = None,
    token: Optional[str] = None,
    api=None,
) -> list[str]:
    """Upload the release at `folder` to the dataset repo `repo_id`; returns the uploaded paths."""
    folder = Path(folder)
    if not REPO_ID.match(repo_id):
        raise RmlLamaError(f"--repo-id {repo_id!r}: Hub dataset repos are namespaced, e.g. my-org/rml-lama")
    stats = read_stats(folder)  # raises a clear error when the folder is no release
    if not (folder / CARD_FILE).is_file():
        raise RmlLamaError(f"{folder}: no {CARD_FILE} (dataset card); rebuild the release")
    files = [path.as_posix() for path in release_files(folder)]
    if dry_run:
        return files
    if api is None:
        from huggingface_hub import HfApi

        api = HfApi(token=token)
    api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
    api.upload_folder(
        folder_path=str(folder),
        repo_id=repo_id,
        repo_type="dataset",
        revision=revision,
        allow_patterns=list(UPLOADED),
        commit_message=f"RML-LAMA release {stats.get('checksum', '')[:12]}",
    )
    return files


def cmd_publish(args: argparse.Namespace) -> int:
    try:
        files = publish(args.folder, args.repo_id, dry_run=args.dry_run, private=args.private,
                        revision=args.revision, token=args.token)
    except RmlLamaError:
        raise
    except Exception as error:  # network, auth and Hub errors: one line, not a traceback
        raise RmlLamaError(f"upload to {args.repo_id} failed: {type(error).__name__}: {error}") from None
    size = sum((Path(args.folder) / name).stat().st_size for name in files)
    verb = "would upload" if args.dry_run else "uploaded"
    for name in files:
        print(f"  {name}")
    print(f"{verb} {len(files)} files ({size / 1e6:.1f} MB) to https://huggingface.co/datasets/{args.repo_id}")
    return 0
