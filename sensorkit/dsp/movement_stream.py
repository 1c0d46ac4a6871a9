"""Live repetitions and movement onsets from the pelvis IMU, chunk by chunk.

The offline `movement_periods` scales motion by the block's own range, which a live
stream does not know yet. Here motion is measured against rest, as offline: the
gyroscope's departure from its bias and the accelerometer's from the resting
posture, each in units of quiet-standing noise (`MovementParams.sway_*`, or the
calibration's when larger). A repetition starts when that motion z-score stays
above `on_z` for 50 ms, or above `slow_z` for `slow_s` after a real rest; its onset is
then `pause_onset`, the offline function itself, on the data already received (the
pause starting after the previous repetition or the exercise block's start, as
offline), so the onset arrives as soon as the motion is clear. It ends when the pelvis
is back in its resting posture and still for `settle_s`, or still for `new_posture_s`
(the block's exercise's `hold_s` where longer) somewhere else (the patient lay down).
Settled lying (over `posture_change_deg` from standing), motion is measured against the
lying pelvis's own noise, learnt from its stillness between movements (`lying_noise_s`);
back upright, against standing's again.

`process` returns the events of each chunk; the sequence of events does not depend
on how the stream is chunked, and `movement_events` (the offline form) is this
detector run over one chunk.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, replace

import numpy as np

from sensorkit.dsp.filters import StreamingFilter, apply_sos, hold_short_gaps, lowpass_sos
from sensorkit.dsp.movement import LYING_PAUSE_FLOOR_GYR, MovementParams, lying, pause_onset
from sensorkit.dsp.onset import group_delay_s


@dataclass(frozen=True)
class LiveMovementParams:
    on_z: float = 8.0  # motion z-score that starts a repetition (held 50 ms)
    # ... or above this for `slow_s`: a slow, small movement (a prone hip extension turns the
    # pelvis at 8-12 deg/s, z 6-8 against standing sway) that rest never sustains
    slow_z: float = 4.0
    slow_s: float = 0.25
    off_z: float = 4.0  # below this the pelvis is still
    settle_s: float = 0.3  # still this long in the resting posture: the repetition has ended
    posture_tol_deg: float = 3.0  # back in the resting posture: within this tilt, or no longer moving,
    # and nearer to it than this fraction of the movement's furthest tilt: a small movement held
    # (a prone hip extension's lift tilts the pelvis 2-3 deg) is not a return to rest
    held_fraction: float = 0.5
    # ... in a block whose exercise holds a posture (`hold_s`: single-leg stance), this fraction: the
    # hold sits about half-way between rest and the shift into it (2.6-2.9 of 5.8-6.8 deg on the
    # simulator), where half ended repetitions inside the hold, and the lowering of the leg then
    # showed as a repetition of its own. benchmarks/bench_live_reps.py's stance sessions, 8 seeds
    # a shape: shown live 54 -> 58 of 64, false 19 -> 6 (0.3: 54 and 9; 0.2: 61 and 3; 0.15: 63 and
    # 1, kept at 0.25: a patient coming back to a stance 1-1.5 deg off the last would not end there)
    hold_fraction: float = 0.25
    new_posture_s: float = 5.0  # still this long elsewhere: a new resting posture ...
    posture_change_deg: float = 60.0  # ... or sooner when this far from the old one (lying down) ...
    posture_change_s: float = 1.0  # ... for this long (a forward bend's brief hold is not lying down)
    lookback_s: float = 4.0  # the onset fit looks back at most this far
    # Lying on a table the pelvis is far stiller than standing. Measured against standing's
    # noise (1.4 deg/s on the simulator), a slow or small prone lift (peaking at 2-11 deg/s
    # there) often stayed below `slow_z` while the resting posture followed it. The lying pelvis's
    # noise is learnt from this much stillness once lying (and from up to `lying_noise_keep_s`
    # of it), floored at `LYING_PAUSE_FLOOR_GYR` and `sway_acc` and never above standing's.
    # benchmarks/bench_live_reps.py, a third of standing's sway lying: slow, small lifts shown
    # live 3 -> 93 %; with standing's sway unchanged (docs/analysis.md, Known limits). Learning
    # from 2 s or 4 s, and floors of 0.4 or 1 x `sway_acc`, gave the same.
    lying_noise_s: float = 2.0
    lying_noise_keep_s: float = 30.0


@dataclass(frozen=True)
class MovementEvent:
    kind: str  # "onset" (a repetition has begun) or "end" (it is over)
    t_s: float  # onset or end time, s since the first sample
    onset_s: float  # the repetition's movement onset
    detected_s: float  # when the stream had shown it (s since the first sample)
    # an end in a held exercise whose weight shifted clearly (`LiveHeld`: its pieces joined from
    # the shift out to the shift back, or one piece shifting back, or lasting after a shift out):
    # a repetition however little the pelvis turned
    shifted: bool = False
    # an end where the pelvis settled over `posture_change_deg` from the rest it left (lying down,
    # rolling over, getting up): a change of posture, not a repetition, even inside a block
    new_posture: bool = False


class LiveMovement:
    """Repetitions of one IMU (acc m/s^2, gyr rad/s, (n, 3)) at `fs` Hz, from a known rest.

    Rest (gyro bias, posture, noise) is learnt from the calibration's quiet standing
    (`standing_acc`, `standing_gyr`); the stream then starts after it.
    """

    def __init__(self, fs: float, standing_acc: np.ndarray, standing_gyr: np.ndarray,
                 params: LiveMovementParams = LiveMovementParams(),
                 movement: MovementParams = MovementParams()) -> None:  # fmt: skip
        self.fs, self.p, self.m = fs, params, movement
        self._pause = movement  # what the block under way measures onsets with (`lying` for one done lying)
        sos = lowpass_sos(fs, min(movement.smooth_hz, 0.4 * fs))
        self.delay_s = group_delay_s(sos, fs, 0.5)
        # rest from the calibration's quiet standing: bias, posture and noise of the smoothed signals
        quiet = apply_sos(sos, np.column_stack([standing_gyr, standing_acc]), causal=True)[int(0.5 * fs) :]
        centre = np.nanmedian(quiet, axis=0)
        spread = 1.4826 * np.nanmedian(np.abs(quiet - centre), axis=0)
        self.bias, self.rest = centre[:3], centre[3:].copy()
        self.sd_gyr = max(float(np.max(spread[:3])), movement.sway_gyr)
        self.sd_acc = max(float(np.max(spread[3:])), movement.sway_acc)
        self._filt = StreamingFilter(sos)
        self._hold = max(1, int(round(movement.max_hold_s * fs)))
        self._last: np.ndarray | None = None
        self._run: np.ndarray | None = None
        self._smooth = deque(maxlen=int(params.lookback_s * fs) + 1)  # recent smoothed (gyr, acc) rows
        self._prev_end = -(10**9)  # stream sample where the last repetition ended
        self._n = 0
        self._moving = False
        self._above = self._above_slow = self._still = self._still_here = 0
        # a slow start's motion above `slow_z`: where it was last above (stream sample), and where
        # its first part ended when it dipped below for less than `merge_gap_s` (None: it did not)
        self._slow_last = -(10**9)
        self._first_end: int | None = None
        self._slow_total = 0  # samples above `slow_z` in that motion, its dips shorter than `merge_gap_s` joined
        self._onset = 0.0
        self._still_sum = np.zeros(3)
        self._floors: list[tuple[int, float | None, bool]] = []  # block starts not yet reached (sample, hold_s, lying)
        self._new_posture_s = params.new_posture_s  # of the block under way
        self._held = params.held_fraction  # of the block under way (`hold_fraction` where it holds)
        self._holds = False  # the block under way holds a posture (`hold_s`)
        self._peak_tilt = 0.0  # the furthest tilt from rest of the repetition in progress (deg)
        self._tilt_noise = _noise_tilt_deg(self.sd_acc, self.rest)
        self._standing_noise = (self.sd_gyr, self.sd_acc, self._tilt_noise)  # measured against until lying
        self._standing_rest = self.rest.copy()
        self._lying_still: deque | None = None  # smoothed (gyr, acc) rows of the lying pelvis at rest

    def block_starts(self, sample: int, hold_s: float | None = None, lying: bool = False) -> None:
        """An exercise block starts at stream sample `sample` (this stream's count from its
        first sample; past or future): as offline, where a block is analysed on its own, no
        pause before a movement reaches back beyond it. `hold_s`: how long the block's
        repetitions may hold still away from rest (None: `new_posture_s`). `lying`: the
        exercise is done lying, and its onsets are measured as offline (`movement.lying`)."""
        self._floors = sorted([*self._floors, (int(sample), hold_s, lying)], key=lambda f: f[0])

    @property
    def moving(self) -> bool:
        """A repetition has begun and not yet ended."""
        return self._moving

    def process(self, acc: np.ndarray, gyr: np.ndarray) -> list[MovementEvent]:
        """Events completed by this chunk, in time order."""
        # drop-outs held as `movement_periods` holds them
        both, _, self._last, self._run = hold_short_gaps(np.column_stack([gyr, acc]), self._hold, self._last, self._run)
        smooth = self._filt.process(both)
        events = []
        for g, a in zip(smooth[:, :3], smooth[:, 3:], strict=True):
            events += self._step(g, a)
            self._n += 1
        return events

    def _step(self, g: np.ndarray, a: np.ndarray) -> list[MovementEvent]:
        while self._floors and self._n >= self._floors[0][0]:
            sample, hold_s, down = self._floors.pop(0)
            self._prev_end = max(self._prev_end, sample)
            self._pause = lying(self.m) if down else self.m
            self._new_posture_s = self.p.new_posture_s if hold_s is None else max(hold_s, self.p.new_posture_s)
            self._held = self.p.held_fraction if hold_s is None else self.p.hold_fraction
            self._holds = hold_s is not None
        if not (np.isfinite(g).all() and np.isfinite(a).all()):
            self._smooth.append(np.full(6, np.nan))
            return []
        z_gyr = float(np.max(np.abs(g - self.bias)) / self.sd_gyr)
        z = max(z_gyr, float(np.max(np.abs(a - self.rest)) / self.sd_acc))
        self._smooth.append(np.r_[g, a])
        still = z_gyr < self.p.off_z
        tilt = _angle_deg(a, self.rest)
        self._still = self._still + 1 if still else 0
        if self._moving:
            self._peak_tilt = max(self._peak_tilt, tilt)
        back = (tilt < self.p.posture_tol_deg or z < self.p.on_z) and tilt < max(
            self._held * self._peak_tilt, self._tilt_noise)
        self._still_here = self._still_here + 1 if still and back else 0
        self._still_sum = self._still_sum + a if self._still > 1 else (a.copy() if still else np.zeros(3))
        if not self._moving:
            if still:  # the resting posture follows slow drift while nothing moves
                self.rest += (a - self.rest) / self.fs
                if self._lying_still is not None and self._n - self._prev_end >= self.m.settle_s * self.fs:
                    self._lying_still.append(np.r_[g, a])
                    # every 10th sample: a median over up to 30 s at each one would cost more than the rest
                    if len(self._lying_still) >= self.p.lying_noise_s * self.fs and self._n % 10 == 0:
                        self._learn_lying_noise()
            self._above = self._above + 1 if z > self.p.on_z else 0
            self._above_slow = self._above_slow + 1 if z > self.p.slow_z else 0
            if z > self.p.slow_z:
                if self._n - self._slow_last > self.m.merge_gap_s * self.fs or self._slow_last < self._prev_end:
                    self._first_end = None  # motion begins anew
                    self._slow_total = 0
                elif self._n - self._slow_last > 1 and self._first_end is None:
                    self._first_end = self._slow_last
                self._slow_last = self._n
                self._slow_total += 1
            # a slow movement only after a real rest: what follows an end sooner is the settling
            # of the last one (a weight shift back after a squat), as offline absorbs fragments.
            # In a held exercise its time above `slow_z` counts across dips shorter than `merge_gap_s`
            # (`_slow_total`), as offline merges periods: a weight shift's acceleration has two lobes
            # (speeding up, slowing down) with a dip between, and a level stance's rose above `slow_z`
            # for 0.12 s, dipped for 0.1 s and rose for 0.2 s: no repetition was shown. Counted so
            # in every exercise, prone lifts with standing's sway lying started 7 -> 10 false ones
            # (benchmarks/bench_live_reps.py), so it is kept to held ones.
            rested = self._n - self._prev_end >= self.m.rest_s * self.fs
            above = self._slow_total if self._holds else self._above_slow
            slow = rested and z > self.p.slow_z and above >= max(1, int(self.p.slow_s * self.fs))
            fast = self._above >= max(1, int(0.05 * self.fs))
            return [self._start(slow and not fast)] if fast or slow else []
        if self._still_here >= self.p.settle_s * self.fs:
            return [self._end(self._still_here, settled_elsewhere=False)]
        lying_down = tilt > self.p.posture_change_deg and self._still >= self.p.posture_change_s * self.fs
        if lying_down or self._still >= self._new_posture_s * self.fs:
            return [replace(self._end(self._still, settled_elsewhere=True), new_posture=lying_down)]
        return []

    def _start(self, slow: bool) -> MovementEvent:
        """The motion is clear: its onset is where it left the pause before it, found in the
        data received as offline (`pause_onset` on the same smoothed signals)."""
        self._moving = True
        self._still = self._still_here = 0
        self._peak_tilt = 0.0
        buf = np.array(self._smooth)  # the current sample last
        first = self._n - len(buf) + 1  # stream index of buf[0]
        prev = max(self._prev_end - first, -int(self.m.settle_s * self.fs))  # the pause starts in the buffer
        # a slow movement's pause ends where its run above `slow_z` began, as offline's ends at
        # its first clear motion: the pause's description must not hold the 0.25 s confirming it.
        # Where that motion dipped briefly (as offline merges periods across `merge_gap_s`), it
        # ends where the first part did, its clearest motion before the dip: a squat whose first
        # lean rose above `slow_z` for 0.2 s, dipped for 0.1 s and rose for good had that lean in
        # its pause, and its onset was put 150 ms early (the demo's right squat, repetition 2)
        start = len(buf) - 1
        if slow:
            start -= self._above_slow - 1 if self._first_end is None else self._n - self._first_end
        start = max(start, 0)
        onset_idx = first + pause_onset(buf[:, :3], buf[:, 3:], self.fs, prev, start, self._pause)
        self._onset = max(onset_idx / self.fs - self.delay_s, 0.0)
        return MovementEvent("onset", self._onset, self._onset, self._n / self.fs)

    def _end(self, quiet_for: int, settled_elsewhere: bool) -> MovementEvent:
        self._moving = False
        self._above = self._above_slow = 0
        if settled_elsewhere:  # a new resting posture: where the patient settled
            self.rest = self._still_sum / max(quiet_for, 1)
            self._posture_settled()
        # back near rest, the resting posture stays (and follows slow drift while still): the
        # gyroscope can be quiet through a slow return, which the still stretch would include
        self._prev_end = self._n - quiet_for + 1
        end = max(self._prev_end / self.fs - self.delay_s, self._onset)
        return MovementEvent("end", end, self._onset, self._n / self.fs)

    def _posture_settled(self) -> None:
        """Lying (far from standing's posture), start learning the noise of the pelvis at
        rest; upright again, measure against standing's."""
        if _angle_deg(self.rest, self._standing_rest) > self.p.posture_change_deg:
            if self._lying_still is None:
                self._lying_still = deque(maxlen=int(self.p.lying_noise_keep_s * self.fs))
        else:
            self._lying_still = None
            self.sd_gyr, self.sd_acc, self._tilt_noise = self._standing_noise

    def _learn_lying_noise(self) -> None:
        """The motion scales from the lying pelvis's stillness so far, as from standing's at the start."""
        x = np.array(self._lying_still)
        spread = 1.4826 * np.median(np.abs(x - np.median(x, axis=0)), axis=0)
        standing_gyr, standing_acc, _ = self._standing_noise
        self.sd_gyr = min(standing_gyr, max(float(np.max(spread[:3])), LYING_PAUSE_FLOOR_GYR))
        self.sd_acc = min(standing_acc, max(float(np.max(spread[3:])), self.m.sway_acc))
        self._tilt_noise = _noise_tilt_deg(self.sd_acc, self.rest)


def _noise_tilt_deg(sd_acc: float, rest: np.ndarray) -> float:
    """Twice the resting noise of the accelerometer (m/s^2) as a tilt from `rest` (deg): nearer
    than this is rest."""
    return float(np.degrees(2.0 * sd_acc / max(float(np.linalg.norm(rest)), 1.0)))


def _angle_deg(u: np.ndarray, v: np.ndarray) -> float:
    """The angle between two accelerations (the pelvis's tilt between two postures), degrees."""
    cos = u @ v / (np.linalg.norm(u) * np.linalg.norm(v) + 1e-12)
    return float(np.degrees(np.arccos(min(1.0, cos))))


def movement_events(acc: np.ndarray, gyr: np.ndarray, fs: float, standing: tuple[int, int],
                    params: LiveMovementParams = LiveMovementParams(),
                    block_starts: tuple[tuple[int, float | None, bool], ...] = ()) -> list[MovementEvent]:  # fmt: skip
    """The offline form of `LiveMovement`: the events after the quiet standing [start, stop) (samples),
    times in s since the first sample of the arrays; `block_starts`: (sample, hold_s, lying) where
    exercise blocks start (as their markers tell the live pipeline)."""
    a, b = standing
    live = LiveMovement(fs, acc[a:b], gyr[a:b], params)
    for k, hold_s, down in block_starts:
        live.block_starts(k - b, hold_s, down)
    return [replace(e, t_s=e.t_s + b / fs, onset_s=e.onset_s + b / fs, detected_s=e.detected_s + b / fs)
            for e in live.process(acc[b:], gyr[b:])]  # fmt: skip
