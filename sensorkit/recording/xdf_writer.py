"""XDF 1.0 writer (the Lab Streaming Layer file format), synchronous and append-only.

Chunk layout per the XDF specification (github.com/sccn/xdf, "Specifications"):
`[NumLengthBytes][Length][Tag u16][content]`, tags 1 FileHeader, 2 StreamHeader,
3 Samples, 4 ClockOffset, 5 Boundary, 6 StreamFooter. Stream headers follow the
LSL meta-data conventions (`<desc><channels><channel><label/><unit/><type/>`).
Written by hand because no maintained Python XDF writer exists (pyxdf only reads).
Sample chunks are packed with numpy structured arrays, not per sample.
"""

from __future__ import annotations

import io
import os
import socket
import struct
import time
import uuid
from datetime import UTC, datetime
from xml.etree import ElementTree as ET

import numpy as np

from sensorkit import __version__
from sensorkit.streams import Chunk, StreamInfo

TAG_FILE_HEADER = 1
TAG_STREAM_HEADER = 2
TAG_SAMPLES = 3
TAG_CLOCK_OFFSET = 4
TAG_BOUNDARY = 5
TAG_STREAM_FOOTER = 6
BOUNDARY_UUID = bytes.fromhex("43A546DCCBF5410FB30ED5467383CBE4")
NUMERIC = {"float32": "<f4", "double64": "<f8", "int16": "<i2", "int32": "<i4", "int8": "i1",
           "int64": "<i8"}  # fmt: skip
CHANNEL_TYPES = {"acc": "Accelerometer", "gyr": "Gyroscope", "mag": "Magnetometer"}


def _varlen(n: int) -> bytes:
    if n < 256:
        return b"\x01" + struct.pack("<B", n)
    if n < 2**32:
        return b"\x04" + struct.pack("<I", n)
    return b"\x08" + struct.pack("<Q", n)


def _chunk(tag: int, content: bytes) -> bytes:
    return _varlen(len(content) + 2) + struct.pack("<H", tag) + content


def _xml(root: ET.Element) -> bytes:
    return b'<?xml version="1.0"?>' + ET.tostring(root, encoding="utf-8")


def _sub(parent: ET.Element, tag: str, text: object = None) -> ET.Element:
    el = ET.SubElement(parent, tag)
    if text is not None:
        el.text = str(text)
    return el


def channel_type(info: StreamInfo, label: str) -> str:
    """LSL channel `<type>`: the stream kind for EMG, the sensor for IMU channels."""
    if info.kind == "IMU":
        return CHANNEL_TYPES.get(label.split("_")[0], "Misc")
    return info.kind


def stream_header_xml(info: StreamInfo, stream_id: int, hostname: bool = False) -> bytes:
    """A stream header chunk's content; the host name (which can identify a clinic or a
    person's laptop) is written only when `hostname` is true."""
    root = ET.Element("info")
    for tag, val in (("name", info.name), ("type", info.kind), ("channel_count", info.n_channels),
                     ("nominal_srate", repr(float(info.srate))), ("channel_format", info.channel_format),
                     ("source_id", info.source_id), ("version", "1.1"),
                     ("created_at", repr(_now_lsl())), ("uid", uuid.uuid4()),
                     ("session_id", "default")):  # fmt: skip
        _sub(root, tag, val)
    if hostname:
        _sub(root, "hostname", socket.gethostname())
    desc = _sub(root, "desc")
    channels = _sub(desc, "channels")
    for label, unit in zip(info.channels, info.units, strict=True):
        ch = _sub(channels, "channel")
        _sub(ch, "label", label)
        _sub(ch, "unit", unit)
        _sub(ch, "type", channel_type(info, label))
    acq = _sub(desc, "acquisition")
    _sub(acq, "manufacturer", "sensorkit")
    _sub(acq, "software", f"sensorkit {__version__}")
    if info.metadata:
        meta = _sub(desc, "sensorkit")
        for k, v in sorted(info.metadata.items()):
            _sub(meta, k, v)
    return struct.pack("<I", stream_id) + _xml(root)


def _now_lsl() -> float:
    # LSL's local_clock() is the monotonic clock on every platform pylsl supports
    return time.monotonic()


class XdfWriter:
    """Appends streams, sample chunks, boundaries and footers to one XDF file.

    Not thread-safe on purpose: the Recorder owns it from its writer thread.
    """

    def __init__(self, path: str | os.PathLike, file_meta: dict[str, str] | None = None,
                 hostname: bool = False) -> None:  # fmt: skip
        self.path = os.fspath(path)
        self.hostname = hostname
        self._ids: dict[StreamInfo, int] = {}
        self._names: set[tuple[str, str]] = set()
        self._stats: dict[int, dict] = {}
        root = ET.Element("info")
        _sub(root, "version", "1.0")
        _sub(root, "datetime", datetime.now(UTC).isoformat(timespec="seconds"))
        _sub(root, "software", f"sensorkit {__version__}")
        for k, v in (file_meta or {}).items():
            _sub(root, k, v)
        # "x": never truncate an existing file (callers check --overwrite and remove it first)
        self._f: io.BufferedWriter = open(self.path, "xb")  # noqa: SIM115 (closed in close())
        try:
            self._f.write(b"XDF:" + _chunk(TAG_FILE_HEADER, _xml(root)))
            self._f.flush()
        except OSError:  # a full disk or a vanished folder: leave no stub that blocks a rerun
            self._f.close()
            os.remove(self.path)
            raise

    def add_stream(self, info: StreamInfo) -> int:
        """Write a stream header once; returns the stream id used in the file."""
        if info in self._ids:
            return self._ids[info]
        if (info.name, info.source_id) in self._names:  # readers could not tell the two apart
            raise ValueError(f"a second stream named {info.name!r} from source {info.source_id!r}")
        sid = len(self._ids) + 1
        self._ids[info] = sid
        self._names.add((info.name, info.source_id))
        self._stats[sid] = {"first": None, "last": None, "count": 0, "lost": 0}
        self._f.write(_chunk(TAG_STREAM_HEADER, stream_header_xml(info, sid, self.hostname)))
        return sid

    def write_chunk(self, chunk: Chunk) -> None:
        if len(chunk) == 0:
            return
        sid = self.add_stream(chunk.info)
        body = encode_samples(chunk)
        self._f.write(_chunk(TAG_SAMPLES, struct.pack("<I", sid) + _varlen(len(chunk)) + body))
        st = self._stats[sid]
        if st["first"] is None:
            st["first"] = float(chunk.timestamps[0])
        st["last"] = float(chunk.timestamps[-1])
        st["count"] += len(chunk)
        st["lost"] += chunk.lost

    def write_boundary(self) -> None:
        self._f.write(_chunk(TAG_BOUNDARY, BOUNDARY_UUID))

    def write_clock_offset(self, info: StreamInfo, collection_time: float, offset: float) -> None:
        sid = self.add_stream(info)
        self._f.write(_chunk(TAG_CLOCK_OFFSET, struct.pack("<Idd", sid, collection_time, offset)))

    def flush(self, sync: bool = False) -> None:
        self._f.flush()
        if sync:
            os.fsync(self._f.fileno())

    def close(self) -> None:
        """Write the stream footers (sample counts, first/last timestamps) and close."""
        if self._f.closed:
            return
        for sid, st in self._stats.items():
            root = ET.Element("info")
            _sub(root, "first_timestamp", repr(st["first"] if st["first"] is not None else 0.0))
            _sub(root, "last_timestamp", repr(st["last"] if st["last"] is not None else 0.0))
            _sub(root, "sample_count", st["count"])
            _sub(root, "lost_samples", st["lost"])
            _sub(root, "clock_offsets")
            self._f.write(_chunk(TAG_STREAM_FOOTER, struct.pack("<I", sid) + _xml(root)))
        self._f.flush()
        os.fsync(self._f.fileno())
        self._f.close()


def encode_samples(chunk: Chunk) -> bytes:
    """The samples part of a Samples chunk: every sample with its own 8-byte timestamp."""
    info = chunk.info
    n = len(chunk)
    if info.is_string:
        out = bytearray()
        for t, row in zip(chunk.timestamps, chunk.samples, strict=True):
            out += b"\x08" + struct.pack("<d", t)
            for value in row:
                raw = str(value).encode("utf-8")
                out += _varlen(len(raw)) + raw
        return bytes(out)
    dtype = np.dtype([("len", "u1"), ("t", "<f8"), ("x", NUMERIC[info.channel_format], (info.n_channels,))])
    rec = np.empty(n, dtype=dtype)
    rec["len"] = 8
    rec["t"] = chunk.timestamps
    rec["x"] = chunk.samples
    return rec.tobytes()
