"""Orientation of an IMU: the direction of gravity in the sensor's frame, over time.

Fusion of gyroscope and accelerometer is x-io's Fusion AHRS (`imufusion`, a
maintained C implementation: a complementary filter with acceleration rejection
and a startup phase that converges from the first still period). The magnetometer
is optional and off by default: indoors it misleads more than it helps, and
nothing here needs a heading.
"""

from __future__ import annotations

import imufusion
import numpy as np
from scipy.spatial.transform import Rotation

G = 9.80665
RESTART_GAP_S = 1.0  # after a longer gap in the data the filter starts afresh


class GravityTracker:
    """The direction of gravity in the sensor frame, sample by sample, across chunks.

    `process` on successive chunks gives exactly what one call on the whole signal
    gives: the offline function below is this tracker run over one chunk.

    Lost samples (NaN rows): across a gap of up to `RESTART_GAP_S` the filter is fed the
    samples between the last one before it and the first one after, linearly (the
    gyroscope's turn through the gap, roughly); skipped instead, the turn through every
    gap was lost and the tilt error added up (simulated single-leg squats with 5 % of
    samples lost in 10-500 ms drop-outs: pelvic drop error p95 15 deg; now 0.9 deg).
    After a longer gap the filter starts afresh, from the tilt the accelerometer gives
    at the first sample (from the filter's own start, its first outputs lay tens of
    degrees off and a drop of 5 deg came out 21). Tried instead, where the posture was
    the same after the gap: holding the orientation (20 % lost: drop error p95 1.2 ->
    4.3 deg), and bridging it as a short one (a 4-s gap in a walk turned the tilt so far
    that only every other step was found after it). On a simulated walk with 20 % lost
    the obliquity still strays 9-12 deg for a few seconds where drop-outs crowd a turn
    (skipping every gap, as before: 13 deg, to the walk's end).
    """

    def __init__(self, fs: float, gyro_bias: np.ndarray | None = None, gain: float = 0.5) -> None:
        self.fs, self.gain = fs, gain
        self.bias = np.zeros(3) if gyro_bias is None else np.asarray(gyro_bias, dtype=np.float64)
        self._ahrs = _new(fs, gain)
        self._missing = 0
        self._last: tuple[np.ndarray, np.ndarray] | None = None  # the last sample seen (acc g, gyr deg/s)

    def process(self, acc: np.ndarray, gyr: np.ndarray, mag: np.ndarray | None = None) -> np.ndarray:
        """Unit up vectors (n, 3) for acc (m/s^2) and gyr (rad/s); NaN rows where samples are missing.

        `mag` (any unit, e.g. T) is optional and off by default: indoors, steel and
        electronics bend the field, and gravity, all that is estimated here, needs no
        heading. Given, it steadies the filter's heading (Fusion rejects disturbed samples).
        """
        acc = np.asarray(acc, dtype=np.float64) / G  # Fusion works in g ...
        gyr = np.degrees(np.asarray(gyr, dtype=np.float64) - self.bias)  # ... and deg/s
        out = np.full(acc.shape, np.nan)
        finite = np.isfinite(acc).all(axis=1) & np.isfinite(gyr).all(axis=1)
        if mag is not None:
            mag = np.asarray(mag, dtype=np.float64)
            mag = mag / np.nanmedian(np.linalg.norm(mag, axis=1))  # Fusion's rejection works in its own units
            finite &= np.isfinite(mag).all(axis=1)
        restart = int(RESTART_GAP_S * self.fs)
        ahrs = self._ahrs
        for i in range(len(acc)):  # per sample: the C library does the work
            if not finite[i]:
                self._missing += 1
                continue
            if self._missing > restart or (self._missing and self._last is None):
                ahrs = self._ahrs = _new(self.fs, self.gain, acc[i])
            elif self._missing:  # through the gap on the straight line between its edges
                a0, g0 = self._last
                for k in range(1, self._missing + 1):
                    f = k / (self._missing + 1)
                    ahrs.update_no_magnetometer(g0 + f * (gyr[i] - g0), a0 + f * (acc[i] - a0))
            self._missing = 0
            if mag is None:
                ahrs.update_no_magnetometer(gyr[i], acc[i])
            else:
                ahrs.update(gyr[i], acc[i], mag[i])
            self._last = (acc[i], gyr[i])
            out[i] = ahrs.get_gravity()
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def gravity_direction(acc: np.ndarray, gyr: np.ndarray, fs: float, gyro_bias: np.ndarray | None = None,
                      gain: float = 0.5, mag: np.ndarray | None = None) -> np.ndarray:  # fmt: skip
    """Unit 'up' vector in the sensor frame per sample (what a still accelerometer reads).

    acc in m/s^2, gyr in rad/s, shape (n, 3); `gyro_bias` (rad/s) is subtracted first;
    `mag` optional (see `GravityTracker.process`). Rows with missing samples are NaN.
    """
    return GravityTracker(fs, gyro_bias, gain).process(acc, gyr, mag)


def _new(fs: float, gain: float, acc: np.ndarray | None = None) -> imufusion.Ahrs:
    """A Fusion filter; tilted as `acc` (g, sensor frame) says where given (its heading is of
    no concern here), else upright until its start-up phase finds the tilt."""
    ahrs = imufusion.Ahrs()
    ahrs.set_settings(imufusion.AhrsSettings(
        sample_rate=int(round(fs)), convention=imufusion.CONVENTION_NWU, gain=gain,
        gyroscope_range=2000, acceleration_rejection=10, magnetic_rejection=10, rejection_timeout=int(5 * fs),
    ))  # fmt: skip
    ahrs.set_sample_period(1.0 / fs)
    if acc is not None and np.linalg.norm(acc) > 0:
        x, y, z, w = Rotation.align_vectors([[0.0, 0.0, 1.0]], [acc / np.linalg.norm(acc)])[0].as_quat()
        ahrs.set_quaternion(np.array([w, x, y, z]))
    return ahrs
