"""Measuring a held exercise's weight shifts: the pelvis's horizontal velocity and its lobes.

The body's weight moves sideways onto the stance leg at a single-leg stance's lift-off and
back at its put-down: a lobe of the pelvis's horizontal velocity one way, then the other.
Measured in the sensor frame, gravity removed with the tracked vertical (no calibration
needed), and read along the left-right axis the clear shifts share. `sensorkit.dsp.held`
joins and cuts movements by these measurements, offline and live (`held_stream`) alike.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import butter

from sensorkit.dsp.filters import apply_sos, true_runs
from sensorkit.dsp.movement import hinge_onset, rest_bias
from sensorkit.dsp.orientation import G, gravity_direction
from sensorkit.dsp.posture import MIN_FINITE_SHARE, SHIFT_MIN_M_S, SHIFT_REST_S

# where a movement's shifts are sought: its shift out from just before its onset, the first
# lobe (the weight moves first); its shift back in its last seconds (the foot comes down,
# then the pelvis settles), the largest lobe
START_S = (-0.2, 2.5)
END_S = (-2.5, 0.2)
# the weight's velocity is high-passed at this (second order, forwards and back): a shift's lobe
# (0.3-1 s) stays, the tracked vertical's drift goes (`shift_velocities`)
HIGHPASS_HZ = 0.1
HIGHPASS_ORDER = 2
SHIFT_HINGE_POWERS = (1.0, 2.0)  # the velocity of a shift rises as t (a finite start) or t^2 (a smooth one)


def _velocity(horizontal: np.ndarray, fs: float, a: int, b: int) -> np.ndarray | None:
    """The velocity (m/s, (m, 3) or (m,)) over samples [a, b), integrated from the acceleration
    `horizontal` ((n, 3) or (n,), m/s^2) less its mean over the `SHIFT_REST_S` before `a` (what
    orientation error leaves); None without the samples. For where a shift starts (`shift_start`):
    read from the rest just before it, so that its rise keeps its shape."""
    r0, b = a - int(round(SHIFT_REST_S * fs)), min(b, len(horizontal))
    if r0 < 0 or b - a < fs / 2:
        return None
    rest, move = horizontal[r0:a].reshape(a - r0, -1), horizontal[a:b].reshape(b - a, -1)
    ok = np.isfinite(move).all(axis=1)
    if not (np.isfinite(rest).all(axis=1).any() and ok.mean() >= MIN_FINITE_SHARE):
        return None
    move = _bridged(move, ok)
    v = np.cumsum(move - np.nanmean(rest, axis=0), axis=0) / fs
    return v.reshape((-1, *horizontal.shape[1:]))


def _bridged(x: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """`x` ((n, k)) with its rows not `ok` (some `ok` needed) on straight lines between the rows
    around them, the end values held before the first and after the last: a radio drop-out is
    integrated, not skipped. (`filters.interpolate_short_gaps` leaves gaps at either end NaN and
    long ones as they are; an integral needs every row.)"""
    if ok.all():
        return x
    idx = np.arange(len(x))
    return np.column_stack([np.interp(idx, idx[ok], x[ok, j]) for j in range(x.shape[1])])


def shift_velocities(horizontal: np.ndarray, fs: float) -> np.ndarray:
    """The pelvis's horizontal velocity (m/s, (n, 3), sensor frame) whose lobes are the weight's
    shifts: the acceleration `horizontal` ((n, 3), m/s^2, `horizontal_acc`) integrated and
    high-passed at `HIGHPASS_HZ` (forwards and back); NaN where samples were lost (bridged by
    straight lines for the integral).

    Why high-passed: the tracked vertical wanders by about half a degree during a hold, 0.05-0.14
    m/s^2 of gravity held for seconds, which integrated over the 2.5-s window a shift was read in
    (from the rest before it) reached 0.1-0.14 m/s, as much as a weight shift (0.08-0.2 m/s): a
    hold's corrections were taken for shifts, and holds were cut into false repetitions. A
    shift's lobe (0.3-1 s) stays; the drift goes. On 16 simulated sessions per row (64 stances),
    level / hiked 2 deg, minimum-jerk and raised-cosine movements, stances found within 0.3 s /
    false repetitions, read from the rest before each window -> high-passed here with movements
    holding two stances cut (`held_split`): 62 / 8, 62 / 5, 63 / 1, 62 / 12 -> 64 / 0, 64 / 3,
    64 / 0, 63 / 12 (docs/analysis.md). Counted as repetitions with no stance within 0.3 s, the
    same filter forwards only (as a live twin could read it exactly) took lobes' undershoots for
    shifts: 14-29 false per row; at 0.2 Hz the raised cosine's lobes fell under `SHIFT_MIN_M_S`
    (10 and 13 false); at 0.05 Hz the drift came back (3, 0, 7, 5)."""
    x = np.asarray(horizontal, dtype=np.float64)
    ok = np.isfinite(x).all(axis=1)
    if not ok.any():
        return np.full(x.shape, np.nan)
    x = _bridged(x, ok)
    sos = butter(HIGHPASS_ORDER, HIGHPASS_HZ, "high", fs=fs, output="sos")
    v = apply_sos(sos, np.cumsum(x - x.mean(axis=0), axis=0) / fs)
    v[~ok] = np.nan
    return v


def shift_velocity(velocity: np.ndarray, fs: float, a: int, b: int, first: bool) -> np.ndarray | None:
    """The horizontal velocity (m/s, 3 components in the sensor frame; `velocity`:
    `shift_velocities`) over samples [a, b), at the peak of its first lobe reaching
    `SHIFT_MIN_M_S` (`first`; none: the largest velocity) or at its largest (not `first`: a
    shift back); None without the samples (outside the data, under half a second, or lost)."""
    b = min(b, len(velocity))
    if a < 0 or b - a < fs / 2:
        return None
    v = velocity[a:b]
    ok = np.isfinite(v).all(axis=1)
    if ok.mean() < MIN_FINITE_SHARE:
        return None
    speed = np.where(ok, np.linalg.norm(np.nan_to_num(v), axis=1), 0.0)
    for lo, hi in true_runs(speed >= SHIFT_MIN_M_S) if first else ():
        return v[lo + int(np.argmax(speed[lo:hi]))]
    return v[int(np.argmax(speed))]


def horizontal_acc(acc: np.ndarray, gyr: np.ndarray, fs: float) -> np.ndarray:
    """The acceleration less gravity's share ((n, 3), m/s^2, sensor frame) of `acc` (m/s^2) and
    `gyr` (rad/s) at `fs` Hz, the vertical tracked over them (gyro bias from their stillest
    seconds)."""
    up = gravity_direction(acc, gyr, fs, rest_bias(gyr, fs))
    linear = acc - G * up  # a still accelerometer reads G along up
    return linear - np.einsum("ij,ij->i", linear, up)[:, None] * up


def piece_shifts(velocity: np.ndarray, fs: float, on: int, end: int
                 ) -> tuple[np.ndarray | None, np.ndarray | None]:  # fmt: skip
    """(shift out, shift back) of a movement from sample `on` to `end` of `velocity`
    (`shift_velocities`): the velocities (m/s, 3-D) of `shift_velocity` in the windows `START_S`
    and `END_S`; the shift back is sought after the shift out's window (a movement that is only
    the shift out has none). The shift back needs `END_S[1]` s of data after `end`."""
    out = shift_velocity(velocity, fs, on + int(round(START_S[0] * fs)), min(on + int(round(START_S[1] * fs)), end),
                         first=True)  # fmt: skip
    back0 = max(end + int(round(END_S[0] * fs)), on + int(round(START_S[1] * fs)))
    return out, shift_velocity(velocity, fs, back0, end + int(round(END_S[1] * fs)), first=False)


def shift_axis(shifts: list[np.ndarray | None], least: int = 2) -> np.ndarray | None:
    """The left-right axis (unit, sensor frame, either way) that the clear shifts among `shifts`
    (3-D velocities, m/s) share: their principal direction; None with fewer than `least` (with
    one, its own direction). Every shift is along the pelvis's left-right axis; the balance
    corrections of a hold also sway it forwards and back, which must not count as a shift."""
    clear = np.array([v for v in shifts if is_clear(v)])
    if len(clear) < max(least, 1):
        return None
    return np.linalg.svd(clear, full_matrices=False)[2][0]


def along(v: np.ndarray | None, axis: np.ndarray) -> float | None:
    """A shift's velocity along `axis` (m/s); None for none."""
    return None if v is None else float(v @ axis)


def shift_start(lateral: np.ndarray, fs: float, on: int) -> int | None:
    """The sample where the weight shift out of a repetition found at sample `on` began: the
    breakpoint of its sideways velocity's first clear lobe (`SHIFT_MIN_M_S`) within `START_S` of
    `on`, rising as t or t^2 (a finite or a smooth start), the velocity integrated from `lateral`
    (m/s^2, along the shifts' axis; `_velocity`); None without such a lobe."""
    a = on + int(round(START_S[0] * fs))
    v = _velocity(lateral, fs, a, on + int(round(START_S[1] * fs)))
    if v is None:
        return None
    lobes = true_runs(np.abs(v) >= SHIFT_MIN_M_S)
    if not lobes:
        return None
    lo, hi = lobes[0]
    peak = lo + int(np.argmax(np.abs(v[lo:hi])))
    return a + hinge_onset(np.sign(v[peak]) * v[: peak + 1], SHIFT_HINGE_POWERS)


def is_clear(v: float | np.ndarray | None) -> bool:
    """A clear shift: its velocity (m/s, along the shifts' axis or 3-D) reaches `SHIFT_MIN_M_S`."""
    return v is not None and float(np.linalg.norm(v)) >= SHIFT_MIN_M_S
