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
- Movement onset: where the motion leaves the preceding rest. The acceleration and
  angular-rate deviations from rest, in units of their resting noise, are flat at
  rest and ramp up from the onset of a smooth movement; the onset is the
  least-squares breakpoint of a flat-then-ramp fit to their rise (a hinge
  regression), which needs no single threshold crossing. The fit sees the
  deviation along the direction the motion takes, signed, so that the noise of rest
  averages out instead of hiding a slow start. Signals are smoothed
  causally at 10 Hz and the filter's delay is subtracted.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from sensorkit.dsp.filters import apply_sos, hold_short_gaps, lowpass_sos, merge_runs, true_runs
from sensorkit.dsp.onset import group_delay_s


@dataclass(frozen=True)
class MovementParams:
    smooth_hz: float = 10.0  # low-pass of the motion signals
    on_fraction: float = 0.3  # a period starts above rest + this x (peak - rest) ...
    off_fraction: float = 0.15  # ... and ends below rest + this x (peak - rest)
    min_period_s: float = 0.4
    merge_gap_s: float = 0.3
    fragment_fraction: float = 0.3  # a period this much shorter than the block's typical one ...
    fragment_gap_s: float = 1.0  # ... starting this soon after the previous one belongs to it
    rest_s: float = 1.0  # least pause before a movement to measure its onset against
    settle_s: float = 0.5  # the body settles this long after a movement before rest begins
    sway_gyr: float = np.radians(0.5)  # rad/s: least angular-rate noise of quiet standing
    sway_acc: float = 0.02  # m/s^2: least acceleration noise of quiet standing
    # rad/s: least angular-rate spread of the pause an onset is measured against: standing's
    # sway, or `LYING_PAUSE_FLOOR_GYR` for an exercise done lying (`lying`)
    pause_floor_gyr: float = np.radians(0.5)
    ramp_top_z: float = 5.0  # the onset fit uses the rise up to this motion z-score
    max_hold_s: float = 0.5  # lost samples (radio drop-outs) up to this long hold the last value


# The gyroscope's axes sway together: one that happened to be quiet through a pause would
# make its own sway, a moment later, look like the movement's start. Each axis's spread is
# at least this share of the largest one's. With the lying floor below and no such share,
# lying with standing's sway, prone onsets' p95 went 79 -> 112 ms and a first lift's onset
# came 0.18 s early in the sway before it (a share of 0.3: 0.11 s). Sharing the
# accelerometer's axes' spread too lost more slow, small bridges lying with standing's sway
# (found 60 % against 73 %, minimum jerk).
POOLED_GYR = 0.5

# Lying on a table the pelvis moves with the breath, far less than standing. Floored at
# standing's sway, a slow, small prone lift's angular rate stood clear of its pause only at
# 40 % of its peak, and its onset was found late. benchmarks/bench_movement.py, lifts over
# twice the time and half the excursion with a third of standing's sway, minimum-jerk /
# raised-cosine: prone onsets 96 / 32 -> 50 / 19 ms, found 80 / 87 -> 100 %; lifts over twice
# the time 44 / 5 -> 30 / 8 ms (floors of 0.15 and 0.3 deg/s: within 5 ms of 0.2). The cost,
# lying with standing's sway: slow bridges 56 -> 108 ms (minimum jerk), slow and small ones
# found 87 -> 73 %. Standing, a lower floor let a live onset begin in the sway before the
# movement where `analyze`'s did not (a squat 0.38 s early): it is kept to exercises done lying.
LYING_PAUSE_FLOOR_GYR = float(np.radians(0.2))


def lying(p: MovementParams) -> MovementParams:
    """`p` for an exercise done lying: the pause before a movement is floored at the lying pelvis's
    stillness (`LYING_PAUSE_FLOOR_GYR`) instead of standing's sway."""
    return replace(p, pause_floor_gyr=min(p.pause_floor_gyr, LYING_PAUSE_FLOOR_GYR))


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


def rest_bias(gyr: np.ndarray, fs: float) -> np.ndarray:
    """Gyro bias from the stillest 1-s windows (rad/s)."""
    w = max(2, int(fs))
    n = len(gyr) // w
    if n == 0:
        return np.nanmedian(gyr, axis=0)
    blocks = gyr[: n * w].reshape(n, w, 3)
    whole = np.isfinite(blocks).all(axis=(1, 2))  # windows with a gap do not compete
    if not whole.any():
        return np.nanmedian(gyr, axis=0)
    var = np.where(whole, blocks.var(axis=1).sum(axis=1), np.inf)
    still = np.argsort(var)[: max(1, int(whole.sum()) // 10)]
    return np.median(blocks[still].reshape(-1, 3), axis=0)


def _activity(speed: np.ndarray, a: np.ndarray, fs: float) -> np.ndarray:
    """Motion away from rest, 0 (rest) to about 1 (the block's big movements).

    Angular speed above the gyro bias, plus the angle between gravity now and in the
    resting posture: a held squat is not rest even when nothing rotates.
    """
    # the resting posture is where the block starts (exercises start from rest), not the most
    # common still posture: a held bridge can outlast the rests between repetitions
    rest_dir = np.nanmedian(a[: int(fs)], axis=0)
    cosang = (a @ rest_dir) / (np.linalg.norm(a, axis=1) * np.linalg.norm(rest_dir) + 1e-12)
    tilt = np.degrees(np.arccos(np.clip(cosang, -1, 1)))
    return (_scaled(speed) + _scaled(tilt)) / 2


def _scaled(x: np.ndarray) -> np.ndarray:
    """`x` from its quiet level (10th percentile, 0) to its big movements (98th, 1), >= 0."""
    lo, hi = np.nanpercentile(x, [10, 98])
    return np.clip(np.nan_to_num((x - lo) / max(hi - lo, 1e-9), nan=0.0), 0, None)


def movement_periods(acc: np.ndarray, gyr: np.ndarray, fs: float,
                     params: MovementParams = MovementParams()) -> list[Movement]:  # fmt: skip
    """Repetitions of movement in an IMU recording (acc m/s^2, gyr rad/s, shape (n, 3))."""
    p = params
    acc, gyr = np.asarray(acc, np.float64), np.asarray(gyr, np.float64)
    if len(gyr) < 2 * fs or np.isfinite(gyr).all(axis=1).sum() < fs:
        return []
    # a drop-out would otherwise split a repetition in two or end it early; held, not
    # interpolated, so that the live detector (no look-ahead) bridges alike
    both = hold_short_gaps(np.column_stack([acc, gyr]), max(1, int(round(p.max_hold_s * fs))))[0]
    acc, gyr = both[:, :3], both[:, 3:]
    g, a = _speed(acc, gyr, fs, p)
    speed = np.linalg.norm(g - rest_bias(gyr, fs), axis=1)
    act = _activity(speed, a, fs)
    periods = _absorb_fragments(_hysteresis(act > p.on_fraction, act > p.off_fraction, fs, p), fs, p)
    delay = group_delay_s(lowpass_sos(fs, min(p.smooth_hz, 0.4 * fs)), fs, 0.5)
    out = []
    prev_end = 0
    for a0, b0 in periods:
        # anchor at the first clear motion: the period's start may be sway before it
        first_on = a0 + int(np.argmax(act[a0:b0] > p.on_fraction))
        onset = pause_onset(g, a, fs, prev_end, first_on, p)
        out.append(Movement(max(onset / fs - delay, 0.0), a0 / fs - delay, b0 / fs - delay,
                            float(np.nanmax(speed[a0:b0]))))  # fmt: skip
        prev_end = b0
    return out


# A position signal starts as the movement's profile does: a ramp, a raised cosine (t^2), a
# minimum-jerk reach (t^3). Fitting all three shapes and keeping the best was the least biased
# across those profiles and an exponential approach (benchmarks/bench_reference_channel.py);
# any one power was 40-55 ms off on the profiles it does not match.
SIGNAL_HINGE_POWERS = (1.0, 2.0, 3.0)


def signal_movements(x: np.ndarray, fs: float, params: MovementParams = MovementParams()) -> list[Movement]:
    """Repetitions of movement in one signal that follows the movement: a goniometer's
    angle (deg), a force (N), any unit (`x`, shape (n,), at `fs` Hz).

    The same steps as `movement_periods`: motion is the signal's departure from where the
    block starts (a rest) and its rate of change, each scaled to the block's range;
    periods by hysteresis; the onset is the hinge fit to the signed departure from the
    preceding pause, in units of the pause's noise (floored at 0.5 % of the block's range,
    so an ideally still pause does not magnify a quantisation step). `peak_speed` is the
    signal's peak rate of change (units/s).
    """
    p = params
    x = np.asarray(x, np.float64).reshape(-1)
    if len(x) < 2 * fs or np.isfinite(x).sum() < fs:
        return []
    sos = lowpass_sos(fs, min(p.smooth_hz, 0.4 * fs))
    # zero phase: this runs on recordings only (the live pipeline takes its movement from the
    # IMU), so nothing needs the causal filter's delay, nor its correction
    xs = apply_sos(sos, x)  # lost samples: apply_sos filters the stretches between them
    rate = np.abs(np.gradient(xs) * fs)
    act = (_scaled(np.abs(xs - np.nanmedian(xs[: int(fs)]))) + _scaled(rate)) / 2
    periods = _absorb_fragments(_hysteresis(act > p.on_fraction, act > p.off_fraction, fs, p), fs, p)
    lo_all, hi_all = np.nanpercentile(xs, [2, 98])
    floor = max(0.005 * (hi_all - lo_all), 1e-12)
    out, prev_end = [], 0
    for a0, b0 in periods:
        first_on = a0 + int(np.argmax(act[a0:b0] > p.on_fraction))
        lo = _pause_start(prev_end, first_on, fs, p)
        onset = first_on
        if lo is not None:
            seg = xs[lo : first_on + 1]
            centre = np.nanmedian(seg)
            spread = max(1.4826 * float(np.nanmedian(np.abs(seg - centre))), floor)
            dev = np.nan_to_num((seg - centre) / spread)
            begin, end = _rest_then_rise(np.abs(dev), fs, p)
            onset = lo + begin + hinge_onset((dev * np.sign(dev[end]))[begin : end + 1], SIGNAL_HINGE_POWERS)
        out.append(Movement(onset / fs, a0 / fs, b0 / fs, float(np.nanmax(rate[a0:b0]))))
        prev_end = b0
    return out


def _hysteresis(on: np.ndarray, stay: np.ndarray, fs: float, p: MovementParams) -> list[tuple[int, int]]:
    """Periods that reach `on` and last while `stay`, merged across short gaps."""
    runs = [(a, b) for a, b in true_runs(stay) if on[a:b].any()]
    return [(a, b) for a, b in merge_runs(runs, p.merge_gap_s * fs) if b - a >= p.min_period_s * fs]


def _absorb_fragments(periods: list[tuple[int, int]], fs: float, p: MovementParams) -> list[tuple[int, int]]:
    """A brief burst of motion soon after a long period ends is that period's last part.

    A patient who levels the pelvis before putting the foot down after a single-leg
    stance pauses briefly before the final step; that step is not a repetition.
    """
    if len(periods) < 2:
        return periods
    typical = float(np.median([b - a for a, b in periods]))
    out = [periods[0]]
    for a, b in periods[1:]:
        if b - a < p.fragment_fraction * typical and a - out[-1][1] <= p.fragment_gap_s * fs:
            out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out


def _median(x: np.ndarray) -> np.ndarray:
    """`np.nanmedian(x, axis=0)`, without its slower path where nothing is NaN (the usual case,
    asked per repetition)."""
    return np.nanmedian(x, axis=0) if np.isnan(x).any() else np.median(x, axis=0)


def pause_onset(g_smooth: np.ndarray, a_smooth: np.ndarray, fs: float, prev_end: int, start: int,
                p: MovementParams = MovementParams()) -> int:  # fmt: skip
    """Where the motion leaves the rest that precedes a movement detected at sample `start`
    (sample index of the causally smoothed gyroscope and accelerometer, (n, 3) each; the
    previous movement ended at `prev_end`). Offline and live (`LiveMovement`) alike."""
    lo = _pause_start(prev_end, start, fs, p)
    if lo is None:
        return start
    # the pause before the movement, described robustly (median, MAD) so that the first
    # fraction of a second of the movement inside it does not distort it; the spread is
    # floored (`pause_floor_gyr`, `sway_acc`) so that an unusually still pause does not magnify sway
    seg_g, seg_a = g_smooth[lo : start + 1], a_smooth[lo : start + 1]
    z = np.zeros(len(seg_g))
    devs, noises = [], []
    for seg, floor, pooled in ((seg_g, p.pause_floor_gyr, POOLED_GYR), (seg_a, p.sway_acc, 0.0)):
        centre = _median(seg)
        spread = np.maximum(1.4826 * _median(np.abs(seg - centre)), floor)
        spread = np.maximum(spread, pooled * np.max(spread))
        # the worst axis: a movement along one axis (a sideways weight shift) is not diluted
        z = np.maximum(z, np.nan_to_num(np.max(np.abs(seg - centre) / spread, axis=1), nan=0.0))
        devs.append(seg - centre)
        noises.append(float(np.max(spread)))
    begin, end = _rest_then_rise(z, fs, p)
    rise, powers = along_motion(devs[0], devs[1], noises[0], noises[1], end)
    return lo + begin + hinge_onset(rise[begin : end + 1], powers)


def _pause_start(prev_end: int, start: int, fs: float, p: MovementParams) -> int | None:
    """Where the pause before a movement detected at `start` begins (up to 4 s back, after
    the previous movement has settled); None when it is shorter than `rest_s`, too short
    to measure an onset against."""
    lo = max(prev_end + int(p.settle_s * fs), start - int(4.0 * fs))
    return None if start - lo < p.rest_s * fs else lo


def _rest_then_rise(z: np.ndarray, fs: float, p: MovementParams) -> tuple[int, int]:
    """The stretch of a pause-then-movement `z` (deviation from rest in units of its noise)
    that the onset fit sees: from a little before the last real rest ends to where the
    motion is clearly under way (the last index at most)."""
    # the last real rest (>= 0.3 s at z < 3) before the detection ...
    rests = [b for a, b in true_runs(z < 3) if b - a >= 0.3 * fs]
    rest_end = min(rests[-1] if rests else 0, len(z) - 2)
    # ... then the rise, up to where the motion is clearly under way (for 50 ms, not a spike)
    run = max(1, int(0.05 * fs))
    begin = max(0, rest_end - int(0.2 * fs))
    clear = np.flatnonzero(np.convolve(z[rest_end:] > p.ramp_top_z, np.ones(run), "valid") >= run)
    end = rest_end + (int(clear[0]) + run if clear.size else len(z) - 1 - rest_end)
    return begin, min(end, len(z) - 1)


def along_motion(dev_g: np.ndarray, dev_a: np.ndarray, noise_g: float, noise_a: float,
                 end: int) -> tuple[np.ndarray, tuple[float, ...]]:  # fmt: skip
    """The deviation from rest (gyroscope `dev_g`, accelerometer `dev_a`, (n, 3)) along the
    direction the motion has taken by sample `end`, signed, in units of the resting noise,
    of whichever sensor has moved more clearly by then, and the hinge powers its rise is
    fitted with (`GYRO_HINGE_POWERS` or `HINGE_POWERS`). A rectified deviation (|noise +
    motion|, worst axis) hides a slow start under the noise; the signed one averages the
    noise out, so a smooth prone hip extension's onset is not put 50-100 ms late."""
    best, out, powers = -np.inf, np.zeros(len(dev_g)), HINGE_POWERS
    end = min(end, len(dev_g) - 1)
    for dev, noise, shape in ((np.nan_to_num(dev_g), noise_g, GYRO_HINGE_POWERS),
                              (np.nan_to_num(dev_a), noise_a, HINGE_POWERS)):  # fmt: skip
        norm = float(np.linalg.norm(dev[end]))
        if norm == 0:
            continue
        proj = dev @ (dev[end] / norm) / noise
        if proj[end] > best:
            best, out, powers = float(proj[end]), proj, shape
    return out, powers


# A movement from rest starts either with a finite acceleration (a raised cosine: the linear
# acceleration jumps, the angular rate rises as t) or smoothly (minimum jerk: acceleration ~ t,
# angular rate ~ t^2). One fixed shape errs early on the one and late on the other, so each
# fit chooses the better of two exponents by least squares: a rise as t^0.5 or t for the
# accelerometer, as t or t^1.5 for the gyroscope. On simulated sessions (benchmarks/
# bench_movement.py), medians on minimum-jerk / raised-cosine movements, before -> now:
# prone hip extension 12 / 29 -> 14 / 6 ms (where the gyroscope moves first), single-leg
# squats 7 / 26 -> 7 / 13, glute bridges 2 / 23 -> 2 / 12, step-downs 6 / 26 -> 6 / 14.
# Tried and not kept: a ramp alone for the accelerometer with (1, 2) or (1, 2, 3) (prone no
# better, squats and stances worse); a gyroscope choosing among t, t^1.5, t^2 (prone 19 ms on
# minimum jerk) or t, t^2 (40 ms); exponents down to 0.25 or 0.33 (the same as 0.5).
HINGE_POWERS = (0.5, 1.0)
GYRO_HINGE_POWERS = (1.0, 1.5)


def hinge_onset(y: np.ndarray, powers: tuple[float, ...] = HINGE_POWERS) -> int:
    """Least-squares breakpoint of 'flat, then rising as (t - breakpoint)^p' through `y`, p in
    `powers` (the one that fits best)."""
    n = len(y)
    if n < 4:
        return 0
    t = np.arange(n, dtype=np.float64)
    taus = np.arange(0, n - 2)
    best, onset = np.inf, 0
    for power in powers:
        h = np.maximum(t[None, :] - taus[:, None], 0.0) ** power  # regressor for each breakpoint
        # per breakpoint: y = c + b h, solved in closed form
        sh, shh, sy, shy = h.sum(1), (h * h).sum(1), y.sum(), (h * y).sum(1)
        det = n * shh - sh**2
        b = (n * shy - sh * sy) / np.where(det > 0, det, np.inf)
        c = (sy - b * sh) / n
        sse = ((y[None, :] - c[:, None] - b[:, None] * h) ** 2).sum(1)
        sse[b <= 0] = np.inf  # the motion must grow
        k = int(np.argmin(sse))
        if sse[k] < best:
            best, onset = float(sse[k]), int(taus[k])
    return onset
