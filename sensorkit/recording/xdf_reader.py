"""Reading XDF files, whoever wrote them, into sensorkit's data model.

Parsing gives pyxdf's result (the field's reference reader, with its default clock
synchronisation and dejittering, so times match what researchers see in their own
tools): sample chunks are decoded with numpy (`xdf_fast`, equal to pyxdf and many
times faster), and pyxdf itself reads whatever that decoder does not expect.

Before decoding, damaged files are salvaged: a file cut off mid-chunk (a crash, a
full disk) or with garbage inside is reduced to its intact chunks, resynchronising at
boundary chunks, and the reader says what it dropped instead of failing. An intact
file is recognised from its chunk index at once and read as it is.
"""

from __future__ import annotations

import contextlib
import io
import logging
import mmap
import os
import stat
from dataclasses import dataclass, field

import numpy as np
import pyxdf

from sensorkit.errors import SensorkitError
from sensorkit.montage import Montage
from sensorkit.recording.xdf_fast import index as xdf_index
from sensorkit.recording.xdf_fast import load_xdf as load_xdf_fast
from sensorkit.recording.xdf_salvage import Salvage, salvage
from sensorkit.streams import StreamInfo, restore_lost_rows
from sensorkit.units import to_si


@dataclass
class StreamData:
    """One stream of a file: info, timestamps (s, file clock) and samples (SI units)."""

    info: StreamInfo
    timestamps: np.ndarray
    samples: np.ndarray
    raw_info: dict = field(repr=False, default_factory=dict)
    restored: int = 0  # lost samples the file left out (its times jump), put back as NaN rows on reading

    @property
    def lost_samples(self) -> int:
        if self.info.is_string or self.samples.size == 0:
            return 0
        return int(np.isnan(self.samples).all(axis=1).sum())


@dataclass
class Recording:
    path: str
    streams: list[StreamData]
    file_header: dict
    notes: list[str] = field(default_factory=list)  # what salvage dropped or repaired
    closed_cleanly: bool = True  # False: no stream footers, the recording was interrupted

    def of_kind(self, kind: str) -> list[StreamData]:
        return [s for s in self.streams if s.info.kind.lower() == kind.lower()]

    def markers(self) -> list[tuple[float, str]]:
        out = []
        for s in self.streams:
            if s.info.is_string and s.info.kind.lower() in ("markers", "marker", "stringmarker"):
                out += [(float(t), str(row[0])) for t, row in zip(s.timestamps, s.samples, strict=True)]
        return sorted(out)


def header_field(rec: Recording, key: str) -> str | None:
    """A field of the file header (patient, session, datetime, software, ...); None when
    absent, empty or "unspecified"."""
    info = rec.file_header.get("info", {}) if isinstance(rec.file_header, dict) else {}
    v = info.get(key)
    v = v[0] if isinstance(v, list) and v else v
    return None if v in (None, "", "unspecified") else str(v)


def header_meta(rec: Recording) -> dict[str, str | None]:
    """Whose recording it is, from the file header: pseudonym, session label, recording date."""
    return {"pseudonym": header_field(rec, "patient"), "session": header_field(rec, "session"),
            "recorded": header_field(rec, "datetime")}  # fmt: skip


def _first(d: dict, key: str, default=None):
    v = d.get(key)
    return v[0] if isinstance(v, list) and v else default


def scan_chunks(data: bytes) -> tuple[bytes, list[str]]:
    """The file's chunks as pyxdf can read them (an intact file unchanged), and notes on
    what salvage did (see `sensorkit.recording.xdf_salvage`)."""
    result = salvage(data)
    return result.data, result.notes


def _channels(raw: dict, n: int) -> tuple[list[str], list[str]]:
    labels, units = [f"ch{i + 1}" for i in range(n)], [""] * n
    desc = _first(raw, "desc")
    chans = _first(desc, "channels") if isinstance(desc, dict) else None
    items = chans.get("channel", []) if isinstance(chans, dict) else []
    for i, ch in enumerate(items[:n]):
        if isinstance(ch, dict):
            labels[i] = str(_first(ch, "label", labels[i]) or labels[i])
            units[i] = str(_first(ch, "unit", "") or "")
    return labels, units


def _metadata(raw: dict) -> dict[str, str]:
    """What sensorkit wrote under desc/sensorkit (device, protocol, gain, ...)."""
    desc = _first(raw, "desc")
    meta = _first(desc, "sensorkit") if isinstance(desc, dict) else None
    return {k: str(_first(meta, k, "") or "") for k in meta} if isinstance(meta, dict) else {}


def to_stream_data(s: dict) -> StreamData:
    """A pyxdf stream dict in sensorkit's model, numeric samples converted to SI units."""
    raw = s["info"]
    n = int(_first(raw, "channel_count", "1"))
    fmt = str(_first(raw, "channel_format", "float32"))
    labels, units = _channels(raw, n)
    ts = np.asarray(s["time_stamps"], dtype=np.float64)
    restored = int(s.get("restored_lost_samples", 0))  # before pyxdf's dejittering (xdf_fast)
    if fmt == "string":
        samples = np.empty((len(ts), n), dtype=object)
        if len(ts):
            samples[:] = s["time_series"]
    else:
        with np.errstate(invalid="ignore", over="ignore"):  # damaged values stay as they are, unannounced
            # a copy, always: the decoder's arrays may be read-only views of the file's bytes
            samples = np.array(s["time_series"], dtype=np.float64).reshape(len(ts), n)
        for j, u in enumerate(units):
            si, factor = to_si(u)
            if factor != 1.0:
                samples[:, j] *= factor
            units[j] = si
        # drop-outs that another program left as jumps become NaN rows (the data model's form)
        ts, samples, later = restore_lost_rows(ts, samples, float(_first(raw, "nominal_srate", "0") or 0))
        restored += later
    info = StreamInfo(
        name=str(_first(raw, "name", "") or ""),
        kind=str(_first(raw, "type", "") or ""),
        channels=tuple(labels), units=tuple(units),
        srate=float(_first(raw, "nominal_srate", "0") or 0),
        source_id=str(_first(raw, "source_id", "") or ""),
        channel_format=fmt, metadata=_metadata(raw),
    )  # fmt: skip
    return StreamData(info, ts, samples, raw, restored)


def read_xdf(path: str | os.PathLike) -> Recording:
    """Load an XDF file; damaged files are salvaged (see `Recording.notes`)."""
    path = os.fspath(path)
    streams, header, fixed = load_streams(path)
    return Recording(path, [to_stream_data(s) for s in streams], header or {}, fixed.notes, fixed.closed_cleanly)


def _is_text(sample: bytes) -> bool:
    """Whether the first bytes of a file are text (a CSV or TXT export): lines of printable
    characters, no NUL, as XDF's binary chunks always hold."""
    if not sample or b"\x00" in sample or b"\n" not in sample:
        return False
    text = sample.decode("utf-8", errors="replace")
    printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in text)
    return printable >= 0.98 * len(text)


def load_streams(path: str) -> tuple[list[dict], dict, Salvage]:
    """The file's streams and header exactly as `pyxdf.load_xdf` gives them (after salvage,
    which is returned too: its notes and whether the file was closed cleanly). Numeric
    time series may be read-only views of the decoded bytes: copy before changing them."""
    try:
        with open(path, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):  # /dev/zero, a pipe: never read it whole
                raise SensorkitError(f"{path} is not a regular file")
            head = f.read(4)
            if head != b"XDF:":
                sample = head + f.read(65536)
                if not _looks_like_xdf(sample):
                    if _is_text(sample):  # another system's export
                        raise SensorkitError(f"{path} is a text file, not an XDF recording: convert an EMG or IMU "
                                             f"export with sensorkit import {path} -o FILE.xdf")  # fmt: skip
                    raise SensorkitError(f"{path} is not an XDF file (it does not start with 'XDF:')")
            f.seek(0)
            data = _mapped(f)
    except OSError as exc:
        raise SensorkitError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        idx = xdf_index(data)
        fixed = salvage(data, idx)
        log = logging.getLogger("pyxdf.pyxdf")
        level = log.level
        log.setLevel(logging.CRITICAL)  # damage is reported once, in `notes`
        try:
            try:
                streams, header = load_xdf_fast(fixed.data, idx if fixed.data is data else None, restore_lost=True)
            except Exception:  # anything the fast decoder does not expect: pyxdf reads it, as it can
                streams, header = pyxdf.load_xdf(io.BytesIO(bytes(fixed.data)))
        except Exception as exc:  # pyxdf raises many kinds on malformed content
            raise SensorkitError(f"{path}: unreadable XDF content ({exc})") from None
        finally:
            log.setLevel(level)
        return streams, header, fixed
    finally:
        if isinstance(data, mmap.mmap):
            with contextlib.suppress(BufferError):  # a view still held: the collector closes it later
                data.close()


def _mapped(f) -> mmap.mmap | bytes:
    """The file's bytes as a read-only memory map (no copy of a large recording into
    memory before decoding), or read whole where it cannot be mapped (an empty file)."""
    try:
        return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    except (ValueError, OSError):
        return f.read()


def apply_montage(rec: Recording, montage: Montage) -> tuple[Recording, list[str]]:
    """The recording as `montage` reads it (picked streams only, typed, relabelled, in SI
    units), and notes for the user: streams read as another type, montage entries that name
    no stream of this file."""
    if montage.empty:
        return rec, []
    notes = montage.check([s.info for s in rec.streams], rec.path)
    streams = []
    for s in rec.streams:
        m = montage.map_info(s.info)
        if m is None:
            continue
        if m.info.kind != s.info.kind:
            notes.append(f"stream {s.info.name!r} (type {s.info.kind or '?'}) read as {m.info.kind}")
        streams.append(StreamData(m.info, s.timestamps, m.scaled(s.samples), s.raw_info, s.restored))
    return Recording(rec.path, streams, rec.file_header, rec.notes, rec.closed_cleanly), notes


def _looks_like_xdf(head: bytes) -> bool:
    """A file whose 'XDF:' signature is damaged but whose first chunks are XDF's."""
    return b"<channel_count>" in head or (b"<info>" in head and b"<version>" in head)
