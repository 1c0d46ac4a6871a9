"""Writing output files without ever destroying data.

Every command that writes goes through here: an existing file is replaced only when
the user said `--overwrite`, a command never writes over one of its own inputs (not
even with `--overwrite`: a recording replaced by its own analysis is gone for good),
and a file is written under a temporary name and renamed into place only once it is
complete, so a failure half-way leaves neither a stub nor a damaged old file.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from sensorkit.errors import SensorkitError


def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return os.path.realpath(a) == os.path.realpath(b)


def check_outputs(outputs: Iterable[str | os.PathLike | None], inputs: Iterable[str | os.PathLike | None] = (),
                  overwrite: bool = False) -> None:  # fmt: skip
    """Refuse, with one clear message, any output that would destroy data.

    `outputs` are the files a command will write (None entries are ignored);
    `inputs` the files it reads. Raises `SensorkitError` when an output is one of the
    inputs, when two outputs are the same file, when an output exists and
    `overwrite` is false, when it is a folder, or when its folder does not exist.
    """
    ins = [Path(p) for p in inputs if p is not None]
    seen: list[Path] = []
    for raw in outputs:
        if raw is None:
            continue
        out = Path(raw)
        for src in ins:
            if _same_file(out, src):
                raise SensorkitError(f"{raw} is also an input of this command; choose another output file "
                                     "(an input is never overwritten, not even with --overwrite)")  # fmt: skip
        for other in seen:
            if _same_file(out, other):
                raise SensorkitError(f"{raw} is named for two outputs; give each its own file")
        seen.append(out)
        if out.is_dir():
            raise SensorkitError(f"{raw} is a folder; name a file")
        if out.exists() and not overwrite:
            raise SensorkitError(f"{raw} exists; pass --overwrite to replace it")
        if not out.parent.exists():
            raise SensorkitError(f"folder {out.parent} does not exist")


def partial_path(path: str | os.PathLike, suffix: str = "") -> Path:
    """The temporary name a file is written under until it is complete (ending in `suffix`
    for libraries that insist on their extension)."""
    p = Path(path)
    return p.with_name(f".{p.name}.partial{suffix}")


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path to write; it replaces `path` only if the block succeeds."""
    tmp = partial_path(path, suffix)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write a text file whole or not at all (see `atomic_output`)."""
    with atomic_output(path) as tmp:
        tmp.write_text(text)
