"""CSV and Parquet: a folder with one table per stream, the markers and the channels.

Per stream: `time_s` (the file clock, as in the XDF), `time_from_start_s` (from the
recording's first sample over all streams), then one column per channel in SI units;
lost samples are empty (NaN). `markers` holds every marker with its stream; `channels`
holds each channel's stream, type, unit and rate, and which table holds it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from sensorkit.export.grid import marker_rows, start_time, unique_names
from sensorkit.recording.xdf_reader import Recording, StreamData

RESERVED = ("markers", "channels")


def table_names(rec: Recording) -> dict[int, str]:
    """A file stem per numeric stream (by position): its name made safe for any file system,
    unique, never one of the reserved tables."""
    safe = lambda name, i: re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or f"stream{i + 1}"  # noqa: E731
    return unique_names(rec, safe, RESERVED)


def _columns(labels: tuple[str, ...]) -> list[str]:
    seen: dict[str, int] = {}
    cols = []
    for lab in labels:
        seen[lab] = seen.get(lab, 0) + 1
        cols.append(lab if seen[lab] == 1 else f"{lab}_{seen[lab]}")
    return cols


def stream_frame(s: StreamData, t0: float) -> pd.DataFrame:
    """One numeric stream as a table (see the module's docstring)."""
    df = pd.DataFrame(np.asarray(s.samples, dtype=np.float64), columns=_columns(s.info.channels))
    df.insert(0, "time_from_start_s", s.timestamps - t0)
    df.insert(0, "time_s", s.timestamps)
    return df


def markers_frame(rec: Recording, t0: float) -> pd.DataFrame:
    rows = [(t, t - t0, stream, text) for t, stream, text in marker_rows(rec)]
    return pd.DataFrame(rows, columns=["time_s", "time_from_start_s", "stream", "marker"])


def channels_frame(rec: Recording, names: dict[int, str], ext: str) -> pd.DataFrame:
    rows = []
    for i, s in enumerate(rec.streams):
        if s.info.is_string:
            continue
        for col, unit in zip(_columns(s.info.channels), s.info.units, strict=True):
            rows.append((f"{names[i]}{ext}", col, s.info.name, s.info.kind, unit, s.info.srate, s.info.source_id,
                         len(s.timestamps), s.lost_samples))  # fmt: skip
    return pd.DataFrame(rows, columns=["table", "column", "stream", "type", "unit", "rate_hz", "source_id",
                                       "samples", "lost_samples"])  # fmt: skip


def tables(rec: Recording, ext: str) -> list[tuple[str, Callable[[], pd.DataFrame]]]:
    """(file name, frame maker) for every table of the export, in writing order."""
    t0 = start_time(rec)
    names = table_names(rec)
    out: list[tuple[str, Callable[[], pd.DataFrame]]] = [
        (f"{names[i]}{ext}", lambda s=s: stream_frame(s, t0)) for i, s in enumerate(rec.streams) if i in names
    ]
    out.append((f"markers{ext}", lambda: markers_frame(rec, t0)))
    out.append((f"channels{ext}", lambda: channels_frame(rec, names, ext)))
    return out


CSV_ROWS_PER_STEP = 200_000  # a 1-hour 2 kHz stream is 7.2 M rows: written in steps, each reported


def write_frame(df: pd.DataFrame, path: Path, fmt: str, progress: Callable[[str], None] | None = None) -> None:
    """`fmt` "csv" (floats in full precision: re-read, they are equal) or "parquet". A long
    CSV is written in steps of `CSV_ROWS_PER_STEP` rows (the same text as in one go), and
    `progress` hears the share written after each ("40%")."""
    if fmt == "parquet":
        df.to_parquet(path, index=False)
        return
    with open(path, "w", newline="") as f:
        for a in range(0, max(len(df), 1), CSV_ROWS_PER_STEP):
            df.iloc[a : a + CSV_ROWS_PER_STEP].to_csv(f, index=False, header=a == 0)
            if progress and len(df) > CSV_ROWS_PER_STEP:
                progress(f"{min(a + CSV_ROWS_PER_STEP, len(df)) / len(df):.0%}")
