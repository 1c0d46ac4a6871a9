"""The recordings of a study: a folder (searched below for *.xdf) or a glob pattern, each
named by its path below the study's root (two patients' `before.xdf` stay apart)."""

from __future__ import annotations

import glob
import os
from pathlib import Path

from sensorkit.errors import SensorkitError


def find_recordings(where: str) -> tuple[Path, list[Path]]:
    """(the study's root, its recordings in a stable order) for a folder or a glob."""
    p = Path(where)
    if p.is_dir():
        files = sorted(f for f in p.rglob("*") if f.suffix.lower() == ".xdf" and f.is_file())
        root = p
    else:
        files = sorted(Path(f) for f in glob.glob(where, recursive=True) if Path(f).is_file())
        if not files:
            raise SensorkitError(f"{where}: no such folder, and no file matches it as a pattern")
        root = Path(os.path.commonpath([str(f.parent.resolve()) for f in files]))
        files = [f.resolve() for f in files]
    if not files:
        raise SensorkitError(f"{where} holds no .xdf recording")
    return root.resolve(), [f.resolve() for f in files]


def study_name(root: Path, file: Path) -> str:
    """The recording's name in the study: its path below the root, with forward slashes."""
    return file.relative_to(root).as_posix()
