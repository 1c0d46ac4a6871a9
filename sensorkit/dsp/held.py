"""Held exercises: a repetition is a weight shift onto one leg, a hold, and a shift back.

A single-leg stance held with the pelvis level (no drop: the healthy answer to the
Trendelenburg test) leaves the pelvis, during the hold, where it was at rest: the motion
signals fall back to rest between lifting the foot and putting it down, and the
balance corrections of the hold come and go. `movement_periods` then reports the
lift-off, each correction and the put-down as repetitions of their own (on 48 simulated
marked stances: 70 false repetitions with the pelvis level, 30 with a 2-deg hip hike, none
with a drop; joined as below, 8 and 3; docs/analysis.md).

What does tell a hold from a rest is the body's weight: it moves sideways onto the
stance leg at lift-off and back at put-down, so the pelvis's horizontal velocity has a
lobe one way at the start of a repetition and the opposite way at its end. Here each
movement's first horizontal velocity lobe (its shift out) and the largest of its last
seconds (its shift back) are measured in the sensor frame, gravity removed with the
tracked vertical (no calibration needed), and read along the left-right axis the clear
shifts share. A movement that shifts out without coming back is joined, within the
exercise's longest hold, with the movements up to the one that shifts back. Where the
patient's shifts show, a brief movement that shifts nothing (getting ready, a correction
left over) is not a repetition.
"""

from __future__ import annotations

import numpy as np

from sensorkit.dsp.filters import true_runs
from sensorkit.dsp.movement import Movement, hinge_onset, rest_bias
from sensorkit.dsp.orientation import G, gravity_direction
from sensorkit.dsp.posture import MIN_FINITE_SHARE, SHIFT_MIN_M_S, SHIFT_REST_S

# where a movement's shifts are sought: its shift out from just before its onset, the first
# lobe (the weight moves first); its shift back in its last seconds (the foot comes down,
# then the pelvis settles), the largest lobe
START_S = (-0.2, 2.5)
END_S = (-2.5, 0.2)
# a shift the same way as the first one, and this large against it, starts a new repetition: the
# balance corrections of a hold move the pelvis sideways too, less than a shift
SAME_SIZE = 0.6
LEAD_S = 5.0  # the vertical is tracked from this long before the movements' origin
TRANSITIONS_S = 5.0  # a repetition lasts at most the hold plus this (lift-off, put-down, settling)
# a put-down (or any piece of a hold) found as a movement of its own lasts at most this (simulated
# put-downs: 1.6-3.1 s, stances 12-18 s); a longer one is a whole stance whose shift back was
# missed (the other leg's, across a side change)
PUT_DOWN_S = 5.0
# A single-leg stance starts with the weight shifting onto the stance leg. With the pelvis level
# or hiked the stance turns the pelvis little more than standing's sway does, and its onset was
# found in the sway before the shift (on 48 simulated stances with a 2-deg hike, 6 came 0.45-1.1 s
# early, and their glutes read 430-1070 ms late). An onset more than EARLY_S before the shift's
# own start is moved to it.
EARLY_S = 0.25
END_REST_S = 0.2  # a shift's window ends at rest: its velocity is 0 over this long (`_velocity`)
SHIFT_HINGE_POWERS = (1.0, 2.0)  # the velocity of a shift rises as t (a finite start) or t^2 (a smooth one)


def _velocity(horizontal: np.ndarray, fs: float, a: int, b: int, to_rest: bool = False) -> np.ndarray | None:
    """The velocity (m/s, (m, 3) or (m,)) over samples [a, b), integrated from the acceleration
    `horizontal` ((n, 3) or (n,), m/s^2) less its mean over the `SHIFT_REST_S` before `a` (what
    orientation error leaves); `to_rest`: less the ramp that brings its mean over the last
    `END_REST_S` to 0 as well. None without the samples.

    A shift back's window ends at rest (the pelvis still on both feet), so its velocity is 0 at
    both ends, and a ramp to the end is what the tracked vertical's drift adds: it wanders by
    about half a degree during a hold, 0.05-0.14 m/s^2 of gravity, which reached 0.1-0.14 m/s
    over a 2.5-s window, as much as a weight shift, and a hold's corrections were taken for
    shifts. On 16 simulated sessions per row and movement shape, false repetitions of level and
    hiked stances 9, 9, 2, 13 -> 8, 4, 1, 12; the shift out's window may end before its shift does
    (a piece cut short), and read so it made them worse (3, 15, 11, 19; docs/analysis.md)."""
    r0, b = a - int(round(SHIFT_REST_S * fs)), min(b, len(horizontal))
    if r0 < 0 or b - a < fs / 2:
        return None
    rest, move = horizontal[r0:a].reshape(a - r0, -1), horizontal[a:b].reshape(b - a, -1)
    ok = np.isfinite(move).all(axis=1)
    if not (np.isfinite(rest).all(axis=1).any() and ok.mean() >= MIN_FINITE_SHARE):
        return None
    if not ok.all():  # a radio drop-out bridged by a straight line: integrated, not skipped
        idx = np.arange(len(move))
        move = np.column_stack([np.interp(idx, idx[ok], move[ok, j]) for j in range(move.shape[1])])
    v = np.cumsum(move - np.nanmean(rest, axis=0), axis=0) / fs
    if to_rest:
        end = v[-max(1, int(round(END_REST_S * fs))) :].mean(axis=0)
        v -= (np.arange(1, len(v) + 1) / len(v))[:, None] * end
    return v.reshape((-1, *horizontal.shape[1:]))


def shift_velocity(horizontal: np.ndarray, fs: float, a: int, b: int, first: bool) -> np.ndarray | None:
    """The horizontal velocity (m/s, 3 components in the sensor frame) over samples [a, b)
    (`_velocity`), at the peak of its first lobe reaching `SHIFT_MIN_M_S` (`first`; none: the
    largest velocity) or at its largest (not `first`: a shift back, its window read from rest to
    rest); None without the samples.
    `horizontal`: (n, 3) acceleration less gravity's share, m/s^2."""
    v = _velocity(horizontal, fs, a, b, to_rest=not first)
    if v is None:
        return None
    speed = np.linalg.norm(v, axis=1)
    for lo, hi in true_runs(speed >= SHIFT_MIN_M_S) if first else ():
        return v[lo + int(np.argmax(speed[lo:hi]))]
    return v[int(np.argmax(speed))]


def join_held(moves: list[Movement], acc: np.ndarray, gyr: np.ndarray, fs: float, hold_s: float,
              origin: int = 0) -> list[Movement]:  # fmt: skip
    """`moves` (from `movement_periods`, their times in s from sample `origin` of `acc` m/s^2 and
    `gyr` rad/s, (n, 3) at `fs` Hz) with each shift out joined to its shift back (and the
    movements between) into one repetition, for an exercise held up to `hold_s` seconds.
    Movements whose shift back is not found in time are left as they are; so are brief ones
    (up to `PUT_DOWN_S`) without a clear shift, unless at least half of the repetitions so
    found (and two) shift clearly: then they are left out, as the getting ready before a
    side's first lift or after its last put-down (`sensorkit.analysis.unmarked._movements` gives
    the figures; on marked stances, false repetitions with a 2-deg hip hike 3 -> 2 in 24,
    every other variation of docs/analysis.md unchanged).
    The vertical is tracked from up to `LEAD_S` before `origin`: the orientation filter's
    start-up (high gain, accelerations not rejected) tilts it for its first seconds: tracked
    from the block's start, the first shift of 4 of 12 simulated stance blocks came out the
    wrong way."""
    if len(moves) < 2:
        return moves
    lo = max(0, origin - int(round(LEAD_S * fs)))
    horizontal = horizontal_acc(acc[lo:], gyr[lo:], fs)
    at = origin - lo
    outs, backs = [], []
    for m in moves:
        out, back = piece_shifts(horizontal, fs, at + int(round(m.onset_s * fs)), at + int(round(m.end_s * fs)))
        outs.append(out)
        backs.append(back)
    axis = shift_axis([*outs, *backs])
    if axis is None:
        return moves
    outs = [along(v, axis) for v in outs]
    backs = [along(v, axis) for v in backs]
    out, shifts, i = [], [], 0  # the repetitions, and whether each shifts the weight clearly
    while i < len(moves):
        joined = None
        if holds(outs[i], backs[i]):  # a whole repetition is one movement
            for j in range(i + 1, len(moves)):
                if moves[j].end_s - moves[i].onset_s > hold_s + TRANSITIONS_S:
                    break
                if next_shift_out(outs[i], outs[j]):
                    break  # the next repetition's shift out
                if puts_down(outs[i], outs[j], backs[j], moves[j].end_s - moves[j].onset_s):
                    joined = j
                    break
        if joined is None:
            out.append(moves[i])
            shifts.append(is_clear(outs[i]))
            i += 1
            continue
        first, last = moves[i], moves[joined]
        out.append(Movement(first.onset_s, first.detected_s, last.end_s,
                            max(m.peak_speed for m in moves[i : joined + 1])))  # fmt: skip
        shifts.append(True)
        i = joined + 1
    # where at least half of the repetitions (and two) shift the weight clearly, the patient's
    # shift shows, and a brief movement that does not shift is the getting ready before a side's
    # first lift or after its last put-down, or a hold's correction left over: not a repetition
    # (with shifts too small to see, as with a 1-2 cm shift, every movement is kept; a whole
    # stance whose shift was missed lasts longer than a piece)
    if sum(shifts) >= 2 and sum(shifts) >= 0.5 * len(out):
        out = [m for m, s in zip(out, shifts, strict=True) if s or m.end_s - m.onset_s > PUT_DOWN_S]
    return [_from_shift(m, horizontal @ axis, fs, at) for m in out]


def horizontal_acc(acc: np.ndarray, gyr: np.ndarray, fs: float) -> np.ndarray:
    """The acceleration less gravity's share ((n, 3), m/s^2, sensor frame) of `acc` (m/s^2) and
    `gyr` (rad/s) at `fs` Hz, the vertical tracked over them (gyro bias from their stillest
    seconds)."""
    up = gravity_direction(acc, gyr, fs, rest_bias(gyr, fs))
    linear = acc - G * up  # a still accelerometer reads G along up
    return linear - np.einsum("ij,ij->i", linear, up)[:, None] * up


def piece_shifts(horizontal: np.ndarray, fs: float, on: int, end: int
                 ) -> tuple[np.ndarray | None, np.ndarray | None]:  # fmt: skip
    """(shift out, shift back) of a movement from sample `on` to `end` of `horizontal`
    (`horizontal_acc`): the velocities (m/s, 3-D) of `shift_velocity` in the windows `START_S`
    and `END_S`; the shift back is sought after the shift out's window (a movement that is only
    the shift out has none): its resting acceleration must not hold the shift out's. The shift
    back needs `END_S[1]` s of data after `end`."""
    out = shift_velocity(horizontal, fs, on + int(round(START_S[0] * fs)), min(on + int(round(START_S[1] * fs)), end),
                         first=True)  # fmt: skip
    back0 = max(end + int(round(END_S[0] * fs)), on + int(round(START_S[1] * fs)))
    return out, shift_velocity(horizontal, fs, back0, end + int(round(END_S[1] * fs)), first=False)


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


def holds(out: float | None, back: float | None) -> bool:
    """A movement that shifts the weight out clearly without shifting it back: the start of a
    held repetition, which later movements may complete (velocities along the shifts' axis)."""
    return is_clear(out) and not _opposite(out, back)


def next_shift_out(first_out: float | None, out: float | None) -> bool:
    """A movement shifting `out` is the next repetition's shift out, not part of the one that
    shifted `first_out`: a clear shift the same way and at least `SAME_SIZE` as large."""
    return is_clear(out) and first_out * out > 0 and abs(out) >= SAME_SIZE * abs(first_out)


def puts_down(first_out: float | None, out: float | None, back: float | None, duration_s: float) -> bool:
    """A movement (shifts `out`, `back`, lasting `duration_s`) completes the held repetition that
    shifted `first_out`: it shifts back against it, or is a brief movement shifting back (unless
    it comes back itself, or lasts: then it is a whole repetition of its own, the other leg's
    where the side changes, whose shift back may have been missed)."""
    put_down = duration_s <= PUT_DOWN_S
    return _opposite(first_out, back) or (put_down and _opposite(first_out, out) and not _opposite(out, back))


def _from_shift(m: Movement, lateral: np.ndarray, fs: float, at: int) -> Movement:
    """`m` with its onset where its weight shift began, where that is more than `EARLY_S` after
    the onset found (`lateral`: the horizontal acceleration along the shifts' axis, m/s^2, from
    `at` samples before `m`'s origin)."""
    on = at + int(round(m.onset_s * fs))
    began = shift_start(lateral, fs, on)
    if began is None or began - on <= EARLY_S * fs:
        return m
    return Movement((began - at) / fs, m.detected_s, m.end_s, m.peak_speed)


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


def _opposite(out: float | None, back: float | None) -> bool:
    """`back` is a clear shift against `out` (velocities along the shifts' axis, m/s)."""
    return is_clear(out) and is_clear(back) and out * back < 0
