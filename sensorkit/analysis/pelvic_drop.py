"""Pelvic drop per repetition of single-leg tasks (DESIGN.md section 6).

Pelvic obliquity comes from the sacral IMU after calibration (`sensorkit.dsp.pelvis`),
0 at the calibration's quiet standing. The drop of a repetition is the largest
excursion of the unsupported (contralateral) side during it, in degrees, signed:
positive when that side falls, negative when it rises (a hip hike).

Flag: a repetition's drop is flagged above `threshold_deg`, 5 deg by default. No
validated cut-off for IMU-measured pelvic drop in single-leg tasks exists that we
could cite; 5 deg is a conventional clinical rule of thumb, well above this
measurement's error (p95 under 0.5 deg on simulated squats with 20-deg mounting
error), and is a parameter to set to your own protocol (`--drop-threshold-deg`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from sensorkit.analysis.exercises import (
    REGISTRY,
    SINGLE_LEG,  # noqa: F401 (re-exported: the drop applies to these)
    parse_blocks,
)
from sensorkit.defaults import DROP_THRESHOLD_DEG  # noqa: F401 (re-exported)
from sensorkit.dsp.gait import walk_heading
from sensorkit.dsp.movement import rest_bias
from sensorkit.dsp.movement_stream import LiveMovement, LiveMovementParams
from sensorkit.dsp.orientation import GravityTracker, gravity_direction
from sensorkit.dsp.pelvis import PelvisCalibration, angles, calibrate, detect_calibration, pelvis_angles

SATURATION = (0.98 * 16 * 9.80665, 0.98 * np.radians(2000))  # near common +-16 g / +-2000 deg/s ranges


@dataclass
class PelvisTrack:
    """Obliquity (deg) of the pelvis over an IMU stream, with its calibration."""

    timestamps: np.ndarray
    obliquity: np.ndarray
    calibration: PelvisCalibration
    saturated: np.ndarray  # per sample: an axis at the sensor's range
    gyro_bias: np.ndarray  # rad/s, measured during quiet standing
    zero_deg: float  # obliquity of quiet standing, subtracted
    tilt: np.ndarray | None = None  # anterior tilt (deg), 0 at quiet standing: what a heading error mixes in
    tilt_zero_deg: float = 0.0
    up: np.ndarray | None = None  # (n, 3) the vertical in pelvis coordinates (posture, side cues)
    calibration_end: int = 0  # sample after the calibration's last bend (or its standing)
    calibration_start: int = 0  # first sample of the calibration's quiet standing


# A drop's uncertainty: the obliquity's own error (about 0.3 deg on simulated single-leg
# squats with 20-deg mounting errors, p95 0.7) and what the heading's uncertainty mixes in
# from the pelvis's tilt at that moment: a heading off by psi reads tilt x sin(psi) as
# obliquity (a 15-deg forward tilt and a 6-deg heading error: 1.6 deg).
OBLIQUITY_SD_DEG = 0.3


def drop_sd_deg(tilt_deg: float, heading_sd_deg: float) -> float:
    """The SD (deg) of a drop read while the pelvis tilts up to `tilt_deg` from standing."""
    mixed = abs(tilt_deg) * np.sin(np.radians(heading_sd_deg)) if np.isfinite(tilt_deg) else 0.0
    return float(np.hypot(OBLIQUITY_SD_DEG, mixed))


class LiveObliquity:
    """The live twin of `track_pelvis`'s obliquity: same values, chunk by chunk, once calibrated."""

    def __init__(self, track: PelvisTrack, fs: float) -> None:
        self.calibration = track.calibration
        self._zero, self._tilt_zero = track.zero_deg, track.tilt_zero_deg
        self._gravity = GravityTracker(fs, track.gyro_bias)

    def process(self, acc: np.ndarray, gyr: np.ndarray) -> np.ndarray:
        return self.process_angles(acc, gyr)[0]

    def process_angles(self, acc: np.ndarray, gyr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(obliquity, tilt) in deg, both 0 at quiet standing."""
        obliquity, tilt = angles(self._gravity.process(acc, gyr), self.calibration)
        return obliquity - self._zero, tilt - self._tilt_zero


def _windows(markers: list[tuple[float, str]], name: str) -> list[tuple[float, float]]:
    starts = [t for t, m in markers if m == f"calibration_start:{name}"]
    ends = [t for t, m in markers if m == f"calibration_end:{name}"]
    return [(a, min(e for e in ends if e > a)) for a in starts if any(e > a for e in ends)]


def track_pelvis(timestamps: np.ndarray, acc: np.ndarray, gyr: np.ndarray, fs: float,
                 markers: list[tuple[float, str]]) -> PelvisTrack:  # fmt: skip
    """Calibrate (from markers, else detected in the data) and compute obliquity throughout.

    Raises ValueError when no calibration can be found.
    """
    cal, bias, st, cal_end = pelvis_calibration(timestamps, acc, gyr, fs, markers)
    up = gravity_direction(acc, gyr, fs, bias) @ cal.axes.T  # the vertical in pelvis coordinates
    obliquity, tilt = pelvis_angles(up)
    zero, tilt_zero = float(np.nanmean(obliquity[st[0] : st[1]])), float(np.nanmean(tilt[st[0] : st[1]]))
    return PelvisTrack(timestamps, obliquity - zero, cal, saturated(acc, gyr), bias, zero, tilt - tilt_zero, tilt_zero,
                       up, cal_end, st[0])  # fmt: skip


def saturated(acc: np.ndarray, gyr: np.ndarray) -> np.ndarray:
    """Per sample: an axis at (near) the sensor's range."""
    return (np.abs(acc) >= SATURATION[0]).any(axis=1) | (np.abs(gyr) >= SATURATION[1]).any(axis=1)


def calibration_windows(timestamps: np.ndarray, markers: list[tuple[float, str]]
                        ) -> tuple[tuple[int, int], list[tuple[int, int]]] | None:  # fmt: skip
    """(standing, bends) sample windows from calibration markers, or None without both."""
    standing, bends = _windows(markers, "standing"), _windows(markers, "forward_bend")
    if not (standing and bends):
        return None
    idx = lambda w: tuple(int(i) for i in np.searchsorted(timestamps, w))  # noqa: E731
    return idx(standing[0]), [idx(w) for w in bends]


Calibrated = tuple[PelvisCalibration, np.ndarray, tuple[int, int], int]


def marked_samples(timestamps: np.ndarray, markers: list[tuple[float, str]]
                   ) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]:  # fmt: skip
    """Per sample: inside a marked exercise block; inside one of an exercise done lying or held;
    and inside one done standing, not walking (None, None, None without any block): where
    `detect_calibration` seeks no bends, no standing, and the posture a short standing must have."""
    end = float(timestamps[-1]) if len(timestamps) else 0.0
    blocks = parse_blocks(markers, end)
    if not blocks:
        return None, None, None
    marked, not_standing, upright = (np.zeros(len(timestamps), dtype=bool) for _ in range(3))
    for b in blocks:
        a, z = np.searchsorted(timestamps, [b.start_s, b.end_s])
        marked[a:z] = True
        ex = REGISTRY.get(b.exercise)
        if ex is not None and (ex.lying or ex.hold_s is not None):
            not_standing[a:z] = True
        # a walk gives its own vertical and heading where no 5 s of standing exists (`walk_heading`):
        # on Voisard et al.'s walks the 2-4 s standing before each in its stead read more steps'
        # drops as rises (trials with a quarter or more: 22 -> 33 of 106)
        if ex is not None and not ex.lying and ex.reps_from != "contacts":
            upright[a:z] = True
    return marked, not_standing, upright


def pelvis_calibration(timestamps: np.ndarray, acc: np.ndarray, gyr: np.ndarray, fs: float,
                       markers: list[tuple[float, str]]) -> Calibrated:  # fmt: skip
    """(calibration, gyro bias rad/s, quiet-standing window in samples, the sample after the
    calibration's last bend): from the calibration markers, else found in the data. Raises
    ValueError when none can be found."""
    windows = calibration_windows(timestamps, markers)
    if windows is not None:
        (st, bd), source = windows, "markers"
    else:
        try:
            st, bd = detect_calibration(acc, gyr, fs, *marked_samples(timestamps, markers))
        except ValueError:
            # no quiet standing (a recording of walking alone): a walk gives the vertical (its
            # strides' mean acceleration, obliquity's 0 its mean) and the heading, or nothing does
            walk = walk_heading(acc, gyr, fs)
            if walk is None:
                raise
            left, span = walk
            return calibrate(acc, span, [], "walk", left), rest_bias(gyr, fs), span, 0
        source = "detected"
    cal, failed = None, None
    try:
        cal = calibrate(acc, st, bd, source)
    except ValueError as exc:  # no heading from the bends nor the mounting convention
        failed = exc
    if cal is None or cal.heading_from != "bends":  # a walk's heading is surer than the convention's
        walk = walk_heading(acc, gyr, fs)
        if walk is not None:
            cal = calibrate(acc, st, bd, source, walk[0])
        elif failed is not None:
            raise failed
    cal = replace(cal, standing_s=round((st[1] - st[0]) / fs, 1))
    return cal, np.nanmedian(gyr[st[0] : st[1]], axis=0), st, max([st[1]] + [b for _, b in bd])


def rep_drop(track: PelvisTrack, start_s: float, end_s: float, stance: str,
             threshold_deg: float = DROP_THRESHOLD_DEG) -> dict:  # fmt: skip
    """Drop of the side opposite `stance` during one repetition, with its time, flag and quality."""
    a, b = np.searchsorted(track.timestamps, [start_s, end_s])
    sign = 1.0 if stance == "L" else -1.0  # left stance: the right side drops as the left rises
    d = sign * track.obliquity[a:b]
    none = {"pelvic_drop_deg": None, "pelvic_drop_peak_s": None, "pelvic_drop_flag": None,
            "pelvic_drop_sd_deg": None}  # fmt: skip
    if b - a < 2 or not np.isfinite(d).any():
        return none | {"pelvic_drop_quality": "gap"}
    k = int(np.nanargmax(np.abs(d)))
    quality = "ok"
    if not np.isfinite(d).all():
        quality = "gap"
    elif track.saturated[a:b].any():
        quality = "saturated"
    # the largest tilt of the repetition, not the tilt at the peak: a heading error also
    # moves the peak to wherever tilt leaked in most
    tilts = track.tilt[a:b] if track.tilt is not None else np.zeros(0)
    tilt = float(np.nanmax(np.abs(tilts))) if np.isfinite(tilts).any() else 0.0
    sd = drop_sd_deg(tilt, track.calibration.heading_sd_deg)
    return {"pelvic_drop_deg": round(float(d[k]), 2), "pelvic_drop_peak_s": round(float(track.timestamps[a + k]), 4),
            "pelvic_drop_flag": bool(d[k] > threshold_deg), "pelvic_drop_sd_deg": round(sd, 2),
            "pelvic_drop_quality": quality}  # fmt: skip


# A step of gait, from one foot's contact to the other's, opens with both feet down (the first
# double support, about a tenth of the gait cycle: a fifth of the step; Perry & Burnfield, Gait
# Analysis, 2010); the swing side's drop belongs to the single-limb support after it. Read over
# the whole step, the window opened on the previous step's drop where a walker's peaks at the
# contact: on Voisard et al.'s real walks (IPOL 2023) a third of the steps read a rise in the
# median trial, 13 % over single-limb support (trials with a quarter or more: 73 -> 20 of 106);
# the simulator's walkers, whose swing side falls most mid-step, unchanged (median 3.62 deg).
DOUBLE_SUPPORT = 0.2  # of the step
DOUBLE_SUPPORT_MAX_S = 0.2  # the last step of a walk runs to the block's end


def single_support(start_s: float, end_s: float) -> float:
    """Where a gait step's single-limb support begins (s): the step (contact to next contact,
    s) less its first double support."""
    return start_s + min(DOUBLE_SUPPORT * (end_s - start_s), DOUBLE_SUPPORT_MAX_S)


CURVE_RATE_HZ = 25.0  # obliquity curves kept in results (for reports): enough for a 1-3 s repetition


def drop_curve(track: PelvisTrack, start_s: float, end_s: float, stance: str,
               rate_hz: float = CURVE_RATE_HZ) -> dict:  # fmt: skip
    """The drop of the side opposite `stance` through a repetition (deg, signed as `rep_drop`),
    resampled at `rate_hz` from `start_s`: what a report draws."""
    sign = 1.0 if stance == "L" else -1.0
    t = np.arange(start_s, end_s, 1.0 / rate_hz)
    ok = np.isfinite(track.obliquity)
    if len(t) == 0 or ok.sum() < 2:
        return {"rate_hz": rate_hz, "start_s": round(float(start_s), 4), "deg": []}
    d = np.interp(t, track.timestamps[ok], sign * track.obliquity[ok])
    return {"rate_hz": rate_hz, "start_s": round(float(start_s), 4), "deg": [round(float(v), 2) for v in d]}


class LiveDrop:
    """Per-repetition pelvic drop on a live stream: repetitions from `LiveMovement`, obliquity from
    `LiveObliquity`, the drop as `rep_drop` computes it, reported `settle_s` (0.3 s) after each
    repetition ends. Feed the stream from the end of the calibration's quiet standing
    [standing[0], standing[1]) (samples of `acc`/`gyr` there); times are s since that point.
    """

    def __init__(self, track: PelvisTrack, fs: float, stance: str, standing_acc: np.ndarray,
                 standing_gyr: np.ndarray, threshold_deg: float = DROP_THRESHOLD_DEG) -> None:  # fmt: skip
        self.fs, self.stance, self.threshold = fs, stance, threshold_deg
        self._oblique = LiveObliquity(track, fs)
        self._moves = LiveMovement(fs, standing_acc, standing_gyr)
        self._obl = np.zeros(0)  # obliquity since `_start` (absolute sample index)
        self._tilt = np.zeros(0)
        self._sat = np.zeros(0, dtype=bool)
        self._start = 0
        self._keep = int(LiveMovementParams().lookback_s * fs) + 1

    def process(self, acc: np.ndarray, gyr: np.ndarray) -> list[dict]:
        """Results of the repetitions that ended in this chunk (onset_s, end_s and rep_drop's fields)."""
        obliquity, tilt = self._oblique.process_angles(acc, gyr)
        self._obl, self._tilt = np.concatenate([self._obl, obliquity]), np.concatenate([self._tilt, tilt])
        sat = saturated(acc, gyr)
        self._sat = np.concatenate([self._sat, sat])
        out = []
        for ev in self._moves.process(acc, gyr):
            if ev.kind == "end":
                times = (self._start + np.arange(len(self._obl))) / self.fs
                track = PelvisTrack(times, self._obl, self._oblique.calibration, self._sat, np.zeros(3), 0.0,
                                    self._tilt)  # fmt: skip
                drop = rep_drop(track, ev.onset_s, ev.t_s, self.stance, self.threshold)
                out.append({"onset_s": ev.onset_s, "end_s": ev.t_s, "reported_s": ev.detected_s} | drop)
        self._trim()
        return out

    def _trim(self) -> None:
        """Keep only what a repetition still in progress may need."""
        if not self._moves.moving:
            cut = max(0, len(self._obl) - self._keep)
            self._obl, self._tilt, self._sat = self._obl[cut:], self._tilt[cut:], self._sat[cut:]
            self._start += cut
