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
tracked vertical (no calibration needed), high-passed so that the vertical's drift does not
read as a shift, and read along the left-right axis the clear shifts share
(`sensorkit.dsp.held_shift`). A movement that shifts out without coming back is joined,
within the exercise's longest hold, with the movements up to the one that shifts back. Where the
patient's shifts show, a brief movement that shifts nothing (getting ready, a correction
left over) is not a repetition.
"""

from __future__ import annotations

import numpy as np

from sensorkit.dsp.held_shift import (
    along,
    horizontal_acc,
    is_clear,
    piece_shifts,
    shift_axis,
    shift_start,
    shift_velocities,
)
from sensorkit.dsp.held_split import split_merged
from sensorkit.dsp.movement import Movement

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


def join_held(moves: list[Movement], acc: np.ndarray, gyr: np.ndarray, fs: float, hold_s: float,
              origin: int = 0) -> list[Movement]:  # fmt: skip
    """`moves` (from `movement_periods`, their times in s from sample `origin` of `acc` m/s^2 and
    `gyr` rad/s, (n, 3) at `fs` Hz) with each shift out joined to its shift back (and the
    movements between) into one repetition, for an exercise held up to `hold_s` seconds.
    A movement that holds a shift back and, soon after, the next shift out (two stances whose
    holds ran together) is first cut in two there (`held_split.split_merged`).
    Movements whose shift back is not found in time are left as they are; so are brief ones
    (up to `PUT_DOWN_S`) without a clear shift, unless at least half of the repetitions so
    found (and two) shift clearly: then they are left out, as the getting ready before a
    side's first lift or after its last put-down (`sensorkit.analysis.unmarked.stretch_movements` gives
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
    velocity = shift_velocities(horizontal, fs)
    at = origin - lo

    def measured(ms: list[Movement]) -> list[tuple[np.ndarray | None, np.ndarray | None]]:
        return [piece_shifts(velocity, fs, at + int(round(m.onset_s * fs)), at + int(round(m.end_s * fs))) for m in ms]

    pieces = measured(moves)
    axis = shift_axis([v for piece in pieces for v in piece])
    if axis is None:
        return moves
    lateral = horizontal @ axis
    outs = [along(out, axis) for out, _ in pieces]
    sign = out_sign(outs, moves)
    cut = moves if sign is None else split_merged(moves, velocity @ axis, lateral, fs, at, sign)
    if len(cut) > len(moves):  # two repetitions found as one movement, cut apart: measured again
        moves, pieces = cut, measured(cut)
        outs = [along(out, axis) for out, _ in pieces]
    backs = [along(back, axis) for _, back in pieces]
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
    return [_from_shift(m, lateral, fs, at) for m in out]


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
    if began is None or began - on <= EARLY_S * fs or began >= at + int(round(m.end_s * fs)):
        return m  # (a shift after the movement's end is the next one's)
    return Movement((began - at) / fs, m.detected_s, m.end_s, m.peak_speed)


def _opposite(out: float | None, back: float | None) -> bool:
    """`back` is a clear shift against `out` (velocities along the shifts' axis, m/s)."""
    return is_clear(out) and is_clear(back) and out * back < 0


def out_sign(outs: list[float | None], moves: list[Movement]) -> float | None:
    """The way the block's weight shifts out (+1 or -1 along the shifts' axis): that of every clear
    shift out of a movement longer than a put-down (a stance, or its start); None where there is
    none, or where they disagree (a stretch holding both sides' stances, read without markers)."""
    signs = {np.sign(o) for o, m in zip(outs, moves, strict=True)
             if is_clear(o) and m.end_s - m.onset_s > PUT_DOWN_S}  # fmt: skip
    return float(signs.pop()) if len(signs) == 1 else None
