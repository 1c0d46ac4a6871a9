"""Live signal quality: the pipeline's `Quality` events, onset flags and result block.

Wraps `dsp.quality_stream.QualityMonitor` with the channel labels and the recording
clock: a `Quality(channel, state, measures)` event whenever a channel's state changes
(`ok`, `hum`, `motion_artefact`, `pop`, `lift_off`, `saturation`, `flat`, `gap`;
see `sensorkit.dsp.quality`), measures in uV of the window that changed it. Onsets
are flagged from the same events as `analyze` flags them (`analysis.signal_quality`).
"""

from __future__ import annotations

import numpy as np

from sensorkit.analysis.signal_quality import ONSET_SPAN_S, quality_block, sample_flagger
from sensorkit.dsp.quality import KINDS, Windows, concat, merge_spans
from sensorkit.dsp.quality_stream import QualityMonitor
from sensorkit.live.events import Quality


class LiveQuality:
    """Signal quality of the labelled EMG channels `labels` at `fs` Hz; the first sample at
    `t0` s on the recording's clock."""

    def __init__(self, labels: list[str], fs: float, t0: float, mains: float | str | None = "auto",
                 volts: list[bool] | None = None) -> None:  # fmt: skip
        """`volts`: the channels in volts (None: all); the others are judged as `window_states`
        judges them, by what needs no unit."""
        self.labels, self.fs, self.t0 = list(labels), fs, t0
        self.volts = volts
        self.monitor = QualityMonitor(fs, len(labels), mains, volts)
        self._state = ["ok"] * len(labels)

    def push(self, x: np.ndarray) -> list[Quality]:
        """Rows of the labelled channels (V); the state changes they reveal."""
        return self._changes(self.monitor.push(x))

    def flush(self) -> list[Quality]:
        """The end of the stream."""
        return self._changes(self.monitor.flush())

    @property
    def judged_until_s(self) -> float:
        """Recording time up to which every window is judged."""
        return self.t0 + self.monitor.judged_samples / self.fs

    def settled(self, onset_s: float | None, search_end_s: float) -> bool:
        """Whether the events that may flag this onset (or its whole search) are all known."""
        last = (onset_s + ONSET_SPAN_S[1]) if onset_s is not None else search_end_s
        return self.judged_until_s >= last

    def flag(self, channel: str, onset_s: float | None, lo: float, hi: float) -> str | None:
        """As `Assessment.flagger`'s function, from the windows judged so far."""
        if onset_s is not None:
            lo, hi = onset_s + ONSET_SPAN_S[0], onset_s + ONSET_SPAN_S[1]
        a, b = int((lo - self.t0) * self.fs) - 1, int((hi - self.t0) * self.fs) + 2
        events = self.monitor.events_between(a, b)
        return sample_flagger(events, self.labels, self.t0, self.fs)(channel, onset_s, lo, hi)

    def block(self) -> dict:
        """The result's `signal_quality` block (no ECG: that needs the whole recording)."""
        w = concat(self.monitor.windows, len(self.labels))
        events = merge_spans(self.monitor.windows, self.fs)
        n = (w.first + len(w.states)) * self.monitor.n_win
        times = self.t0 + np.arange(n + 1) / self.fs
        return quality_block(w, events, None, self.fs, self.labels, times, self.monitor.mains_hz, self.volts)

    def _changes(self, judged: list[Windows]) -> list[Quality]:
        out = []
        for w in judged:
            for k in range(len(w.states)):
                t = self.t0 + (w.first + k) * self.monitor.n_win / self.fs
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
