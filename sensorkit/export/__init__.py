"""A recording in the formats other tools open (`sensorkit export`).

One module per format, each a `write(rec, out, progress, fmt)` over sensorkit's `Recording`
(after `--stream` / `--montage-file`): `tables` (CSV and Parquet folders, via pandas),
`edf` (EDF+ and 24-bit BDF+, via pyedflib), `c3d` (via ezc3d), `mat` (MATLAB, via
scipy.io). `grid` puts streams of their own rates and start times on the regular sample
grids that EDF and C3D require. A new format is a new module named in `FORMATS`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

# format -> (module, whether OUT is a folder, what it is)
FORMATS: dict[str, tuple[str, bool, str]] = {
    "csv": ("tables", True, "a folder: one CSV per stream, markers.csv, channels.csv"),
    "parquet": ("tables", True, "a folder: one Parquet table per stream, markers, channels"),
    "edf": ("edf", False, "EDF+ (16 bit) with markers as annotations"),
    "bdf": ("edf", False, "BDF+ (24 bit) with markers as annotations"),
    "c3d": ("c3d", False, "C3D analog channels with markers as events"),
    "mat": ("mat", False, "MATLAB: a struct per stream, one for markers"),
}


def export(rec, fmt: str, out: str, overwrite: bool, progress: Callable[[str], None]) -> tuple[list[str], list[str]]:
    """Write `rec` (a `Recording`) as `fmt` to `out` (a folder for csv/parquet, else a file);
    returns (paths written, notes on what the format changed). Nothing existing is replaced
    without `overwrite`, the recording itself never, and every file appears whole or not at
    all."""
    import importlib

    from sensorkit.errors import SensorkitError
    from sensorkit.recording.outputs import atomic_output, check_outputs

    if fmt not in FORMATS:
        raise SensorkitError(f"unknown export format {fmt!r}; known: {', '.join(FORMATS)}")
    module, folder, _ = FORMATS[fmt]
    mod = importlib.import_module(f"sensorkit.export.{module}")
    if not folder:
        check_outputs([out], [rec.path], overwrite)
        with atomic_output(out, suffix=f".{fmt}") as tmp:  # ezc3d adds its extension to a name without one
            notes = mod.write(rec, str(tmp), progress, fmt)
        return [out], notes
    base = Path(out)
    if base.exists() and not base.is_dir():
        raise SensorkitError(f"{out} is a file; --to {fmt} writes a folder of tables")
    if not base.parent.exists():
        raise SensorkitError(f"folder {base.parent} does not exist")
    ext = f".{fmt}"
    plan = mod.tables(rec, ext)
    paths = [base / name for name, _ in plan]
    if base.exists():
        check_outputs(paths, [rec.path], overwrite)  # every table checked before any is written
    base.mkdir(exist_ok=True)
    for (name, frame), path in zip(plan, paths, strict=True):
        df = frame()
        progress(f"writing {name} ({len(df)} rows)")
        with atomic_output(path) as tmp:
            mod.write_frame(df, tmp, fmt, lambda share, name=name: progress(f"{name}: {share}"))
    return [str(p) for p in paths], []
