"""sk1, sensorkit's native wire protocol: bytes <-> frames, no I/O.

The specification is firmware_protocols/sk1/PROTOCOL.md. Framing is COBS with a
0x00 delimiter and a CRC-16/CCITT-FALSE; COBS itself comes from the `cobs`
package (a C implementation), the CRC from binascii.
"""

from __future__ import annotations

import binascii
import struct
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from cobs import cobs

VERSION = 1
MAX_RAW = 240  # header + body + crc
MAX_WIRE = MAX_RAW + 2  # COBS overhead byte + delimiter
HEADER = struct.Struct("<BBHI")
HEADER_SIZE = HEADER.size
MAX_BODY = MAX_RAW - HEADER_SIZE - 2

DEVICE_INFO = 0x01
STREAM_INFO = 0x02
EMG_BLOCK = 0x10
IMU_BLOCK = 0x11
STATUS = 0x20
MARKER = 0x21
COMMAND = 0x30
PACKET_TYPES = (DEVICE_INFO, STREAM_INFO, EMG_BLOCK, IMU_BLOCK, STATUS, MARKER, COMMAND)

KIND_EMG = 1
KIND_IMU = 2
FMT_INT16 = 1
FMT_INT24 = 2
FORMAT_BYTES = {FMT_INT16: 2, FMT_INT24: 3}
UNIT_CODES = {1: "V", 2: "m/s^2", 3: "rad/s", 4: "T"}
UNIT_BY_NAME = {v: k for k, v in UNIT_CODES.items()}

CMD_START = 1
CMD_STOP = 2
CMD_SEND_INFO = 3
CMD_STATUS_PERIOD = 4

BLOCK_HEADER = struct.Struct("<BBBBI")
DEVICE_INFO_HEAD = struct.Struct("<BIBBB")
STREAM_INFO_HEAD = struct.Struct("<BBBBfBB")
STATUS_BODY = struct.Struct("<BHBII")

BLE_SERVICE_UUID = "5e4b0001-0c1d-4b5e-9a3f-7c2d51e0a6b1"
BLE_DATA_UUID = "5e4b0002-0c1d-4b5e-9a3f-7c2d51e0a6b1"
BLE_CONTROL_UUID = "5e4b0003-0c1d-4b5e-9a3f-7c2d51e0a6b1"


class Frame(NamedTuple):
    """One decoded sk1 frame; `body` is still raw bytes (see the parse_* functions)."""

    type: int
    seq: int
    device_time_us: int
    body: bytes


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE of `data`."""
    return binascii.crc_hqx(data, 0xFFFF)


def encode_frame(ptype: int, seq: int, device_time_us: int, body: bytes = b"") -> bytes:
    """One wire frame: COBS(header|body|crc) followed by the 0x00 delimiter."""
    if len(body) > MAX_BODY:
        raise ValueError(f"sk1 body of {len(body)} bytes exceeds {MAX_BODY}")
    raw = HEADER.pack(VERSION, ptype, seq & 0xFFFF, device_time_us & 0xFFFFFFFF) + body
    raw += crc16(raw).to_bytes(2, "little")
    return cobs.encode(raw) + b"\x00"


# ---------------------------------------------------------------- bodies


@dataclass(frozen=True)
class DeviceInfo:
    n_streams: int
    serial: int
    firmware: tuple[int, int, int]
    name: str


@dataclass(frozen=True)
class ChannelDesc:
    label: str
    unit: str
    scale: float  # SI unit per LSB


@dataclass
class StreamDesc:
    """A stream as described by STREAM_INFO frames (possibly several, in channel ranges)."""

    stream_id: int
    kind: int
    fmt: int
    n_channels: int
    rate: float
    name: str
    channels: dict[int, ChannelDesc] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return len(self.channels) == self.n_channels

    def scales(self) -> np.ndarray:
        return np.array([self.channels[i].scale for i in range(self.n_channels)], np.float64)


@dataclass(frozen=True)
class Status:
    battery_percent: int
    battery_mv: int
    flags: int
    lead_off: int
    saturation: int


@dataclass(frozen=True)
class Marker:
    source: int
    code: int
    text: str

    def label(self) -> str:
        return self.text or f"button:{self.code}"


def _cstr(text: str, limit: int = 64) -> bytes:
    raw = text.encode("utf-8")
    if len(raw) > limit or b"\x00" in raw:
        raise ValueError(f"sk1 string {text!r} too long or contains NUL")
    return raw + b"\x00"


def _read_cstr(body: bytes, pos: int) -> tuple[str, int]:
    end = body.index(b"\x00", pos)
    return body[pos:end].decode("utf-8", "replace"), end + 1


def device_info_body(info: DeviceInfo) -> bytes:
    return DEVICE_INFO_HEAD.pack(info.n_streams, info.serial, *info.firmware) + _cstr(info.name, 32)


def parse_device_info(body: bytes) -> DeviceInfo:
    n, serial, a, b, c = DEVICE_INFO_HEAD.unpack_from(body)
    name, _ = _read_cstr(body, DEVICE_INFO_HEAD.size)
    return DeviceInfo(n, serial, (a, b, c), name)


def stream_info_bodies(desc: StreamDesc) -> list[bytes]:
    """STREAM_INFO bodies describing `desc`, as many as its channels need."""
    bodies: list[bytes] = []
    first = 0
    name = _cstr(desc.name, 32)
    while first < desc.n_channels:
        entries: list[bytes] = []
        size = STREAM_INFO_HEAD.size + len(name)
        for i in range(first, desc.n_channels):
            ch = desc.channels[i]
            entry = struct.pack("<fB", ch.scale, UNIT_BY_NAME[ch.unit]) + _cstr(ch.label, 32)
            if size + len(entry) > MAX_BODY:
                break
            entries.append(entry)
            size += len(entry)
        head = STREAM_INFO_HEAD.pack(
            desc.stream_id, desc.kind, desc.fmt, desc.n_channels, desc.rate, first, len(entries)
        )
        bodies.append(head + name + b"".join(entries))
        first += len(entries)
    return bodies


def parse_stream_info(body: bytes) -> tuple[StreamDesc, int]:
    """A StreamDesc holding the channels this frame describes, and the first channel."""
    sid, kind, fmt, n_total, rate, first, count = STREAM_INFO_HEAD.unpack_from(body)
    name, pos = _read_cstr(body, STREAM_INFO_HEAD.size)
    desc = StreamDesc(sid, kind, fmt, n_total, float(rate), name)
    for i in range(count):
        scale, unit = struct.unpack_from("<fB", body, pos)
        label, pos = _read_cstr(body, pos + 5)
        desc.channels[first + i] = ChannelDesc(label, UNIT_CODES.get(unit, "?"), float(scale))
    return desc, first


def sample_block_body(stream_id: int, first_index: int, values: np.ndarray, fmt: int) -> bytes:
    """Body of an EMG_BLOCK or IMU_BLOCK: `values` is integer (n_samples, n_channels)."""
    values = np.asarray(values)
    n, ch = values.shape
    head = BLOCK_HEADER.pack(stream_id, fmt, ch, n, first_index & 0xFFFFFFFF)
    flat = values.astype("<i4").reshape(-1)
    if fmt == FMT_INT16:
        return head + flat.astype("<i2").tobytes()
    if fmt == FMT_INT24:
        return head + flat.view(np.uint8).reshape(-1, 4)[:, :3].tobytes()
    raise ValueError(f"unknown sk1 sample format {fmt}")


def block_header(body: bytes) -> tuple[int, int, int, int, int]:
    """(stream_id, fmt, n_channels, n_samples, first_index) of a sample block body."""
    return BLOCK_HEADER.unpack_from(body)


def decode_values(raw: bytes, fmt: int, n_channels: int) -> np.ndarray:
    """Signed integer samples, shape (n, n_channels), from packed sample bytes."""
    if fmt == FMT_INT16:
        return np.frombuffer(raw, "<i2").astype(np.int32).reshape(-1, n_channels)
    if fmt == FMT_INT24:
        b = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(np.int32)
        v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        v = np.where(v & 0x800000, v - 0x1000000, v)
        return v.reshape(-1, n_channels)
    raise ValueError(f"unknown sk1 sample format {fmt}")


def parse_sample_block(body: bytes) -> tuple[int, int, np.ndarray]:
    """(stream_id, first_index, values (n, channels) int32) of a sample block body."""
    sid, fmt, ch, n, first = block_header(body)
    size = BLOCK_HEADER.size + n * ch * FORMAT_BYTES[fmt]
    if len(body) != size:
        raise ValueError(f"sample block of {len(body)} bytes, expected {size}")
    return sid, first, decode_values(body[BLOCK_HEADER.size :], fmt, ch)


def status_body(s: Status) -> bytes:
    return STATUS_BODY.pack(s.battery_percent, s.battery_mv, s.flags, s.lead_off, s.saturation)


def parse_status(body: bytes) -> Status:
    return Status(*STATUS_BODY.unpack_from(body))


def marker_body(m: Marker) -> bytes:
    text = m.text.encode("utf-8")
    if len(text) > 200:
        raise ValueError("sk1 marker text over 200 bytes")
    return bytes([m.source, m.code]) + text


def parse_marker(body: bytes) -> Marker:
    return Marker(body[0], body[1], body[2:].decode("utf-8", "replace"))


def command_body(command: int, args: bytes = b"") -> bytes:
    return bytes([command]) + args


# ---------------------------------------------------------------- decoder


@dataclass
class DecoderStats:
    frames: int = 0  # valid frames returned
    crc_errors: int = 0  # frames rejected: bad CRC, bad COBS, wrong length
    lost_packets: int = 0  # from sequence gaps
    restarts: int = 0  # sequence jumps too large to be losses
    bad_version: int = 0
    garbage_bytes: int = 0  # bytes discarded outside any plausible frame
    bytes: int = 0


class Decoder:
    """Incremental sk1 decoder: feed bytes split anyhow, get whole valid frames.

    Never raises on bad input: a frame that fails COBS, length or CRC checks is
    counted in `stats.crc_errors` and dropped, and decoding resumes at the next
    0x00 delimiter.
    """

    def __init__(self) -> None:
        self.stats = DecoderStats()
        self._pending = b""
        self._discarding = False
        self._last_seq: int | None = None

    def reset(self) -> None:
        """Forget a partial frame and the sequence (the link was interrupted); keep the counts."""
        self._pending = b""
        self._discarding = False
        self._last_seq = None

    def feed(self, data: bytes | bytearray | memoryview) -> list[Frame]:
        st = self.stats
        st.bytes += len(data)
        parts = (self._pending + bytes(data)).split(b"\x00")
        self._pending = parts.pop()
        if self._discarding and parts:  # tail of an over-long run with no delimiter
            self._discarding = False
            st.garbage_bytes += len(parts[0])
            parts[0] = b""
        # the loop below runs once per frame (~500/s per 16-ch device): kept tight, names local
        decode, crc, unpack, error = cobs.decode, binascii.crc_hqx, HEADER.unpack_from, cobs.DecodeError
        frames: list[Frame] = []
        last = self._last_seq
        bad = lost = 0
        for part in parts:
            if not part:
                continue
            if len(part) >= MAX_WIRE:
                bad += 1
                continue
            try:
                raw = decode(part)
            except error:
                bad += 1
                continue
            if len(raw) < HEADER_SIZE + 2 or crc(raw[:-2], 0xFFFF) != raw[-2] | raw[-1] << 8:
                bad += 1
                continue
            version, ptype, seq, t = unpack(raw)
            if version != VERSION:
                st.bad_version += 1
                continue
            if last is not None:
                gap = (seq - last - 1) & 0xFFFF
                if gap >= 0x8000:
                    st.restarts += 1
                else:
                    lost += gap
            last = seq
            frames.append(Frame(ptype, seq, t, raw[HEADER_SIZE:-2]))
        self._last_seq = last
        st.crc_errors += bad
        st.lost_packets += lost
        st.frames += len(frames)
        if len(self._pending) > MAX_WIRE:
            # no valid frame is this long: drop it and wait for the next delimiter
            st.garbage_bytes += len(self._pending)
            self._pending = b""
            self._discarding = True
        return frames
