"""Importing EMG exported as text (CSV/TSV/plain columns) by other systems into XDF.

Exports differ in separator, header lines, time column and units. What the header
says is read: column names and units (`Channel 1: 'RF', ... units: mV`, a row of
names, `RF (mV)`), the sample rate (`Sampling Rate (Hz):= 1000`). The user states
what the file cannot, and overrides what it says: sample rate (unless a time column
gives it), unit (V, mV, uV, or ADC counts with a scale in V per count and an offset),
and the muscle of each column. Columns that are not EMG (a goniometer's angle in deg,
a force in N, a footswitch; by unit, else by name) become streams of their own, never
EMG in volts. Gait events in a second CSV (touchdown / lift-off times) become
`initial_contact:SIDE` / `final_contact:SIDE` markers. A Delsys Trigno export (each
channel its own `X[s]` time column and rate: `sensorkit.recording.delsys_csv`) gives its
EMG and each sensor's accelerometer and gyroscope, the sacral sensor's as the `pelvis`
IMU stream.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sensorkit.analysis.exercises import MUSCLE_LABEL
from sensorkit.errors import SensorkitError
from sensorkit.recording.delsys_csv import IMU_SIGNALS, DelsysChannel, is_delsys_export, read_delsys_csv
from sensorkit.recording.muscle_names import muscle_label, renamed
from sensorkit.recording.outputs import atomic_output
from sensorkit.recording.xdf_writer import XdfWriter
from sensorkit.streams import EMG, IMU, IMU_CHANNELS, MARKERS, MAX_RESTORED_S, Chunk, StreamInfo, restore_lost_rows
from sensorkit.units import to_si

CONTACT_COLUMNS = {
    "initial_contact": ("touchdown", "touchdown_s", "initial_contact", "heel_strike", "foot_strike", "ic"),
    "final_contact": ("liftoff", "liftoff_s", "lift_off", "toe_off", "final_contact", "fc"),
}
_NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")


@dataclass
class TextImport:
    path: str
    rate_hz: float | None = None  # None: from the time column or the file's header
    unit: str | None = None  # of the EMG columns: V, mV, uV or counts; None: as the file says, else V
    scale: float | None = None  # V per count, for unit "counts"
    offset: float = 0.0  # counts subtracted before scaling (e.g. 2048 for 12-bit mid-scale)
    time_column: str | None = None
    channel_map: dict[str, str] = field(default_factory=dict)
    columns: list[str] | None = None  # keep only these (after renaming)
    pelvis: str | None = None  # a Delsys export: the sensor on the sacrum (its name as exported, or its number)


@dataclass
class Table:
    """A text export's numbers with what its header says: column units, sample rate."""

    frame: pd.DataFrame
    units: dict[str, str] = field(default_factory=dict)  # column -> unit as written in the file
    rate_hz: float | None = None


@dataclass
class TypedChannels:
    """Non-EMG columns of one kind (a goniometer's angle, a force, a footswitch): a stream
    of their own, usable as a reference."""

    kind: str  # Angle, Force, Switch
    labels: list[str]
    units: list[str]
    values: np.ndarray  # (n, channels), as in the file (degrees stay degrees)


@dataclass
class ImuStream:
    """One sensor's accelerometer and gyroscope (`IMU_CHANNELS`, m/s^2 and rad/s) on its own
    clock: an IMU stream named `name` whose `location` says where it was worn."""

    name: str
    location: str
    rate_hz: float
    t: np.ndarray  # s
    values: np.ndarray  # (n, 6)


@dataclass
class TextData:
    t: np.ndarray  # s
    emg: np.ndarray  # V, (n, channels)
    labels: list[str]
    rate_hz: float
    others: list[TypedChannels] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what was read from the header, how columns were typed
    imus: list[ImuStream] = field(default_factory=list)  # each with its own times and rate


# Columns that are not EMG, by unit and by name. Why by name too: many exports give no unit.
KIND_BY_UNIT = {"deg": "Angle", "degree": "Angle", "degrees": "Angle", "°": "Angle", "rad": "Angle",
                "n": "Force", "kn": "Force", "lbf": "Force", "kgf": "Force"}  # fmt: skip
KIND_BY_NAME = (("Angle", ("gonio", "angle", "flexion", "extension_deg")),
                ("Force", ("force", "load", "grf", "fz")),
                ("Switch", ("footswitch", "foot_switch", "switch", "fsw", "trigger")))  # fmt: skip
_CHANNEL_LINE = re.compile(r"^\s*#?\s*channel\s*(\d+)\s*[:=]\s*['\"]?([^'\",]+?)['\"]?\s*(,(.*))?$", re.I)
_UNIT_IN_LINE = re.compile(r"units?\s*[:=]?\s*([^\s,;]+)", re.I)
# "Acquisition frequency: 100 Hz": Xsens MT Manager's exports (and Voisard et al.'s walking set)
_RATE_LINE = re.compile(r"((sampl\w*|acquisition)\s*(rate|frequency)|\bfs\b)[^0-9=:]*[:=]+\s*([0-9]+(\.[0-9]+)?)", re.I)
_NAME_UNIT = re.compile(r"^(.*?)\s*[\[(]\s*([^\])]+?)\s*[\])]$")


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


def _header(lines: list[str], width: int, sep: str | None) -> tuple[list[str], list[str], float | None]:
    """Column names and units, and the sample rate, from the lines above the numbers:
    `Channel 1: 'RF', ... units: mV` lines (Biometrics, the UCI set), `Sampling Rate
    (Hz):= 1000` (OpenSignals/BioSPPy), and a row of names, `RF (mV)` or `RF [mV]`."""
    names, units, rate = [f"ch{i + 1}" for i in range(width)], [""] * width, None
    for ln in lines:
        m = _CHANNEL_LINE.match(ln)
        if m and 1 <= int(m.group(1)) <= width:
            names[int(m.group(1)) - 1] = m.group(2).strip()
            u = _UNIT_IN_LINE.search(m.group(4) or "")
            units[int(m.group(1)) - 1] = u.group(1).rstrip(".") if u else ""
            continue
        r = _RATE_LINE.search(ln)
        if r and rate is None and float(r.group(4)) > 0:
            rate = float(r.group(4))
    for ln in reversed(lines):
        tokens = _split(ln.lstrip("#"), sep) if width > 1 else [ln.lstrip("#").strip()]
        if ln.strip():
            if len(tokens) == width and not any(_NUMBER.match(t) for t in tokens):
                for i, tok in enumerate(tokens):
                    m = _NAME_UNIT.match(tok)
                    names[i], units[i] = (m.group(1), m.group(2)) if m and m.group(1) else (tok, units[i])
            break
    return names, units, rate


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _read_table(path: str) -> Table:
    """The numeric table of a text export, with what its header says."""
    try:
        lines = Path(path).read_text(errors="replace").splitlines()
    except OSError as exc:
        raise SensorkitError(f"cannot read {path}: {exc.strerror or exc}") from None
    head = next((ln.lstrip() for ln in lines if ln.strip()), "")
    if head[:1] in ("{", "[") and _is_json("\n".join(lines)):  # not an export's "[Header]" section
        raise SensorkitError(f"{path} holds JSON, not a text export of samples (a result of sensorkit analyze is "
                             "read by compare)")  # fmt: skip
    first = next((i for i, ln in enumerate(lines)
                  if ln.strip() and not ln.lstrip().startswith("#")
                  and all(_NUMBER.match(t) for t in ln.replace(",", " ").replace(";", " ").split())),
                 None)  # fmt: skip
    if first is None:
        raise SensorkitError(f"{path}: no rows of numbers found")
    sep = _separator(lines[first])
    width = len(_split(lines[first], sep))
    names, units, rate = _header(lines[:first], width, sep)
    numbered = [(k, _split(ln, sep)) for k, ln in enumerate(lines[first:], start=first + 1)
                if ln.strip() and not ln.lstrip().startswith("#")]  # fmt: skip
    rows = [r for _, r in numbered]
    wrong = [k for k, r in numbered if len(r) != width]
    if wrong:
        raise SensorkitError(f"{path}: {len(wrong)} rows do not have the {width} columns of the first row of "
                             f"numbers (line {first + 1}); the first is line {wrong[0]}")  # fmt: skip
    try:  # an empty field (a column that ends early) is a missing value
        data = np.array([[float(t) if t else np.nan for t in r] for r in rows], dtype=np.float64)
    except ValueError:
        raise SensorkitError(f"{path}: non-numeric values among the data rows") from None
    frame = pd.DataFrame(data, columns=names)
    return Table(frame, {n: u for n, u in zip(names, units, strict=True) if u}, rate)


def column_kind(names: tuple[str, ...], unit: str) -> str:
    """EMG, or the kind of a non-EMG column (Angle, Force, Switch) by its unit, else by its
    names (as in the file and as renamed)."""
    u = unit.strip().lower()
    if u in KIND_BY_UNIT:
        return KIND_BY_UNIT[u]
    if u and to_si(u)[0] == "V":
        return EMG
    for kind, words in KIND_BY_NAME:
        if any(w in n.lower() for n in names for w in words):
            return kind
    return EMG


def read_text_export(spec: TextImport) -> TextData:
    """A text export's EMG (s, V) and its other typed columns, what the user said taking
    precedence over what the file's header says; a Delsys export's EMG and IMUs (`delsys_data`)."""
    if is_delsys_export(spec.path):
        return delsys_data(spec)
    if spec.pelvis:
        raise SensorkitError(f"--pelvis names a sensor of a Delsys export; {spec.path} is not one (a text "
                             "export's IMU columns, acc_x ... gyr_z, are the pelvis IMU without it)")  # fmt: skip
    table = _read_table(spec.path)
    frame, notes = table.frame.copy(), []
    events = [c for c in frame if c.strip().lower() in {n for names in CONTACT_COLUMNS.values() for n in names}]
    if events and len(events) == len(frame.columns):  # foot contacts, not samples
        raise SensorkitError(f"{spec.path} holds foot contact times ({', '.join(events)}), not samples: give it with "
                             "--events to the import of the recording's EMG")  # fmt: skip
    imu_cols = imu_columns(list(frame.columns))
    named = _imu_named(list(frame.columns))
    if named and not imu_cols:  # never EMG, and no IMU without all six
        missing = [f"{k}_{a}" for k, a in _IMU_AXES if (k, a) not in named]
        raise SensorkitError(f"{spec.path}: {', '.join(named.values())} are an IMU's columns, but there is no "
                             f"{', '.join(missing)} (an IMU needs the x, y, z of both sensors)")  # fmt: skip
    auto = _time_column(frame) if spec.time_column is None else None
    if auto and spec.rate_hz is None:
        spec.time_column = auto
        notes.append(f"column {auto!r} taken as time (s)")
    elif auto:  # --rate gives the timestamps; the time column is still no EMG channel
        frame = frame.drop(columns=auto)
        notes.append(f"column {auto!r} (time) left out: --rate gives the timestamps")
    if spec.time_column:
        if spec.time_column not in frame:
            raise SensorkitError(f"{spec.path}: no column {spec.time_column!r} (columns: {', '.join(frame)})")
        t = frame.pop(spec.time_column).to_numpy()
        if spec.rate_hz is None:  # rounded: the time column's decimals are not the rate's
            spec.rate_hz = rate_of_time_column(t, spec.path, spec.time_column)
        if imu_cols:  # an IMU logger's missing rows (its times jump) are lost samples, as read_text_imu keeps them
            t, values, lost = restore_lost_rows(np.asarray(t, dtype=np.float64), frame.to_numpy(dtype=np.float64),
                                                float(spec.rate_hz))  # fmt: skip
            if lost:
                frame = pd.DataFrame(values, columns=list(frame.columns))
                notes.append(f"{lost} samples missing where {spec.time_column!r} jumps, kept as lost samples")
    else:
        if spec.rate_hz is None and table.rate_hz:
            spec.rate_hz = table.rate_hz
            notes.append(f"sample rate {table.rate_hz:g} Hz, from the file's header")
        elif spec.rate_hz is not None and table.rate_hz and abs(spec.rate_hz - table.rate_hz) > 1e-6:
            notes.append(f"--rate {spec.rate_hz:g} Hz used; the file's header says {table.rate_hz:g} Hz")
        if spec.rate_hz is None:
            raise SensorkitError("give the sample rate (--rate) or the time column (--time-column)")
        if imu_cols:  # an IMU logger's rows, placed by its sample counter where it has one
            frame = _placed_by_counter(frame, spec.path, _positive_rate(spec.rate_hz), notes)
        t = np.arange(len(frame)) / _positive_rate(spec.rate_hz)
    imu = None
    if imu_cols:
        imu = _imu_stream(frame[imu_cols].to_numpy(dtype=np.float64), [table.units.get(c, "") for c in imu_cols],
                          t, float(spec.rate_hz), imu_cols, notes)  # fmt: skip
        frame = frame.drop(columns=imu_cols)
    renames = _by_name_or_position(spec.channel_map, list(table.frame.columns), list(frame.columns))
    unknown = set(spec.channel_map) - set(renames)
    if unknown:
        raise SensorkitError(f"--channel-map names columns the file lacks: {', '.join(sorted(unknown))} "
                             f"(columns: {', '.join(frame)})")  # fmt: skip
    renames = {renames[k]: v for k, v in spec.channel_map.items()}
    original = {renames.get(c, c): c for c in frame}
    frame = frame.rename(columns=renames)
    if spec.columns:
        missing = [c for c in spec.columns if c not in frame]
        if missing:
            raise SensorkitError(f"--columns names columns the file lacks: {', '.join(missing)}")
        frame = frame[spec.columns]
    units = {c: table.units.get(original[c], "") for c in frame}
    kinds = {c: column_kind((original[c], c), units[c]) for c in frame}
    if imu is not None:  # beside an IMU, EMG is what says so: a unit of volts or a muscle's name
        # (an IMU logger's other columns, magnetometer, quaternion, counters, are not EMG)
        apart = [c for c in frame if kinds[c] == EMG and to_si(units[c])[0] != "V" and not MUSCLE_LABEL.match(c)]
        if apart:
            notes.append(f"left out beside the IMU (no unit of volts, no muscle's name): {', '.join(apart)}")
            frame = frame.drop(columns=apart)
            kinds = {c: k for c, k in kinds.items() if c not in apart}
    emg_cols = [c for c in frame if kinds[c] == EMG]
    if not emg_cols and imu is None:
        raise SensorkitError(f"{spec.path}: no EMG column among {', '.join(frame)} (the others are typed "
                             f"{', '.join(sorted(set(kinds.values())))})")  # fmt: skip
    x = np.column_stack([emg_volts(frame[c].to_numpy(), units[c], spec, c, notes) for c in emg_cols]) \
        if emg_cols else np.zeros((len(t), 0))
    n = _last_row(x) if emg_cols else len(t)
    others = []
    for kind in sorted(set(kinds.values()) - {EMG}):
        cols = [c for c in frame if kinds[c] == kind]
        values = frame[cols].to_numpy()[: _last_row(frame[cols].to_numpy())]
        others.append(TypedChannels(kind, cols, [units[c] for c in cols], values))
        notes.append(f"{', '.join(cols)}: {kind.lower()} ({', '.join(units[c] or 'no unit' for c in cols)}), "
                     f"a stream of its own")  # fmt: skip
    labels, said = renamed(emg_cols, set(spec.channel_map.values()))  # 'Left Gluteus Medius' -> glute_med_L
    return TextData(t, x[:n], labels, float(spec.rate_hz), others, notes + said, [imu] if imu is not None else [])


TIME_NAMES = ("time", "time_s", "t", "timestamp", "seconds", "sec", "s")


def _time_column(frame: pd.DataFrame) -> str | None:
    """A column named for time whose values increase throughout, else None."""
    for c in frame:
        if c.strip().lower() in TIME_NAMES:
            t = frame[c].to_numpy()
            if t.size > 1 and np.all(np.diff(t[np.isfinite(t)]) > 0):
                return c
    return None


def _by_name_or_position(mapping: dict[str, str], all_columns: list[str], columns: list[str]) -> dict[str, str]:
    """Each --channel-map key's column: by name, or `chN` for the file's N-th column (so a
    map written before the header's names were read still works)."""
    out = {}
    for key in mapping:
        if key in columns:
            out[key] = key
        elif (m := re.fullmatch(r"ch(\d+)", key)) and 1 <= int(m.group(1)) <= len(all_columns):
            if all_columns[int(m.group(1)) - 1] in columns:
                out[key] = all_columns[int(m.group(1)) - 1]
    return out


def _last_row(x: np.ndarray) -> int:
    """Rows up to the last with any value (other columns may run on after these end)."""
    rows = np.flatnonzero(~np.isnan(x).all(axis=1))
    return int(rows[-1] + 1) if rows.size else 0


def emg_volts(x: np.ndarray, declared: str, spec: TextImport, column: str, notes: list[str]) -> np.ndarray:
    """An EMG column in volts: in the unit the user gave, else the one the file declares, else V."""
    unit = (spec.unit or declared or "V").strip().lower()
    if spec.unit and declared and to_si(declared) != to_si(spec.unit):
        notes.append(f"{column}: --unit {spec.unit} used; the file says {declared}")
    if unit == "counts":
        if not spec.scale:
            raise SensorkitError("ADC counts need --scale (volts per count)")
        return (x - spec.offset) * spec.scale
    if to_si(unit)[0] == "V":
        return x * to_si(unit)[1]
    raise SensorkitError(f"{column}: unit {spec.unit or declared!r}: use V, mV, uV or counts")


def _sensor_key(name: str) -> str:
    return " ".join(name.lower().split())


def find_sensor(name: str, sensors: list[str], path: str) -> str:
    """The sensor of a Delsys export that `name` means: its name as exported ('Mini sensor 11',
    any case), or its number alone ('11') where one sensor's name ends with it."""
    key = _sensor_key(name)
    exact = [s for s in sensors if _sensor_key(s) == key]
    numbered = [s for s in sensors if key.isdigit() and s.split() and s.split()[-1] == key]
    found = exact or numbered
    if len(found) != 1:
        raise SensorkitError(f"{path}: no single sensor {name!r} (sensors: {', '.join(sensors)})")
    return found[0]


def _on_clock(c: DelsysChannel, t: np.ndarray) -> np.ndarray:
    """A channel's values placed on the times `t` of its rate (another channel of the same
    rate, which may run longer or start earlier): NaN where it has no sample."""
    out = np.full(len(t), np.nan)
    if not len(c.x) or not len(t):
        return out
    at = int(round((c.t[0] - t[0]) * c.rate_hz))
    lo, hi = max(at, 0), min(at + len(c.x), len(t))
    if hi > lo:
        out[lo:hi] = c.x[lo - at : hi - at]
    return out


def _sensor_imu(sensor: str, chans: dict[str, DelsysChannel], name: str, location: str, notes: list[str]
                ) -> ImuStream | None:  # fmt: skip
    """A Delsys sensor's accelerometer and gyroscope as an IMU stream in SI units; None (with a
    note) where it lacks one of the six axes or they do not share a rate."""
    have = [chans.get(sig) for sig in IMU_SIGNALS]
    if any(c is None for c in have) or len({round(c.rate_hz, 3) for c in have}) != 1:
        missing = [sig for sig, c in zip(IMU_SIGNALS, have, strict=True) if c is None]
        why = "no " + ", ".join(missing) if missing else "axes at different rates"
        notes.append(f"{sensor}: no IMU stream ({why})")
        return None
    longest = max(have, key=lambda c: len(c.t))
    x = np.column_stack([_on_clock(c, longest.t) for c in have])
    acc, gyr, acc_u, gyr_u = imu_in_si(x, _declared(have[0].unit, "m/s^2"), _declared(have[3].unit, "rad/s"))
    notes.append(f"{sensor}: IMU stream {name!r} at {longest.rate_hz:g} Hz (accelerometer in {acc_u}, "
                 f"gyroscope in {gyr_u})")  # fmt: skip
    return ImuStream(name, location, longest.rate_hz, longest.t.copy(), np.column_stack([acc, gyr]))


def delsys_data(spec: TextImport) -> TextData:
    """A Delsys Trigno export (`delsys_csv`): its EMG channels (one rate; named as exported, or by
    --channel-map from their label or their sensor's name) and each sensor's IMU, `spec.pelvis`'s
    as the `pelvis` stream, the others named for their sensor (never taken for the pelvis)."""
    chans = read_delsys_csv(spec.path)
    notes: list[str] = []
    sensors = list(dict.fromkeys(c.sensor for c in chans))
    by_sensor: dict[str, dict[str, DelsysChannel]] = {s: {} for s in sensors}
    for c in chans:
        by_sensor[c.sensor].setdefault(c.signal, c)
    emg = [c for c in chans if c.signal == "EMG"]
    names = {}
    for key, new in spec.channel_map.items():
        hit = [c for c in emg if c.label == key] or [c for c in emg if _sensor_key(c.sensor) == _sensor_key(key)]
        if len(hit) != 1:
            raise SensorkitError(f"--channel-map: {key!r} is no single EMG channel or sensor of {spec.path} "
                                 f"(EMG: {', '.join(c.label for c in emg) or 'none'})")  # fmt: skip
        names[hit[0].label] = new
    if spec.columns:
        kept = [c for c in emg if names.get(c.label, c.label) in spec.columns]
        missing = set(spec.columns) - {names.get(c.label, c.label) for c in kept}
        if missing:
            raise SensorkitError(f"--columns names EMG channels the file lacks: {', '.join(sorted(missing))}")
        emg = kept
    pelvis = find_sensor(spec.pelvis, sensors, spec.path) if spec.pelvis else None
    imus = []
    for sensor in sensors:
        if sensor == pelvis or IMU_SIGNALS[0] in by_sensor[sensor]:
            name = "pelvis" if sensor == pelvis else re.sub(r"\W+", "_", sensor).strip("_").lower() or "imu"
            imu = _sensor_imu(sensor, by_sensor[sensor], name, "pelvis" if sensor == pelvis else sensor, notes)
            if imu is None and sensor == pelvis:
                raise SensorkitError(f"{spec.path}: --pelvis {spec.pelvis!r}: {notes[-1].split(': ', 1)[1]}")
            imus += [imu] if imu is not None else []
    if not pelvis and imus:
        notes.append(f"no pelvis IMU: name the sensor on the sacrum with --pelvis (e.g. --pelvis {sensors[0]!r})")
    left = sorted({c.signal or c.label for c in chans if c.signal != "EMG" and c.signal not in IMU_SIGNALS})
    if left:
        notes.append(f"left out: {', '.join(left)}")
    if not emg and pelvis is None:
        raise SensorkitError(f"{spec.path}: no EMG channel and no --pelvis sensor to import")
    rates = {round(c.rate_hz, 3) for c in emg}
    if len(rates) > 1:
        raise SensorkitError(f"{spec.path}: EMG channels at {', '.join(f'{r:g}' for r in sorted(rates))} Hz; keep the "
                             "channels of one rate with --columns")  # fmt: skip
    if not emg:
        return TextData(np.zeros(0), np.zeros((0, 0)), [], imus[0].rate_hz, notes=notes, imus=imus)
    longest = max(emg, key=lambda c: len(c.t))
    x = np.column_stack([emg_volts(_on_clock(c, longest.t), c.unit, spec, c.label, notes) for c in emg])
    notes.insert(0, f"Delsys export: {len(emg)} EMG channel(s) at {longest.rate_hz:g} Hz")
    # a sensor named for its muscle ('L GLUT MED: EMG 1') gives the channel its sensorkit name
    given = [names[c.label] if c.label in names else c.sensor if muscle_label(c.sensor) else c.label for c in emg]
    labels, said = renamed(given, set(names.values()))
    return TextData(longest.t.copy(), x, labels, longest.rate_hz, notes=notes + said, imus=imus)


# An IMU's columns by name: acc_x, Acc_X (Xsens), accel.x, AccX, gyro_z, Gyr_Z ... (not FreeAcc_X,
# Xsens's acceleration without gravity, nor a magnetometer's)
_ACC_NAME = re.compile(r"^(acc|accel|accelerometer|acceleration)[\s_.-]*([xyz])$", re.I)
_GYR_NAME = re.compile(r"^(gyr|gyro|gyroscope|angular[\s_.-]*velocity|angvel)[\s_.-]*([xyz])$", re.I)


_IMU_AXES = [(k, a) for k in ("acc", "gyr") for a in "xyz"]


def _imu_named(names: list[str]) -> dict[tuple[str, str], str]:
    """Columns named for an IMU's axes: {("acc", "x"): "Acc_X", ...} (the first of each)."""
    found: dict[tuple[str, str], str] = {}
    for c in names:
        for kind, pattern in (("acc", _ACC_NAME), ("gyr", _GYR_NAME)):
            m = pattern.match(c.strip())
            if m:
                found.setdefault((kind, m.group(2).lower()), c)
    return found


def imu_columns(names: list[str]) -> list[str] | None:
    """The six columns of an IMU among `names`, accelerometer x y z then gyroscope x y z; None
    unless all six are there."""
    found = _imu_named(names)
    return [found[w] for w in _IMU_AXES] if all(w in found for w in _IMU_AXES) else None


def imu_in_si(x: np.ndarray, acc_unit: str | None = None, gyr_unit: str | None = None
              ) -> tuple[np.ndarray, np.ndarray, str, str]:  # fmt: skip
    """(acc m/s^2, gyr rad/s, their units as read) of an IMU's six columns `x` (n, 6), in the
    units given, else guessed: g where the acceleration's magnitude is about 1 (else m/s^2),
    deg/s where it turns faster than 10 units/s at times (a pelvis seldom turns 10 rad/s)."""
    acc_u = _guess_unit(np.linalg.norm(x[:, :3], axis=1), {"g": 4.0, "m/s^2": np.inf}, acc_unit, "acceleration")
    gyr_u = _guess_unit(x[:, 3:], {"rad/s": 10.0, "deg/s": np.inf}, gyr_unit, "angular rate")
    return x[:, :3] * to_si(acc_u)[1], x[:, 3:] * to_si(gyr_u)[1], acc_u, gyr_u


def _declared(unit: str, si: str) -> str | None:
    """A unit the file declares, where it is one of `si` (m/s^2 or rad/s); None otherwise."""
    return unit if unit and to_si(unit)[0] == si else None


def _imu_stream(x: np.ndarray, units: list[str], t: np.ndarray, rate_hz: float, cols: list[str],
                notes: list[str]) -> ImuStream:  # fmt: skip
    """A text export's IMU columns (`imu_columns`) as the pelvis IMU stream, in SI units."""
    acc, gyr, acc_u, gyr_u = imu_in_si(x, _declared(units[0], "m/s^2"), _declared(units[3], "rad/s"))
    notes.append(f"{', '.join(cols)}: the pelvis IMU stream (accelerometer in {acc_u}, gyroscope in {gyr_u}); "
                 "an export's IMU is taken for the sensor on the sacrum")  # fmt: skip
    values = np.column_stack([acc, gyr])
    return ImuStream("pelvis", "pelvis", rate_hz, t, values[: _last_row(values)])


def _placed_by_counter(frame: pd.DataFrame, path: str, rate_hz: float, notes: list[str]) -> pd.DataFrame:
    """An IMU logger's rows placed by its sample counter column (`rows_by_counter`; the column
    itself left out), where it has one."""
    counter = counter_column(list(frame.columns))
    if counter is None:
        return frame
    rest = [c for c in frame if c != counter]
    placed, lost, repeated = rows_by_counter(frame[counter].to_numpy(), frame[rest].to_numpy(dtype=np.float64),
                                             path, counter, rate_hz)  # fmt: skip
    notes.append(f"rows placed by {counter!r}: {lost} samples missing, kept as lost samples"
                 + (f"; {repeated} rows repeating a count left out" if repeated else ""))  # fmt: skip
    return pd.DataFrame(placed, columns=rest)


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
    if is_delsys_export(path):  # its channels pair with their own time columns: import reads them
        raise SensorkitError(f"{path} is a Delsys export: convert it with sensorkit import {path} -o FILE.xdf "
                             "--pelvis SENSOR (the sensor on the sacrum), then use the .xdf")  # fmt: skip
    read = _read_table(path)
    table, table_rate = read.frame, read.rate_hz
    names = columns or imu_columns(list(table)) or []
    if len(names) != 6 or any(c not in table for c in names):
        raise SensorkitError(f"{path}: name the six IMU columns with --columns ax,ay,az,gx,gy,gz "
                             f"(columns: {', '.join(table)})")  # fmt: skip
    counter = None if time_column else counter_column(list(table.columns))
    from_header = not time_column and rate_hz is None
    if time_column:
        if time_column not in table:
            raise SensorkitError(f"{path}: no column {time_column!r} (columns: {', '.join(table)})")
        t = table[time_column].to_numpy()
        rate_hz = rate_hz or rate_of_time_column(t, path, time_column)
    elif rate_hz is None and table_rate is None:
        raise SensorkitError("give the sample rate (--rate) or the time column (--time-column)")
    else:
        rate_hz = _positive_rate(rate_hz or table_rate)
        t = np.arange(len(table)) / rate_hz
    x = table[names].to_numpy(dtype=np.float64)
    lost = repeated = 0
    if time_column:  # rows missing where the logger lost samples: NaN rows, as from a device
        t, x, lost = restore_lost_rows(np.asarray(t, dtype=np.float64), x, rate_hz)
    elif counter is not None:
        x, lost, repeated = rows_by_counter(table[counter].to_numpy(), x, path, counter, rate_hz)
        t = np.arange(len(x)) / rate_hz
    acc, gyr, acc_u, gyr_u = imu_in_si(x, acc_unit, gyr_unit)
    note = f"accelerometer in {acc_u}, gyroscope in {gyr_u}"
    if from_header:
        note += f"; {rate_hz:g} Hz, from the file's header"
    if lost:
        note += f"; {lost} samples missing where {time_column or counter!r} jumps, kept as lost samples"
    if counter is not None and repeated:
        note += f"; {repeated} rows repeating the {counter!r} of the row before left out"
    return t, acc, gyr, float(rate_hz), note


# A device's sample / packet counter (Xsens MT Manager: PacketCounter, SampleTimeFine aside)
COUNTER_NAMES = ("packetcounter", "packet_counter", "samplecounter", "sample_counter", "counter")


def counter_column(names: list[str]) -> str | None:
    """The column among `names` that holds a device's sample counter (`COUNTER_NAMES`), if any."""
    return next((c for c in names if c.strip().lower() in COUNTER_NAMES), None)


def rows_by_counter(counter: np.ndarray, x: np.ndarray, path: str, column: str, rate_hz: float
                    ) -> tuple[np.ndarray, int, int]:  # fmt: skip
    """Rows of `x` placed by the device's sample counter, a NaN row for each sample it skips
    (a packet lost over the radio); (rows, samples lost, repeated rows dropped).

    Taken row after row, every sample after a loss comes early: in Voisard et al.'s walking
    set (Xsens, 100 Hz) 79 of 110 lower-back files lost 5 % of their packets, and the
    contacts at a trial's end came 0.3 s early against the foot sensors' reference. One of
    its files repeats a count on two rows: the second is dropped (two samples cannot share
    a place). The counter rolls over at its width (16 bits for Xsens): a fall of more than
    half the smallest of 8, 16, 24 or 32 bits above the largest count is unwrapped. A counter
    that runs back otherwise, or skips more than `MAX_RESTORED_S`, is not a sample counter
    to trust: a clear error, as for a time column that does not increase."""
    c = np.asarray(counter, dtype=np.float64)
    if not np.all(np.isfinite(c)) or np.any(c != np.round(c)) or len(c) < 2:
        raise SensorkitError(f"{path}: column {column!r} does not hold whole sample counts")
    step = np.diff(c)
    width = next((2.0**b for b in (8, 16, 24, 32) if c.max() < 2.0**b), np.inf)
    step = np.where(step < -width / 2, step + width, step)
    bad = np.flatnonzero((step < 0) | (step > MAX_RESTORED_S * rate_hz))
    if len(bad):
        raise SensorkitError(f"{path}: column {column!r} runs from {c[bad[0]]:g} to {c[bad[0] + 1]:g} after "
                             f"data row {bad[0] + 1}, not as a sample counter does; give --time-column")  # fmt: skip
    keep = np.concatenate([[True], step > 0])
    at = np.concatenate([[0], np.cumsum(step)]).astype(np.int64)[keep]
    out = np.full((int(at[-1]) + 1, x.shape[1]), np.nan)
    out[at] = x[keep]
    return out, len(out) - len(at), int((~keep).sum())


def read_gait_events(path: str, side: str, t0: float = 0.0) -> list[tuple[float, str]]:
    """Markers from a CSV of foot-contact times (s): `initial_contact:SIDE` and `final_contact:SIDE`."""
    table = _read_table(path).frame
    out = []
    for kind, names in CONTACT_COLUMNS.items():
        for col in table:
            if col.lower() in names:
                out += [(t0 + float(t), f"{kind}:{side}") for t in table[col] if np.isfinite(t)]
    if not out:
        raise SensorkitError(f"{path}: no touchdown/lift-off columns (e.g. touchdown_s, liftoff_s)")
    return sorted(out)


def write_xdf(out: str, data: TextData, markers: list[tuple[float, str]], meta: dict[str, str]) -> None:
    """An XDF file with the EMG stream (V), a stream per other kind of column (`angle`,
    `force`, `switch`, typed Angle, Force, Switch), an IMU stream per sensor (`data.imus`,
    on its own clock) and, if any, a markers stream.

    Written whole or not at all (`atomic_output`); no path is stored in it (a file
    name can carry a patient's name).
    """
    _positive_rate(data.rate_hz)
    streams = [(StreamInfo("emg", EMG, tuple(data.labels), ("V",) * len(data.labels), data.rate_hz,
                           source_id="import"), data.t, data.emg)] if data.labels else []  # fmt: skip
    streams += [(StreamInfo(o.kind.lower(), o.kind, tuple(o.labels), tuple(o.units), data.rate_hz,
                            source_id=f"import:{o.kind.lower()}"), data.t, o.values) for o in data.others]  # fmt: skip
    streams += [(StreamInfo(i.name, IMU, IMU_CHANNELS, ("m/s^2",) * 3 + ("rad/s",) * 3, _positive_rate(i.rate_hz),
                            source_id=f"import:{i.name}", metadata={"location": i.location}), i.t, i.values)
                for i in data.imus]  # fmt: skip
    with atomic_output(out) as tmp:
        w = XdfWriter(tmp, meta)
        try:
            for info, times, x in streams:
                t = times[: len(x)]  # a stream ends where its own columns do
                for a in range(0, len(x), 10000):
                    w.write_chunk(Chunk(info, t[a : a + 10000], x[a : a + 10000].astype(np.float32)))
            if markers:
                info = StreamInfo("markers", MARKERS, ("marker",), ("",), 0.0, source_id="import:markers",
                                  channel_format="string")  # fmt: skip
                w.write_chunk(Chunk(info, [m[0] for m in markers], [[m[1]] for m in markers]))
        finally:
            w.close()
