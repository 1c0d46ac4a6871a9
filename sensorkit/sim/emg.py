"""Motor-unit model of surface EMG.

Each muscle is a pool of motor units recruited in order of threshold (Henneman's
size principle) as its excitation rises, firing with rate coding and irregular
inter-spike intervals; each unit's action potential, as seen at the skin, is a
bi-/triphasic wave whose width and amplitude grow with its threshold. The sum is
an interference pattern with a sEMG-like spectrum, and its true onset is the
first discharge of the first recruited unit. Parameters follow Fuglevand et al.
(1993), J Neurophysiol 70:2470 (thresholds over a 1:60 range, amplitudes over
1:100, 8 Hz minimum firing rate, ~0.2 ISI coefficient of variation).
"""

from __future__ import annotations

import numpy as np
from scipy.signal import oaconvolve

MIN_RATE_HZ = 8.0
RATE_GAIN_HZ = 40.0  # rate increase per unit of excitation above threshold
PEAK_RATE_HZ = 35.0
ISI_CV = 0.2
N_SHAPES = 6


def _muap_templates(fs: float, rng: np.random.Generator, scale: float = 1.0) -> tuple[np.ndarray, list[np.ndarray]]:
    """Widths (s) and skin-surface MUAP shapes (unit peak) for N_SHAPES classes; `scale`
    widens them all (more tissue between fibres and electrode: a lower spectrum)."""
    widths = np.geomspace(0.7e-3, 2.4e-3, N_SHAPES) * scale
    shapes = []
    for sigma in widths:
        t = np.arange(-6 * sigma, 6 * sigma + 1 / fs, 1 / fs)
        g = np.exp(-0.5 * (t / sigma) ** 2)
        d1 = -t / sigma * g  # biphasic
        d2 = (1 - (t / sigma) ** 2) * g  # triphasic
        mix = rng.uniform(0.2, 0.8)
        shape = mix * d1 / np.abs(d1).max() + (1 - mix) * d2 / np.abs(d2).max()
        shapes.append(shape / np.abs(shape).max())
    return widths, shapes


def _spike_indices(
    excitation: np.ndarray, threshold: float, fs: float, rng: np.random.Generator
) -> np.ndarray:
    """Sample indices of one unit's discharges for an excitation time course."""
    active = np.flatnonzero(excitation > threshold)
    if active.size == 0:
        return active
    rate = np.minimum(MIN_RATE_HZ + RATE_GAIN_HZ * (excitation[active] - threshold), PEAK_RATE_HZ)
    # Phase advances only while the unit is recruited; a new recruitment starts at a
    # fresh random phase so that the first discharge follows recruitment promptly.
    starts = np.flatnonzero(np.diff(active, prepend=-2) > 1)
    phase_step = rate / fs
    phase_step[starts] += rng.uniform(0.6, 1.0, starts.size)
    phase = np.cumsum(phase_step)
    n_max = int(phase[-1]) + 2
    intervals = np.clip(1 + ISI_CV * rng.standard_normal(n_max), 0.4, 1.8)
    crossings = np.cumsum(intervals)
    crossings = crossings[crossings <= phase[-1]]
    return active[np.searchsorted(phase, crossings)]


def motor_unit_emg(
    excitation: np.ndarray,
    fs: float,
    rng: np.random.Generator,
    n_units: int = 100,
    rms_at_half: float = 100e-6,
    first_threshold: float = 0.01,
    muap_scale: float = 1.0,
    muap_after_discharge: bool = True,
) -> np.ndarray:
    """Surface EMG (V) of one muscle for an excitation time course in [0, 1].

    `rms_at_half` sets the amplitude: RMS of the signal during a steady excitation
    of 0.5, in volts. `first_threshold`: the excitation that recruits the smallest unit
    (recruitment thresholds spread geometrically from it to 0.6). `muap_scale`: the
    action potentials' widths as a multiple of 0.7-2.4 ms (2: the spectrum's median
    frequency halves, as under a thick fat layer). `muap_after_discharge`: each potential
    begins at its unit's discharge (its peak 6 widths, 4-14 ms, later), as the potential
    of a fibre excited at its end plate reaches the skin after the discharge (the
    default); False centres it on the discharge, so that half of it precedes the discharge.
    """
    thresholds = first_threshold * np.exp(np.log(0.6 / first_threshold) * np.arange(n_units) / n_units)
    amplitudes = np.exp(np.log(100) * np.arange(n_units) / n_units)
    amplitudes *= rng.uniform(0.7, 1.3, n_units)
    widths, shapes = _muap_templates(fs, rng, muap_scale)
    if muap_after_discharge:  # zeros before each shape: centred on its discharge, it begins there
        shapes = [np.r_[np.zeros(s.size - 1), s] for s in shapes]
    # bigger units have wider potentials, with scatter from fibre depth
    width_rank = np.clip(
        np.round(np.arange(n_units) / n_units * (N_SHAPES - 1) + rng.normal(0, 1, n_units)),
        0,
        N_SHAPES - 1,
    ).astype(int)
    signs = rng.choice([-1.0, 1.0], n_units)

    def synthesise(exc: np.ndarray) -> np.ndarray:
        out = np.zeros(exc.size)
        for k in range(N_SHAPES):
            train = np.zeros(exc.size)
            for u in np.flatnonzero(width_rank == k):
                idx = _spike_indices(exc, thresholds[u], fs, rng)
                np.add.at(train, idx, signs[u] * amplitudes[u])
            if train.any():
                out += oaconvolve(train, shapes[k], mode="same")
        return out

    calib = synthesise(np.full(int(fs), 0.5))
    gain = rms_at_half / max(float(np.sqrt(np.mean(calib**2))), 1e-12)
    return synthesise(np.asarray(excitation, dtype=np.float64)) * gain
