"""Delsys Trigno exports to CSV (EMGworks, Trigno Discover): EMG and each sensor's IMU.

A Trigno sensor carries an EMG electrode and an IMU (accelerometer and gyroscope) at
different rates: EMG at 1111-2148 Hz, the IMU at 74-370 Hz. The export gives every channel
its own pair of columns, `X[s]` (its time, s) then its values, so the rates can differ;
a channel that ends before the others leaves its fields empty. Above the row of column
names, optional lines describe each channel:

    Label: Mini sensor 10: EMG 10 Sampling frequency: 1.259259e+003 Number of points: 81141
    start: 0.000000e+000 Unit: V Domain Unit: s

(one line per channel; the accelerometer in g, the gyroscope in deg/s). Labels are
`<sensor>: <signal> <number>`, the signal `EMG`, `ACC.X` ... `GYRO.Z` (or `ACC X`).

Written here because no maintained library reads this layout into channels with their
own times (emgio reads EMG only, MNE not at all). Times are taken as exported: the Trigno
base places the EMG and the IMU of its sensors on one clock.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sensorkit.errors import SensorkitError

TIME_NAME = "X[s]"
HEADER_SEARCH_LINES = 500  # the row of column names lies within this many lines of the top
_LABEL_LINE = re.compile(r"^\s*Label:\s*(?P<label>.+?)\s+Sampling frequency:\s*(?P<rate>[-+0-9.eE]+)"
                         r".*?\bUnit:\s*(?P<unit>.*?)\s+Domain Unit:", re.I)  # fmt: skip
_SIGNAL = re.compile(r"\b(?P<kind>EMG|ACC|GYRO|MAG)\b[\s._-]*(?P<axis>[XYZ])?\b", re.I)
IMU_SIGNALS = ("ACC.X", "ACC.Y", "ACC.Z", "GYRO.X", "GYRO.Y", "GYRO.Z")


@dataclass
class DelsysChannel:
    """One exported channel: its label as written, the sensor it belongs to, what it measures
    (`EMG`, `ACC.X` ... `GYRO.Z`, `MAG.X` ...; '' for anything else), its unit as declared ('' when
    the file does not say), rate (Hz), times (s) and values."""

    label: str
    sensor: str
    signal: str
    unit: str
    rate_hz: float
    t: np.ndarray
    x: np.ndarray


def _fields(line: str) -> list[str]:
    return [f.strip() for f in next(csv.reader([line]), [])]


def delsys_header_row(lines: list[str]) -> int | None:
    """The index of a Delsys export's row of column names (`X[s],<label>,X[s],<label>,...`), or
    None when `lines` are not such an export."""
    for i, line in enumerate(lines[:HEADER_SEARCH_LINES]):
        if not line.lstrip().startswith(TIME_NAME):
            continue
        f = _fields(line)
        while f and not f[-1]:
            f.pop()
        if len(f) >= 2 and len(f) % 2 == 0 and all(x == TIME_NAME for x in f[::2]) and all(f[1::2]):
            return i
    return None


def _head(path: str) -> list[str]:
    """The first `HEADER_SEARCH_LINES` lines of a text file (OSError where it cannot be read)."""
    with open(path, errors="replace") as f:
        return [f.readline() for _ in range(HEADER_SEARCH_LINES)]


def is_delsys_export(path: str) -> bool:
    """Whether the text file at `path` is a Delsys export (its row of `X[s]` column pairs)."""
    try:
        return delsys_header_row(_head(path)) is not None
    except OSError:
        return False


def signal_of(label: str) -> tuple[str, str]:
    """(sensor, signal) of a channel label: 'Mini sensor 10: ACC.X 10' -> ('Mini sensor 10', 'ACC.X')."""
    sensor, _, what = label.rpartition(":")
    sensor, what = (sensor.strip(), what.strip()) if sensor else (label.strip(), label.strip())
    m = _SIGNAL.search(what)
    if not m:
        return sensor, ""
    kind, axis = m.group("kind").upper(), (m.group("axis") or "").upper()
    return sensor, f"{kind}.{axis}" if axis else kind


def read_delsys_csv(path: str) -> list[DelsysChannel]:
    """Every channel of a Delsys CSV export, in the order of its columns."""
    try:
        head = _head(path)
    except OSError as exc:
        raise SensorkitError(f"cannot read {path}: {exc.strerror or exc}") from None
    row = delsys_header_row(head)
    if row is None:
        raise SensorkitError(f"{path}: not a Delsys export (no row of 'X[s]' column pairs)")
    declared = {}
    for line in head[:row]:
        m = _LABEL_LINE.match(line)
        if m:
            declared[m.group("label").strip()] = (float(m.group("rate")), m.group("unit").strip().rstrip(","))
    labels = _fields(head[row])[1::2]
    try:
        table = pd.read_csv(path, skiprows=row + 1, header=None, usecols=range(2 * len(labels)),
                            dtype=np.float64, encoding_errors="replace", skip_blank_lines=True)  # fmt: skip
    except pd.errors.EmptyDataError:
        raise SensorkitError(f"{path}: the Delsys export holds no rows of data") from None
    except (ValueError, pd.errors.ParserError) as exc:
        raise SensorkitError(f"{path}: the Delsys export's data rows are not all numbers ({exc})") from None
    out = []
    for k, label in enumerate(labels):
        t, x = table[2 * k].to_numpy(), table[2 * k + 1].to_numpy()
        have = np.flatnonzero(np.isfinite(t) & np.isfinite(x))
        n = int(have[-1]) + 1 if have.size else 0
        t, x = t[:n], x[:n]
        rate, unit = declared.get(label, (None, ""))
        t, fitted = regular_times(t)
        if fitted is not None:
            rate = fitted
        elif rate is None or not rate > 0:
            raise SensorkitError(f"{path}: channel {label!r} has no sample rate in the header and its times do "
                                 "not increase")  # fmt: skip
        sensor, signal = signal_of(label)
        out.append(DelsysChannel(label, sensor, signal, unit, float(rate), t, x))
    return out


def regular_times(t: np.ndarray) -> tuple[np.ndarray, float | None]:
    """(times, rate Hz) of a channel whose exported times `t` (s) lie on a regular grid: the grid
    fitted through all of them, and its rate; (t, None) where they do not (fewer than two, not
    increasing, or off the grid by half a period or more somewhere).

    Why fitted: the export writes times with 7 significant digits, so past 1000 s they step in
    whole milliseconds, more than a period of the EMG; and the header's rate has 7 digits too,
    which drifts by up to 2 ms over an hour. A line through every sample time is exact to far
    below both."""
    ok = np.flatnonzero(np.isfinite(t))
    if ok.size < 2:
        return t, None
    slope, start = np.polyfit(ok.astype(np.float64), t[ok], 1)
    grid = start + slope * np.arange(len(t))
    # half a period off, beyond what writing the times with 7 significant digits rounds away
    rounding = 0.5 * 10.0 ** (np.floor(np.log10(max(float(np.max(np.abs(t[ok]))), 1e-9))) - 6)
    if not slope > 0 or np.max(np.abs(grid[ok] - t[ok])) >= 0.5 * slope + rounding:
        return t, None
    return grid, 1.0 / float(slope)


__all__ = ["DelsysChannel", "IMU_SIGNALS", "delsys_header_row", "is_delsys_export", "read_delsys_csv", "signal_of"]
