"""Streams on regular sample grids, for formats that have no per-sample timestamps.

EDF and C3D store samples at a nominal rate from one start time. sensorkit's streams
each have their own start, rate and lost samples (NaN rows), so each sample is placed
by its index: sample j of a stream starting at t_s goes to grid index
j * ratio + round((t_s - t0) * rate), which keeps every recorded value exactly (no
resampling of a stream onto its own rate) and errs on timing by under half a grid step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from sensorkit.recording.xdf_reader import Recording, StreamData


def data_streams(rec: Recording) -> list[StreamData]:
    """The numeric streams with samples and a nominal rate (what a sample grid can hold)."""
    return [s for s in rec.streams if not s.info.is_string and len(s.timestamps) and s.info.srate > 0]


def skipped_streams(rec: Recording) -> list[str]:
    """Numeric streams a sample grid cannot hold (no nominal rate), named for the notes."""
    return [s.info.name for s in rec.streams if not s.info.is_string and len(s.timestamps) and not s.info.srate > 0]


def start_time(rec: Recording) -> float:
    """The recording's first timestamp over every stream (s, file clock): time zero of exports."""
    firsts = [float(s.timestamps[0]) for s in rec.streams if len(s.timestamps)]
    return min(firsts) if firsts else 0.0


def unique_names(rec: Recording, safe: Callable[[str, int], str], reserved: tuple[str, ...]) -> dict[int, str]:
    """A name per numeric stream (by position): `safe(stream name, position)` made unique
    (`_2`, `_3`, ... without regard to case), never one of `reserved`."""
    used, out = {r.lower() for r in reserved}, {}
    for i, s in enumerate(rec.streams):
        if s.info.is_string:
            continue
        base = safe(s.info.name, i)
        name, k = base, 2
        while name.lower() in used:
            name, k = f"{base}_{k}", k + 1
        used.add(name.lower())
        out[i] = name
    return out


def marker_rows(rec: Recording) -> list[tuple[float, str, str]]:
    """Every marker as (time s on the file clock, stream, text), in time order; a marker
    stream with several channels has them joined by " | "."""
    rows = [(float(t), s.info.name, " | ".join(str(v) for v in row))
            for s in rec.streams if s.info.is_string
            for t, row in zip(s.timestamps, s.samples, strict=True)]  # fmt: skip
    return sorted(rows, key=lambda r: r[0])


@dataclass
class Placed:
    """A stream's samples on a grid: `values` (n, channels) with zeros where the stream had
    no sample, `missing` True there, at `rate` Hz from the export's time zero; `first` and
    `last` are the grid indices of the stream's first and last sample."""

    values: np.ndarray
    missing: np.ndarray
    rate: float
    interpolated: bool  # True: a slower stream brought to `rate` by linear interpolation
    first: int
    last: int

    def lost(self) -> list[tuple[float, float]]:
        """Stretches of samples lost in transit, (start s, duration s) from time zero: the
        grid before the stream's first and after its last sample is no loss."""
        a, b = max(self.first, 0), min(self.last + 1, len(self.missing))
        return [(a / self.rate + t, d) for t, d in spans(self.missing[a:b], self.rate)]


def place(s: StreamData, t0: float, rate: float, n: int) -> Placed:
    """`s` on a grid of `n` samples at `rate` Hz from `t0`.

    At the stream's own rate samples are placed, never resampled. At a higher rate (C3D's
    single analog rate), the values between a stream's own samples are interpolated
    linearly, so its own samples sit unchanged at their grid points.
    """
    fs = float(s.info.srate)
    ratio = rate / fs
    first = int(round((float(s.timestamps[0]) - t0) * rate))
    pos = first + np.arange(len(s.timestamps)) * ratio
    x = np.asarray(s.samples, dtype=np.float64)
    lost = np.isnan(x).any(axis=1)
    values = np.zeros((n, x.shape[1]))
    missing = np.ones(n, dtype=bool)
    if np.isclose(ratio, 1.0):
        idx = np.round(pos).astype(np.int64)
        ok = (idx >= 0) & (idx < n)
        values[idx[ok]] = np.nan_to_num(x[ok])
        missing[idx[ok]] = lost[ok]
        return Placed(values, missing, rate, False, int(idx[0]), int(idx[-1]))
    k = np.arange(n, dtype=np.float64)
    inside = (k >= pos[0]) & (k <= pos[-1])
    good = ~lost
    for c in range(x.shape[1]):
        values[inside, c] = np.interp(k[inside], pos[good], x[good, c]) if good.any() else 0.0
    # a grid point is missing when it falls in a lost stretch of the stream's own samples
    near = np.clip(np.round((k - pos[0]) / ratio).astype(np.int64), 0, len(pos) - 1)
    missing[inside] = lost[near[inside]]
    return Placed(values, missing, rate, True, int(np.ceil(pos[0])), int(np.floor(pos[-1])))


def spans(mask: np.ndarray, rate: float) -> list[tuple[float, float]]:
    """Runs of True in `mask` as (start s, duration s) at `rate` Hz."""
    if not mask.any():
        return []
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(d == 1), np.flatnonzero(d == -1)
    return [(a / rate, (b - a) / rate) for a, b in zip(starts, ends, strict=True)]
