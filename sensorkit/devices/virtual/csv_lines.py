"""A simulated Arduino sketch printing one text line per sample (MyoWare EMG + MPU-6050).

Lines are `millis,emg1,emg2,ax,ay,az,gx,gy,gz` at `rate`, in the sketch's raw
counts; it starts printing at power-up (a banner line first) whether or not anyone
listens, as such sketches do. Every `garble_every`-th line is cut short, as noise or
a full buffer would.
"""

from __future__ import annotations

import time

import numpy as np

from sensorkit.sim import SimRecording

HEADER = b"MyoWare + MPU6050 ready\r\n"


def sketch_counts(rec: SimRecording, rate: float) -> np.ndarray:
    """Raw counts (n, 8) at `rate`: two 10-bit EMG readings (MyoWare raw output around 2.5 V, x 1000
    gain) and MPU-6050 accelerometer (+-2 g) and gyroscope (+-250 deg/s)."""
    n = int(len(rec.emg) / rec.config.fs_emg * rate)
    k = np.arange(n) / rate  # the sketch reads each sensor's latest value once per line
    emg = rec.emg[np.minimum((k * rec.config.fs_emg).astype(int), len(rec.emg) - 1), :2]
    imu = rec.imu[np.minimum((k * rec.config.fs_imu).astype(int), len(rec.imu) - 1)]
    adc = np.clip(np.round((2.5 + emg[:n] * 1000) / (5.0 / 1023)), 0, 1023)
    acc = np.clip(np.round(imu[:n, :3] / (9.80665 / 16384)), -32768, 32767)
    gyr = np.clip(np.round(np.degrees(imu[:n, 3:]) * 131), -32768, 32767)
    return np.column_stack([adc, acc, gyr]).astype(np.int64)


class SimCsvSketch:
    def __init__(self, counts: np.ndarray, rate: float, garble_every: int = 0, boot_ms: int = 1234) -> None:
        self.counts, self.rate, self.garble_every, self.boot_ms = counts, rate, garble_every, boot_ms
        self.finished = False
        self._t0 = time.monotonic()
        self._next = 0
        self._header = HEADER

    def write(self, data: bytes) -> None:
        pass  # such sketches take no commands

    def read(self, timeout: float) -> bytes:
        due = min(len(self.counts), int((time.monotonic() - self._t0) * self.rate))
        lines = [self._header]
        self._header = b""
        for k in range(self._next, due):
            millis = self.boot_ms + int(k * 1000 / self.rate)
            text = ",".join(str(v) for v in (millis, *self.counts[k])).encode() + b"\r\n"
            if self.garble_every and k % self.garble_every == self.garble_every - 1:
                text = text[: len(text) // 2] + b"\r\n"
            lines.append(text)
        self._next = max(self._next, due)
        self.finished = self._next >= len(self.counts)
        if due == self._next and len(lines) == 1 and not lines[0]:
            time.sleep(min(timeout, 0.002))
        return b"".join(lines)
