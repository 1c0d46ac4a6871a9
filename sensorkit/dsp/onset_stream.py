"""Live onset detection: the offline rule (`sensorkit.dsp.onset`), chunk by chunk.

The same causal conditioning and envelope run through their streaming twins; the
baseline is the envelope from 1.2 s to 0.35 s before each candidate crossing, the
window the offline analysis takes before a repetition. An onset is reported as
soon as the envelope has stayed above threshold for the minimum duration, traced
back to where it left the baseline, and then to where its rise began
(`sensorkit.dsp.onset_departure`, as offline), which needs the burst's first
`DepartureParams.reach_s` (0.3 s): an onset is reported that long after its
threshold crossing. Results do not depend on how the signal is chunked.
"""

from __future__ import annotations

import numpy as np

from sensorkit.dsp.filters import MAX_HOLD_S, StreamingConditionLost, StreamingFilter, StreamingGapHold, lowpass_sos
from sensorkit.dsp.onset import OnsetParams, band_delay, envelope_lag, envelope_prefilter
from sensorkit.dsp.onset_departure import departure


class StreamingOnsetDetector:
    """One EMG channel (V at `fs` Hz); `process` returns onsets (s since the first sample)."""

    BASELINE_S = (-1.2, -0.35)
    HISTORY_S = 2.0

    def __init__(self, fs: float, params: OnsetParams = OnsetParams(), mains_hz: float | None = None) -> None:
        if params.detector not in ("threshold", "tkeo"):
            raise ValueError("live onsets use the threshold or tkeo detector")
        self.fs, self.p = fs, params
        band = params.band_hz  # as ChannelOnsets: the onset band
        self._hold = StreamingGapHold(max(1, int(round(MAX_HOLD_S * fs))))  # as offline: short gaps bridged
        self._cond = StreamingConditionLost(fs, band, mains_hz)  # as offline: gaps filled for the notch
        self._pre = StreamingFilter(envelope_prefilter(fs, params))  # the envelope's EMG, as offline
        self._lag = envelope_lag(fs, params)
        self._env = StreamingFilter(lowpass_sos(fs, params.envelope_hz))
        self.delay_s, _ = band_delay(fs, band)  # the same correction as offline
        self._buf = np.zeros(0)  # conditioned samples still needed for TKEO
        self._cond_all = np.zeros(0)  # conditioned samples not yet matched by envelope samples
        self._tkeo_started = False
        self._env_hist = np.zeros(0)
        self._cond_hist = np.zeros(0)  # conditioned samples, aligned with _env_hist
        self._pending: list[tuple[int, int, int, int]] = []  # crossing, backtracked onset, earliest, baseline end
        self._reach = int(params.fit.reach_s * fs)
        self._earliest = 0  # absolute index: where the current search began (after the last burst)
        self._hist_start = 0  # absolute index of _env_hist[0]
        self._n = 0  # envelope samples produced so far
        self._next = 0  # absolute index where the search resumes
        self._active = False

    def _envelope(self, x: np.ndarray) -> np.ndarray:
        c = self._cond.process(self._hold.process(np.asarray(x, dtype=np.float64))[0])
        self._cond_all = np.r_[self._cond_all, c]  # trimmed to the envelope's length in `process`
        c = self._pre.process(c)
        if self.p.detector == "tkeo":
            # TKEO of sample k needs sample k+1: it is produced one sample late; sample 0
            # takes sample 1's value, as offline
            buf = np.r_[self._buf, c]
            if len(buf) < 3:
                self._buf = buf
                return np.zeros(0)
            source = np.abs(buf[1:-1] ** 2 - buf[:-2] * buf[2:])
            if not self._tkeo_started:
                source = np.r_[source[0], source]
                self._tkeo_started = True
            self._buf = buf[-2:]
        else:
            source = np.abs(c)
        return self._env.process(np.nan_to_num(source, nan=0.0))

    def process(self, x: np.ndarray) -> list[float]:
        env = self._envelope(x)
        self._env_hist = np.r_[self._env_hist, env]
        self._cond_hist = np.r_[self._cond_hist, self._cond_all[: len(env)]]  # (TKEO: one sample behind)
        self._cond_all = self._cond_all[len(env) :]
        self._n += len(env)
        self._scan()
        onsets = self._resolve()
        keep = int(self.HISTORY_S * self.fs)
        if len(self._env_hist) > keep:
            drop = len(self._env_hist) - keep
            self._env_hist = self._env_hist[drop:]
            self._cond_hist = self._cond_hist[drop:]
            self._hist_start += drop
        return onsets

    def _resolve(self) -> list[float]:
        """Onsets whose departure can be fitted (their burst's first 0.3 s has arrived)."""
        out = []
        while self._pending and self._pending[0][0] + self._reach <= self._n:
            crossing, start, earliest, base_end = self._pending.pop(0)
            s0 = self._hist_start
            base = (base_end - int((self.BASELINE_S[1] - self.BASELINE_S[0]) * self.fs) - s0, base_end - s0)
            # the envelope's indices moved back to the conditioned signal's time, as offline
            crossing, start = max(crossing - self._lag, earliest), max(start - self._lag, earliest)
            dep = departure(self._cond_hist, self.fs, base, crossing - s0, max(earliest - s0, 0), start - s0, s0,
                            self.p.fit)  # fmt: skip
            onset = start if dep is None else int(round(dep[0])) + s0
            out.append(onset / self.fs - self.delay_s)
        return out

    def _at(self, i: int, j: int) -> np.ndarray:
        return self._env_hist[max(i - self._hist_start, 0) : max(j - self._hist_start, 0)]

    def _baseline(self, i: int, j: int) -> tuple[np.ndarray, np.ndarray]:
        """Mean and SD of the envelope over each sample's baseline window, samples i..j-1
        (infinite where the history does not reach back far enough yet)."""
        fs = self.fs
        env = self._env_hist
        c1 = np.r_[0.0, np.cumsum(env)]
        c2 = np.r_[0.0, np.cumsum(env * env)]
        pos = np.arange(i, j) - self._hist_start
        a, b = pos + int(self.BASELINE_S[0] * fs), pos + int(self.BASELINE_S[1] * fs)
        ok = a >= 0
        a, b = np.clip(a, 0, len(env)), np.clip(b, 0, len(env))
        n = np.maximum(b - a, 1)
        mean = (c1[b] - c1[a]) / n
        var = np.maximum((c2[b] - c2[a]) / n - mean**2, 0.0)
        return np.where(ok, mean, np.inf), np.where(ok, np.sqrt(var), np.inf)

    def _scan(self) -> None:
        fs, p = self.fs, self.p
        min_len = max(1, int(round(p.min_duration_s * fs)))
        while self._next < self._n:
            i = self._next
            if self._active:  # wait for the burst to end (sustained below threshold)
                below = np.flatnonzero(self._at(i, self._n) < self._h)
                if below.size == 0:
                    self._next = self._n
                    break
                j = i + int(below[0])
                if j + min_len > self._n:
                    self._next = j
                    break
                if (self._at(j, j + min_len) < self._h).all():
                    self._active = False
                    self._next = self._earliest = j + min_len
                else:
                    self._next = j + 1
                continue
            mu, sd = self._baseline(i, self._n)
            h = mu + p.k_sd * sd  # each sample against the baseline before it
            above = np.flatnonzero(self._at(i, self._n) > h)
            if above.size == 0:
                self._next = self._n
                break
            j = i + int(above[0])
            if j + min_len > self._n:
                self._next = j  # decide when more data has arrived
                break
            hj, mj, sj = h[j - i], mu[j - i], sd[j - i]
            run = self._at(j, j + min_len) > hj
            if not run.all():
                self._next = j + int(np.argmin(run))
                continue
            back = self._at(j - int(p.max_backtrack_s * fs), j + 1)
            quiet = np.flatnonzero(back <= mj + p.backtrack_sd * sj)
            start = j - len(back) + 1 + (int(quiet[-1]) + 1 if quiet.size else 0)
            base_end = j + int(self.BASELINE_S[1] * fs)  # the crossing's own baseline window, as above
            self._pending.append((j, start, max(self._earliest, base_end), base_end))  # search from the baseline's end
            self._active, self._h = True, hj
            self._next = j + min_len
