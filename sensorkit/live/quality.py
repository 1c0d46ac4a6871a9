"""Live signal quality: the pipeline's `Quality` events, onset flags and result block.

Wraps `dsp.quality_stream.QualityMonitor` with the channel labels and the recording
clock: a `Quality(channel, state, measures)` event whenever a channel's state changes
(`ok`, `hum`, `motion_artefact`, `pop`, `lift_off`, `saturation`, `flat`, `gap`;
see `sensorkit.dsp.quality`), measures in uV of the window that changed it. Onsets
are flagged from the same events as `analyze` flags them (`analysis.signal_quality`).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable

import numpy as np

from sensorkit.analysis.signal_quality import ONSET_SPAN_S, quality_block, sample_flagger
from sensorkit.dsp.quality import KINDS, Windows, concat, merge_spans
from sensorkit.dsp.quality_stream import QualityMonitor
from sensorkit.live.events import Quality

CLOCK_STEP_S = 0.1  # the samples' times are kept this far apart (36,000 pairs an hour)


class LiveQuality:
    """Signal quality of the labelled EMG channels `labels` at `fs` Hz; the first sample at
    `t0` s on the recording's clock."""

    def __init__(self, labels: list[str], fs: float, t0: float, mains: float | str | None = "auto",
                 volts: list[bool] | None = None, t0_at: Callable[[float], float] | None = None) -> None:  # fmt: skip
        """`volts`: the channels in volts (None: all); the others are judged as `window_states`
        judges them, by what needs no unit. `t0_at(t)`: sample 0's time on the nominal grid read
        where the stream passes recording time `t`, as the pipeline places onsets there
        (`timing.local_t0`); onsets are flagged on it, as `analyze` flags them (None: `t0`)."""
        self.labels, self.fs, self.t0 = list(labels), fs, t0
        self.volts = volts
        self.t0_at = t0_at if t0_at is not None else (lambda t: t0)
        self.monitor = QualityMonitor(fs, len(labels), mains, volts)
        self._state = ["ok"] * len(labels)
        self._n = 0  # samples pushed
        # the samples' own times, at chunk starts at least `CLOCK_STEP_S` apart and the newest:
        # events and the result's block are timed by them, not by the first sample and the
        # nominal rate, which a device clock 1 % off moves 6 s in 10 min
        self._clock_i: list[int] = []
        self._clock_t: list[float] = []
        self._newest: tuple[int, float] | None = None

    def push(self, x: np.ndarray, times: np.ndarray | None = None) -> list[Quality]:
        """Rows of the labelled channels (V) and their times (s, recording clock); the state
        changes they reveal."""
        if times is not None and len(times):
            if not self._clock_i or self._n - self._clock_i[-1] >= CLOCK_STEP_S * self.fs:
                self._clock_i.append(self._n)
                self._clock_t.append(float(times[0]))
            self._newest = (self._n + len(times) - 1, float(times[-1]))
        self._n += len(x)
        return self._changes(self.monitor.push(x))

    def flush(self) -> list[Quality]:
        """The end of the stream."""
        return self._changes(self.monitor.flush())

    def sample_time(self, i: int) -> float:
        """Recording time (s) of sample `i`: its neighbours' own times, interpolated (beyond
        them, at the nominal rate)."""
        if self._newest is None:
            return self.t0 + i / self.fs
        k = bisect.bisect_right(self._clock_i, i) - 1
        if k < 0:
            return self._clock_t[0] - (self._clock_i[0] - i) / self.fs
        i0, t0 = self._clock_i[k], self._clock_t[k]
        i1, t1 = (self._clock_i[k + 1], self._clock_t[k + 1]) if k + 1 < len(self._clock_i) else self._newest
        if i >= i1 or i1 == i0:
            return t1 + (i - i1) / self.fs
        return t0 + (i - i0) * (t1 - t0) / (i1 - i0)

    @property
    def judged_until_s(self) -> float:
        """Recording time up to which every window is judged."""
        return self.sample_time(self.monitor.judged_samples)

    def settled(self, onset_s: float | None, search_end_s: float) -> bool:
        """Whether the events that may flag this onset (or its whole search) are all known."""
        last = (onset_s + ONSET_SPAN_S[1]) if onset_s is not None else search_end_s
        return self.judged_until_s >= last

    def flag(self, channel: str, onset_s: float | None, lo: float, hi: float) -> str | None:
        """As `Assessment.flagger`'s function, from the windows judged so far."""
        t0 = self.t0_at(lo if onset_s is None else onset_s)
        if onset_s is not None:
            lo, hi = onset_s + ONSET_SPAN_S[0], onset_s + ONSET_SPAN_S[1]
        a, b = int((lo - t0) * self.fs) - 1, int((hi - t0) * self.fs) + 2
        events = self.monitor.events_between(a, b)
        return sample_flagger(events, self.labels, self.fs, lambda t: t0)(channel, onset_s, lo, hi)

    def block(self) -> dict:
        """The result's `signal_quality` block (no ECG: that needs the whole recording)."""
        w = concat(self.monitor.windows, len(self.labels))
        events = merge_spans(self.monitor.windows, self.fs)
        return quality_block(w, events, None, self.fs, self.labels, self.sample_time, self.monitor.mains_hz, self.volts)

    def _changes(self, judged: list[Windows]) -> list[Quality]:
        out = []
        for w in judged:
            for k in range(len(w.states)):
                t = self.sample_time((w.first + k) * self.monitor.n_win)
                for j, label in enumerate(self.labels):
                    state = KINDS[w.states[k, j]]
                    if state != self._state[j]:
                        self._state[j] = state
                        measures = {"noise_uv": round(float(w.band_rms[k, j]) * 1e6, 1),
                                    "mains_uv": round(float(w.mains_rms[k, j]) * 1e6, 1),
                                    "low_freq_uv": round(float(w.lf_rms[k, j]) * 1e6, 1)}  # fmt: skip
                        if self.volts is not None and not self.volts[j]:
                            measures = {}  # counts, not uV
                        out.append(Quality(label, state, round(t, 4), measures))
        return out


class QualityMarkers:
    """The marker text for a `Quality` event (`quality:CHANNEL:STATE`), or None for the
    motion artefacts that come with every movement and the return to ok after one (they
    are in `analyze`'s result; as markers they would bury the rest)."""

    def __init__(self) -> None:
        self._written: dict[str, str] = {}

    def __call__(self, event: Quality) -> str | None:
        state = event.state
        if state == "motion_artefact" or (state == "ok" and self._written.get(event.channel, "ok") == "ok"):
            return None
        self._written[event.channel] = state
        return f"quality:{event.channel}:{state}"
