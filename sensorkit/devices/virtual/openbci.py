"""A simulated OpenBCI Cyton on the far end of a (virtual) serial port.

Answers a soft reset (`v`) with the board's banner ending in `$$$`, streams 0xC0
packets at 250 Hz after `b` (accelerometer in every tenth), stops after `s`;
packets listed in `drop` are lost on the radio link, as on a real dongle.
"""

from __future__ import annotations

import time

import numpy as np

from sensorkit.protocols import openbci as ob
from sensorkit.sim import SimRecording

BANNER = (b"OpenBCI V3 8-16 channel\nOn Board ADS1299 Device ID: 0x3E\nLIS3DH Device ID: 0x33\n"
          b"Firmware: v3.1.2\n$$$")  # fmt: skip


def counts_of(rec: SimRecording, gain: int = ob.DEFAULT_GAIN) -> tuple[np.ndarray, np.ndarray]:
    """ADC counts (n, 8) of a simulated recording's first 8 EMG channels resampled by picking every
    sample at 250 Hz, and accelerometer counts (n // 10, 3) from its IMU."""
    emg = rec.emg[:: int(round(rec.config.fs_emg / ob.RATE_HZ))]
    emg = np.pad(emg, ((0, 0), (0, max(0, ob.N_CHANNELS - emg.shape[1]))))[:, : ob.N_CHANNELS]
    counts = np.clip(np.round(emg / ob.volts_per_count(gain)), -(2**23), 2**23 - 1).astype(np.int32)
    acc = rec.imu[:: int(round(rec.config.fs_imu / ob.ACCEL_RATE_HZ)), :3] / 9.80665 / ob.ACCEL_G_PER_COUNT
    return counts, np.clip(np.round(acc), -32768, 32767).astype(np.int32)


class SimCyton:
    def __init__(self, counts: np.ndarray, accel: np.ndarray, speed: float = 1.0,
                 drop: frozenset[int] = frozenset()) -> None:  # fmt: skip
        self.counts, self.accel, self.speed, self.drop = counts, accel, speed, drop
        self.finished = False
        self._out = b""
        self._t0: float | None = None
        self._next = 0  # next sample to send

    def write(self, data: bytes) -> None:
        for c in data:
            if c == ob.CMD_SOFT_RESET[0]:
                self._t0 = None
                self._out += BANNER
            elif c == ob.CMD_START[0] and self._t0 is None:
                self._t0 = time.monotonic() - self._next / (ob.RATE_HZ * self.speed)
            elif c == ob.CMD_STOP[0]:
                self._t0 = None

    def read(self, timeout: float) -> bytes:
        out, self._out = self._out, b""
        if self._t0 is None:
            if not out:
                time.sleep(min(timeout, 0.005))
            return out
        due = min(len(self.counts), int((time.monotonic() - self._t0) * ob.RATE_HZ * self.speed))
        packets = []
        for k in range(self._next, due):
            if k in self.drop:
                continue
            accel = self.accel[k // 10] if k % 10 == 0 and k // 10 < len(self.accel) else None
            packets.append(ob.encode_packet(k, self.counts[k], accel))
        self._next = max(self._next, due)
        self.finished = self._next >= len(self.counts)
        if not packets and not out:
            time.sleep(min(timeout, 0.002))
        return out + b"".join(packets)
