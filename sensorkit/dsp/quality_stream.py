"""Streaming twin of `sensorkit.dsp.quality`: each half-second window judged as it completes.

`QualityMonitor.push` takes chunks of EMG rows (V, NaN for lost samples) and returns
the windows it could judge: those followed by `PAD_S` of signal. They are judged by
the very function the offline pass uses, on the same samples, with the same history
carried from window to window, so a replay gives the offline windows exactly (tested).
The one difference is the mains frequency: offline reads it from the whole recording,
live from the first `MAINS_DECIDE_S` seconds (pass it when known).
"""

from __future__ import annotations

import bisect

import numpy as np

from sensorkit.dsp.filters import mains_frequency
from sensorkit.dsp.quality import History, Windows, merge_spans, window_len, window_states

MAINS_DECIDE_S = 2.0


class QualityMonitor:
    """Signal quality of `n_channels` EMG channels at `fs` Hz, window by window."""

    def __init__(self, fs: float, n_channels: int, mains: float | str | None = "auto",
                 volts: np.ndarray | list[bool] | None = None) -> None:  # fmt: skip
        """`volts`: as `window_states` takes it (the channels in volts; None: all)."""
        self.fs, self.n_channels = fs, n_channels
        self.volts = None if volts is None else np.asarray(volts, dtype=bool)
        self.n_win, self.pad = window_len(fs)
        self.mains_hz: float | None = None if mains == "auto" else mains  # type: ignore[assignment]
        self._decided = mains != "auto"
        self._buf = np.full((self.pad, n_channels), np.nan)  # starts PAD_S before window `_next`
        self._next = 0
        self._history: History | None = None
        self.windows: list[Windows] = []  # every window judged so far
        self._starts: list[int] = []  # first and last+1 stream sample of each batch in `windows`
        self._ends: list[int] = []

    @property
    def judged_samples(self) -> int:
        """Samples of the stream whose windows are judged."""
        return self._next * self.n_win

    def push(self, x: np.ndarray) -> list[Windows]:
        """Add rows (samples, channels; V); the windows judged thanks to them."""
        x = np.asarray(x, dtype=np.float64).reshape(-1, self.n_channels)
        self._buf = np.vstack([self._buf, x])
        if not self._decided:
            if len(self._buf) - self.pad < MAINS_DECIDE_S * self.fs:
                return []
            self.mains_hz = mains_frequency(self._buf[self.pad :], self.fs)
            self._decided = True
        return self._judge(len(self._buf) - 2 * self.pad)

    def flush(self) -> list[Windows]:
        """The end of the stream: judge the complete windows left, with nothing after them."""
        if not self._decided:
            self.mains_hz = mains_frequency(self._buf[self.pad :], self.fs)
            self._decided = True
        have = len(self._buf) - self.pad
        complete = have // self.n_win * self.n_win
        missing = complete + 2 * self.pad - len(self._buf)
        if missing > 0:
            self._buf = np.vstack([self._buf, np.full((missing, self.n_channels), np.nan)])
        return self._judge(complete)

    def _judge(self, usable: int) -> list[Windows]:
        k = usable // self.n_win
        if k <= 0:
            return []
        span = k * self.n_win + 2 * self.pad
        w = window_states(self._buf[:span], self.fs, self._next, self.mains_hz, self._history, volts=self.volts)
        self._history = w.history
        self._next += k
        self._buf = self._buf[k * self.n_win :]
        self.windows.append(w)
        self._starts.append(w.first * self.n_win)
        self._ends.append((w.first + len(w.states)) * self.n_win)
        return [w]

    def events_between(self, lo: int, hi: int) -> list[tuple[int, str, int, int]]:
        """Events (channel, kind, start, stop; stream samples) overlapping samples [lo, hi),
        merged as the offline pass merges them (from the windows around them)."""
        margin = 4 * self.n_win
        # the judged batches are in stream order: find the ones near [lo, hi) by bisection
        a = bisect.bisect_right(self._ends, lo - margin)
        b = bisect.bisect_left(self._starts, hi + margin + 1)
        return [e for e in merge_spans(self.windows[a:b], self.fs) if e[2] < hi and e[3] > lo]
