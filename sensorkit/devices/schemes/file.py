"""`file://PATH.xdf?speed=1`: a recording played back as chunks, like a live device.

speed 1 is real time, N is N times faster, 0 as fast as possible. Timestamps stay
those of the file, so anything computed on a replay lines up with the file.
"""

from __future__ import annotations

import time

import numpy as np

from sensorkit.devices.base import Source, SourceStatus
from sensorkit.errors import SensorkitError
from sensorkit.recording.xdf_reader import StreamData, read_xdf
from sensorkit.streams import Chunk, StreamInfo

STEP_S = 0.05  # data time per read


class Replay(Source):
    def __init__(self, path: str, speed: float = 1.0) -> None:
        if speed < 0:
            raise SensorkitError("replay speed must be >= 0 (0 = as fast as possible)")
        self.path = path
        self.speed = speed
        self._streams: list[StreamData] = []
        self._pos: list[int] = []
        self._t = 0.0
        self._end = 0.0
        self._wall0 = 0.0
        self._t0 = 0.0
        self._start = 0.0
        self._samples = 0
        self.finished = False

    def open(self) -> None:
        rec = read_xdf(self.path)
        self._streams = [s for s in rec.streams if len(s.timestamps)]
        if not self._streams:
            raise SensorkitError(f"{self.path} holds no samples to replay")
        self._pos = [0] * len(self._streams)
        self._t0 = self._start = min(float(s.timestamps[0]) for s in self._streams)
        self._end = max(float(s.timestamps[-1]) for s in self._streams)
        self._t = self._t0
        self._wall0 = time.monotonic()
        self.finished = False

    @property
    def paused(self) -> bool:
        return getattr(self, "_paused", False)

    def pause(self) -> None:
        """Stop releasing data (the replay's clock stops with it)."""
        self._paused = True

    def resume(self, speed: float | None = None) -> None:
        """Go on from where the replay stopped, at `speed` (or the same speed)."""
        if speed is not None:
            if not (np.isfinite(speed) and speed >= 0):
                raise SensorkitError("replay speed must be a finite number >= 0")
            self.speed = speed
        self._t0, self._wall0 = self._t, time.monotonic()  # data time goes on from here
        self._paused = False

    @property
    def span(self) -> tuple[float, float]:
        """First and last timestamp of the recording (s, its own clock)."""
        return self._start, self._end

    @property
    def position(self) -> float:
        """The data time released so far (s, the recording's clock)."""
        return self._t

    def seek(self, t: float) -> None:
        """Go on from data time `t` (clamped to the recording); paused or not as before."""
        t = float(min(max(t, self._start), self._end))
        self._pos = [int(np.searchsorted(s.timestamps, t, side="right")) for s in self._streams]
        self._t = t
        self._t0, self._wall0 = t, time.monotonic()
        self.finished = all(p >= len(s.timestamps) for p, s in zip(self._pos, self._streams, strict=True))

    def chunks_until(self, t: float) -> list[Chunk]:
        """Every chunk from the recording's start up to data time `t`, at once (to bring a
        fresh analysis up to a seek point); the replay's own position does not move."""
        out = []
        for s in self._streams:
            stop = int(np.searchsorted(s.timestamps, t, side="right"))
            step = max(1, int(s.info.srate * STEP_S))  # replay-sized pieces; markers one by one
            out += [Chunk(s.info, s.timestamps[a : min(a + step, stop)], s.samples[a : min(a + step, stop)])
                    for a in range(0, stop, step)]  # fmt: skip
        return sorted(out, key=lambda c: float(c.timestamps[0]))

    def read(self, timeout: float = 0.1) -> list[Chunk]:
        if self.finished:
            return []
        if self.paused:
            time.sleep(min(timeout, 0.05))
            return []
        if self.speed:
            due = self._t0 + (time.monotonic() - self._wall0) * self.speed
            if due < self._t + STEP_S:
                time.sleep(min(timeout, (self._t + STEP_S - due) / self.speed))
                due = self._t0 + (time.monotonic() - self._wall0) * self.speed
            horizon = min(max(due, self._t), self._end)
        else:
            horizon = self._t + STEP_S
        chunks = []
        for i, s in enumerate(self._streams):
            stop = int(np.searchsorted(s.timestamps, horizon, side="right"))
            if stop > self._pos[i]:
                sl = slice(self._pos[i], stop)
                chunks.append(Chunk(s.info, s.timestamps[sl], s.samples[sl]))
                self._samples += stop - self._pos[i]
                self._pos[i] = stop
        self._t = horizon
        self.finished = all(p >= len(s.timestamps) for p, s in zip(self._pos, self._streams, strict=True))
        return chunks

    def close(self) -> None:
        self.finished = True

    def streams(self) -> list[StreamInfo]:
        return [s.info for s in self._streams]

    def status(self) -> SourceStatus:
        """A replay's state: where it is in the file and how fast it goes (a file has no frames
        per second, CRC errors or lost packets to report; the GUI showed '0 frames/s, 0 CRC errors')."""
        state = "paused" if self.paused else "replaying"
        state = "finished" if self.finished else state if self._streams else "closed"
        pace = f"{self.speed:g}x" if self.speed else "as fast as possible"
        at = max(self._t - self._start, 0.0) if self._streams else 0.0
        return SourceStatus(state, frames=self._samples,
                            detail=f"{at:.1f} of {self._end - self._start:.1f} s of the file, {pace}")  # fmt: skip


def open_replay(path: str, params: dict[str, str]) -> Replay:
    unknown = set(params) - {"speed"}
    if unknown:
        raise SensorkitError(f"unknown file:// parameter(s) {', '.join(sorted(unknown))}; known: speed")
    try:
        speed = float(params.get("speed", "1"))
    except ValueError:
        raise SensorkitError(f"file:// speed {params['speed']!r} is not a number") from None
    if not np.isfinite(speed):
        raise SensorkitError(f"file:// speed {params['speed']!r} must be a finite number (0 = as fast as possible)")
    if not path:
        raise SensorkitError("file:// needs a path, e.g. file://recordings/before.xdf")
    return Replay(path, speed)
