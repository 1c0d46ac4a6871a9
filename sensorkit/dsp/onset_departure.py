"""Where a burst left its baseline: the onset a threshold crossing points to, traced back.

A threshold detector fires when enough motor units are active for the envelope to clear
its threshold. When the drive rises slowly (a 10-90 % rise of 20-150 ms is common), the
first units to be recruited are small and fire sparsely, and that moment comes 10-20 ms
after the activation began; a backward search to a lower threshold recovers only part
of it, and less the lower the SNR. Here the rise itself is modelled and extrapolated
back to its start, which is DESIGN.md section 6's onset (the instant the EMG first
departs from its baseline).

Model: around the crossing, the EMG's Teager-Kaiser energy (|TKEO| of the conditioned
signal, averaged over a 10-ms centred window: the detector's own signal, which keeps
ECG low) is the baseline level P0 until the departure tau and then P0 + A (t - tau)^p,
p in 1-4 (the shape of a linear, smooth or exponential drive as seen through
recruitment and rate coding), fitted in the log domain (the energy's spread grows with
its level) with absolute residuals (robust to ECG beats and pops), from up to 300 ms
before the crossing to where the burst reaches half its early level. The model is
box-averaged exactly as the data are, so the smoothing does not move the onset. The
departure is sought no earlier than 20 ms before the signal was last at its baseline
level and 40 ms before the crossing traced back to 1 SD: further back lies baseline
activity or a neighbour's crosstalk that started first, not this muscle. This is a
changepoint fit with a ramp after the change instead of a step (Tenan et al. 2017
found Bayesian changepoint methods closest to expert onsets), written here because no
maintained library fits this model (ruptures and the like fit steps).

The energy rises a little after the discharges that cause it (a potential reaches the
skin after its discharge and its energy peaks some way into it), so the departure found
is moved back by half a potential, measured from the burst's own spectrum
(`potential_delay_s`).

Uncertainty: the profile likelihood of tau (its spread over the departures the data
allow, with the residuals' correlation over the smoothing window), combined with a
model-shape term of 17 % of the fitted rise's duration, a 4-ms floor (the first
recruited unit's first discharge comes at a random moment after the drive passes its
threshold) and the onset band's time resolution (`band_resolution_s`), the whole
multiplied by a factor that grows as the onset's SNR falls (`snr_sd_factor`: 1.4 at low
SNR, 0.7 at high; the part of a rise beneath the noise is what the fit cannot see).
Calibration figures are in docs/analysis.md (bench_onset.py's calibration and variations
tables).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from scipy.signal import welch

from sensorkit.dsp.filters import band_edges, tkeo


@dataclass(frozen=True)
class DepartureParams:
    smooth_s: float = 0.010  # power averaged over this (centred): long enough to see sparse units
    step_s: float = 0.002  # the power is sampled this often for the fit
    span_s: float = 0.3  # the departure is sought this far before the crossing
    reach_s: float = 0.3  # the burst's early power: the 90th percentile this long after the crossing
    max_after_s: float = 0.25  # the fit ends at half that power, at most this long after the crossing
    powers: tuple[float, ...] = (1.0, 2.0, 3.0, 4.0)
    levels: int = 5  # candidate levels the rise reaches at the fit's end (0.4-2.5 x the power seen there)
    quiet_s: float = 0.02  # local power over this long, back at baseline level: the signal is quiet there
    lead_s: float = 0.02  # the departure may precede the last quiet moment by this much
    # ...and the threshold's backtracked onset by at most this much: on 150-ms ramps the
    # backtracked onset is 10-60 ms late; further back lies crosstalk from a neighbour that
    # started first, not this muscle
    max_lead_s: float = 0.04
    shape_sd: float = 0.17  # model-shape uncertainty: this fraction of the fitted rise's duration
    floor_sd_s: float = 0.004
    # the SD is multiplied by snr_scale[0] at and below the onset's SNR snr_knots_db[0] (its
    # `snr_db`: the detection envelope's burst over baseline), by snr_scale[1] at and above
    # snr_knots_db[1], linearly between (`snr_sd_factor`)
    snr_scale: tuple[float, float] = (1.4, 0.7)
    snr_knots_db: tuple[float, float] = (30.0, 60.0)
    # the departure is moved back by this many periods of the burst's median frequency: the
    # time from a discharge to its potential's energy (`potential_delay_s`; 0: not moved)
    delay_cycles: float = 0.53
    delay_window_s: float = 0.2  # the burst's spectrum: this long from the departure on
    delay_hz: tuple[float, float] = (30.0, 250.0)  # the median frequency is clipped to this range
    # the onset band's time resolution joins the SD: this many periods of its width
    # (`band_resolution_s`; 0: left out)
    resolution_periods: float = 1.0


TYPICAL_MEDIAN_HZ = 100.0  # a surface EMG's median frequency, where the burst's cannot be measured
SPECTRUM_SEGMENT_S = 0.064  # Welch segments: 15.6-Hz resolution


def burst_median_hz(burst: np.ndarray, base: np.ndarray, fs: float) -> float | None:
    """The median frequency (Hz) of a burst's power above its baseline's, in 20-450 Hz
    (Welch; the baseline's power subtracted, so that at low SNR the noise's flat spectrum
    does not lift it); None when the burst's power does not stand above the baseline's."""
    n = int(round(SPECTRUM_SEGMENT_S * fs))
    if burst.size < n or base.size < n:
        return None
    f, pb = welch(burst, fs, nperseg=n)
    _, p0 = welch(base, fs, nperseg=n)
    low, high = band_edges(fs)
    band = (f >= low) & (f <= high)
    f, p = f[band], np.clip(pb[band] - p0[band], 0.0, None)
    if not p.sum() > 0:
        return None
    c = np.cumsum(p)
    return float(f[np.searchsorted(c, 0.5 * c[-1])])


def potential_delay_s(burst: np.ndarray, base: np.ndarray, fs: float,
                      params: DepartureParams = DepartureParams()) -> float:  # fmt: skip
    """Seconds from the first discharges of a burst to the rise of its EMG's energy, which
    is what the departure fit finds: `delay_cycles` periods of the burst's median frequency
    (`burst_median_hz` of its first `delay_window_s`; the typical 100 Hz where it cannot be
    measured).

    Why: a motor unit's potential reaches the skin after its discharge (it starts at the end
    plate and travels along the fibres to the electrodes), and its energy peaks some way into
    it, later the wider it is. A fit to the energy's rise is therefore late by about half a
    potential. On simulated EMG whose potentials begin at their discharges, that lateness was
    4.4-4.9 ms at a median frequency of 109 Hz and 9.0-10.0 ms at 62 Hz (potentials twice as
    wide), in every SNR band: 0.53 periods either way (bench_onset.py's 15 sessions with
    potentials centred on and after their discharges, compared). The surface signal cannot
    show where a potential sits against its discharge, so this is a model of the physiology,
    not a measurement: on EMG simulated with potentials centred on their discharges (half of
    each before its cause), onsets come out about 5 ms early (docs/analysis.md).
    """
    if params.delay_cycles <= 0:
        return 0.0
    f = burst_median_hz(burst, base, fs)
    f = TYPICAL_MEDIAN_HZ if f is None else float(np.clip(f, *params.delay_hz))
    return params.delay_cycles / f


def band_resolution_s(fs: float, band: tuple[float, float], params: DepartureParams = DepartureParams()) -> float:
    """How closely (s) a signal confined to `band` (Hz; its upper edge capped by the sample rate,
    `band_edges`) can place the start of a rise: `resolution_periods` periods of the band's
    width. Through the onset band's 30-450 Hz, 2.4 ms; at 500 Hz (30-225 Hz) 5.1 ms, at
    250 Hz (30-112 Hz) 12 ms, at 200 Hz (30-90 Hz) 17 ms.

    Why: the fit's likelihood sees the power's noise, not how little of the rise's shape a
    narrow band passes. At 200-250 Hz its 95 % intervals covered 79-84 % of true onsets at
    10-20 dB while those at 2 kHz covered 96 % (bench_onset.py's variations, December 2026);
    with this term, 92 % at 200 Hz and 89 % at 250 Hz, and at 2 kHz every band of every
    variation within 1 % of before. The SNR factor (`snr_sd_factor`) scales it with the rest of the SD.
    """
    low, high = band_edges(fs, band)
    return params.resolution_periods / (high - low)


def snr_sd_factor(snr_db: float | None, params: DepartureParams = DepartureParams()) -> float:
    """The factor on `departure`'s SD for an onset whose detection-envelope SNR is `snr_db`
    (dB; None, unknown: the low-SNR factor).

    Why: the fit cannot see the part of a rise that lies beneath the noise, and how much of
    it there is depends on how the muscle recruits, which the surface signal does not show:
    the onsets whose error left their interval (mostly late, by 35-45 ms, at 10-20 dB) looked
    like the covered ones in every property of the fit (its rise, its power, the spread of
    its likelihood, the time its model spends under the noise). So the interval widens as
    the SNR falls, by factors measured over all twelve of bench_onset's EMG-model variations
    pooled (rise times, noise colour, ECG, tonic activity, recruitment threshold,
    crosstalk, potential widths and placement), not on one model; and narrows at high SNR,
    where the fit's SD alone covered 96-100 %. Chosen (December 2026, with the departure
    moved back to the discharges) on 30 sessions per variation, two sets of seeds: every
    band of every variation then lies within 90-99 % (the simulator as built: 96 % in each
    band); the factors before (1.4 below 35 dB, 0.9 above 60) left 13 of the 36 cells at
    99-100 %.
    """
    (lo, hi), (at_lo, at_hi) = params.snr_knots_db, params.snr_scale
    if snr_db is None or not np.isfinite(snr_db):
        return at_lo
    return float(at_lo + (at_hi - at_lo) * np.clip((snr_db - lo) / (hi - lo), 0.0, 1.0))


@functools.lru_cache(maxsize=4)
def _ratios(levels: int) -> np.ndarray:
    """The levels the rise may reach at the fit's end, as multiples of the power seen there
    (read-only: one array serves every call)."""
    out = np.geomspace(0.4, 2.5, levels)
    out.flags.writeable = False
    return out


def _smoothed_ramp(t: np.ndarray, taus: np.ndarray, p: float, half: float) -> np.ndarray:
    """(t - tau)+^p averaged over [t - half, t + half], for every tau (rows) and t (columns)."""
    hi = np.maximum(t[None, :] + half - taus[:, None], 0.0) ** (p + 1)
    lo = np.maximum(t[None, :] - half - taus[:, None], 0.0) ** (p + 1)
    return (hi - lo) / ((p + 1) * 2 * half)


def departure(cond: np.ndarray, fs: float, baseline: tuple[int, int], crossing: int, earliest: int,
              backtracked: int | None = None, origin: int = 0,
              params: DepartureParams = DepartureParams()) -> tuple[float, float] | None:  # fmt: skip
    """(departure, its SD), in samples of `cond` (conditioned EMG), of the burst whose
    detection envelope crossed its threshold at sample `crossing`; None when the signal
    around it does not allow a fit (lost samples, too little of it). The departure is
    sought from `earliest` (the search window's start) on; `baseline` (samples) is quiet.
    `origin` is the index of `cond[0]` in the whole stream (a live buffer's start): the fit's
    grids sit on the stream's samples, so a buffer that starts elsewhere gives the same answer."""
    q = params
    w = max(1, int(round(q.smooth_s * fs)))
    a = max(earliest, crossing - int(q.span_s * fs), 0)
    b = min(len(cond), crossing + int(q.reach_s * fs))
    seg = cond[a:b]
    base = cond[max(baseline[0], 0) : max(baseline[1], 0)]
    base = base[np.isfinite(base)]
    if b - a < 4 * w or base.size < w or not np.isfinite(seg).all():
        return None
    energy, base_energy = np.abs(tkeo(seg)), np.abs(tkeo(base))
    p0 = float(np.mean(base_energy))
    power = np.convolve(energy, np.ones(w) / w, "same")
    # all times from here on in samples from `a`, on integer grids: the answer must not depend
    # on where the signal's buffer starts (the live pipeline keeps a moving window of it)
    every = max(1, int(round(q.step_s * fs)))
    lo = w // 2 + (-(origin + a + w // 2)) % every  # on the stream's grid of every `every`-th sample
    idx = np.arange(lo, len(power) - w // 2, every)
    power = power[idx]
    tc = crossing - a
    after = idx >= tc
    if p0 <= 0 or not after.any():
        return None
    early = float(np.percentile(power[after], 90))
    reached = np.flatnonzero(after & (power >= p0 + 0.5 * (early - p0)))
    end = min(int(idx[reached[0]]) if reached.size else len(seg), tc + int(q.max_after_s * fs))
    keep = idx <= end
    t, power = idx[keep].astype(np.float64), power[keep]
    # backward from the crossing, the last moment the signal's local power was at baseline
    # level bounds the search: a departure much before it would be a slow rise fitted into
    # baseline activity (ECG beats, tonic or crosstalk bursts); the first units are sparse,
    # so the rise may have begun a little before that moment
    wq = max(1, int(round(q.quiet_s * fs)))
    local = np.convolve(energy, np.ones(wq) / wq, "same")[:tc]
    quiet = np.flatnonzero(local <= p0)
    first = int(quiet[-1]) - int(q.lead_s * fs) if quiet.size else 0
    if backtracked is not None:  # and no further than a slow rise's unseen start before the backtracked onset
        first = max(first, backtracked - a - int(q.max_lead_s * fs))
    step = max(1, int(round(0.001 * fs)))
    start = max(int(t[0]), first)
    start += (-(origin + a + start)) % step  # candidate departures on the stream's 1-ms grid too
    taus = np.arange(start, min(tc, end - 2 * every), step, dtype=np.float64)
    if len(t) < 10 or len(taus) < 3:
        return None
    y = np.log(np.maximum(power, 1e-300))
    at_end = float(np.median(power[t >= end - int(0.01 * fs)]))
    reach = np.maximum(end - taus, 1.0)
    half = w / 2
    # power samples whose window ends before the earliest candidate are baseline under every
    # model: their residuals are one constant, computed once
    pre = t + half <= taus[0]
    ssr = np.full(len(taus), np.inf)
    levels = np.maximum(at_end * _ratios(q.levels) - p0, 1e-300)  # the rise's gain at the fit's end, each level
    for p in q.powers:
        shape = _smoothed_ramp(t[~pre] / fs, taus / fs, p, half / fs)  # (taus, t)
        gain = levels[:, None] / ((reach / fs) ** p)[None, :]  # (levels, taus)
        model = np.log(p0 + gain[:, :, None] * shape[None, :, :])  # every level at once
        ssr = np.minimum(ssr, np.sum(np.abs(y[~pre] - model), axis=2).min(axis=0))
    ssr += np.sum(np.abs(y[pre] - np.log(p0)))
    k = int(np.argmin(ssr))
    scale = ssr[k] / max(len(t) - 3, 1)  # Laplace residuals: robust to ECG beats and pops
    # a box average of white noise stays correlated over +-1 box: 2 x smooth_s / step_s samples share it
    corr = max(2.0 * q.smooth_s / q.step_s, 1.0)
    post = np.exp(-(ssr - ssr[k]) / (scale * corr))
    post /= post.sum()
    spread = float(np.sqrt(np.sum(post * (taus - np.sum(post * taus)) ** 2)))
    sd = float(np.sqrt(spread**2 + (q.shape_sd * (end - taus[k])) ** 2 + (q.floor_sd_s * fs) ** 2))
    tau = int(taus[k])
    burst = seg[tau : tau + int(round(q.delay_window_s * fs))]
    return a + taus[k] - potential_delay_s(burst, base, fs, q) * fs, sd
