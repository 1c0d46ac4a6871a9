"""What real surface EMG carries besides muscle: noise, mains, ECG, motion, offsets.

Every function returns volts, one value per sample of a time vector `t` (s).
"""

from __future__ import annotations

import numpy as np
from scipy.signal import butter, sosfilt


def _lowpass_noise(n: int, fs: float, cutoff: float, rng: np.random.Generator) -> np.ndarray:
    sos = butter(2, cutoff, fs=fs, output="sos")
    x = sosfilt(sos, rng.standard_normal(n + int(fs)))[int(fs) :]
    return x / max(float(np.std(x)), 1e-12)


def amplifier_noise(n: int, fs: float, rms: float, rng: np.random.Generator, colour: float = 0.0) -> np.ndarray:
    """Electrode-skin and amplifier noise: a broadband part plus a 1/f-like low-frequency part.

    `colour`: the broadband part's spectral slope, power ~ 1/f^colour (0 white, 1 pink: the
    electrode-skin interface's noise falls with frequency through the EMG band), at the same RMS.
    """
    white = rng.standard_normal(n)
    if colour:
        spectrum = np.fft.rfft(white)
        f = np.fft.rfftfreq(n, 1 / fs)
        # amplitude ~ f^(-colour/2) from 10 Hz up, flat below: the slope runs through the EMG band
        # instead of piling the power into drift below it, which the band-pass would remove
        spectrum[1:] /= (np.maximum(f[1:], 10.0) / f[-1]) ** (colour / 2)
        spectrum[0] = 0.0
        white = np.fft.irfft(spectrum, n)
        white /= max(float(np.std(white)), 1e-30)
    flicker = _lowpass_noise(n, fs, 5.0, rng)
    return rms * (0.9 * white + 0.45 * flicker)


def mains_hum(t: np.ndarray, freq: float, amplitude: float, rng: np.random.Generator) -> np.ndarray:
    """Mains interference at `freq` (50/60 Hz) with odd harmonics and slow amplitude drift."""
    fs = 1 / np.median(np.diff(t[:100]))
    drift = 1 + 0.25 * _lowpass_noise(t.size, fs, 0.2, rng)
    out = np.zeros(t.size)
    for harmonic, rel in ((1, 1.0), (3, 0.3), (5, 0.12)):
        if harmonic * freq < fs / 2:
            out += rel * np.sin(2 * np.pi * harmonic * freq * t + rng.uniform(0, 2 * np.pi))
    return amplitude * drift * out


def ecg(t: np.ndarray, amplitude: float, rng: np.random.Generator, heart_rate: float = 70.0):
    """Surface ECG as picked up over the trunk: P-QRS-T complexes with heart-rate variability.

    `amplitude` is the R-wave peak in volts.
    """
    beats = []
    tb = t[0] + rng.uniform(0, 60 / heart_rate)
    while tb < t[-1] + 1:
        beats.append(tb)
        tb += 60 / heart_rate * (1 + 0.05 * rng.standard_normal())
    # (offset s, width s, relative amplitude) of P, Q, R, S, T
    waves = ((-0.2, 0.025, 0.12), (-0.03, 0.01, -0.15), (0.0, 0.012, 1.0),
             (0.03, 0.012, -0.3), (0.25, 0.05, 0.25))  # fmt: skip
    out = np.zeros(t.size)
    for b in beats:
        lo, hi = np.searchsorted(t, [b - 0.4, b + 0.5])
        if hi <= lo:
            continue
        tt = t[lo:hi] - b
        for off, w, a in waves:
            out[lo:hi] += a * np.exp(-0.5 * ((tt - off) / w) ** 2)
    return amplitude * out


def skip_ecg_draws(t: np.ndarray, rng: np.random.Generator, heart_rate: float = 70.0) -> None:
    """Advance `rng` as `ecg` would, without rendering (keeps older sessions' other draws)."""
    tb = t[0] + rng.uniform(0, 60 / heart_rate)
    while tb < t[-1] + 1:
        tb += 60 / heart_rate * (1 + 0.05 * rng.standard_normal())


def motion_artefact(
    t: np.ndarray, at: float, amplitude: float, rng: np.random.Generator
) -> np.ndarray:
    """A cable/electrode movement transient starting near time `at`: a damped low-frequency
    wave (1-12 Hz, 0.1-0.4 s), the kind that accompanies the start of a movement."""
    out = np.zeros(t.size)
    start = at + rng.uniform(-0.05, 0.1)
    lo, hi = np.searchsorted(t, [start, start + 0.8])
    tt = t[lo:hi] - start
    freq = rng.uniform(1.0, 12.0)
    decay = rng.uniform(0.1, 0.4)
    out[lo:hi] = amplitude * rng.choice([-1, 1]) * np.sin(2 * np.pi * freq * tt) * np.exp(-tt / decay)
    return out


def baseline_wander(n: int, fs: float, amplitude: float, rng: np.random.Generator) -> np.ndarray:
    """Slow electrode potential drift (< 1 Hz)."""
    return amplitude * _lowpass_noise(n, fs, 0.5, rng)
