"""ECG picked up by surface EMG electrodes: heartbeats and each channel's R-wave amplitude.

Heartbeats are found on the channel where they stand out most (QRS energy at 8-35 Hz,
peaks at least 0.33 s apart, accepted only when their rhythm is regular: a heart at
40-180 bpm whose beat-to-beat intervals mostly lie within 20 % of their running
median; peaks picked from EMG or noise are not). Every channel's R wave is then
measured on the median of its beat-locked epochs: EMG and noise average out (the
median of N epochs has ~1.25 sigma / sqrt(N) of noise), the heart's wave does not.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from scipy.ndimage import uniform_filter1d
from scipy.signal import butter, find_peaks, sosfiltfilt

from sensorkit.dsp.filters import band_edges

QRS_BAND_HZ = (8.0, 35.0)
TEMPLATE_BAND_HZ = (3.0, 150.0)
MIN_RR_S, MAX_RR_S = 60 / 180, 60 / 40
REGULAR_SHARE = 0.7  # of intervals within 20 % of the running median
EPOCH_S = (-0.25, 0.4)
R_SEARCH_S = 0.04


def _qrs_energy(x: np.ndarray, fs: float) -> np.ndarray:
    sos = butter(2, band_edges(fs, QRS_BAND_HZ), btype="bandpass", fs=fs, output="sos")
    e = sosfiltfilt(sos, x) ** 2
    return uniform_filter1d(e, max(1, int(0.03 * fs)))


def _regular(beats: np.ndarray, fs: float) -> float:
    """Share of beat intervals within 20 % of the median of their 9 neighbours."""
    rr = np.diff(beats) / fs
    if rr.size < 10:
        return 0.0
    k = 4
    padded = np.r_[np.full(k, np.nan), rr, np.full(k, np.nan)]
    local = np.nanmedian(np.lib.stride_tricks.sliding_window_view(padded, 2 * k + 1), axis=1)
    ok = (np.abs(rr - local) < 0.2 * local) & (local >= MIN_RR_S) & (local <= MAX_RR_S)
    return float(np.mean(ok))


def heartbeats(channels: Iterable[np.ndarray], fs: float) -> np.ndarray | None:
    """Sample indices of the R waves in `channels` (each finite, V, sampled together; an
    iterable, so that a caller may make them one at a time), or None when no channel
    carries a regular heartbeat."""
    best, best_score = None, 0.0
    for x in channels:
        e = _qrs_energy(x, fs)
        floor = float(np.median(e))
        if floor <= 0:
            continue
        peaks, props = find_peaks(e, distance=int(MIN_RR_S * fs), height=4 * floor)
        if peaks.size < 10:
            continue
        # keep the peaks as tall as a typical beat: EMG bursts add small extra peaks
        tall = peaks[props["peak_heights"] > 0.3 * np.median(props["peak_heights"])]
        share = _regular(tall, fs)
        if share >= REGULAR_SHARE:
            score = share * np.log(np.median(e[tall]) / floor)
            if score > best_score:
                best, best_score = tall, score
    return best


def r_wave_amplitude(x: np.ndarray, fs: float, beats: np.ndarray) -> tuple[float, float]:
    """(R-wave amplitude, the template's noise), V, of one channel (finite) at `beats`.

    The amplitude is the largest deviation of the median beat within +-40 ms of the
    R wave from the median beat's own baseline (its median over the epoch).
    """
    sos = butter(2, band_edges(fs, TEMPLATE_BAND_HZ), btype="bandpass", fs=fs, output="sos")
    y = sosfiltfilt(sos, x)
    a, b = int(EPOCH_S[0] * fs), int(EPOCH_S[1] * fs)
    beats = beats[(beats + a >= 0) & (beats + b < len(y))]
    if beats.size < 5:
        return float("nan"), float("nan")
    epochs = y[beats[:, None] + np.arange(a, b)[None, :]]
    template = np.median(epochs, axis=0)
    base = float(np.median(template))
    r = slice(-a - int(R_SEARCH_S * fs), -a + int(R_SEARCH_S * fs) + 1)
    amp = float(np.max(np.abs(template[r] - base)))
    spread = 1.4826 * np.median(np.abs(epochs - template[None, :]), axis=0)
    noise = float(1.25 * np.median(spread) / np.sqrt(beats.size))
    return amp, noise
