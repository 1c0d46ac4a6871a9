"""Other software's streams in sensorkit's vocabulary: which streams to use, what they are,
what their channels are called.

LabRecorder files from other systems publish EMG typed `EEG` or `ExG` (BioSemi, the
OpenBCI GUI), label channels `ch3` or `EXG1` and often give no unit. A `Montage` says
what the file cannot: `--stream NAME_OR_TYPE` picks the data streams to use (a picked
stream of another type becomes an IMU when it has the six IMU channels, else EMG), and a
montage file (TOML) names kinds, units and channels:

    [streams]            # stream name or type -> EMG, IMU, Markers or ignore
    BioSemi = "EMG"
    [units]              # stream name or type -> unit of the channels that have none
    BioSemi = "uV"
    [channels]           # channel label -> sensorkit label, in every stream
    EXG1 = "glute_max_L"
    [channels.Pelvis]    # ... or only in the stream named Pelvis
    AccX = "acc_x"

One function maps a stream's description (`map_info`) and one a block of its samples
(`map_chunk`), so a file (`analyze`, `info`, `export`) and a live source (`live`) are
read the same way; the data themselves are never changed beyond the unit.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from sensorkit.errors import SensorkitError
from sensorkit.streams import EMG, IMU, IMU_CHANNELS, MARKERS, Chunk, StreamInfo
from sensorkit.units import UNIT_FACTORS, to_si

KINDS = {"emg": EMG, "imu": IMU, "markers": MARKERS, "ignore": None}
MARKER_KINDS = ("markers", "marker", "stringmarker")


@dataclass(frozen=True)
class StreamMap:
    """What became of one stream: its new description and the factor per channel that
    brings its samples to SI units (1 where nothing changes)."""

    info: StreamInfo
    factors: np.ndarray | None  # None: samples unchanged

    def scaled(self, samples: np.ndarray) -> np.ndarray:
        """Samples of the stream in SI units (the same array where nothing changes)."""
        return samples if self.factors is None else samples * self.factors


@dataclass(frozen=True)
class Montage:
    """Stream picks (`--stream`) and a montage file's kinds, units and channel names.

    Keys naming a stream match its name, type or source id, case-insensitively.
    """

    picks: tuple[str, ...] = ()
    kinds: dict[str, str | None] = field(default_factory=dict)  # stream -> EMG, IMU, Markers, None (ignore)
    units: dict[str, str] = field(default_factory=dict)  # stream -> unit of channels without one
    channels: dict[str, str] = field(default_factory=dict)  # label -> label, any stream
    stream_channels: dict[str, dict[str, str]] = field(default_factory=dict)  # stream -> {label: label}

    @property
    def empty(self) -> bool:
        return not (self.picks or self.kinds or self.units or self.channels or self.stream_channels)

    def map_info(self, info: StreamInfo) -> StreamMap | None:
        """The stream as sensorkit reads it, or None when it is not used (not picked, or
        `ignore`)."""
        is_marker = info.is_string or info.kind.lower() in MARKER_KINDS
        kind = _lookup(self.kinds, info, missing="")
        if kind is None:
            return None
        if self.picks and not is_marker and not any(_names(info, p) for p in self.picks):
            return None
        labels = list(info.channels)
        per_stream = _lookup(self.stream_channels, info, missing={}) or {}
        labels = [per_stream.get(c, self.channels.get(c, c)) for c in labels]
        units, factors = list(info.units), None
        unit = _lookup(self.units, info, missing="")
        if unit and not info.is_string:
            si, factor = to_si(unit)
            factors = np.array([factor if not u else 1.0 for u in units])
            units = [si if not u else u for u in units]
        if not kind and self.picks and not is_marker and info.kind.upper() not in (EMG, IMU):
            kind = IMU if set(IMU_CHANNELS) <= set(labels) else EMG  # a picked EEG/ExG/other stream
        new = replace(info, kind=kind or info.kind, channels=tuple(labels), units=tuple(units))
        return StreamMap(new, None if factors is None or np.all(factors == 1.0) else factors)

    def check(self, infos: list[StreamInfo], where: str) -> list[str]:
        """Refuse picks that name no stream of `where` (listing those it has); notes on montage
        entries that name none (a montage may serve many files, so those only warn)."""
        listing = "; ".join(f"{i.name!r} (type {i.kind or '?'}, {i.n_channels} ch)" for i in infos) or "none"
        for p in self.picks:
            if not any(_names(i, p) for i in infos):
                raise SensorkitError(f"--stream {p!r} names no stream or stream type of {where} (streams: {listing})")
        notes = []
        for table, keys in (("streams", self.kinds), ("units", self.units), ("channels", self.stream_channels)):
            notes += [f"montage [{table}] {k!r} names no stream of {where}"
                      for k in keys if not any(_names(i, k) for i in infos)]  # fmt: skip
        if not any(m is not None and not m.info.is_string for m in map(self.map_info, infos)):
            raise SensorkitError(f"{where}: no data stream left to use after --stream and the montage "
                                 f"(streams: {listing})")  # fmt: skip
        return notes

    def chunk_mapper(self, consumer: Callable[[Chunk], None]) -> Callable[[Chunk], None]:
        """A consumer that hands `consumer` every chunk as this montage reads it (dropped
        streams never reach it)."""
        cache: dict[StreamInfo, StreamMap | None] = {}

        def push(chunk: Chunk) -> None:
            if chunk.info not in cache:
                cache[chunk.info] = self.map_info(chunk.info)
            mapped = map_chunk(chunk, cache[chunk.info])
            if mapped is not None:
                consumer(mapped)

        return push


def map_chunk(chunk: Chunk, m: StreamMap | None) -> Chunk | None:
    """A chunk under its stream's map (None when the stream is not used)."""
    if m is None:
        return None
    return Chunk(m.info, chunk.timestamps, m.scaled(chunk.samples), chunk.lost)


def _names(info: StreamInfo, key: str) -> bool:
    k = key.strip().lower()
    return k in (info.name.lower(), info.kind.lower()) or (bool(info.source_id) and k == info.source_id.lower())


def _lookup(table: dict, info: StreamInfo, missing):
    """The entry for a stream: by name first, then source id, then type."""
    for value in (info.name, info.source_id, info.kind):
        for k, v in table.items():
            if value and k.strip().lower() == value.lower():
                return v
    return missing


def load_montage(path: str | None, picks: list[str] | None = None) -> Montage:
    """A montage from a TOML file (None: none) and the `--stream` picks; one clear message
    for whatever is wrong in the file."""
    picks = tuple(p for p in (picks or []) if p.strip())
    if path is None:
        return Montage(picks=picks)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise SensorkitError(f"cannot read montage {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise SensorkitError(f"montage {path} is not a text file") from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SensorkitError(f"montage {path} is not valid TOML: {exc}") from None
    unknown = set(doc) - {"streams", "units", "channels"}
    if unknown:
        raise SensorkitError(f"montage {path}: unknown table(s) {', '.join(sorted(unknown))}; "
                             "known: [streams], [units], [channels]")  # fmt: skip
    kinds, units, channels, per_stream = {}, {}, {}, {}
    for k, v in _table(doc, "streams", path).items():
        if not isinstance(v, str) or v.strip().lower() not in KINDS:
            raise SensorkitError(f"montage {path}: [streams] {k} = {v!r}; use EMG, IMU, Markers or ignore")
        kinds[k] = KINDS[v.strip().lower()]
    for k, v in _table(doc, "units", path).items():
        if not isinstance(v, str) or v.strip().lower() not in UNIT_FACTORS:
            raise SensorkitError(f"montage {path}: [units] {k} = {v!r} is not a unit sensorkit knows "
                                 "(V, mV, uV, g, m/s^2, deg/s, rad/s, ...)")  # fmt: skip
        units[k] = v
    for k, v in _table(doc, "channels", path).items():
        if isinstance(v, dict):
            bad = [f"{a} = {b!r}" for a, b in v.items() if not isinstance(b, str) or not b.strip()]
            if bad:
                raise SensorkitError(f"montage {path}: [channels.{k}] {bad[0]}; a channel's new name is text")
            per_stream[k] = {a: b.strip() for a, b in v.items()}
        elif isinstance(v, str) and v.strip():
            channels[k] = v.strip()
        else:
            raise SensorkitError(f"montage {path}: [channels] {k} = {v!r}; a channel's new name is text")
    return Montage(picks, kinds, units, channels, per_stream)


def _table(doc: dict, name: str, path: str) -> dict:
    t = doc.get(name, {})
    if not isinstance(t, dict):
        raise SensorkitError(f"montage {path}: {name} must be a table ([{name}])")
    return t
