"""The live twin of `ChannelOnsets`: one EMG channel conditioned chunk by chunk.

`ChannelOnsets` (offline) conditions a whole channel with causal filters and then
answers `onset(baseline, search)` per repetition. Here the same causal filters run
through their streaming twins (`StreamingGapHold`, `StreamingConditionLost`, `StreamingFilter`), so the
conditioned signal and envelope are the same numbers, kept for the last `keep_s`
seconds; `onset` asks the same `detect_onset` the same question on them. The one
difference is the mains notch under "auto": offline looks at the whole recording,
live at its first `mains_window_s` seconds (a replay is given the whole recording's).
"""

from __future__ import annotations

import numpy as np

from sensorkit.dsp.filters import (
    MAX_HOLD_S,
    StreamingConditionLost,
    StreamingFilter,
    StreamingGapHold,
    detect_mains,
    lowpass_sos,
)
from sensorkit.dsp.onset import Onset, OnsetParams, band_delay, detect_onset, envelope_lag, envelope_prefilter

LOOKAHEAD_S = 0.75  # an onset is final once this much signal follows it (artefact and quality checks)


class _Tail:
    """The newest rows of a signal (n, channels), addressed by absolute sample index."""

    def __init__(self, keep: int, width: int, dtype=np.float64) -> None:
        self.keep = keep
        self.start = 0  # absolute index of data[0]
        self.data = np.empty((max(keep, 1024), width), dtype=dtype)
        self.n = 0  # rows held
        self.keep_from: int | None = None  # absolute index from which rows are kept beyond `keep`

    @property
    def end(self) -> int:
        return self.start + self.n

    def append(self, x: np.ndarray) -> None:
        if self.n + len(x) > len(self.data):
            drop = max(0, self.n + len(x) - self.keep)  # the oldest beyond `keep` go ...
            if self.keep_from is not None:  # ... unless they are asked to stay
                drop = min(drop, max(0, self.keep_from - self.start))
            held = self.data[drop : self.n]
            data = np.empty((max(len(self.data), 2 * (len(held) + len(x))), self.data.shape[1]), self.data.dtype)
            data[: len(held)] = held
            self.data, self.n, self.start = data, len(held), self.start + drop
        self.data[self.n : self.n + len(x)] = x
        self.n += len(x)

    def column(self, j: int) -> np.ndarray:
        return self.data[: self.n, j]


class LiveEmg:
    """The EMG channels of one stream (V at `fs` Hz, (n, channels)), pushed chunk by chunk.

    Channels whose mains notch is the same share one filter (a 2-D `sosfilt` per chunk,
    not one per channel). `channel(j)` is channel j with `ChannelOnsets`'s `onset`.
    """

    def __init__(self, fs: float, n_channels: int, params: OnsetParams = OnsetParams(),
                 mains: float | str | None | list[float | None] = "auto", keep_s: float = 60.0,
                 mains_window_s: float = 10.0) -> None:  # fmt: skip
        """`mains`: "auto" (each channel's notch decided from the first `mains_window_s`), a
        notch for every channel (Hz, None: none), or one per channel (a replay's, decided from
        the whole recording as `analyze` does: `sensorkit.analysis.mains`)."""
        self.fs, self.params, self.n_channels = fs, params, n_channels
        self.delay_s, self.delay_sd_s = band_delay(fs, params.band_hz)  # as ChannelOnsets: the onset band
        if isinstance(mains, list):
            if len(mains) != n_channels:
                raise ValueError(f"{len(mains)} mains notches for {n_channels} channels")
            self.mains_hz: list[float | None] = list(mains)
        else:
            self.mains_hz = [None if mains == "auto" else mains] * n_channels  # type: ignore[list-item]
        self._decided = mains != "auto"
        self._mains_n = int(mains_window_s * fs)
        self._hold = StreamingGapHold(max(1, int(round(MAX_HOLD_S * fs))))
        self._waiting: list[tuple[np.ndarray, np.ndarray]] = []  # bridged, held: until mains is decided
        keep = int(keep_s * fs)
        self.raw, self.held = _Tail(keep, n_channels), _Tail(keep, n_channels, bool)
        self.times = _Tail(keep, 1)  # each sample's time on the recording clock (s), where pushed with them
        self.cond, self.env = _Tail(keep, n_channels), _Tail(keep, n_channels)
        self._groups: list[tuple[list[int], StreamingConditionLost, StreamingFilter, StreamingFilter]] = []
        self._tk_buf, self._tk_started = np.zeros((0, n_channels)), False
        if self._decided:
            self._start_filters()

    @property
    def covered(self) -> int:
        """Samples conditioned so far (absolute count since the first sample)."""
        return self.env.end

    @property
    def tails(self) -> tuple[_Tail, _Tail, _Tail, _Tail]:
        """The kept signals: conditioned, envelope, raw (bridged) and the lost-sample mask."""
        return self.cond, self.env, self.raw, self.held

    @property
    def oldest(self) -> int:
        """Absolute index of the oldest sample still kept."""
        return max(t.start for t in self.tails)

    def keep_from(self, index: int | None) -> None:
        """Keep every sample from absolute index `index` on (beyond `keep_s`), or only the last
        `keep_s` seconds again (None): the live pipeline keeps an open block's EMG so that the
        block can be measured whole when it ends."""
        for tail in (*self.tails, self.times):
            tail.keep_from = index

    def channel(self, j: int) -> LiveEmgChannel:
        return LiveEmgChannel(self, j)

    def _start_filters(self) -> None:
        by_mains: dict[float | None, list[int]] = {}
        for j, m in enumerate(self.mains_hz):
            by_mains.setdefault(m, []).append(j)
        env_sos = lowpass_sos(self.fs, self.params.envelope_hz)
        pre_sos = envelope_prefilter(self.fs, self.params)
        band = self.params.band_hz
        self._groups = [(cols, StreamingConditionLost(self.fs, band, m), StreamingFilter(pre_sos),
                         StreamingFilter(env_sos)) for m, cols in by_mains.items()]  # fmt: skip

    def push(self, x: np.ndarray, times: np.ndarray | None = None) -> None:
        """Append a chunk of raw samples (V, (n, channels)), NaN where lost, and their times (s,
        recording clock: kept in `times` for the caller to place onsets by)."""
        if times is not None:
            self.times.append(np.asarray(times, dtype=np.float64).reshape(-1, 1))
        bridged, held = self._hold.process(np.asarray(x, dtype=np.float64).reshape(len(x), self.n_channels))
        if not self._decided:
            self._waiting.append((bridged, held))
            if sum(len(w[0]) for w in self._waiting) >= self._mains_n:
                self.decide_mains()
            return
        self._condition(bridged, held)

    def decide_mains(self) -> None:
        """Decide each channel's mains notch from what has arrived (done by itself after
        `mains_window_s`; call at the end of a shorter stream)."""
        if self._decided:
            return
        bridged = np.vstack([w[0] for w in self._waiting]) if self._waiting else np.zeros((0, self.n_channels))
        held = np.vstack([w[1] for w in self._waiting]) if self._waiting else np.zeros((0, self.n_channels), bool)
        # exactly the first `mains_window_s` (the last chunk waiting may reach past it), so that
        # the decision does not depend on how the stream was cut into chunks
        first = bridged[: self._mains_n]
        self.mains_hz = [detect_mains(first[:, j], self.fs) if len(first) else None
                         for j in range(self.n_channels)]  # fmt: skip
        self._decided = True
        self._waiting = []
        self._start_filters()
        self._condition(bridged, held)

    def _condition(self, bridged: np.ndarray, held: np.ndarray) -> None:
        if not len(bridged):
            return
        cond, pre = np.empty_like(bridged), np.empty_like(bridged)
        for cols, cond_f, pre_f, _ in self._groups:
            cond[:, cols] = cond_f.process(bridged[:, cols])
            pre[:, cols] = pre_f.process(cond[:, cols])  # the envelope's EMG (`envelope_prefilter`)
        source = self._source(pre)
        env = np.empty_like(source)
        for cols, _, _, env_f in self._groups:
            env[:, cols] = env_f.process(source[:, cols])
        self.raw.append(bridged)
        self.held.append(held)
        self.cond.append(cond)
        self.env.append(env)

    def _source(self, cond: np.ndarray) -> np.ndarray:
        """What the envelope low-passes, as `detection_envelope`: |x|, or |TKEO(x)|, whose sample
        k needs sample k+1 and so comes one sample late (the first takes the second's value)."""
        if self.params.detector != "tkeo":
            return np.abs(cond)
        buf = np.vstack([self._tk_buf, cond])
        if len(buf) < 3:
            self._tk_buf = buf
            return np.zeros((0, self.n_channels))
        source = np.abs(buf[1:-1] ** 2 - buf[:-2] * buf[2:])
        if not self._tk_started:
            source = np.vstack([source[:1], source])
            self._tk_started = True
        self._tk_buf = buf[-2:]
        return source


class LiveEmgChannel:
    """Channel `j` of a `LiveEmg`, answering `ChannelOnsets`'s question and whether the answer is final."""

    def __init__(self, bank: LiveEmg, j: int) -> None:
        self.bank, self.j = bank, j
        self.fs = bank.fs
        self.delay_s, self.delay_sd_s = bank.delay_s, bank.delay_sd_s

    @property
    def mains_hz(self) -> float | None:
        return self.bank.mains_hz[self.j]

    def onset(self, baseline_s: tuple[float, float], search_s: tuple[float, float]) -> Onset:
        """The first onset in the search window, windows and results in s from the channel's
        first sample, exactly as `ChannelOnsets.onset` (ask `final` whether it can change)."""
        bank, j = self.bank, self.j
        fs, d = bank.fs, self.delay_s
        base = (int(round((baseline_s[0] + d) * fs)), int(round((baseline_s[1] + d) * fs)))
        search = (int(round((search_s[0] + d) * fs)), int(round((search_s[1] + d) * fs)))
        # the tails drop their oldest rows independently: cut all four to the span they share
        tails = bank.tails
        s0, s1 = max(t.start for t in tails), min(t.end for t in tails)  # the envelope may be a sample behind
        if base[0] - int(0.6 * fs) < s0 and s0 > 0:
            return Onset(None, None, None, "gap")  # older than what is kept
        cond, env, raw, held = (t.column(j)[s0 - t.start : s1 - t.start] for t in tails)
        o = detect_onset(cond, fs, (base[0] - s0, base[1] - s0), (search[0] - s0, search[1] - s0),
                         bank.params, env=env, raw=raw, held=held, origin=s0)  # fmt: skip
        shift = lambda t: None if t is None else t + s0 / fs - d  # noqa: E731
        sd_ms = None if o.sd_ms is None else float(np.hypot(o.sd_ms, self.delay_sd_s * 1000))
        return Onset(shift(o.onset_s), shift(o.offset_s), sd_ms, o.quality, o.snr_db)

    def final(self, onset: Onset, search_end_s: float) -> bool:
        """Whether `onset` (from `onset`, s from the first sample) can no longer change: enough
        signal follows it for the quality checks, or, when none was found, the whole search
        window (ending at `search_end_s`) has arrived."""
        bank = self.bank
        fs, end = bank.fs, bank.covered
        if onset.onset_s is not None:
            return (onset.onset_s + self.delay_s + LOOKAHEAD_S) * fs <= end
        if onset.quality == "gap" and bank.env.start > 0:
            return True
        lag = envelope_lag(fs, bank.params)  # the envelope trails the conditioned signal
        return (search_end_s + self.delay_s + bank.params.min_duration_s) * fs + 1 + lag <= end
