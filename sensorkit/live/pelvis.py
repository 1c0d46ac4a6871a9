"""The pelvis IMU, live: calibration at the calibration markers, obliquity, repetitions.

Until the calibration is done the IMU is only kept (but for a session without one: then a
block's repetitions are found against the block's own first quiet moment,
`start_without_calibration`, and obliquity waits). When the quiet standing and
forward bend windows have both closed (their markers, and the IMU data past them),
the sensor is calibrated exactly as `track_pelvis` does it, the orientation filter
runs over everything kept so far and then on every new chunk (so obliquity equals the
offline one sample for sample), and `LiveMovement` starts after the quiet standing
as `movement_events` does. The whole IMU of a session is kept (200 Hz x 6 channels
is about 35 MB an hour): the pelvic drop of a repetition is read from it.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from sensorkit.analysis.pelvic_drop import PelvisTrack, calibration_windows, pelvis_calibration, saturated
from sensorkit.analysis.session import ImuData
from sensorkit.analysis.timing import sample_clock
from sensorkit.dsp.held_stream import LiveHeld
from sensorkit.dsp.movement_stream import LiveMovement, MovementEvent
from sensorkit.dsp.orientation import GravityTracker
from sensorkit.dsp.pelvis import STILL_RAD_S, PelvisCalibration, angles

# Without a calibration, a block's repetitions are found against its first quiet REST_S, quiet
# as `detect_calibration`'s standing is (90 % of the angular speed, about its median, under
# `STILL_RAD_S`).
REST_S = 1.5


class _Grow:
    """An append-only array of rows with amortised growth."""

    def __init__(self, width: int, dtype=np.float64) -> None:
        self.data = np.empty((4096, width), dtype=dtype)
        self.n = 0

    def append(self, x: np.ndarray) -> None:
        if self.n + len(x) > len(self.data):
            data = np.empty((2 * (self.n + len(x)), self.data.shape[1]), dtype=self.data.dtype)
            data[: self.n] = self.data[: self.n]
            self.data = data
        self.data[self.n : self.n + len(x)] = x
        self.n += len(x)

    def view(self) -> np.ndarray:
        return self.data[: self.n]


class LivePelvis:
    """Acc (m/s^2) and gyr (rad/s) of the sacral IMU at `fs` Hz, chunk by chunk."""

    def __init__(self, fs: float) -> None:
        self.fs = fs
        self._t = _Grow(1)
        self._x = _Grow(6)
        self._obl = _Grow(2)  # obliquity, tilt (deg, 0 at quiet standing)
        self._up = _Grow(3)  # the vertical in pelvis coordinates (gait contacts use it, as `analyze`'s track)
        self.calibration: PelvisCalibration | None = None
        self._gravity: GravityTracker | None = None
        self._zero = self._tilt_zero = 0.0
        self._bias = np.zeros(3)
        self._moves: LiveMovement | None = None
        self._held: LiveHeld | None = None  # joins a held exercise's pieces after `_moves`
        self._pending_events: list[MovementEvent] = []
        self._moves_from = 0  # absolute sample index where LiveMovement's stream starts
        self._block_starts: list[tuple[float, float | None, bool]] = []  # exercise blocks' (start s, hold_s, lying)
        self._block_ends: list[float] = []  # and their ends (s) as their markers came
        self._rest_search_from: int | None = None  # without a calibration: where a block's own rest is sought

    @property
    def t_last(self) -> float | None:
        """Timestamp of the newest sample (s, recording clock)."""
        return float(self._t.data[self._t.n - 1, 0]) if self._t.n else None

    @property
    def timestamps(self) -> np.ndarray:
        return self._t.view()[:, 0]

    def push(self, t: np.ndarray, acc: np.ndarray, gyr: np.ndarray) -> list[MovementEvent]:
        """Keep a chunk; once calibrated, track it. Returns movement events (times s on the
        recording clock)."""
        self._t.append(np.asarray(t, dtype=np.float64)[:, None])
        self._x.append(np.column_stack([acc, gyr]))
        if self.calibration is not None:
            obliquity, tilt = self._angles(self._x.view()[-len(t) :])
            self._obl.append(np.column_stack([obliquity - self._zero, tilt - self._tilt_zero]))
        if self._moves is None:
            return self._start_from_rest() if self._rest_search_from is not None else []
        return self._movements(self._x.n - len(t), self._x.n)

    def start_without_calibration(self, t_s: float) -> None:
        """No calibration to be had at a block starting at `t_s` (recording clock): find its
        repetitions against the block's own first quiet `REST_S` (the patient ready to start)
        instead of the calibration's standing, so that they are shown live; obliquity and drops
        wait for a calibration (`analyze` finds one in the whole recording, the pipeline at its end)."""
        if self._rest_search_from is None and self._moves is None:
            self._rest_search_from = self._sample(t_s)

    def _start_from_rest(self) -> list[MovementEvent]:
        """`LiveMovement` from the first quiet `REST_S` since `_rest_search_from`, once it has
        arrived, and its events over what came after it; [] until then."""
        x = self._x.view()
        w, step = int(REST_S * self.fs), max(1, int(0.25 * self.fs))
        a = max(0, self._rest_search_from)
        while a + w <= len(x):
            gyr = x[a : a + w, 3:]
            if np.isfinite(gyr).all() and np.percentile(np.linalg.norm(gyr - np.median(gyr, axis=0), axis=1),
                                                        90) < STILL_RAD_S:  # fmt: skip
                self._follow(LiveMovement(self.fs, x[a : a + w, :3], gyr), a + w)
                return self._movements(a + w, len(x))
            a += step
        self._rest_search_from = a  # the next chunk goes on from here
        return []

    def try_calibrate(self, markers: list[tuple[float, str]], detect: bool = False) -> bool:
        """Calibrate from the calibration markers once the IMU has passed their windows, or
        (`detect`) from a calibration found in the data so far. Raises ValueError when
        `detect` finds none."""
        if self.calibration is not None or not self._t.n:
            return self.calibration is not None
        t = self.timestamps
        windows = calibration_windows(t, markers)
        if windows is None and not detect:
            return False
        if windows is not None:
            standing, bends = windows
            if max(b for _, b in bends) >= len(t) or standing[1] >= len(t):  # not all of it has arrived
                return False
        x = self._x.view()
        cal, bias, st, _ = pelvis_calibration(t, x[:, :3], x[:, 3:], self.fs, markers)
        self.calibration, self._bias = cal, bias
        self._gravity = GravityTracker(self.fs, bias)
        obliquity, tilt = self._angles(x)
        self._zero = float(np.nanmean(obliquity[st[0] : st[1]]))
        self._tilt_zero = float(np.nanmean(tilt[st[0] : st[1]]))
        self._obl.append(np.column_stack([obliquity - self._zero, tilt - self._tilt_zero]))
        if self._moves is not None:  # repetitions already found against a block's own rest: carried on
            return True
        if cal.source == "walk":  # no quiet standing to measure motion against: each block's own rest
            self._rest_search_from = self._sample(self._block_starts[-1][0]) if self._block_starts else len(t)
            return True
        self._follow(LiveMovement(self.fs, x[st[0] : st[1], :3], x[st[0] : st[1], 3:]), st[1])
        self._pending_events = self._movements(st[1], len(t))
        return True

    def _follow(self, moves: LiveMovement, start: int) -> None:
        """Find repetitions with `moves` from sample `start` on, in the blocks so far."""
        self._moves, self._held, self._moves_from = moves, LiveHeld(self.fs), start
        for t_s, hold_s, down in self._block_starts:
            self._moves.block_starts(self._sample(t_s) - start, hold_s, down)
            self._held.block_starts(self._sample(t_s) - start, hold_s)
        for t_s in self._block_ends:
            self._held.block_ends(self._sample(t_s) - start)

    def block_started(self, t_s: float, hold_s: float | None = None, lying: bool = False) -> None:
        """An exercise block starts at `t_s` (recording clock): repetitions are found in it as
        `analyze` finds them in the block alone, held up to `hold_s` (its pieces joined by
        `LiveHeld`), done `lying` or not (see `LiveMovement.block_starts`)."""
        self._block_starts.append((t_s, hold_s, lying))
        if self._moves is not None:
            self._moves.block_starts(self._sample(t_s) - self._moves_from, hold_s, lying)
            self._held.block_starts(self._sample(t_s) - self._moves_from, hold_s)

    def block_ended(self, t_s: float) -> None:
        """The block under way ends at `t_s` (recording clock): no later movement joins its repetitions."""
        self._block_ends.append(t_s)
        if self._held is not None:
            self._held.block_ends(self._sample(t_s) - self._moves_from)

    def flush(self) -> list[MovementEvent]:
        """The end of the stream: the repetitions `LiveHeld` was holding open, decided with what
        came (times s on the recording clock)."""
        if self._held is None:
            return []
        return self._on_clock(self._held.flush())

    def _sample(self, t_s: float) -> int:
        """The sample index of time `t_s` (s, recording clock); past the newest sample, counted on
        at the nominal rate."""
        t = self.timestamps
        if len(t) and t_s > t[-1]:
            return len(t) - 1 + int(np.ceil((t_s - t[-1]) * self.fs))
        return int(np.searchsorted(t, t_s))

    def take_events(self) -> list[MovementEvent]:
        """Movement events found while catching up on calibration (then empty)."""
        out, self._pending_events = self._pending_events, []
        return out

    def _angles(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Obliquity and tilt (deg) of new samples (acc, gyr columns), keeping their vertical."""
        up = self._gravity.process(x[:, :3], x[:, 3:])
        self._up.append(up @ self.calibration.axes.T)
        return angles(up, self.calibration)

    def _movements(self, a: int, b: int) -> list[MovementEvent]:
        x = self._x.view()[a:b]
        return self._on_clock(self._held.process(x[:, :3], x[:, 3:], self._moves.process(x[:, :3], x[:, 3:])))

    def _on_clock(self, events: list[MovementEvent]) -> list[MovementEvent]:
        """Events with their times on the recording clock (`LiveMovement` counts s from its first sample)."""
        to_t = sample_clock(self.timestamps, self.fs, self._moves_from)
        return [replace(e, t_s=to_t(e.t_s), onset_s=to_t(e.onset_s), detected_s=to_t(e.detected_s)) for e in events]

    def recent_obliquity(self, seconds: float) -> tuple[np.ndarray, np.ndarray]:
        """(timestamps s, obliquity deg) of the last `seconds`, as copies (for a view on another
        thread); empty before calibration. Arrays only ever grow, so a snapshot is consistent."""
        n = self._obl.n
        if self.calibration is None or n == 0:
            return np.zeros(0), np.zeros(0)
        k = min(n, int(seconds * self.fs) + 1)
        t = self._t.data[n - k : n, 0].copy()
        return t, self._obl.data[n - k : n, 0].copy()

    def imu(self) -> ImuData:
        """Everything kept so far as `analyze`'s `ImuData` (views, not copies)."""
        x = self._x.view()
        return ImuData(self.timestamps, x[:, :3], x[:, 3:], self.fs)

    def peak_rate(self, t0: float, t1: float) -> float:
        """Peak angular speed (rad/s, gyro bias removed) between two times on the recording clock."""
        t = self.timestamps
        a, b = np.searchsorted(t, [t0, t1])
        g = self._x.view()[a : max(b, a + 1), 3:] - self._bias
        speed = np.linalg.norm(g, axis=1)
        return float(np.nanmax(speed)) if np.isfinite(speed).any() else 0.0

    @property
    def rest_noise_gyr(self) -> float | None:
        """The angular-rate noise (rad/s) motion is measured against now: quiet standing's, or the
        lying pelvis's once it lies still (`LiveMovement`); None before calibration."""
        return None if self._moves is None else self._moves.sd_gyr

    def track(self) -> PelvisTrack | None:
        """Obliquity so far as a `PelvisTrack` (for `rep_drop`); None before calibration."""
        if self.calibration is None:
            return None
        x = self._x.view()
        n = self._obl.n
        angles_ = self._obl.view()
        return PelvisTrack(self.timestamps[:n], angles_[:, 0], self.calibration, saturated(x[:n, :3], x[:n, 3:]),
                           self._bias, self._zero, angles_[:, 1], self._tilt_zero, self._up.view()[:n])  # fmt: skip
