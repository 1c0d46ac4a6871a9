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

from dataclasses import dataclass

import numpy as np

from sensorkit.analysis.exercises import SINGLE_LEG  # noqa: F401 (re-exported: the drop applies to these)
from sensorkit.defaults import DROP_THRESHOLD_DEG  # noqa: F401 (re-exported)
from sensorkit.dsp.movement_stream import LiveMovement, LiveMovementParams
from sensorkit.dsp.orientation import GravityTracker, gravity_direction
from sensorkit.dsp.pelvis import PelvisCalibration, angles, calibrate, detect_calibration

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


class LiveObliquity:
    """The live twin of `track_pelvis`'s obliquity: same values, chunk by chunk, once calibrated."""

    def __init__(self, track: PelvisTrack, fs: float) -> None:
        self.calibration = track.calibration
        self._zero = track.zero_deg
        self._gravity = GravityTracker(fs, track.gyro_bias)

    def process(self, acc: np.ndarray, gyr: np.ndarray) -> np.ndarray:
        obliquity, _ = angles(self._gravity.process(acc, gyr), self.calibration)
        return obliquity - self._zero


def _windows(markers: list[tuple[float, str]], name: str) -> list[tuple[float, float]]:
    starts = [t for t, m in markers if m == f"calibration_start:{name}"]
    ends = [t for t, m in markers if m == f"calibration_end:{name}"]
    return [(a, min(e for e in ends if e > a)) for a in starts if any(e > a for e in ends)]


def track_pelvis(timestamps: np.ndarray, acc: np.ndarray, gyr: np.ndarray, fs: float,
                 markers: list[tuple[float, str]]) -> PelvisTrack:  # fmt: skip
    """Calibrate (from markers, else detected in the data) and compute obliquity throughout.

    Raises ValueError when no calibration can be found.
    """
    cal, bias, st = pelvis_calibration(timestamps, acc, gyr, fs, markers)
    obliquity, _ = angles(gravity_direction(acc, gyr, fs, bias), cal)
    zero = float(np.nanmean(obliquity[st[0] : st[1]]))
    return PelvisTrack(timestamps, obliquity - zero, cal, saturated(acc, gyr), bias, zero)


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


Calibrated = tuple[PelvisCalibration, np.ndarray, tuple[int, int]]


def pelvis_calibration(timestamps: np.ndarray, acc: np.ndarray, gyr: np.ndarray, fs: float,
                       markers: list[tuple[float, str]]) -> Calibrated:  # fmt: skip
    """(calibration, gyro bias rad/s, quiet-standing window in samples): from the calibration
    markers, else found in the data. Raises ValueError when none can be found."""
    windows = calibration_windows(timestamps, markers)
    if windows is not None:
        (st, bd), source = windows, "markers"
    else:
        st, bd = detect_calibration(acc, gyr, fs)
        source = "detected"
    cal = calibrate(acc, st, bd, source)
    return cal, np.nanmedian(gyr[st[0] : st[1]], axis=0), st


def rep_drop(track: PelvisTrack, start_s: float, end_s: float, stance: str,
             threshold_deg: float = DROP_THRESHOLD_DEG) -> dict:  # fmt: skip
    """Drop of the side opposite `stance` during one repetition, with its time, flag and quality."""
    a, b = np.searchsorted(track.timestamps, [start_s, end_s])
    sign = 1.0 if stance == "L" else -1.0  # left stance: the right side drops as the left rises
    d = sign * track.obliquity[a:b]
    none = {"pelvic_drop_deg": None, "pelvic_drop_peak_s": None, "pelvic_drop_flag": None}
    if b - a < 2 or not np.isfinite(d).any():
        return none | {"pelvic_drop_quality": "gap"}
    k = int(np.nanargmax(np.abs(d)))
    quality = "ok"
    if not np.isfinite(d).all():
        quality = "gap"
    elif track.saturated[a:b].any():
        quality = "saturated"
    return {"pelvic_drop_deg": round(float(d[k]), 2), "pelvic_drop_peak_s": round(float(track.timestamps[a + k]), 4),
            "pelvic_drop_flag": bool(d[k] > threshold_deg), "pelvic_drop_quality": quality}  # fmt: skip


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
        self._sat = np.zeros(0, dtype=bool)
        self._start = 0
        self._keep = int(LiveMovementParams().lookback_s * fs) + 1

    def process(self, acc: np.ndarray, gyr: np.ndarray) -> list[dict]:
        """Results of the repetitions that ended in this chunk (onset_s, end_s and rep_drop's fields)."""
        self._obl = np.concatenate([self._obl, self._oblique.process(acc, gyr)])
        sat = saturated(acc, gyr)
        self._sat = np.concatenate([self._sat, sat])
        out = []
        for ev in self._moves.process(acc, gyr):
            if ev.kind == "end":
                times = (self._start + np.arange(len(self._obl))) / self.fs
                track = PelvisTrack(times, self._obl, self._oblique.calibration, self._sat, np.zeros(3), 0.0)
                drop = rep_drop(track, ev.onset_s, ev.t_s, self.stance, self.threshold)
                out.append({"onset_s": ev.onset_s, "end_s": ev.t_s, "reported_s": ev.detected_s} | drop)
        self._trim()
        return out

    def _trim(self) -> None:
        """Keep only what a repetition still in progress may need."""
        if not self._moves.moving:
            cut = max(0, len(self._obl) - self._keep)
            self._obl, self._sat, self._start = self._obl[cut:], self._sat[cut:], self._start + cut
