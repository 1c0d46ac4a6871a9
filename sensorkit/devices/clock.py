"""Mapping a device's own clock onto the host clock (DESIGN.md section 2).

Frames reach the host some non-negative delay after the device stamped them, so
`host_receive - device_time` is the true offset plus a jittery delay. The lower
envelope of that difference, tracked in one-second buckets over a sliding window
and fitted with a line, gives offset and drift (the approach LSL takes for its
clock offsets, done per frame here because device time is in every frame).
"""

from __future__ import annotations

from collections import deque

import numpy as np

WRAP_US = 1 << 32


class DeviceClock:
    """Unwraps a 32-bit microsecond device counter into seconds."""

    def __init__(self) -> None:
        self._last: int | None = None
        self._epochs = 0

    def seconds(self, device_time_us: int) -> float:
        if self._last is not None and device_time_us < self._last - WRAP_US // 2:
            self._epochs += 1
        elif self._last is not None and device_time_us > self._last + WRAP_US // 2:
            # a late frame from before the last wrap
            return (device_time_us + (self._epochs - 1) * WRAP_US) / 1e6
        self._last = device_time_us
        return (device_time_us + self._epochs * WRAP_US) / 1e6


class ClockMap:
    """Online estimate of host = device + offset(device), offset linear in device time."""

    def __init__(self, bucket_s: float = 1.0, window_buckets: int = 120) -> None:
        self.bucket_s = bucket_s
        self._buckets: deque[tuple[int, float, float]] = deque(maxlen=window_buckets)
        self._fit: tuple[float, float, float] | None = None  # (ref device s, offset, slope)
        self._dirty = False  # refit lazily: observations come per frame, mappings per read

    @property
    def ready(self) -> bool:
        return bool(self._buckets)

    def observe(self, device_s: float, host_s: float) -> None:
        """One (device time, host receive time) pair, seconds."""
        key = int(device_s // self.bucket_s)
        diff = host_s - device_s
        if self._buckets and self._buckets[-1][0] == key:
            if diff < self._buckets[-1][2]:
                self._buckets[-1] = (key, device_s, diff)
                self._dirty = True
        elif not self._buckets or key > self._buckets[-1][0]:
            self._buckets.append((key, device_s, diff))
            self._dirty = True
        # else: an out-of-order observation, too old to matter

    def _refit(self) -> None:
        b = np.array([(d, o) for _, d, o in self._buckets])
        ref = float(b[-1, 0])
        if len(b) < 4:
            self._fit = (ref, float(b[:, 1].min()), 0.0)
            return
        x = b[:, 0] - ref
        slope, intercept = np.polyfit(x, b[:, 1], 1)
        # the envelope is the line under all minima: shift it down to touch them
        intercept += float(np.min(b[:, 1] - (intercept + slope * x)))
        self._fit = (ref, float(intercept), float(slope))

    def to_host(self, device_s: np.ndarray | float) -> np.ndarray:
        """Host-clock seconds for device-clock seconds."""
        if self._dirty:
            self._refit()
            self._dirty = False
        if self._fit is None:
            raise RuntimeError("ClockMap has no observation yet")
        ref, offset, slope = self._fit
        d = np.asarray(device_s, dtype=np.float64)
        return d + offset + slope * (d - ref)
