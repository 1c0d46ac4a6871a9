"""Held exercises: two repetitions found as one movement, split where the weight came back and went out again.

Between two single-leg stances the patient stands on both feet for a second or two. With
the pelvis hiked or level, balance corrections keep the motion signals up through the
holds, and the stand between two stances can be too brief to read as rest: `movement_periods`
then returns one movement holding the end of one stance and the start of the next (on 16
simulated sessions of four stances per row, 1-2 such merges per row and movement shape; a
26-s movement held both stances of one side; docs/analysis.md). `join_held` measures a
movement's shifts at its ends only, so it could not cut it.

The weight's sideways velocity, high-passed (`shift_velocities`), shows each shift as a
clear lobe and each correction as a small one. Inside a movement, a clear lobe against the
block's shift out (a shift back), followed within `REST_BETWEEN_S` by a clear lobe with it
(the next shift out), is where one repetition ended and the next began.
"""

from __future__ import annotations

import numpy as np

from sensorkit.dsp.filters import true_runs
from sensorkit.dsp.held_shift import shift_start
from sensorkit.dsp.movement import Movement
from sensorkit.dsp.posture import SHIFT_MIN_M_S

# a shift back and the next shift out come within this of each other: the stand on both feet
# between two stances (1-2 s on the simulator) and the movements into and out of it, no longer
# than a put-down found as a movement of its own (`held.PUT_DOWN_S`)
REST_BETWEEN_S = 5.0
# where a repetition cut here ends: this long after its shift back's lobe (the pelvis settles),
# and before the next one's shift out begins
SETTLE_S = 0.5
# the next shift out's start is sought from this long before its lobe (`shift_start`)
OUT_LEAD_S = 0.3


def split_merged(moves: list[Movement], sideways: np.ndarray, lateral: np.ndarray, fs: float, at: int,
                 sign: float) -> list[Movement]:  # fmt: skip
    """`moves` (times in s from sample `at` of `sideways`, the weight's velocity along the shifts'
    axis from `shift_velocities`, m/s, and of `lateral`, the acceleration along it, m/s^2, at `fs`
    Hz) with each movement that holds a shift back (a clear lobe of `sideways` against `sign`, the
    way the weight shifts out) followed within `REST_BETWEEN_S` by a shift out (a clear lobe with
    `sign`) cut in two there: the first part ends `SETTLE_S` after the shift back, the second
    starts where its shift out began (`shift_start`)."""
    vel = np.nan_to_num(sideways)
    out = []
    for m in moves:
        on, end = at + int(round(m.onset_s * fs)), at + int(round(m.end_s * fs))
        for cut_end, next_on in _cuts(vel, lateral, fs, on, end, sign):
            out.append(Movement(m.onset_s, m.detected_s, (cut_end - at) / fs, m.peak_speed))
            m = Movement((next_on - at) / fs, (next_on - at) / fs, m.end_s, m.peak_speed)
        out.append(m)
    return out


def _cuts(vel: np.ndarray, lateral: np.ndarray, fs: float, on: int, end: int, sign: float
          ) -> list[tuple[int, int]]:  # fmt: skip
    """(end of one repetition, start of the next) samples inside the movement from `on` to `end`."""
    lobes = [(on + a, on + b, float(np.sign(vel[on + a])))
             for a, b in true_runs(np.abs(vel[on:end]) >= SHIFT_MIN_M_S)]  # fmt: skip
    cuts, last = [], on
    for (a0, b0, s0), (a1, _, s1) in zip(lobes, lobes[1:], strict=False):
        if s0 != -sign or s1 != sign or a0 < last or a1 - b0 > REST_BETWEEN_S * fs:
            continue
        began = shift_start(lateral, fs, a1 - int(round(OUT_LEAD_S * fs)))
        next_on = a1 if began is None or not b0 < began <= a1 else began
        cut_end = min(b0 + int(round(SETTLE_S * fs)), next_on - 1)
        cuts.append((cut_end, next_on))
        last = next_on
    return cuts

