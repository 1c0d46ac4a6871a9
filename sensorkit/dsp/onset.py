"""EMG onset detection: when a muscle's EMG first departs from its quiet baseline.

All detectors work on conditioned EMG (`sensorkit.dsp.filters.condition`) within a
search window, with statistics from a quiet baseline window before it:

- "threshold" (Hodges & Bui 1996, Electroencephalogr Clin Neurophysiol
  101:511): the full-wave rectified signal, low-passed at 50 Hz zero-phase, must stay
  above baseline mean + k SD (k = 3) for at least 30 ms; the onset is then traced
  back to where the envelope left mean + 1 SD, which removes most of the delay a
  threshold adds on a slowly rising burst.
- "tkeo" (default; Solnik et al. 2010, Eur J Appl Physiol 110:489): the same rule on
  the Teager-Kaiser energy, which weighs amplitude by frequency and so suppresses
  low-frequency ECG and motion content relative to motor-unit potentials; Solnik
  et al. found it made the Hodges & Bui threshold markedly more accurate, and it
  is the only variant here that keeps trunk-muscle onsets under ECG.
- "double_threshold" (Bonato et al. 1998, IEEE TBME 45:287): samples whose
  normalised energy exceeds the chi-square level for a false-alarm probability of
  0.05; an onset needs r0 of m samples (10 ms) above it, sustained 30 ms.
- "changepoint": the maximum-likelihood change in variance of the conditioned
  signal near the threshold detector's onset, with its posterior spread as the
  uncertainty (Bayesian changepoint detection was the most accurate method in
  Tenan et al. 2017, J Electromyogr Kinesiol 35:1).

Every onset carries a quality flag and an uncertainty in ms: the spread of the
onset over a range of thresholds combined with half the envelope's rise time to
the highest of them (for the changepoint detector, the changepoint's posterior SD).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from scipy.signal import butter, sosfilt, sosfilt_zi, sosfiltfilt, sosfreqz
from scipy.stats import binom, chi2

from sensorkit.defaults import DEFAULT_DETECTOR, DETECTORS  # noqa: F401 (DETECTORS re-exported)
from sensorkit.dsp.filters import (
    BAND_HZ,
    MAX_HOLD_S,
    apply_sos,
    band_edges,
    bandpass_sos,
    condition_lost,
    detect_mains,
    filter_stretches,
    hold_short_gaps,
    lowpass_sos,
    merge_runs,
    moving_rms,
    run_edges,
    tkeo,
    tkeo_stretch,
    true_runs,
)
from sensorkit.dsp.onset_departure import DepartureParams, band_resolution_s, departure, snr_sd_factor

# Onsets are detected in 30-450 Hz, where the conditioning for amplitude, the live traces and
# signal quality keeps the SENIAM/ISEK 20-450 Hz (`filters.BAND_HZ`; docs/analysis.md, Onsets):
# the heart's QRS complex has most of its energy below 30-40 Hz, and on trunk muscles it is
# stronger than the EMG. A 30-Hz high-pass is the usual remedy for ECG in trunk EMG
# (Redfern, Hughes & Chaffin 1993, Clin Biomech 8:44-48; Drake & Callaghan 2006, J Electromyogr
# Kinesiol 16:175-187), and it costs an onset little: a burst's energy lies at 50-250 Hz. On
# bench_onset.py's 15 sessions per EMG-model variation (December 2026, 20 -> 30 Hz), the
# simulator as built, median error by SNR band 3.0 / 4.4 / 7.0 -> 2.9 / 4.0 / 6.6 ms, recall at
# 20-30 dB 98.6 -> 99.6 % with false onsets 1.4 -> 0.4 %; over the variations at 500 Hz and up,
# no cell's recall under 98.7 % (98.4 before) nor false onsets above 1.3 % (1.6); potentials twice as
# wide (the lowest spectrum) 10-20 dB median 10.1 -> 11.7 ms. Sampled at 200-250 Hz, where the band
# is 20-90 or 20-112 Hz and the QRS fills much of it, erector spinae onsets under a 250-uV ECG
# (every SNR): found 21-27 -> 37-46 % of the time (docs/analysis.md, Onsets).
ONSET_BAND_HZ = (30.0, 450.0)

HELD_WINDOW_S = 0.01  # +-10 ms around an onset...
HELD_FRACTION = 0.1  # ...of which more than a tenth bridged lost samples: quality `gap`
GAP_BOUND_S = 0.05  # an onset this soon after lost samples was first seen there, not begun (`_lost_before`)
QUALITY = ("ok", "noisy_baseline", "no_burst", "saturated", "artefact", "lift_off", "gap")


@dataclass(frozen=True)
class OnsetParams:
    """Detector settings; defaults from the sources cited in this module's docstring."""

    detector: str = DEFAULT_DETECTOR
    # the band (Hz) onsets are detected and timed in (`ONSET_BAND_HZ`); capped at 0.45 fs
    band_hz: tuple[float, float] = ONSET_BAND_HZ
    k_sd: float = 3.0  # threshold: baseline mean + k SD
    min_duration_s: float = 0.03  # the burst must stay above threshold this long
    envelope_hz: float = 50.0  # low-pass of the detection envelope
    # the envelope is made from the conditioned EMG low-passed here (None: the whole band);
    # see `envelope_prefilter`
    detect_lowpass_hz: float | None = 250.0
    backtrack_sd: float = 1.0  # trace the onset back to where the envelope left mean + this SD
    max_backtrack_s: float = 0.06
    pfa: float = 0.05  # double threshold: per-sample false-alarm probability
    window_s: float = 0.01  # double threshold: m samples
    changepoint_span_s: float = 0.3  # changepoint: search this far before the threshold onset
    min_snr_db: float = 6.0  # burst vs baseline envelope below this: noisy_baseline
    k_sweep: tuple[float, ...] = (2.0, 2.5, 3.0, 4.0, 5.0)  # thresholds for the uncertainty
    # threshold and tkeo: trace the onset back to where the burst's rise began
    # (`onset_departure`); False keeps the crossing traced back to `backtrack_sd` only
    departure: bool = True
    fit: DepartureParams = DepartureParams()  # that trace's settings (`onset_departure`)

    def __post_init__(self) -> None:
        if self.detector not in DETECTORS:
            raise ValueError(f"unknown onset detector {self.detector!r}; choose from {', '.join(DETECTORS)}")
        try:
            low, high = (float(f) for f in self.band_hz)
        except (TypeError, ValueError):
            low = high = float("nan")
        if not 0 < low < high:
            raise ValueError(f"the onset band must be two frequencies 0 < low < high in Hz, not {self.band_hz!r}")
        # a tuple of floats whatever was given (a list from a settings file): the filters are cached by these params
        object.__setattr__(self, "band_hz", (low, high))


@dataclass(frozen=True)
class Onset:
    """One muscle's activation in one window; times in s from the start of the signal."""

    onset_s: float | None
    offset_s: float | None
    sd_ms: float | None
    quality: str
    snr_db: float | None = None


ENVELOPE_PREFILTER_ORDER = 4


@functools.lru_cache(maxsize=16)
def envelope_prefilter(fs: float, params: OnsetParams = OnsetParams()) -> np.ndarray:
    """The low-pass (sections; none at low rates) the detection envelope's EMG passes first.

    Surface EMG has little power above ~250 Hz (a skin-surface spectrum's median is 50-120
    Hz, lower under a thick fat layer) while amplifier noise is as strong there as anywhere,
    and Teager-Kaiser energy weighs power by frequency squared: 83 % of white noise's
    energy in 20-450 Hz lies above 250 Hz. Simulated EMG with potentials twice as wide
    (median frequency ~50 Hz) had, at 10-20 dB, recall 91 % and 9 % false onsets through
    the whole band and 99 % and 1 % with this low-pass, while EMG of the usual spectrum
    lost nothing (benchmarks/bench_onset.py's variations). Only the envelope is filtered
    so: the departure fit keeps the whole band, whose sharper edges time the rise's start
    (the fit on 20-250 Hz was up to 1 ms worse on the usual spectrum, up to 1.5 ms better
    on the widest potentials; the whole band keeps the usual one's figures).
    """
    hz = params.detect_lowpass_hz
    if hz is None or hz >= 0.45 * fs or hz >= BAND_HZ[1]:
        return np.zeros((0, 6))
    return butter(ENVELOPE_PREFILTER_ORDER, hz, btype="lowpass", fs=fs, output="sos")


@functools.lru_cache(maxsize=16)  # asked once per onset
def envelope_lag(fs: float, params: OnsetParams = OnsetParams()) -> int:
    """Samples by which `envelope_prefilter` delays the envelope behind the conditioned EMG
    (its group delay at the EMG's typical 100 Hz): indices found on the envelope are moved
    back by this before they are used on the conditioned signal or reported."""
    pre = envelope_prefilter(fs, params)
    return int(round(group_delay_s(pre, fs, EMG_CENTRE_HZ) * fs)) if len(pre) else 0


def detection_envelope(cond: np.ndarray, fs: float, params: OnsetParams = OnsetParams(),
                       causal: bool = True) -> np.ndarray:  # fmt: skip
    """The envelope a detector thresholds: |x| (or |TKEO(x)|) of the conditioned EMG passed
    through `envelope_prefilter`, low-passed at `envelope_hz`."""
    sos = lowpass_sos(fs, params.envelope_hz)
    pre = envelope_prefilter(fs, params)
    if len(pre):
        cond = apply_sos(pre, cond, causal=causal)
    if params.detector == "tkeo" and causal and len(cond) > 2 and np.isfinite(cond).all():
        # |TKEO| made and filtered a stretch at a time, as `apply_sos` would filter it whole
        out = np.empty((len(cond), 1))
        filter_stretches(sos, lambda a, b: np.abs(tkeo_stretch(cond, a, b))[:, None], len(cond), out)
        return out[:, 0]
    source = np.abs(tkeo(cond)) if params.detector == "tkeo" else np.abs(cond)
    return apply_sos(sos, source, causal=causal)


def group_delay_s(sos: np.ndarray, fs: float, freq: float) -> float:
    """Group delay (s) of a filter at `freq` Hz."""
    f = np.array([freq * 0.99, freq * 1.01])
    _, h = sosfreqz(sos, worN=f, fs=fs)
    phase = np.unwrap(np.angle(h))
    return float(-(phase[1] - phase[0]) / (2 * np.pi * (f[1] - f[0])))


EMG_CENTRE_HZ = 100.0
# where a low sample rate brings the band's upper edge down to the EMG's typical frequency, the
# band-pass's delay is taken at this share of the edge (centre_hz). At 200 Hz (a Myo armband)
# the edge is 90 Hz and the delay at 100 Hz, beyond it, was 39 ms: every onset of simulated
# EMG came 33 ms early at >= 30 dB (31 ms at 20-30 dB), at 250 Hz (an OpenBCI Cyton) 7 ms;
# taken at 0.6 of the edge, +0.5 and +0.4 ms (0.5 and 0.7 of it: within 1 ms of that;
# benchmarks/bench_onset.py's variations). At 500 Hz and above nothing changes.
IN_BAND_SHARE = 0.6


def band_delay(fs: float, band: tuple[float, float] = BAND_HZ) -> tuple[float, float]:
    """(delay, its SD) in s that causal conditioning adds to an EMG onset.

    The notches delay only their own narrow bands: a burst is delayed by the band-pass,
    by an amount that depends on its spectrum (motor-unit potentials, ~50-200 Hz); that
    spread is part of every onset's uncertainty. The envelope low-pass adds no delay to
    the onset, which is traced back to where the envelope leaves the baseline.
    """
    bp = bandpass_sos(fs, band)
    spread = [group_delay_s(bp, fs, f) for f in (50.0, min(200.0, 0.4 * fs))]
    return group_delay_s(bp, fs, centre_hz(fs, band)), abs(spread[0] - spread[1]) / 2


def centre_hz(fs: float, band: tuple[float, float] = BAND_HZ) -> float:
    """The frequency (Hz) at which the band-pass's delay stands for a burst's: the EMG's typical
    100 Hz, or IN_BAND_SHARE of the band's upper edge where a low sample rate brings that edge
    down to it (the edge is capped at 0.45 fs: 112 Hz at 250 Hz, 90 Hz at 200 Hz), since there
    the burst's power lies below the edge, where the delay is a fraction of the corner's."""
    return min(EMG_CENTRE_HZ, IN_BAND_SHARE * band_edges(fs, band)[1])


def bridged_lost(raw: np.ndarray, fs: float) -> tuple[np.ndarray, np.ndarray]:
    """(the signal, which samples were lost) of one EMG channel (V at `fs` Hz, NaN where lost)
    as `ChannelOnsets` conditions it: lost samples in gaps up to `MAX_HOLD_S` hold the last
    value (`hold_short_gaps`), longer gaps stay NaN."""
    raw = np.asarray(raw, dtype=np.float64)
    if np.isfinite(raw).all():  # nothing lost, nothing to bridge (a copy is 58 MB per channel-hour)
        return raw, np.zeros(len(raw), dtype=bool)
    bridged, held, _, _ = hold_short_gaps(raw, max(1, int(round(MAX_HOLD_S * fs))))
    return bridged, held


def channel_mains(raw: np.ndarray, fs: float) -> float | None:
    """The mains notch (50, 60 Hz or None) `ChannelOnsets` decides for a whole channel under
    mains "auto" (`detect_mains` of `bridged_lost`)."""
    return detect_mains(bridged_lost(raw, fs)[0], fs)


class ChannelOnsets:
    """Onset detection on one EMG channel (V at `fs` Hz), prepared once, queried per window.

    Detection runs on causally filtered signals: a zero-phase filter would smear a
    burst's energy backwards in time (a mains notch by hundreds of ms) and report
    onsets before they happen. The band-pass's group delay at the EMG's typical
    100 Hz is subtracted from every onset.
    """

    def __init__(self, raw: np.ndarray, fs: float, params: OnsetParams = OnsetParams(),
                 mains: float | str | None = "auto") -> None:  # fmt: skip
        band = params.band_hz
        self.raw = np.asarray(raw, dtype=np.float64)
        self.fs = fs
        self.params = params
        bridged, self.held = bridged_lost(self.raw, fs)
        self._checked = bridged  # quality checks see the bridged signal: a lone lost sample hides no artefact
        self.mains_hz = detect_mains(bridged, fs) if mains == "auto" else mains
        self.cond = condition_lost(bridged, fs, band, self.mains_hz)
        self.env = detection_envelope(self.cond, fs, params, causal=True)
        self.delay_s, self.delay_sd_s = band_delay(fs, band)

    def onset(self, baseline_s: tuple[float, float], search_s: tuple[float, float]) -> Onset:
        """The first onset in the search window; windows and results in s from the signal start."""
        fs, d = self.fs, self.delay_s
        # windows move with the filters' delay, so that a window sees what happened in it
        base = (int(round((baseline_s[0] + d) * fs)), int(round((baseline_s[1] + d) * fs)))
        search = (int(round((search_s[0] + d) * fs)), int(round((search_s[1] + d) * fs)))
        o = detect_onset(self.cond, fs, base, search, self.params, env=self.env, raw=self._checked, held=self.held)
        shift = lambda t: None if t is None else t - d  # noqa: E731
        sd_ms = None if o.sd_ms is None else float(np.hypot(o.sd_ms, self.delay_sd_s * 1000))
        return Onset(shift(o.onset_s), shift(o.offset_s), sd_ms, o.quality, o.snr_db)


def sustained_start(above: np.ndarray, min_len: int) -> int | None:
    """Index of the first run of True at least `min_len` long."""
    starts, stops = run_edges(above)
    long = np.flatnonzero(stops - starts >= min_len)
    return int(starts[long[0]]) if long.size else None


def _baseline_stats(env: np.ndarray, baseline: tuple[int, int]) -> tuple[float, float]:
    b = env[baseline[0] : baseline[1]]
    b = b[np.isfinite(b)]
    if b.size < 10:
        return np.nan, np.nan
    return float(np.mean(b)), float(np.std(b))


def _threshold_onset(env: np.ndarray, fs: float, search: tuple[int, int], mu: float, sd: float,
                     k: float, p: OnsetParams) -> tuple[int | None, int | None]:  # fmt: skip
    """(onset, first sample above threshold) in absolute indices, or (None, None)."""
    a, b = search
    seg = env[a:b]
    min_len = max(1, int(round(p.min_duration_s * fs)))
    i = sustained_start(seg > mu + k * sd, min_len)  # a lost (NaN) sample is never above it
    if i is None:
        return None, None
    start = max(0, i - int(p.max_backtrack_s * fs))
    quiet = np.flatnonzero(seg[start : i + 1] <= mu + p.backtrack_sd * sd)
    j = start + int(quiet[-1]) + 1 if quiet.size else start
    return a + j, a + i


def _double_threshold_onset(cond: np.ndarray, fs: float, search: tuple[int, int],
                            noise_sd: float, p: OnsetParams) -> int | None:  # fmt: skip
    a, b = search
    z = (cond[a:b] / noise_sd) ** 2
    zeta = chi2.ppf(1 - p.pfa, df=1)
    m = max(2, int(round(p.window_s * fs)))
    # r0: fewest of m samples above zeta that noise alone reaches with probability < 1e-3
    r0 = int(binom.ppf(1 - 1e-3, m, p.pfa)) + 1
    counts = np.convolve(np.nan_to_num(z, nan=0.0) > zeta, np.ones(m), "full")[: len(z)]
    active = counts >= r0
    min_len = max(1, int(round(p.min_duration_s * fs)))
    i = sustained_start(active, min_len)
    if i is None:
        return None
    # the first window that satisfied the rule ends at i: its first suprathreshold sample
    window = np.flatnonzero(z[max(0, i - m + 1) : i + 1] > zeta)
    return a + max(0, i - m + 1) + (int(window[0]) if window.size else 0)


def variance_changepoint(x: np.ndarray, min_seg: int = 5) -> tuple[int, float] | None:
    """Maximum-likelihood single change in variance of zero-mean `x`: (index, posterior SD)."""
    e = np.asarray(x, dtype=np.float64) ** 2
    n = len(e)
    if n < 2 * min_seg + 1 or not np.isfinite(e).all():
        return None
    c = np.cumsum(e)
    tau = np.arange(min_seg, n - min_seg)
    v1 = c[tau - 1] / tau
    v2 = (c[-1] - c[tau - 1]) / (n - tau)
    cost = tau * np.log(np.maximum(v1, 1e-300)) + (n - tau) * np.log(np.maximum(v2, 1e-300))
    k = int(np.argmin(cost))
    post = np.exp(-0.5 * (cost - cost[k]))
    post /= post.sum()
    mean = float(np.sum(post * tau))
    return int(tau[k]), float(np.sqrt(np.sum(post * (tau - mean) ** 2)))


def _snr_db(env: np.ndarray, onset: int, fs: float, mu: float) -> float | None:
    burst = env[onset : onset + int(0.2 * fs)]
    burst = burst[np.isfinite(burst)]
    if burst.size == 0 or mu <= 0:
        return None
    return float(20 * np.log10(max(np.median(burst), 1e-30) / mu))


def _rms(x: np.ndarray) -> float:
    x = x[np.isfinite(x)]
    return float(np.sqrt(np.mean(x**2))) if x.size else 0.0


@functools.lru_cache(maxsize=8)
def _artefact_band(fs: float) -> tuple[np.ndarray, np.ndarray, int]:
    """The 1-15 Hz band of movement artefacts: its sections, their steady-state initial
    conditions and `sosfiltfilt`'s default padding (designed once per rate: it is asked per onset)."""
    sos = butter(2, [1.0, 15.0], btype="bandpass", fs=fs, output="sos")
    ntaps = 2 * len(sos) + 1 - min(int((sos[:, 2] == 0).sum()), int((sos[:, 5] == 0).sum()))
    return sos, sosfilt_zi(sos), 3 * ntaps


def _artefact_low(x: np.ndarray, fs: float) -> np.ndarray:
    """`scipy.signal.sosfiltfilt` of `x` (1-D) in the artefact band, step for step (odd
    extension, steady-state start both ways), with the initial conditions designed once:
    sosfiltfilt solves for them on every call, a third of its time on the 2-s stretches
    asked per onset."""
    sos, zi, edge = _artefact_band(fs)
    if len(x) <= edge:
        return sosfiltfilt(sos, x)  # says why it cannot
    ext = np.concatenate((2 * x[0] - x[edge:0:-1], x, 2 * x[-1] - x[-2 : -(edge + 2) : -1]))
    y, _ = sosfilt(sos, ext, zi=zi * ext[0])
    y, _ = sosfilt(sos, y[::-1], zi=zi * y[-1])
    return y[::-1][edge:-edge]


def artefact_at_onset(cond: np.ndarray, raw: np.ndarray, fs: float, baseline: tuple[int, int],
                      onset: int) -> bool:  # fmt: skip
    """A movement artefact coincides with the onset: around it, 1-15 Hz content outweighs the
    EMG band three times over and has risen five-fold from the baseline. The 1-15 Hz band
    is computed only over the baseline-to-onset stretch, not the whole signal."""
    lo = max(min(baseline[0], onset - int(0.05 * fs)) - int(0.5 * fs), 0)  # 0.5 s for the filter to settle
    hi = min(onset + int(0.65 * fs), len(raw))
    seg = raw[lo:hi]
    if hi - lo < 2 * fs or not np.isfinite(seg).all():
        return False
    low = _artefact_low(seg - np.median(seg), fs)
    w = slice(max(onset - int(0.05 * fs), 0) - lo, onset + int(0.15 * fs) - lo)
    lf = _rms(low[w])
    return lf > 3 * _rms(cond[lo:hi][w]) and lf > 5 * max(_rms(low[baseline[0] - lo : baseline[1] - lo]), 1e-12)


def _quality(raw: np.ndarray | None, env: np.ndarray, fs: float, baseline: tuple[int, int],
             search: tuple[int, int], onset: int | None, mu: float, sd: float, snr: float | None,
             p: OnsetParams, cond: np.ndarray | None = None, held: np.ndarray | None = None) -> str:  # fmt: skip
    a, b = search
    near = (a, b) if onset is None else (max(onset - int(0.05 * fs), 0), onset + int(p.min_duration_s * fs) + 1)
    if not np.isfinite(env[baseline[0] : baseline[1]]).all() or not np.isfinite(env[near[0] : near[1]]).all():
        return "gap"
    if held is not None and onset is not None:
        # bridged lost samples at the onset: a lone lost sample moves it by about a sample,
        # but a tenth of the 20 ms around it lost (a 2-ms hole) leaves its time uncertain
        w = max(1, int(round(HELD_WINDOW_S * fs)))
        if held[max(onset - w, 0) : onset + w].mean() > HELD_FRACTION:
            return "gap"
    if onset is None:
        return "no_burst"
    if raw is not None and cond is not None and artefact_at_onset(cond, raw, fs, baseline, onset):
        return "artefact"
    min_len = max(1, int(round(p.min_duration_s * fs)))
    if snr is not None and snr < p.min_snr_db:
        return "noisy_baseline"
    if sustained_start(env[baseline[0] : baseline[1]] > mu + p.k_sd * sd, min_len) is not None:
        return "noisy_baseline"  # the 'quiet' baseline holds a burst of its own
    return "ok"


def detect_onset(cond: np.ndarray, fs: float, baseline: tuple[int, int], search: tuple[int, int],
                 params: OnsetParams = OnsetParams(), env: np.ndarray | None = None,
                 raw: np.ndarray | None = None, held: np.ndarray | None = None, origin: int = 0) -> Onset:  # fmt: skip
    """The first onset in `search` (sample indices [a, b)) of conditioned EMG `cond`.

    `held` marks lost samples bridged for filtering (`hold_short_gaps`): an onset that
    touches one is flagged `gap`, one elsewhere in the repetition is not. `origin`: the
    index of `cond[0]` in the whole stream (a live buffer's start).

    `baseline` is a quiet window before it. Pass the precomputed `env`
    (`detection_envelope`) when calling many times on one signal, and the
    unconditioned `raw` signal (V) to check for saturation, lift-off and movement artefacts.
    """
    p = params
    if env is None:
        env = detection_envelope(cond, fs, p)
    baseline = (max(baseline[0], 0), min(baseline[1], len(cond)))
    search = (max(search[0], 0), min(search[1], len(cond)))
    mu, sd = _baseline_stats(env, baseline)
    if not np.isfinite(mu) or search[1] - search[0] < 2:
        return Onset(None, None, None, "gap")
    onset, crossing = _threshold_onset(env, fs, search, mu, sd, p.k_sd, p)
    lag = envelope_lag(fs, p)
    if onset is not None:  # from the envelope's time to the conditioned signal's
        onset, crossing = max(onset - lag, search[0]), max(crossing - lag, search[0])
    sd_s, fitted = None, False
    if onset is not None and p.detector == "double_threshold":
        noise = cond[baseline[0] : baseline[1]]
        onset = _double_threshold_onset(cond, fs, search, float(np.nanstd(noise)), p) or onset
    if onset is not None and p.detector in ("threshold", "tkeo") and p.departure:
        dep = departure(cond, fs, baseline, crossing, search[0], onset, origin, p.fit)
        if dep is not None:  # the rise traced back to its start (onset_departure's docstring)
            onset, sd_s, fitted = max(int(round(dep[0])), 0), dep[1] / fs, True  # moved back: not before the signal
    if onset is not None and p.detector == "changepoint":
        lo = max(search[0], crossing - int(p.changepoint_span_s * fs), baseline[0])
        hi = min(crossing + int(p.min_duration_s * fs), len(cond))
        cp = variance_changepoint(cond[lo:hi])
        if cp is not None:
            onset, sd_s = lo + cp[0], max(cp[1], 1.0) / fs
    if onset is not None and sd_s is None:
        sd_s = _uncertainty(env, fs, search, mu, sd, p, onset)
    offset = None
    if onset is not None:
        min_len = max(1, int(round(p.min_duration_s * fs)))
        below = env[onset + lag : search[1]] < mu + p.k_sd * sd  # nor below it
        k = sustained_start(below, min_len)
        offset = None if k is None else onset + k
    snr = None if onset is None else _snr_db(env, onset + lag, fs, mu)
    if fitted:  # with the band's resolution, widened as the SNR falls (`snr_sd_factor`)
        sd_s = float(np.hypot(sd_s, band_resolution_s(fs, p.band_hz, p.fit))) * snr_sd_factor(snr, p.fit)
    quality = _quality(raw, env, fs, baseline, search, onset, mu, sd, snr, p, cond, held)
    lost = None if onset is None else _lost_before(cond, onset, search[0], fs)
    if lost is not None:  # the burst began while samples were lost: somewhere in them, not where they end
        onset = (lost[0] + lost[1]) // 2
        sd_s = float(np.hypot(sd_s, (lost[1] - lost[0]) / np.sqrt(12) / fs))
    return Onset(
        None if onset is None else onset / fs,
        None if offset is None else offset / fs,
        None if sd_s is None else sd_s * 1000,
        quality, snr,
    )  # fmt: skip


def _lost_before(cond: np.ndarray, onset: int, start: int, fs: float) -> tuple[int, int] | None:
    """The lost samples (NaN in `cond`, a stretch longer than the few bridged for filtering)
    that end within `GAP_BOUND_S` before `onset`, as [first, end) from `start` (the search
    window's start) on; None where there are none.

    An onset found as the signal comes back from a drop-out is where the burst was first
    seen, not where it began: it was already rising when the samples were lost. Its time is
    then somewhere in the drop-out (or just before it, on a slow rise), so it is reported at
    the drop-out's middle, its SD widened by the drop-out's (a uniform spread over it: the
    95 % interval spans the drop-out), and its quality is `gap`. At the drop-out's end with
    the fit's SD of ~3 ms, simulated drop-outs of 50-400 ms over burst onsets (`faults`) gave
    onsets 40-330 ms late with intervals covering almost none of them."""
    bound = int(round(GAP_BOUND_S * fs))
    near = cond[max(onset - bound, 0) : onset + 1]
    nan = np.flatnonzero(~np.isfinite(near))
    if not nan.size:
        return None
    end = max(onset - bound, 0) + int(nan[-1]) + 1
    seen = np.flatnonzero(np.isfinite(cond[start:end]))  # back to the window's start only, not the whole channel
    first = start + (int(seen[-1]) + 1 if seen.size else 0)
    return (first, end) if end > first else None


def _uncertainty(env, fs, search, mu, sd, p: OnsetParams, onset: int) -> float:
    """Onset uncertainty (s): the spread of the onset over a range of thresholds, combined
    with half the envelope's rise time from the onset to the highest threshold (a slow
    rise leaves the true departure from baseline uncertain, a sudden one does not)."""
    runs = [_threshold_onset(env, fs, search, mu, sd, k, p) for k in p.k_sweep]
    found = [o for o, _ in runs if o is not None and abs(o - onset) < 0.2 * fs]  # not another burst
    spread = float(np.std(found)) if len(found) > 1 else 0.0
    crossing = runs[int(np.argmax(p.k_sweep))][1]  # where the highest threshold is crossed
    rise = 0.5 * (crossing - onset) if crossing is not None and crossing - onset < 0.2 * fs else 0.0
    return max(float(np.hypot(spread, rise)), 1.0) / fs


@dataclass(frozen=True)
class BurstParams:
    """Whole-signal segmentation into activations (rest between contractions as baseline)."""

    rms_window_s: float = 0.1  # segmentation envelope: moving RMS of the conditioned signal
    # A 0.1-s RMS of rest noise varies by about 1/sqrt(2N) (5-7% at 1-2 kHz), so 8 SD
    # puts the threshold near 1.5 x the rest level: activity, not noise.
    k_sd: float = 8.0
    quiet_window_s: float = 0.25  # short enough to fit between strides in gait
    quiet_fraction: float = 0.3  # baseline: the quietest 30% of those windows
    min_duration_s: float = 0.15  # shorter events are spikes, not contractions
    merge_gap_s: float = 0.25


def find_bursts(cond: np.ndarray, fs: float, params: OnsetParams = OnsetParams(),
                burst: BurstParams = BurstParams(),
                env: np.ndarray | None = None) -> list[tuple[float, float]]:  # fmt: skip
    """All activations (onset s, offset s) of a whole conditioned signal.

    Segmentation uses a smooth RMS envelope against the quietest windows of the
    signal (so that one contraction is one burst, not many); each onset is then
    traced back on the detection envelope to where it left the baseline.
    """
    b = burst
    rms = moving_rms(cond, fs, b.rms_window_s)
    w = int(b.quiet_window_s * fs)
    n_win = len(rms) // w
    if n_win < 3:
        return []
    blocks = rms[: n_win * w].reshape(n_win, w)
    seen = np.isfinite(blocks).any(axis=1)  # a window lost whole has no mean (and is never quiet)
    means = np.full(n_win, np.nan)
    means[seen] = np.nanmean(blocks[seen], axis=1)
    quiet = np.argsort(np.nan_to_num(means, nan=np.inf))[: max(1, int(n_win * b.quiet_fraction))]
    pooled = np.concatenate([rms[q * w : (q + 1) * w] for q in quiet])
    h = np.nanmean(pooled) + b.k_sd * np.nanstd(pooled)
    merged = merge_runs(true_runs(np.nan_to_num(rms, nan=-np.inf) > h), b.merge_gap_s * fs)
    runs = [(a, e) for a, e in merged if e - a >= b.min_duration_s * fs]
    if env is None:
        env = detection_envelope(cond, fs, params)
    env_pooled = np.concatenate([env[q * w : (q + 1) * w] for q in quiet])
    mu, sd = float(np.nanmean(env_pooled)), float(np.nanstd(env_pooled))
    out = []
    for a, e in runs:
        lo = max(0, a - int((b.rms_window_s + params.max_backtrack_s) * fs))
        o, _ = _threshold_onset(env, fs, (lo, e), mu, sd, params.k_sd, params)
        out.append(((max(o - envelope_lag(fs, params), 0) if o is not None else a) / fs, e / fs))
    return out
