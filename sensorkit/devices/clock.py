"""Mapping a device's own clock onto the host clock (DESIGN.md section 2).

Frames reach the host some non-negative delay after the device stamped them, so
`host_receive - device_time` is the true offset plus a jittery delay. Its minimum
per one-second bucket is kept over a sliding ten-minute window, and the line
under all those minima that lies closest to them (the lower convex hull edge that
minimises the summed distance: Moon, Skelly & Towsley 1999, "Estimation and removal
of clock skew from network delay measurements") gives offset and drift. Unlike a
least-squares fit, it is not pulled up by buckets whose best delay was long, as
when frames and the host's polls (USB frames, BLE connection events) beat against
each other for minutes.
"""

from __future__ import annotations

from collections import deque

import numpy as np

WRAP_US = 1 << 32
MAX_DRIFT = 0.002  # 2000 ppm: far beyond any crystal, a sanity bound on the fitted slope


def _lower_hull(x: np.ndarray, y: np.ndarray) -> list[int]:
    """Indices of the lower convex hull of points sorted by x (Andrew's monotone chain)."""
    hull: list[int] = []
    for k in range(len(x)):
        while len(hull) >= 2:
            i, j = hull[-2], hull[-1]
            if (x[j] - x[i]) * (y[k] - y[i]) - (y[j] - y[i]) * (x[k] - x[i]) > 0:
                break  # a left turn: j stays
            hull.pop()
        hull.append(k)
    return hull


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

    def __init__(self, bucket_s: float = 1.0, window_buckets: int = 600) -> None:
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
        x, y = b[:, 0] - ref, b[:, 1]
        hull = _lower_hull(x, y)
        best, fit = -np.inf, (float(y.min()), 0.0)
        xm = float(x.mean())
        for i, j in zip(hull[:-1], hull[1:], strict=True):
            slope = (y[j] - y[i]) / (x[j] - x[i])
            if abs(slope) > MAX_DRIFT:
                continue  # not a clock's drift: a stretch of unusual delays
            at_mean = y[i] + slope * (xm - x[i])  # all points lie above: the highest such line is closest
            if at_mean > best:
                best, fit = at_mean, (float(y[i] - slope * x[i]), float(slope))
        self._fit = (ref, fit[0], fit[1])

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
