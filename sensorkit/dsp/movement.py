"""Movement of a body segment from its IMU: rest, repetitions and movement onset.

Works on accelerometer (m/s^2) and gyroscope (rad/s) samples of one sensor, in the
sensor's own frame, so it needs no calibration. Motion is measured against rest:
the gyroscope's departure from its bias and the accelerometer's departure from its
resting (gravity) vector, each in units of its own resting noise, so the detector
adapts to the sensor and to how still the patient stands.

- `movement_periods`: repetitions as periods of motion between rests, found with
  hysteresis on a smoothed angular-speed/acceleration activity relative to the
  block's own range of motion (so small prone-lying movements count as well as
  squats).
- Movement onset: the first sample where the motion leaves the preceding rest
  (z-score above 3) on the way up to the period's detection, found backwards from
  the detection with a causal 10 Hz smoothing whose delay is subtracted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sensorkit.dsp.filters import apply_sos, lowpass_sos, moving_rms
from sensorkit.dsp.onset import group_delay_s


@dataclass(frozen=True)
class MovementParams:
    smooth_hz: float = 10.0  # low-pass of the motion signals
    on_fraction: float = 0.3  # a period starts above rest + this x (peak - rest) ...
    off_fraction: float = 0.15  # ... and ends below rest + this x (peak - rest)
    min_period_s: float = 0.4
    merge_gap_s: float = 0.3
    rest_s: float = 0.6  # the rest window ends this long before a period's detection
    onset_z: float = 3.0  # movement onset: motion above rest noise by this many SDs
    min_rest_s: float = 0.2  # shorter quiet stretches are pauses within a movement


@dataclass(frozen=True)
class Movement:
    """One movement (repetition) in s from the start of the arrays."""

    onset_s: float
    detected_s: float
    end_s: float
    peak_speed: float  # rad/s above rest


def _speed(acc: np.ndarray, gyr: np.ndarray, fs: float, p: MovementParams) -> tuple[np.ndarray, np.ndarray]:
    """Causally smoothed gyroscope vector and accelerometer vector."""
    sos = lowpass_sos(fs, min(p.smooth_hz, 0.4 * fs))
    return apply_sos(sos, gyr, causal=True), apply_sos(sos, acc, causal=True)


def _rest_bias(gyr: np.ndarray, fs: float) -> np.ndarray:
    """Gyro bias from the stillest 1-s windows (rad/s)."""
    w = max(2, int(fs))
    n = len(gyr) // w
    if n == 0:
        return np.nanmedian(gyr, axis=0)
    blocks = gyr[: n * w].reshape(n, w, 3)
    var = np.nanvar(blocks, axis=1).sum(axis=1)
    still = np.argsort(np.nan_to_num(var, nan=np.inf))[: max(1, n // 10)]
    return np.nanmedian(blocks[still].reshape(-1, 3), axis=0)


def _activity(acc: np.ndarray, gyr: np.ndarray, g: np.ndarray, a: np.ndarray, fs: float) -> np.ndarray:
    """Motion away from rest, 0 (rest) to about 1 (the block's big movements).

    Angular speed above the gyro bias, plus the angle between gravity now and in the
    resting posture: a held squat is not rest even when nothing rotates.
    """
    speed = np.linalg.norm(g - _rest_bias(gyr, fs), axis=1)
    still = speed <= np.nanpercentile(speed, 20)
    rest_dir = np.nanmedian(a[still], axis=0)
    cosang = (a @ rest_dir) / (np.linalg.norm(a, axis=1) * np.linalg.norm(rest_dir) + 1e-12)
    tilt = np.degrees(np.arccos(np.clip(cosang, -1, 1)))
    out = np.zeros(len(speed))
    for x in (speed, tilt):
        lo, hi = np.nanpercentile(x, [10, 98])
        out += np.clip(np.nan_to_num((x - lo) / max(hi - lo, 1e-9), nan=0.0), 0, None)
    return out / 2


def movement_periods(acc: np.ndarray, gyr: np.ndarray, fs: float,
                     params: MovementParams = MovementParams()) -> list[Movement]:  # fmt: skip
    """Repetitions of movement in an IMU recording (acc m/s^2, gyr rad/s, shape (n, 3))."""
    p = params
    acc, gyr = np.asarray(acc, np.float64), np.asarray(gyr, np.float64)
    if len(gyr) < 2 * fs or np.isfinite(gyr).all(axis=1).sum() < fs:
        return []
    g, a = _speed(acc, gyr, fs, p)
    act = _activity(acc, gyr, g, a, fs)
    periods = _hysteresis(act > p.on_fraction, act > p.off_fraction, fs, p)
    delay = group_delay_s(lowpass_sos(fs, min(p.smooth_hz, 0.4 * fs)), fs, 0.5)
    speed = np.linalg.norm(g - _rest_bias(gyr, fs), axis=1)
    out = []
    prev_end = 0
    for a0, b0 in periods:
        onset = _onset(g, a, fs, prev_end, a0, p)
        out.append(Movement(max(onset / fs - delay, 0.0), a0 / fs - delay, b0 / fs - delay,
                            float(np.nanmax(speed[a0:b0]))))  # fmt: skip
        prev_end = b0
    return out


def _hysteresis(on: np.ndarray, stay: np.ndarray, fs: float, p: MovementParams) -> list[tuple[int, int]]:
    """Periods that reach `on` and last while `stay`, merged across short gaps."""
    edges = np.flatnonzero(np.diff(np.r_[0, stay.astype(np.int8), 0]))
    runs = [(a, b) for a, b in zip(edges[::2], edges[1::2], strict=True) if on[a:b].any()]
    merged: list[list[int]] = []
    for a, b in runs:
        if merged and a - merged[-1][1] < p.merge_gap_s * fs:
            merged[-1][1] = b
        else:
            merged.append([a, b])
    return [(a, b) for a, b in merged if b - a >= p.min_period_s * fs]


def _onset(g_smooth, a_smooth, fs, prev_end: int, start: int, p: MovementParams) -> int:
    """The first departure from rest before a period's detection, traced back to rest."""
    r1 = start - int(p.rest_s * fs)
    r0 = max(prev_end + int(0.2 * fs), r1 - int(2.0 * fs))
    if r1 - r0 < 0.2 * fs:
        return start
    rest_g, rest_a = g_smooth[r0:r1], a_smooth[r0:r1]
    # deviation from the resting vectors in units of their resting noise, worst axis
    zg = np.abs(g_smooth[r0 : start + 1] - np.nanmedian(rest_g, axis=0)) / (np.nanstd(rest_g, axis=0) + 1e-4)
    za = np.abs(a_smooth[r0 : start + 1] - np.nanmedian(rest_a, axis=0)) / (np.nanstd(rest_a, axis=0) + 1e-3)
    z = np.nan_to_num(np.maximum(zg.max(axis=1), za.max(axis=1)), nan=0.0)
    # motion energy: trailing RMS of z, which rises at the onset and (unlike acceleration
    # itself) does not fall back to zero mid-movement
    energy = moving_rms(z, fs, window_s=0.15, causal=True)
    quiet = np.nan_to_num(energy, nan=0.0) <= p.onset_z
    # the onset ends the last real rest (>= min_rest_s), not a momentary dip mid-movement
    edges = np.flatnonzero(np.diff(np.r_[0, quiet.astype(np.int8), 0]))
    rests = [b for a, b in zip(edges[::2], edges[1::2], strict=True) if b - a >= p.min_rest_s * fs]
    return r0 + (int(rests[-1]) if rests else start - r0)
