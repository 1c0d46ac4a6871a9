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
from scipy.signal import butter, lfilter

MIN_STANDING_S = 5.0
MIN_BEND_DEG = 20.0  # a forward bend must tilt the pelvis at least this far


@dataclass(frozen=True)
class PelvisCalibration:
    """Pelvis axes in sensor coordinates: rows x (anterior), y (left), z (superior)."""

    axes: np.ndarray
    source: str  # "markers" or "detected"
    mounting_deg: float  # angle between the sensor's z axis and the vertical at standing
    bend_deg: float  # how far the bends tilted the pelvis

    @property
    def upside_down(self) -> bool:
        return self.mounting_deg > 90.0


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def calibrate(acc: np.ndarray, standing: tuple[int, int], bends: list[tuple[int, int]],
              source: str = "markers") -> PelvisCalibration:  # fmt: skip
    """Calibration from sample windows of quiet standing and of the forward bends."""
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
    if not moves:
        raise ValueError("no forward bends")
    horizontal = np.mean(moves, axis=0)
    bend_deg = float(np.degrees(np.arcsin(min(np.linalg.norm(horizontal), 1.0))))
    if bend_deg < MIN_BEND_DEG:
        raise ValueError(f"the forward bends tilted the pelvis only {bend_deg:.0f} deg (need {MIN_BEND_DEG:.0f})")
    x = -_unit(horizontal)  # gravity moves posteriorly as the pelvis tips forward
    y = np.cross(up, x)
    axes = np.vstack([x, y, up])
    mounting = float(np.degrees(np.arccos(np.clip(up[2], -1, 1))))
    return PelvisCalibration(axes, source, mounting, bend_deg)


def angles(up_sensor: np.ndarray, cal: PelvisCalibration) -> tuple[np.ndarray, np.ndarray]:
    """(obliquity, tilt) in degrees from unit up vectors in the sensor frame, shape (n, 3)."""
    up_p = np.asarray(up_sensor) @ cal.axes.T  # the vertical in pelvis coordinates
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


def detect_calibration(acc: np.ndarray, gyr: np.ndarray, fs: float) -> tuple[tuple[int, int], list[tuple[int, int]]]:
    """Find quiet standing and the two forward bends in a recording without their markers.

    Standing: the first 5 s (or more) that are still. Bends: the first two excursions
    after it that tilt the sensor more than 20 deg away from standing and come back.
    """
    speed = np.linalg.norm(np.nan_to_num(gyr - np.nanmedian(gyr, axis=0)), axis=1)
    w = int(fs)
    n = len(speed) // w
    still_s = np.array([np.percentile(speed[k * w : (k + 1) * w], 90) for k in range(n)]) < np.radians(5)
    need = int(MIN_STANDING_S)
    start = next((k for k in range(n - need) if still_s[k : k + need].all()), None)
    if start is None:
        raise ValueError("no 5 s of quiet standing found")
    stop = start + need
    while stop < n and still_s[stop]:
        stop += 1
    standing = (start * w, stop * w)
    up = _unit(np.nanmean(acc[standing[0] : standing[1]], axis=0))
    dirs = acc / np.linalg.norm(acc, axis=1, keepdims=True)
    tilt = np.degrees(np.arccos(np.clip(np.nan_to_num(dirs @ up, nan=1.0), -1, 1)))
    bends = []
    i = standing[1]
    while len(bends) < 2 and i < len(tilt):
        over = np.flatnonzero(tilt[i:] > MIN_BEND_DEG)
        if over.size == 0:
            break
        a = i + int(over[0])
        back = np.flatnonzero(tilt[a:] < MIN_BEND_DEG / 2)
        if back.size == 0 or back[0] > 10 * fs:  # did not come back: lying down, not a bend
            break
        b = a + int(back[0])
        before = np.flatnonzero(tilt[i:a] < MIN_BEND_DEG / 2)
        bends.append((i + int(before[-1]) if before.size else a, b))
        i = b
    if len(bends) < 2:
        raise ValueError("fewer than two forward bends found after quiet standing")
    return standing, bends
