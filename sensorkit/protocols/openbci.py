"""OpenBCI Cyton serial packets (documented in firmware_protocols/openbci_cyton/PROTOCOL.md).

33 bytes per sample: 0xA0, a sample number (0-255, wrapping), eight 24-bit signed
big-endian ADS1299 counts, six auxiliary bytes, and a footer 0xC0-0xC6 that says
what the auxiliary bytes hold. With footer 0xC0 they are the accelerometer's X, Y,
Z as 16-bit signed big-endian counts, all zero in the packets that carry no new
reading (the accelerometer runs at 25 Hz, the ADCs at 250 Hz). Pure functions and
an incremental decoder; no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

HEADER = 0xA0
PACKET_BYTES = 33
N_CHANNELS = 8
RATE_HZ = 250.0
ACCEL_RATE_HZ = 25.0
VREF = 4.5
DEFAULT_GAIN = 24
GAINS = (1, 2, 4, 6, 8, 12, 24)
ACCEL_G_PER_COUNT = 0.002 / 2**4  # LIS3DH at +-4 g, as the Cyton firmware sets it
FOOTER_ACCEL = 0xC0
# board commands (OpenBCI Cyton SDK)
CMD_SOFT_RESET = b"v"
CMD_START = b"b"
CMD_STOP = b"s"
BANNER_END = b"$$$"


def volts_per_count(gain: int = DEFAULT_GAIN) -> float:
    """ADS1299 scale: 4.5 V / gain / (2^23 - 1) per count (ADS1299 datasheet, Table 7)."""
    if gain not in GAINS:
        raise ValueError(f"ADS1299 gain {gain} is not one of {GAINS}")
    return VREF / gain / (2**23 - 1)


@dataclass
class Packet:
    sample_number: int
    counts: np.ndarray  # (8,) int32
    aux: bytes
    footer: int

    def accel_counts(self) -> np.ndarray | None:
        """Accelerometer X, Y, Z counts, or None where this packet carries no reading."""
        if self.footer != FOOTER_ACCEL or self.aux == b"\x00" * 6:
            return None
        return np.frombuffer(self.aux, dtype=">i2").astype(np.int32)


@dataclass
class DecoderStats:
    packets: int = 0
    bytes: int = 0
    garbage_bytes: int = 0  # bytes skipped while looking for a packet (banner text, noise)
    lost_packets: int = 0  # from sample-number gaps


@dataclass
class CytonDecoder:
    """Bytes split anyhow -> whole packets; resynchronises on header and footer."""

    stats: DecoderStats = field(default_factory=DecoderStats)
    _buf: bytearray = field(default_factory=bytearray)
    _last: int | None = None

    def reset(self) -> None:
        self._buf.clear()
        self._last = None

    def feed(self, data: bytes) -> list[Packet]:
        buf = self._buf
        buf += data
        self.stats.bytes += len(data)
        out = []
        i = 0
        while len(buf) - i >= PACKET_BYTES:
            if buf[i] != HEADER or buf[i + PACKET_BYTES - 1] & 0xF0 != 0xC0:
                i += 1
                self.stats.garbage_bytes += 1
                continue
            p = buf[i : i + PACKET_BYTES]
            raw = np.frombuffer(bytes(p[2:26]), dtype=np.uint8).reshape(N_CHANNELS, 3).astype(np.int32)
            counts = (raw[:, 0] << 16) | (raw[:, 1] << 8) | raw[:, 2]
            counts = np.where(counts & 0x800000, counts - (1 << 24), counts).astype(np.int32)
            packet = Packet(p[1], counts, bytes(p[26:32]), p[32])
            if self._last is not None:
                self.stats.lost_packets += (packet.sample_number - self._last - 1) % 256
            self._last = packet.sample_number
            out.append(packet)
            i += PACKET_BYTES
        del buf[:i]
        self.stats.packets += len(out)
        return out


def encode_packet(sample_number: int, counts: np.ndarray, accel: np.ndarray | None = None) -> bytes:
    """One 0xC0 packet (what a Cyton sends); `accel` None sends the zero 'no reading' bytes."""
    c = np.asarray(counts, dtype=np.int64) & 0xFFFFFF
    body = np.column_stack([(c >> 16) & 0xFF, (c >> 8) & 0xFF, c & 0xFF]).astype(np.uint8).tobytes()
    aux = b"\x00" * 6 if accel is None else np.asarray(accel, dtype=">i2").tobytes()
    return bytes([HEADER, sample_number & 0xFF]) + body + aux + bytes([FOOTER_ACCEL])
