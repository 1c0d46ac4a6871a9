"""The health of a device link, shared by the drivers: gaps filled with NaN rows across
reconnections (`GapFiller`), frame rates (`RateMeter`), connection state and the
silence that means a device is gone (`LinkWatch`)."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

import numpy as np

from sensorkit.errors import SensorkitError
from sensorkit.streams import Chunk, StreamInfo


class GapFiller:
    """Keeps each regular stream continuous in time across chunks.

    - NaN rows for the samples a stream missed while its device was unreachable. A
      unit that kept counting fills its own gap (its sample index jumps); one that
      rebooted restarts its count, and only the clock shows the silence. After
      `expect_gap()`, the next chunk of each stream starts with as many NaN rows as
      the time since that stream's last sample holds.
    - No time running backwards: when the online clock estimate improves (its lower
      envelope finds a smaller delay), a new chunk can start before the previous one
      ended. The correction is then slewed across the chunk (its first sample follows
      the previous one, its last lands where the new estimate puts it), as NTP slews
      rather than steps.
    """

    def __init__(self) -> None:
        self._last: dict[str, float] = {}
        self._pending: set[str] = set()

    def expect_gap(self) -> None:
        self._pending = set(self._last)

    def fill(self, chunks: list[Chunk]) -> list[Chunk]:
        out = []
        for c in chunks:
            key, rate = c.info.source_id, c.info.srate
            if rate > 0 and len(c):
                if key in self._pending:
                    self._pending.discard(key)
                    missing = int(round((c.timestamps[0] - self._last[key]) * rate)) - 1
                    if missing > 0 and c.lost == 0:  # lost > 0: the unit's own count filled the gap
                        t = self._last[key] + np.arange(1, missing + 1) / rate
                        nan = np.full((missing, c.info.n_channels), np.nan, dtype=np.asarray(c.samples).dtype)
                        c = Chunk(c.info, np.concatenate([t, c.timestamps]), np.vstack([nan, c.samples]),
                                  lost=c.lost + missing)  # fmt: skip
                c = self._slew(c, self._last.get(key))
                self._last[key] = float(c.timestamps[-1])
            out.append(c)
        return out

    @staticmethod
    def _slew(c: Chunk, last: float | None) -> Chunk:
        if last is None or len(c) < 2:
            return c
        t = c.timestamps
        behind = last + 1.0 / c.info.srate - t[0]
        if behind <= 0 or behind >= t[-1] - t[0]:
            return c  # in order, or a step too large to slew within this chunk
        ramp = 1.0 - np.arange(len(t)) / (len(t) - 1)
        return Chunk(c.info, t + behind * ramp, c.samples, lost=c.lost)


class RateMeter:
    """Frames (packets, lines, notifications) per second over the last 64 reads, for the status line."""

    def __init__(self) -> None:
        self._seen: deque[tuple[float, int]] = deque(maxlen=64)

    def count(self, total: int) -> None:
        self._seen.append((time.monotonic(), total))

    @property
    def per_s(self) -> float:
        if len(self._seen) < 2:
            return 0.0
        (t0, n0), (t1, n1) = self._seen[0], self._seen[-1]
        return (n1 - n0) / max(t1 - t0, 1e-6)


class LinkWatch:
    """What every hardware driver does besides its protocol.

    Marks a lost and a restored link (from the transport's `events()`) in the
    device's markers stream, has the silence filled with NaN rows (`gaps`), and
    turns a unit that sends no valid data for `silence_s` after opening into one
    clear error.
    """

    def __init__(self, transport, source_id: str, markers: StreamInfo, silence_s: float) -> None:
        self.transport, self.source_id, self.markers, self.silence_s = transport, source_id, markers, silence_s
        self.gaps = GapFiller()
        self.state = "closed"
        self._opened_at = 0.0

    def opened(self) -> None:
        self.state = "connected"
        self._opened_at = time.monotonic()

    def close(self, stop_unit: Callable[[], None] | None = None) -> None:
        """Stop the unit (if it takes a command for that), then close the link; once only."""
        if self.state == "closed":
            return
        try:
            if stop_unit is not None:
                stop_unit()
        finally:
            self.transport.close()
            self.state = "closed"

    def events(self) -> tuple[list[Chunk], bool]:
        """Marker chunks for what happened to the link, and whether it has just come back."""
        chunks, back = [], False
        for kind, host_s in getattr(self.transport, "events", list)():
            label = f"device_{kind}:{self.source_id}"
            chunks.append(Chunk(self.markers, [host_s], np.array([[label]], dtype=object)))
            if kind == "disconnected":
                self.state = "reconnecting"
                self.gaps.expect_gap()
            elif kind == "other_unit":
                pass  # still waiting for our unit
            else:
                self.state, back = "connected", True
        return chunks, back

    def check_alive(self, valid: int, bytes_seen: int, bad: int, protocol: str) -> None:
        """Raise if nothing valid arrived within `silence_s` of opening."""
        if valid or time.monotonic() - self._opened_at <= self.silence_s:
            return
        what = (f"sends bytes ({bytes_seen}) but no valid {protocol} data ({bad} bad): wrong protocol or "
                "baud rate?") if bytes_seen else "sends nothing: is it switched on and streaming?"  # fmt: skip
        raise SensorkitError(f"{self.source_id} {what} (waited {self.silence_s:g} s)")
