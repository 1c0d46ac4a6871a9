"""Sensor-to-pelvis calibration and pelvic angles from a sacral IMU (DESIGN.md section 4).

Calibration trusts nothing about the mounting. Quiet standing gives the vertical
(the mean accelerometer direction); the forward bends, rotations about the
pelvis's left-right axis, give the heading: at the bottom of a bend gravity has
moved, in the sensor's frame, towards the pelvis's posterior, so the pelvis's
anterior axis is the opposite of that horizontal displacement. Both come from the
accelerometer alone, so gyro bias cannot bias the calibration. The single-leg
repetitions are never used for it: drop and tilt happen together there, and a
heading taken from them would calibrate the drop away.

Angles (degrees), sequence-free, from the gravity direction in the sensor frame:
- obliquity: elevation of the pelvis's left axis above the horizontal, left side
  up > 0 (so on right stance, a left-side drop is negative obliquity);
- tilt: depression of the anterior axis below the horizontal, anterior tilt > 0.
Both are 0 at the calibration's quiet standing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import butter, lfilter, sosfiltfilt

from sensorkit.dsp.filters import hold_short_gaps, true_runs

MIN_STANDING_S = 5.0
# A marked session recorded without its calibration may hold no 5 s of quiet standing outside
# its blocks: simulated sessions of single-leg stances (the Trendelenburg test) stand 2-5 s
# between blocks and at the end, and got no drop at all. There, the longest still stretch
# outside the blocks of at least SHORT_STANDING_S serves, if the pelvis stands there as it
# does in the upright blocks (within UPRIGHT_WITHIN_DEG): stillness between prone blocks is
# the table's, not standing.
SHORT_STANDING_S = 2.0
UPRIGHT_WITHIN_DEG = 20.0
STILL_RAD_S = float(np.radians(5.0))  # still: 90 % of a second's angular speed under this
MIN_BEND_DEG = 20.0  # shallower bends give a less certain heading (said in the result)
# In unmarked data the bends are the first two excursions past DETECT_BEND_DEG that start
# within BEND_WITHIN_S of the standing (or of the bend before): the protocol's order, not
# their depth, tells them from the exercises after them (a squat tilts the pelvis 8-18 deg,
# a shallow bend no more than 20).
DETECT_BEND_DEG = 10.0
BEND_WITHIN_S = 15.0
BEND_LOWPASS_HZ = 1.0  # detect_calibration: the tilt of bends, not of steps
# Heading uncertainty. A bend is never a pure rotation about the pelvis's left-right axis:
# a patient also leans or twists a little (LEAN_SD_DEG, an assumption stated here, not
# a measurement); the heading error that lean causes grows as the bend gets shallower,
# atan(sin lean / sin bend): about 2.5 deg for a 50-deg bend, 6 deg for 19 deg, 14 deg
# for 8 deg. The bends' disagreement with each other is measured and added.
LEAN_SD_DEG = 2.0
# Below this tilt the bends say too little: the heading falls back to the mounting
# convention (sensor x anterior, docs/formats.md), as uncertain as real placement is.
MIN_USABLE_BEND_DEG = 5.0
CONVENTION_SD_DEG = 20.0
# Or, where the recording holds a walk, from the walk's braking at each foot contact
# (`sensorkit.dsp.gait.walk_heading`). Against the bends of the same recordings: within 0.7 deg
# (median) and 4.5 deg (p95) on 36 simulated walks; on Voisard et al.'s real ones (IPOL 2023,
# 105 trials of 19 walkers, the sensor worn once per walker) one walker's trials spread 8.5 deg
# (SD) about their mean, the real part of it: 10 deg stated.
WALK_HEADING_SD_DEG = 10.0


@dataclass(frozen=True)
class PelvisCalibration:
    """Pelvis axes in sensor coordinates: rows x (anterior), y (left), z (superior)."""

    axes: np.ndarray
    source: str  # "markers", "detected" or "walk" (no quiet standing: vertical and heading from a walk)
    mounting_deg: float  # angle between the sensor's z axis and the vertical at standing
    bend_deg: float  # how far the bends tilted the pelvis
    heading_sd_deg: float = 0.0  # uncertainty of the anterior axis's direction in the horizontal plane
    heading_from: str = "bends"  # or "walk", or "mounting convention" (the bends too shallow, or none found)
    bends: int = 2  # how many bends it was given (a calibration found in the data may have fewer)
    standing_s: float | None = None  # how long the quiet standing was (s), where it was found in the data

    @property
    def upside_down(self) -> bool:
        return self.mounting_deg > 90.0


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def calibrate(acc: np.ndarray, standing: tuple[int, int], bends: list[tuple[int, int]],
              source: str = "markers", walk_left: np.ndarray | None = None) -> PelvisCalibration:  # fmt: skip
    """Calibration from sample windows of quiet standing and of the forward bends. Where the
    bends give no heading, `walk_left` (the pelvis's left axis from a walk, `walk_heading`)
    does, else the mounting convention. `source` "walk": there was no quiet standing, and
    `standing` is the walk, whose strides' mean acceleration is the vertical."""
    acc = np.asarray(acc, dtype=np.float64)
    still = acc[standing[0] : standing[1]]
    still = still[np.isfinite(still).all(axis=1)]
    if len(still) < 10:
        raise ValueError("no samples of quiet standing")
    up = _unit(still.mean(axis=0))
    moves = []
    for a, b in bends:
        d = acc[a:b]
        d = d[np.isfinite(d).all(axis=1)]
        if len(d) == 0:
            continue
        dirs = d / np.linalg.norm(d, axis=1, keepdims=True)
        deepest = dirs[int(np.argmin(dirs @ up))]  # the bottom of the bend: furthest from standing
        moves.append(deepest - (deepest @ up) * up)
    horizontal = np.mean(moves, axis=0) if moves else np.zeros(3)
    bend_deg = float(np.degrees(np.arcsin(min(np.linalg.norm(horizontal), 1.0))))
    mounting = float(np.degrees(np.arccos(np.clip(up[2], -1, 1))))
    left = None if walk_left is None else walk_left - (walk_left @ up) * up
    if bend_deg >= MIN_USABLE_BEND_DEG:
        x = -_unit(horizontal)  # gravity moves posteriorly as the pelvis tips forward
        heading_sd, heading_from = _heading_sd(moves, bend_deg), "bends"
    elif left is not None and np.linalg.norm(left) > 0.5:
        x, heading_sd, heading_from = np.cross(_unit(left), up), WALK_HEADING_SD_DEG, "walk"
    else:
        sensor_x = np.array([1.0, 0.0, 0.0]) - up[0] * up  # the convention's anterior, made horizontal
        if np.linalg.norm(sensor_x) < 0.1:  # the sensor's x axis points up or down: no convention helps
            raise ValueError("the forward bends did not tilt the pelvis and the sensor's x axis is vertical: "
                             "no heading for the pelvis")  # fmt: skip
        x, heading_sd, heading_from = _unit(sensor_x), CONVENTION_SD_DEG, "mounting convention"
    y = np.cross(up, x)
    axes = np.vstack([x, y, up])
    return PelvisCalibration(axes, source, mounting, bend_deg, heading_sd, heading_from, len(moves))


def _heading_sd(moves: list[np.ndarray], bend_deg: float) -> float:
    """Heading uncertainty (deg) from the bends' depth and their agreement (see LEAN_SD_DEG)."""
    lean = np.degrees(np.arctan(np.sin(np.radians(LEAN_SD_DEG)) / np.sin(np.radians(bend_deg))))
    mean = _unit(np.mean(moves, axis=0))
    apart = [np.degrees(np.arccos(np.clip(_unit(m) @ mean, -1, 1))) for m in moves if np.linalg.norm(m) > 0]
    spread = float(np.sqrt(np.mean(np.square(apart)))) if len(apart) > 1 else 0.0
    return float(np.hypot(lean, spread))


def angles(up_sensor: np.ndarray, cal: PelvisCalibration) -> tuple[np.ndarray, np.ndarray]:
    """(obliquity, tilt) in degrees from unit up vectors in the sensor frame, shape (n, 3)."""
    return pelvis_angles(np.asarray(up_sensor) @ cal.axes.T)


def pelvis_angles(up_p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(obliquity, tilt) in degrees from unit up vectors in pelvis coordinates, shape (n, 3)."""
    obliquity = np.degrees(np.arcsin(np.clip(up_p[:, 1], -1, 1)))
    tilt = -np.degrees(np.arcsin(np.clip(up_p[:, 0], -1, 1)))
    return obliquity, tilt


def rotation(up_sensor: np.ndarray, gyr: np.ndarray, fs: float, gyro_bias: np.ndarray,
             drift_hz: float = 0.01) -> np.ndarray:  # fmt: skip
    """Pelvic rotation for display (deg, + = turned to the left, anticlockwise seen from above).

    The angular rate about the vertical, integrated; with no magnetometer the heading
    drifts, so a causal high-pass at `drift_hz` returns it to 0 over about a minute
    while keeping the turns of a repetition. Not a clinical measure: shown, not reported.
    """
    rate = np.einsum("ij,ij->i", np.asarray(gyr) - gyro_bias, up_sensor)
    angle = np.degrees(np.cumsum(np.nan_to_num(rate)) / fs)
    b, a = butter(1, drift_hz, btype="highpass", fs=fs)
    return lfilter(b, a, angle - angle[0]) if len(angle) else angle


def detect_calibration(acc: np.ndarray, gyr: np.ndarray, fs: float, marked: np.ndarray | None = None,
                       not_standing: np.ndarray | None = None, upright: np.ndarray | None = None
                       ) -> tuple[tuple[int, int], list[tuple[int, int]]]:  # fmt: skip
    """Find quiet standing and the two forward bends in a recording without their markers.

    Standing: the first 5 s (or more) that are still. Bends: the first two excursions
    after it that tilt the sensor more than `DETECT_BEND_DEG` away from standing, each
    starting within `BEND_WITHIN_S` of the standing or the bend before, and come back
    (none or one when the recording has fewer). Raises ValueError without quiet standing.

    `marked` (per sample, optional): inside an exercise block the recording marks. No bend
    is sought there: a single-leg squat tilts the pelvis 8-18 deg, as a shallow bend does,
    and taken for one it gives a heading that reads its drop as tilt (on simulated sessions
    recorded without their calibration, drops 1.3-6.1 deg off). Standing is sought outside the
    blocks first, then in the rests of upright ones; never in `not_standing` (per sample: blocks
    of an exercise done lying, whose stillness is the table's, or held, whose stillness is a
    single-leg stance's: taken for standing, it read each stance's drop as 0). Where none of
    those holds 5 s, the longest still stretch of at least `SHORT_STANDING_S` outside the
    blocks whose posture is that of the `upright` blocks (per sample: blocks of an exercise
    done standing; `SHORT_STANDING_S` above).
    """
    speed = np.linalg.norm(np.nan_to_num(gyr - np.nanmedian(gyr, axis=0)), axis=1)
    w = int(fs)
    n = len(speed) // w
    still_s = np.percentile(speed[: n * w].reshape(n, w), 90, axis=1) < STILL_RAD_S
    if not_standing is not None:
        still_s &= ~np.asarray(not_standing[: n * w], dtype=bool).reshape(n, w).any(axis=1)
    outside = still_s.copy()
    if marked is not None:
        outside &= ~np.asarray(marked[: n * w], dtype=bool).reshape(n, w).any(axis=1)
    need = int(MIN_STANDING_S)
    start = next((k for k in range(n - need) if outside[k : k + need].all()), None)
    if start is None:
        start = next((k for k in range(n - need) if still_s[k : k + need].all()), None)
    if start is not None:
        stop = start + need
        while stop < n and still_s[stop]:
            stop += 1
        standing = (start * w, stop * w)
    else:
        standing = _short_standing(acc, outside, w, upright)
        if standing is None:
            raise ValueError("no 5 s of quiet standing found")
    still = np.nanmean(acc[standing[0] : standing[1]], axis=0)
    up = _unit(still)
    # lost samples keep the tilt before them: a drop-out inside a bend is not its return
    held = hold_short_gaps(np.asarray(acc, dtype=np.float64), len(acc))[0]
    held = np.where(np.isfinite(held), held, still)
    # a bend takes seconds; a step's jolt turns the raw acceleration > 10 deg for tens of ms,
    # and the first steps of a walk after its standing were taken for the bends (a heading
    # 180 deg off, every side of those walks swapped: Voisard et al.'s set)
    smooth = sosfiltfilt(butter(2, min(BEND_LOWPASS_HZ, 0.4 * fs), fs=fs, output="sos"), held, axis=0)
    cos = (smooth / np.linalg.norm(smooth, axis=1, keepdims=True)) @ up
    tilt = np.degrees(np.arccos(np.clip(np.nan_to_num(cos, nan=1.0), -1, 1)))
    rate = gyr - np.nanmedian(gyr[standing[0] : standing[1]], axis=0)
    bends = []
    i = standing[1]
    while len(bends) < 2 and i < len(tilt):
        over = np.flatnonzero(tilt[i : i + int(BEND_WITHIN_S * fs)] > DETECT_BEND_DEG)
        if over.size == 0:
            break
        a = i + int(over[0])
        back = np.flatnonzero(tilt[a:] < DETECT_BEND_DEG / 2)
        if back.size == 0 or back[0] > 10 * fs:  # did not come back: lying down, not a bend
            break
        b = a + int(back[0])
        before = np.flatnonzero(tilt[i:a] < DETECT_BEND_DEG / 2)
        first = i + int(before[-1]) if before.size else a
        if marked is not None and marked[first:b].any():  # a repetition: the bends come before the exercises
            break
        if _about_horizontal(rate[a:b], up) and _turned_as_tilted(rate[first:b], tilt[first:b], up, fs):
            bends.append((first, b))
        i = b
    return standing, bends  # fewer than two: `calibrate` says how much less certain the heading is


def _short_standing(acc: np.ndarray, outside: np.ndarray, w: int,
                    upright: np.ndarray | None) -> tuple[int, int] | None:  # fmt: skip
    """The longest run of still 1-s (`w`-sample) windows `outside` the blocks lasting at least
    `SHORT_STANDING_S`, where the accelerometer points within `UPRIGHT_WITHIN_DEG` of its median
    direction in the `upright` blocks (a per-sample mask), or None."""
    if upright is None or not np.any(upright):
        return None
    inside = acc[np.asarray(upright, dtype=bool)[: len(acc)]]
    inside = inside[np.isfinite(inside).all(axis=1)]
    if len(inside) == 0:
        return None
    posture = _unit(np.median(inside, axis=0))
    for a, b in sorted(true_runs(outside), key=lambda r: r[0] - r[1]):  # in 1-s windows, longest first
        if b - a < SHORT_STANDING_S:
            break
        mean = np.nanmean(acc[a * w : b * w], axis=0)
        if np.degrees(np.arccos(np.clip(_unit(mean) @ posture, -1, 1))) <= UPRIGHT_WITHIN_DEG:
            return a * w, b * w
    return None


def _turned_as_tilted(rate: np.ndarray, tilt: np.ndarray, up: np.ndarray, fs: float) -> bool:
    """Whether the pelvis rotated about a horizontal axis at least half as far as the
    accelerometer's direction tilted (deg) by the excursion's deepest point. A bend is a
    rotation; a walk's first steps speed the pelvis up by 2-4 m/s^2 for half a second and
    tilt the accelerometer's direction 10-20 deg without turning it (taken for a bend, the
    forward acceleration gave a heading 180 deg off). Lost samples count as no turn, the
    integral scaled up by the share of samples kept."""
    deepest = int(np.argmax(tilt))
    r = rate[: deepest + 1]
    ok = np.isfinite(r).all(axis=1)
    if ok.sum() < 2:
        return True  # nothing to judge by: the tilt alone
    h = r[ok] - np.outer(r[ok] @ up, up)  # the part about horizontal axes
    turned = np.degrees(np.linalg.norm(h.sum(axis=0)) / fs) * len(r) / ok.sum()
    return turned >= 0.5 * float(tilt[deepest])


def _about_horizontal(rate: np.ndarray, up: np.ndarray) -> bool:
    """Whether the pelvis turned mostly about a horizontal axis (a bend), not about the
    vertical: in a walk's turn the centripetal acceleration tilts the accelerometer's
    direction 20-25 deg for a second, as a bend does, while the pelvis turns about the
    vertical (taken for the bends, it gave a confident heading 90-180 deg off)."""
    ok = np.isfinite(rate).all(axis=1)
    if not ok.any():
        return True
    about_up = np.abs(rate[ok] @ up)
    return float(np.mean(about_up)) <= 0.5 * float(np.mean(np.linalg.norm(rate[ok], axis=1)))
