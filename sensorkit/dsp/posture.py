"""Posture of the pelvis and which leg a movement stands on, from the calibrated sacral IMU.

Inputs are the vertical in pelvis coordinates (`up_pelvis`, unit vectors (n, 3): x
anterior, y left, z superior; what `sensorkit.dsp.pelvis.angles` reads its angles
from) and, for the side cues, the accelerometer in the sensor frame.

- `posture_spans`: the recording cut into stretches of one posture: `upright` (the
  pelvis's superior axis within 45 deg of vertical), `supine` (anterior axis up),
  `prone` (anterior axis down), `left_side_down`, `right_side_down` (lying on that
  side). Each stretch starts once the pelvis has settled in it, so the lying down
  or rolling over that led there is no part of it.
- `posture_parts`: the parts of a marked block in the postures its exercise is done in,
  where the patient lay down, rolled over or got up inside it (the clinician pressed the
  exercise's button first, then the patient got onto the table).
- `lateral_shift`: the pelvis's peak left-right velocity (m/s, left > 0) in the
  first second of a movement. Standing on one leg needs the body's mass over that
  foot, so the pelvis moves towards the stance side before the task proper; the
  velocity (not the displacement) is used because a small orientation error
  integrates to a velocity error that stays small over a second.
- `lateral_roll`: how far the pelvis's left side is raised during a movement (deg,
  its median): a leg lifted lying prone rotates the pelvis, its own side rising from
  the table.
"""

from __future__ import annotations

import numpy as np

from sensorkit.dsp.filters import true_runs
from sensorkit.dsp.orientation import G

POSTURES = ("upright", "supine", "prone", "left_side_down", "right_side_down")
UPRIGHT_DEG = 45.0  # superior axis within this of vertical: standing, sitting, squatting, walking
WINDOW_S = 0.5  # posture is judged on half-second medians: a repetition's own sway does not change it
MIN_POSTURE_S = 3.0  # a shorter stay is part of a transition (rolling over passes through side lying)
SETTLED_DEG = 15.0  # a stretch begins when the pelvis is this close to its posture's median direction ...
SETTLE_S = 1.0  # ... plus this long to come to rest
SHIFT_WINDOW_S = (-0.2, 1.0)  # around a movement's onset: where the weight shift happens
# A weight shift slower than this is no cue. Without any shift, what orientation error leaves
# in the integrated sideways acceleration reached 0.065 m/s on simulated squats, step-downs and
# stances (and had the side wrong as often as right); a 3-6 cm shift in 0.4-0.6 s peaked at
# 0.10-0.23 m/s (5th-95th percentile), and moving the body's mass over one foot of a hip-width
# stance is nearer 10 cm.
SHIFT_MIN_M_S = 0.08
SHIFT_REST_S = 0.5  # before the window: the resting acceleration subtracted
MIN_FINITE_SHARE = 0.7  # a side cue needs this share of its samples
# A marked block is searched only where the pelvis was settled in its exercise's postures once
# this long of it lies outside them: lying down or rolling over takes 2-4 s and the settling 1 s
# more (`SETTLE_S`), while a block marked a moment before the pelvis settled leaves a second or
# less, which is left as marked (its movements are the exercise's, and trimming it would move
# the baseline of its first repetition for nothing).
OUTSIDE_MIN_S = 2.0


def classify(up: np.ndarray) -> np.ndarray:
    """Index into POSTURES of each unit vertical `up` (n, 3) in pelvis coordinates; -1 where NaN."""
    up = np.asarray(up, dtype=np.float64)
    out = np.full(len(up), -1, dtype=np.int8)
    ok = np.isfinite(up).all(axis=1)
    u = up[ok]
    upright = u[:, 2] >= np.cos(np.radians(UPRIGHT_DEG))
    on_back_or_front = np.abs(u[:, 0]) >= np.abs(u[:, 1])
    lying = np.where(on_back_or_front, np.where(u[:, 0] > 0, 1, 2), np.where(u[:, 1] < 0, 3, 4))
    out[ok] = np.where(upright, 0, lying)
    return out


def posture_spans(up: np.ndarray, fs: float) -> list[tuple[str, int, int]]:
    """(posture, start, stop) sample spans of `up` (n, 3) at `fs` Hz, settled, in order.

    Half-second windows are classified by their median vertical; stays shorter than
    `MIN_POSTURE_S` join the stretch before; each stretch then starts `SETTLE_S` after
    the pelvis first comes within `SETTLED_DEG` of the stretch's median vertical and
    ends where it last was (its transitions out of it cut off).
    """
    up = np.asarray(up, dtype=np.float64)
    w = max(1, int(round(WINDOW_S * fs)))
    n = len(up) // w
    if n == 0:
        return []
    windows = up[: n * w].reshape(n, w, 3)
    # a window lost whole (a radio drop-out) has no median: NaN, which `classify` leaves
    # unclassified (nanmedian would say so with a RuntimeWarning to a caller from Python)
    seen = np.isfinite(windows).all(axis=2).any(axis=1)
    med = np.full((n, 3), np.nan)
    med[seen] = np.nanmedian(windows[seen], axis=1)
    codes = classify(med)
    for k in range(1, n):  # lost windows keep the posture before them
        if codes[k] < 0:
            codes[k] = codes[k - 1]
    runs: list[list[int]] = []  # [code, first window, stop window]
    for k, c in enumerate(codes):
        if runs and runs[-1][0] == c:
            runs[-1][2] = k + 1
        else:
            runs.append([int(c), k, k + 1])
    min_w = int(np.ceil(MIN_POSTURE_S / WINDOW_S))
    merged: list[list[int]] = []
    for c, a, b in runs:  # a short stay belongs to the stretch before it (a transition's middle)
        if merged and (b - a < min_w or merged[-1][0] == c):
            merged[-1][2] = b
        else:
            merged.append([c, a, b])
    out = []
    for c, a, b in merged:
        if c < 0:
            continue
        lo, hi = a * w, (b * w if b < n else len(up))
        seg = up[lo:hi]
        centre = np.nanmedian(seg, axis=0)
        centre /= np.linalg.norm(centre)
        with np.errstate(invalid="ignore"):
            near = np.flatnonzero(seg @ centre >= np.cos(np.radians(SETTLED_DEG)))
        if near.size == 0:
            continue
        start, stop = lo + int(near[0]) + int(SETTLE_S * fs), lo + int(near[-1]) + 1
        if stop - start >= fs:
            out.append((POSTURES[c], start, stop))
    return out


def posture_parts(up: np.ndarray, fs: float, postures: tuple[str, ...], a: int, b: int) -> list[tuple[int, int]] | None:
    """The parts (start, stop samples) of the block [a, b) of `up` (n, 3; the whole recording's
    vertical in pelvis coordinates, at `fs` Hz) that lie in settled stretches of `postures`
    (`posture_spans`), each at least a second long, where at least `OUTSIDE_MIN_S` of the block
    lies outside them; None where the block lies in them throughout, or in none of them (a
    posture that the calibration cannot tell, say: the block stays as marked).

    Why: a clinician often presses an exercise's button before the patient lies down. The
    lying down (or rolling over, or getting up) inside the block is then the pelvis's largest
    movement, taken for a repetition and every lift measured against it: before this,
    `benchmarks/bench_marked_posture.py` found 0 of 60 prone lifts (52 false repetitions) in
    blocks marked before the rolling over, and the bridges' lying down as 12 false ones; with
    the ends pressed after the next lying down, 37 of 60 squats and 14 of 60 bridges.
    """
    spans = posture_spans(up, fs)
    parts = [(max(s, a), min(e, b)) for name, s, e in spans if name in postures and min(e, b) - max(s, a) >= fs]
    inside = sum(e - s for s, e in parts)
    seen = min(b, len(up)) - a  # a live block's last samples may not have their vertical yet: not outside
    if not parts or seen - inside < OUTSIDE_MIN_S * fs:
        return None
    return parts


def lateral_shift(acc: np.ndarray, up: np.ndarray, left_axis: np.ndarray, fs: float, onset: int,
                  min_m_s: float = 0.03) -> float:  # fmt: skip
    """The pelvis's left-right velocity (m/s, to the left > 0) at the peak of its first lobe
    that reaches `min_m_s` in `SHIFT_WINDOW_S` around sample `onset` (none: the largest
    velocity there), NaN without the samples.

    `acc` (n, 3) m/s^2 in the sensor frame, `up` (n, 3) the vertical in pelvis
    coordinates, `left_axis` the pelvis's left axis in sensor coordinates. The left
    acceleration is the accelerometer along the left axis minus gravity's share of it
    (G x the left axis's elevation), less its mean over the half second before the
    window (what orientation error leaves), integrated over the window.
    """
    r0 = onset + int(round((SHIFT_WINDOW_S[0] - SHIFT_REST_S) * fs))
    a, b = onset + int(round(SHIFT_WINDOW_S[0] * fs)), onset + int(round(SHIFT_WINDOW_S[1] * fs))
    if r0 < 0 or b > len(acc):
        return float("nan")
    left = np.asarray(acc[r0:b]) @ left_axis - G * np.asarray(up[r0:b, 1])
    ok = np.isfinite(left)
    if ok.mean() < MIN_FINITE_SHARE or not ok[: a - r0].any():
        return float("nan")
    if not ok.all():  # lost samples (a radio drop-out) bridged by a straight line: integrated, not skipped
        left = np.interp(np.arange(len(left)), np.flatnonzero(ok), left[ok])
    v = np.cumsum(left[a - r0 :] - left[: a - r0].mean()) / fs
    # the first lobe of motion that reaches `min_m_s`: the shift comes first, and what the
    # task does after it (a forward step, a squat's tilt read through a heading error) can
    # move the pelvis sideways as fast
    for lo, hi in true_runs(np.abs(v) >= min_m_s):
        sign = np.sign(v[lo])
        stop = hi + int(np.argmax(np.sign(v[hi:]) != sign)) if (np.sign(v[hi:]) != sign).any() else len(v)
        return float(v[lo:stop][int(np.argmax(np.abs(v[lo:stop])))])
    return float(v[int(np.argmax(np.abs(v)))])


def lateral_roll(up: np.ndarray, fs: float, onset: int, end: int) -> float:
    """How far the pelvis's left side is raised (deg, > 0 up) during samples [onset, end)
    over the half second before `onset`: the median over the movement, since a lifted leg is
    held for most of it (its largest excursion may be sway as the leg comes down); NaN
    without the samples."""
    r0 = onset - int(round(SHIFT_REST_S * fs))
    if r0 < 0 or end <= onset:
        return float("nan")
    elev = np.degrees(np.arcsin(np.clip(np.asarray(up[r0:end, 1]), -1, 1)))
    if np.isfinite(elev).mean() < MIN_FINITE_SHARE or not np.isfinite(elev[: onset - r0]).any():
        return float("nan")
    return float(np.nanmedian(elev[onset - r0 :]) - np.nanmean(elev[: onset - r0]))
