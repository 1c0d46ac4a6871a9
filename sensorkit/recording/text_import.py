"""Importing EMG exported as text (CSV/TSV/plain columns) by other systems into XDF.

Exports differ in separator, header lines, time column and units, so the user
states what the file cannot: sample rate (unless a time column gives it), unit
(V, mV, uV, or ADC counts with a scale in V per count and an offset), and the
muscle of each column. Gait events in a second CSV (touchdown / lift-off times)
become `initial_contact:SIDE` / `final_contact:SIDE` markers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sensorkit.errors import SensorkitError
from sensorkit.recording.outputs import atomic_output
from sensorkit.recording.xdf_writer import XdfWriter
from sensorkit.streams import EMG, MARKERS, Chunk, StreamInfo
from sensorkit.units import to_si

CONTACT_COLUMNS = {
    "initial_contact": ("touchdown", "touchdown_s", "initial_contact", "heel_strike", "foot_strike", "ic"),
    "final_contact": ("liftoff", "liftoff_s", "lift_off", "toe_off", "final_contact", "fc"),
}
_NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")


@dataclass
class TextImport:
    path: str
    rate_hz: float | None = None
    unit: str = "V"  # V, mV, uV or counts
    scale: float | None = None  # V per count, for unit "counts"
    offset: float = 0.0  # counts subtracted before scaling (e.g. 2048 for 12-bit mid-scale)
    time_column: str | None = None
    channel_map: dict[str, str] = field(default_factory=dict)
    columns: list[str] | None = None  # keep only these (after renaming)


def _separator(line: str) -> str | None:
    for sep in ("\t", ",", ";"):
        if sep in line:
            return sep
    return None  # runs of spaces


def _split(line: str, sep: str | None = None) -> list[str]:
    """Fields of a line; with an explicit separator, empty fields are kept (as '')."""
    if sep is None:
        return line.split()
    return [t.strip() for t in line.rstrip("\r\n").split(sep)]


def _read_table(path: str) -> pd.DataFrame:
    """The numeric table of a text export, with its header row if it has one."""
    try:
        lines = Path(path).read_text(errors="replace").splitlines()
    except OSError as exc:
        raise SensorkitError(f"cannot read {path}: {exc.strerror or exc}") from None
    first = next((i for i, ln in enumerate(lines)
                  if ln.strip() and not ln.lstrip().startswith("#")
                  and all(_NUMBER.match(t) for t in ln.replace(",", " ").replace(";", " ").split())),
                 None)  # fmt: skip
    if first is None:
        raise SensorkitError(f"{path}: no rows of numbers found")
    sep = _separator(lines[first])
    width = len(_split(lines[first], sep))
    names = [f"ch{i + 1}" for i in range(width)]
    for ln in reversed(lines[:first]):
        tokens = _split(ln.lstrip("#"), sep)
        if ln.strip():
            if len(tokens) == width and not any(_NUMBER.match(t) for t in tokens):
                names = tokens
            break
    rows = [_split(ln, sep) for ln in lines[first:] if ln.strip() and not ln.lstrip().startswith("#")]
    bad = sum(len(r) != width for r in rows)
    if bad:
        raise SensorkitError(f"{path}: {bad} rows do not have {width} columns")
    try:  # an empty field (a column that ends early) is a missing value
        data = np.array([[float(t) if t else np.nan for t in r] for r in rows], dtype=np.float64)
    except ValueError:
        raise SensorkitError(f"{path}: non-numeric values among the data rows") from None
    return pd.DataFrame(data, columns=names)


def read_text_emg(spec: TextImport) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(timestamps s, samples V (n, ch), labels) of a text export."""
    table = _read_table(spec.path)
    if spec.time_column:
        if spec.time_column not in table:
            raise SensorkitError(f"{spec.path}: no column {spec.time_column!r} (columns: {', '.join(table)})")
        t = table.pop(spec.time_column).to_numpy()
        if spec.rate_hz is None:  # rounded: the time column's decimals are not the rate's
            spec.rate_hz = rate_of_time_column(t, spec.path, spec.time_column)
    elif spec.rate_hz is None:
        raise SensorkitError("give the sample rate (--rate) or the time column (--time-column)")
    else:
        t = np.arange(len(table)) / _positive_rate(spec.rate_hz)
    unknown = set(spec.channel_map) - set(table)
    if unknown:
        raise SensorkitError(f"--channel-map names columns the file lacks: {', '.join(sorted(unknown))}")
    table = table.rename(columns=spec.channel_map)
    if spec.columns:
        missing = [c for c in spec.columns if c not in table]
        if missing:
            raise SensorkitError(f"--columns names columns the file lacks: {', '.join(missing)}")
        table = table[spec.columns]
    x = table.to_numpy()
    rows = np.flatnonzero(~np.isnan(x).all(axis=1))  # other columns may run on after the EMG ends
    t, x = t[: rows[-1] + 1], x[: rows[-1] + 1] if rows.size else x[:0]
    unit = spec.unit.strip().lower()
    if unit == "counts":
        if not spec.scale:
            raise SensorkitError("ADC counts need --scale (volts per count)")
        x = (x - spec.offset) * spec.scale
    elif to_si(unit)[0] == "V":
        x = x * to_si(unit)[1]
    else:
        raise SensorkitError(f"unit {spec.unit!r}: use V, mV, uV or counts")
    return t, x, list(table.columns)


IMU_COLUMNS = ("acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z")


def _positive_rate(rate_hz: float) -> float:
    if not (np.isfinite(rate_hz) and rate_hz > 0):
        raise SensorkitError(f"sample rate {rate_hz!r} Hz: give a positive finite rate")
    return float(rate_hz)


def rate_of_time_column(t: np.ndarray, path: str, column: str) -> float:
    """The sample rate (Hz) a time column (s) implies, or a clear error when it implies none."""
    steps = np.diff(t[np.isfinite(t)])
    step = float(np.median(steps)) if steps.size else 0.0
    if not step > 0:
        raise SensorkitError(f"{path}: the time column {column!r} does not increase; give --rate")
    return float(np.round(1.0 / step, 3))


def _guess_unit(x: np.ndarray, choices: dict[str, float], given: str | None, what: str) -> str:
    """The unit of a column group: given, or the one whose typical magnitude fits (see `choices`)."""
    if given:
        if to_si(given)[0] not in ("m/s^2", "rad/s"):
            raise SensorkitError(f"unit {given!r} is not a unit of {what}")
        return given
    level = float(np.nanpercentile(np.abs(x), 99)) if np.isfinite(x).any() else 0.0
    return next(unit for unit, below in choices.items() if level < below)


def read_text_imu(path: str, rate_hz: float | None = None, time_column: str | None = None,
                  columns: list[str] | None = None, acc_unit: str | None = None,
                  gyr_unit: str | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, str]:  # fmt: skip
    """(timestamps s, acc m/s^2, gyr rad/s, rate Hz, units note) of an IMU text export.

    `columns` names the six columns (accelerometer x y z, gyroscope x y z) where they are
    not called acc_x ... gyr_z. Without a unit, the accelerometer is taken as g when its
    magnitude is about 1 (else m/s^2) and the gyroscope as deg/s when it turns faster
    than 10 units/s at times (a pelvis seldom turns 10 rad/s).
    """
    table = _read_table(path)
    lower = {c.lower(): c for c in table}
    names = columns or [lower[c] for c in IMU_COLUMNS if c in lower]
    if len(names) != 6 or any(c not in table for c in names):
        raise SensorkitError(f"{path}: name the six IMU columns with --columns ax,ay,az,gx,gy,gz "
                             f"(columns: {', '.join(table)})")  # fmt: skip
    if time_column:
        if time_column not in table:
            raise SensorkitError(f"{path}: no column {time_column!r} (columns: {', '.join(table)})")
        t = table[time_column].to_numpy()
        rate_hz = rate_hz or rate_of_time_column(t, path, time_column)
    elif rate_hz is None:
        raise SensorkitError("give the sample rate (--rate) or the time column (--time-column)")
    else:
        t = np.arange(len(table)) / _positive_rate(rate_hz)
    x = table[names].to_numpy()
    acc_u = _guess_unit(np.linalg.norm(x[:, :3], axis=1), {"g": 4.0, "m/s^2": np.inf}, acc_unit, "acceleration")
    gyr_u = _guess_unit(x[:, 3:], {"rad/s": 10.0, "deg/s": np.inf}, gyr_unit, "angular rate")
    acc, gyr = x[:, :3] * to_si(acc_u)[1], x[:, 3:] * to_si(gyr_u)[1]
    return t, acc, gyr, float(rate_hz), f"accelerometer in {acc_u}, gyroscope in {gyr_u}"


def read_gait_events(path: str, side: str, t0: float = 0.0) -> list[tuple[float, str]]:
    """Markers from a CSV of foot-contact times (s): `initial_contact:SIDE` and `final_contact:SIDE`."""
    table = _read_table(path)
    out = []
    for kind, names in CONTACT_COLUMNS.items():
        for col in table:
            if col.lower() in names:
                out += [(t0 + float(t), f"{kind}:{side}") for t in table[col] if np.isfinite(t)]
    if not out:
        raise SensorkitError(f"{path}: no touchdown/lift-off columns (e.g. touchdown_s, liftoff_s)")
    return sorted(out)


def write_xdf(out: str, t: np.ndarray, x: np.ndarray, labels: list[str], rate_hz: float,
              markers: list[tuple[float, str]], meta: dict[str, str]) -> None:  # fmt: skip
    """An XDF file with one EMG stream (V) and, if any, a markers stream.

    Written whole or not at all (`atomic_output`); no path is stored in it (a file
    name can carry a patient's name).
    """
    _positive_rate(rate_hz)
    with atomic_output(out) as tmp:
        w = XdfWriter(tmp, meta)
        try:
            emg = StreamInfo("emg", EMG, tuple(labels), ("V",) * len(labels), rate_hz, source_id="import")
            for a in range(0, len(t), 10000):
                w.write_chunk(Chunk(emg, t[a : a + 10000], x[a : a + 10000].astype(np.float32)))
            if markers:
                info = StreamInfo("markers", MARKERS, ("marker",), ("",), 0.0, source_id="import:markers",
                                  channel_format="string")  # fmt: skip
                w.write_chunk(Chunk(info, [m[0] for m in markers], [[m[1]] for m in markers]))
        finally:
            w.close()
