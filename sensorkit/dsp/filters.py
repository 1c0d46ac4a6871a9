"""EMG conditioning (SENIAM/ISEK): offset removal, band-pass, mains notch, rectification,
linear envelope, moving RMS and %MVC normalisation.

Every function takes samples on axis 0 (shape (n,) or (n, channels)) and an explicit
sample rate `fs` in Hz. Offline functions are zero-phase (`sosfiltfilt`); `causal=True`
gives the causal version, which `StreamingFilter` reproduces chunk by chunk.

NaN rows (samples lost in transit) split a signal into segments that are filtered
separately: a gap stays a gap and never smears into its neighbours. Each segment's
filter starts in the steady state of its first sample, so an electrode's DC offset
does not ring through the output.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.signal import butter, iirnotch, sosfilt, sosfilt_zi, sosfiltfilt, tf2sos, welch

BAND_HZ = (20.0, 450.0)  # SENIAM/ISEK surface-EMG band
BAND_ORDER = 4
ENVELOPE_HZ = 6.0
RMS_WINDOW_S = 0.05
NOTCH_Q = 30.0
# samples a causal filter or TKEO works through at a time: their working copies stay in
# cache, where an hour-long copy of the signal for each step cost more than the arithmetic
STRETCH = 1 << 16


def band_edges(fs: float, band: tuple[float, float] = BAND_HZ) -> tuple[float, float]:
    """The band (Hz) as it is filtered at `fs`: the upper edge capped at 0.45 fs for low sample
    rates (112 Hz at 250 Hz, 90 Hz at 200 Hz)."""
    return band[0], min(band[1], 0.45 * fs)


def bandpass_sos(fs: float, band: tuple[float, float] = BAND_HZ, order: int = BAND_ORDER) -> np.ndarray:
    """Butterworth band-pass over `band_edges`."""
    low, high = band_edges(fs, band)
    if not 0 < low < high:
        raise ValueError(f"band-pass {band} Hz is impossible at {fs} Hz")
    return butter(order, [low, high], btype="bandpass", fs=fs, output="sos")


def notch_sos(fs: float, mains_hz: float, upto_hz: float | None = None, q: float = NOTCH_Q) -> np.ndarray:
    """Cascade of notches at the mains frequency and its harmonics below `upto_hz`."""
    upto = min(upto_hz or fs / 2, 0.48 * fs)
    sections = []
    f = mains_hz
    while f < upto:
        b, a = iirnotch(f, q, fs=fs)
        sections.append(tf2sos(b, a))
        f += mains_hz
    return np.vstack(sections) if sections else np.zeros((0, 6))


def lowpass_sos(fs: float, cutoff: float, order: int = 2) -> np.ndarray:
    return butter(order, cutoff, btype="lowpass", fs=fs, output="sos")


MAINS_READ_S = 120.0


def spread_pieces(x: np.ndarray, fs: float, piece: int) -> tuple[np.ndarray, int | None]:
    """For a Welch spectrum of a long recording: `MAINS_READ_S` seconds of it in pieces of
    `piece` samples spread over its length, and the overlap to use (0: the pieces are the
    segments); a shorter recording whole, with Welch's default overlap. A mains line holds
    for hours, so its level and frequency need no more, and a 1-hour file costs what two
    minutes do."""
    if len(x) <= MAINS_READ_S * fs:
        return x, None
    starts = np.linspace(0, len(x) - piece, int(MAINS_READ_S * fs / piece)).astype(int)
    return np.concatenate([x[a : a + piece] for a in starts]), 0


def finite_rows(x: np.ndarray) -> np.ndarray:
    """The samples (rows) without a lost value, float64; the array itself, uncopied, when
    none is lost (an hour of 8 channels is 460 MB)."""
    x = np.asarray(x, dtype=np.float64)
    keep = np.isfinite(x).all(axis=1) if x.ndim == 2 else np.isfinite(x)
    return x if keep.all() else x[keep]


def detect_mains(x: np.ndarray, fs: float, min_ratio: float = 4.0) -> float | None:
    """50 or 60 if that line stands `min_ratio` times above its neighbourhood, else None.

    The spectrum is the median of 1-s periodograms (Welch, `average="median"`), not their
    mean: a muscle's bursts are broadband and many times the hum, so in the mean they bury
    a hum that dominates every rest between them. On the example recording before.xdf
    two of eight channels (gluteus maximus left, medius right) had the 50-Hz line 1.2-2.3
    times its neighbourhood in the mean and were left unnotched, 235-3600 times in the
    median; on `make demo`'s session two, whose quiet baselines then held unnotched hum
    that came out as onsets 2.1-2.7 s into two repetitions (none with the notch). The live
    pipeline decides from its first 10 s, mostly rest, and saw the hum there: both now
    decide alike. On bench_onset's sessions (December 2026) onsets in quiet windows 5 -> 3
    of 450 as built (8 -> 5 with the first unit at 3 %); median errors within 0.4 ms of
    before in every band of every EMG-model variation, better with wide potentials and
    slow sample rates (docs/analysis.md)."""
    x = finite_rows(x)
    if len(x) < fs:
        return None
    x, overlap = spread_pieces(x, fs, int(fs))
    f, p = welch(x, fs=fs, nperseg=int(fs), noverlap=overlap, axis=0, average="median")
    p = p.sum(axis=1) if p.ndim == 2 else p
    best, best_ratio = None, min_ratio
    for mains in (50.0, 60.0):
        if mains >= fs / 2:
            continue
        k = int(np.argmin(np.abs(f - mains)))
        around = np.r_[p[max(k - 8, 0) : k - 2], p[k + 3 : k + 9]]
        ratio = p[k] / max(float(np.median(around)), 1e-30)
        if ratio > best_ratio:
            best, best_ratio = mains, ratio
    return best


def mains_frequency(x: np.ndarray, fs: float, min_ratio: float = 4.0) -> float | None:
    """The mains line's frequency in Hz (near 50 or 60, to ~0.05 Hz), or None without hum.

    Welch spectrum at 0.125-Hz resolution (8-s segments, shorter where the recording has
    fewer than 8 of them) of each channel against its own floor (the median of 40-70 Hz),
    their geometric mean over channels; the tallest bin within 3 Hz of 50 or 60 Hz, 4x
    the floor, refined by a parabola through the log power of its neighbours.
    """
    x = finite_rows(x)
    if len(x) < 2 * fs:
        return None
    nper = int(min(8 * fs, len(x) // 8))  # at least 8 averaged segments: one periodogram has 4x peaks anywhere
    x, overlap = spread_pieces(x, fs, nper)
    f, p = welch(x - np.median(x, axis=0), fs=fs, nperseg=nper, noverlap=overlap, axis=0)
    around = (f >= 40) & (f <= 70)
    if not around.any() or fs / 2 <= 53:
        return None
    if p.ndim == 2:  # each channel against its own floor, then their geometric mean: one lifted or
        # clipped lead (its hum gated on and off, smeared over neighbouring bins) cannot outvote the rest
        ratio = p / np.maximum(np.median(p[around], axis=0), 1e-30)
        p = np.exp(np.mean(np.log(np.maximum(ratio, 1e-30)), axis=1))
    floor = max(float(np.median(p[around])), 1e-30)
    best, best_ratio = None, min_ratio
    for nominal in (50.0, 60.0):
        near = np.flatnonzero(np.abs(f - nominal) <= 3.0)
        if near.size == 0:
            continue
        k = int(near[np.argmax(p[near])])
        ratio = p[k] / floor
        if ratio > best_ratio and 0 < k < len(p) - 1:
            y0, y1, y2 = np.log(p[k - 1 : k + 2] + 1e-300)
            shift = 0.5 * (y0 - y2) / (y0 - 2 * y1 + y2) if (y0 - 2 * y1 + y2) != 0 else 0.0
            best, best_ratio = float(f[k] + np.clip(shift, -0.5, 0.5) * (f[1] - f[0])), ratio
    return None if best is None else round(best, 2)


def run_edges(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Starts and stops ([start, stop)) of the runs of True in a boolean array, as arrays."""
    m = np.asarray(mask, dtype=bool)
    # padded with False at both ends, a run starts and stops where neighbours differ (np.r_
    # and np.diff cost more than the comparison on the short windows asked per onset)
    padded = np.zeros(len(m) + 2, dtype=bool)
    padded[1:-1] = m
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    return edges[::2], edges[1::2]


def true_runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) of each run of True in a boolean array."""
    starts, stops = run_edges(mask)
    return list(zip(starts.tolist(), stops.tolist(), strict=True))


def merge_runs(runs: list[tuple[int, int]], max_gap: float) -> list[tuple[int, int]]:
    """Runs joined where fewer than `max_gap` samples separate them."""
    merged: list[list[int]] = []
    for a, b in runs:
        if merged and a - merged[-1][1] < max_gap:
            merged[-1][1] = b
        else:
            merged.append([a, b])
    return [(a, b) for a, b in merged]


def finite_segments(x: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) of the runs of rows with no NaN."""
    return true_runs(np.isfinite(x) if x.ndim == 1 else np.isfinite(x).all(axis=1))


def tkeo(x: np.ndarray) -> np.ndarray:
    """Teager-Kaiser energy operator x[n]^2 - x[n-1] x[n+1] (ends repeated), along axis 0."""
    x = np.asarray(x, dtype=np.float64)
    psi = np.empty_like(x)
    for a in range(1, len(x) - 1, STRETCH):  # a stretch at a time: no signal-long temporaries
        b = min(a + STRETCH, len(x) - 1)
        psi[a:b] = x[a:b] ** 2 - x[a - 1 : b - 1] * x[a + 1 : b + 1]
    psi[0], psi[-1] = psi[1], psi[-2]
    return psi


def tkeo_stretch(x: np.ndarray, a: int, b: int) -> np.ndarray:
    """`tkeo(x)[a:b]` (`len(x)` >= 3), computed from x[a-1 : b+1] only (3 samples at least:
    the ends repeat their neighbours' values)."""
    lo = max(min(a - 1, len(x) - 3), 0)
    hi = min(max(b + 1, lo + 3), len(x))
    return tkeo(x[lo:hi])[a - lo : b - lo]


def interpolate_short_gaps(x: np.ndarray, max_len: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows lost (NaN) in runs of at most `max_len`, linearly interpolated between the finite
    rows around them (offline only: it looks ahead); longer gaps, and gaps at either end,
    stay NaN. Returns (x bridged, mask of the rows filled); x is (n, channels)."""
    x = np.array(x, dtype=np.float64)
    lost = ~np.isfinite(x).all(axis=1)
    filled = np.zeros(len(x), dtype=bool)
    good = np.flatnonzero(~lost)
    for a, b in true_runs(lost):
        if b - a <= max_len and a > 0 and b < len(x):
            filled[a:b] = True
    if filled.any() and good.size >= 2:
        rows = np.flatnonzero(filled)
        for j in range(x.shape[1]):
            x[rows, j] = np.interp(rows, good, x[good, j])
    return x, filled


MAX_HOLD_S = 0.005  # NaN runs up to 5 ms (a few lost samples) are bridged for filtering


Held = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def hold_short_gaps(x: np.ndarray, max_len: int, last: np.ndarray | None = None,
                    run: np.ndarray | None = None) -> Held:  # fmt: skip
    """Bridge lost samples for filtering: the first `max_len` NaN samples of every gap take
    the last finite value before it (a zero-order hold), the rest of a longer gap stays NaN.

    A hold needs no look-ahead, so the live path bridges exactly as the offline one: the
    streaming twin passes the previous call's `last` (last finite value per channel) and
    `run` (NaN samples since it). Without it, a signal with one lost sample in a hundred
    falls into thousands of segments, each filtered from rest (slow and ringing).
    Returns (bridged x, mask of held samples, last, run); x is (n,) or (n, channels).
    """
    x = np.asarray(x, dtype=np.float64)
    two_d = x if x.ndim == 2 else x[:, None]
    n, m = two_d.shape
    last = np.full(m, np.nan) if last is None else last
    run = np.zeros(m, dtype=np.int64) if run is None else run
    finite = np.isfinite(two_d)
    if finite.all() or n == 0:
        held = np.zeros_like(two_d, dtype=bool)
        out = two_d.copy()
        if n:
            last, run = two_d[-1].copy(), np.zeros(m, dtype=np.int64)
    else:
        idx = np.where(finite, np.arange(n)[:, None], -1)
        prev = np.maximum.accumulate(idx, axis=0)  # index of the last finite row, -1 before any
        pos = np.where(prev >= 0, np.arange(n)[:, None] - prev - 1, np.arange(n)[:, None] + run[None, :])
        source = np.where(prev >= 0, two_d[np.maximum(prev, 0), np.arange(m)[None, :]], last[None, :])
        held = ~finite & (pos < max_len) & np.isfinite(source)
        out = np.where(held, source, two_d)
        last = np.where(prev[-1] >= 0, two_d[np.maximum(prev[-1], 0), np.arange(m)], last)
        run = np.where(finite[-1], 0, pos[-1] + 1).astype(np.int64)
    if x.ndim == 1:
        return out[:, 0], held[:, 0], last, run
    return out, held, last, run


class StreamingGapHold:
    """The streaming twin of `hold_short_gaps`: the same output for any chunking."""

    def __init__(self, max_len: int) -> None:
        self.max_len = max_len
        self._last: np.ndarray | None = None
        self._run: np.ndarray | None = None

    def process(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(bridged chunk, mask of held samples)."""
        out, held, self._last, self._run = hold_short_gaps(x, self.max_len, self._last, self._run)
        return out, held


MAX_FILL_S = 1.0  # the first second of a longer gap is filled for the mains notch (`fill_periodic`)


def mains_period(fs: float, mains_hz: float) -> int:
    """Whole mains periods that take a whole number of samples (at most 10 periods; the
    closest when none does), in samples: 40 at 2 kHz and 50 Hz, 100 (3 periods) at 60 Hz."""
    k = min(range(1, 11), key=lambda k: (round(abs(k * fs / mains_hz - round(k * fs / mains_hz)), 9), k))
    return max(1, int(round(k * fs / mains_hz)))


def fill_periodic(x: np.ndarray, period: int, max_len: int, tail: np.ndarray | None = None,
                  run: np.ndarray | None = None) -> Held:  # fmt: skip
    """Lost samples filled for the mains notch only: the first `max_len` NaN samples of every
    gap take the value `period` samples earlier (`mains_period`: the hum repeats there), the
    rest of a longer gap, and any sample without a finite one a period before it, stay NaN.

    A filter restarted after a gap starts at rest, but the hum does not: the notch rings for
    a few hundred ms and its hum, band-passed, crossed the onset threshold of quiet muscles
    (simulated drop-outs under 40 uV of hum: 5 false onsets in 6 quiet windows). Fed the hum
    carried on through the gap, the notch keeps cancelling it; what it gives inside the gap
    is made up and is put back to NaN by the caller. Causal, so the live path fills exactly
    as the offline one: the streaming twin passes the previous call's `tail` (its last
    `period` filled rows) and `run` (NaN samples since the last finite one, per channel).
    Returns (filled x, mask of filled samples, tail, run); x is (n,) or (n, channels).
    """
    x = np.asarray(x, dtype=np.float64)
    two_d = x if x.ndim == 2 else x[:, None]
    n, m = two_d.shape
    tail = np.full((period, m), np.nan) if tail is None else tail
    run = np.zeros(m, dtype=np.int64) if run is None else run
    buf = np.vstack([tail, two_d])
    filled = np.zeros((n, m), dtype=bool)
    lost = ~np.isfinite(two_d)
    for j in np.flatnonzero(lost.any(axis=0)):
        col = buf[:, j]
        starts, stops = run_edges(lost[:, j])
        for a, b in zip(starts + period, stops + period, strict=True):
            done = run[j] if a == period else 0  # a gap carried on from the previous chunk
            stop = min(b, a + max(0, max_len - done))
            for lo in range(a, stop, period):  # a period at a time: the source may itself be filled
                hi = min(lo + period, stop)
                col[lo:hi] = col[lo - period : hi - period]
            filled[a - period : stop - period, j] = np.isfinite(col[a:stop])
    if n:
        trailing = np.argmax(~lost[::-1], axis=0)  # NaN rows at the end, per channel
        trailing = np.where(lost.all(axis=0), n, trailing)
        run = np.where(lost.all(axis=0), run + n, trailing).astype(np.int64)
    out = buf[period:]
    tail = buf[len(buf) - period :]
    if x.ndim == 1:
        return out[:, 0], filled[:, 0], tail, run
    return out, filled, tail, run


class StreamingPeriodicFill:
    """The streaming twin of `fill_periodic`: the same output for any chunking."""

    def __init__(self, period: int, max_len: int) -> None:
        self.period, self.max_len = period, max_len
        self._tail: np.ndarray | None = None
        self._run: np.ndarray | None = None

    def process(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(filled chunk, mask of filled samples)."""
        out, filled, self._tail, self._run = fill_periodic(x, self.period, self.max_len, self._tail, self._run)
        return out, filled


def _steady_zi(sos: np.ndarray, first: np.ndarray) -> np.ndarray:
    """Initial state (sections, 2, channels) of a filter at rest at value `first`."""
    return sosfilt_zi(sos)[:, :, None] * first[None, None, :]


def filter_stretches(sos: np.ndarray, make: Callable[[int, int], np.ndarray], n: int, out: np.ndarray) -> None:
    """A finite signal of `n` rows, which `make(a, b)` gives a stretch (rows a..b-1, as
    (b - a, channels)) at a time, filtered causally from rest at its first row into `out`,
    the filter's state carried from stretch to stretch: the same arithmetic in the same
    order as one pass, without an hour-long copy of the signal for each step."""
    z = None
    for a in range(0, n, STRETCH):
        part = make(a, min(a + STRETCH, n))
        z = _steady_zi(sos, part[0]) if z is None else z
        out[a : a + len(part)], z = sosfilt(sos, part, axis=0, zi=z)


def apply_sos(sos: np.ndarray, x: np.ndarray, causal: bool = False) -> np.ndarray:
    """Filter `x` along axis 0 with `sos`, segment by segment between NaN rows."""
    x = np.asarray(x, dtype=np.float64)
    if len(sos) == 0:
        return x.copy()
    two_d = x if x.ndim == 2 else x[:, None]
    segments = finite_segments(two_d)
    padlen = 3 * (2 * len(sos) + 1)
    whole = segments == [(0, len(two_d))]  # nothing lost: no NaN frame to fill
    if whole and not causal and len(two_d) > padlen:
        out = sosfiltfilt(sos, two_d, axis=0)
        return out if x.ndim == 2 else out[:, 0]
    out = np.empty_like(two_d) if whole else np.full_like(two_d, np.nan)
    if causal and not whole and _partly_lost(two_d):  # each channel between its own gaps
        for j in range(two_d.shape[1]):
            out[:, j] = apply_sos(sos, two_d[:, j], causal=True)
        return out if x.ndim == 2 else out[:, 0]
    for a, b in segments:
        seg = two_d[a:b]
        if causal:
            filter_stretches(sos, lambda lo, hi, seg=seg: seg[lo:hi], b - a, out[a:b])
        elif b - a > padlen:
            out[a:b] = sosfiltfilt(sos, seg, axis=0)
        # shorter segments cannot be filtered zero-phase: they stay NaN
    return out if x.ndim == 2 else out[:, 0]


def _partly_lost(x: np.ndarray) -> bool:
    """Whether some row of `x` (n, channels) has lost samples in some channels only."""
    finite = np.isfinite(x)
    return bool((finite.any(axis=1) & ~finite.all(axis=1)).any())


def condition_sos(fs: float, band: tuple[float, float] = BAND_HZ, mains_hz: float | None = None) -> np.ndarray:
    """The conditioning filter: band-pass, then notches at mains harmonics inside the band."""
    sos = bandpass_sos(fs, band)
    if mains_hz:
        sos = np.vstack([sos, notch_sos(fs, mains_hz, upto_hz=band_edges(fs, band)[1])])
    return sos


def condition(x: np.ndarray, fs: float, band: tuple[float, float] = BAND_HZ,
              mains: float | str | None = "auto", causal: bool = False) -> np.ndarray:  # fmt: skip
    """Offset removal, band-pass and (optionally) mains notch, in volts.

    mains: 50, 60, None, or "auto" to detect a mains line in the signal itself.
    """
    x = np.asarray(x, dtype=np.float64)
    mains_hz = detect_mains(x, fs) if mains == "auto" else mains
    if not causal:  # offset removal; the causal filter starts at rest at the offset instead
        x = x - np.nanmedian(x, axis=0)
    return apply_sos(condition_sos(fs, band, mains_hz), x, causal=causal)


def rectify(x: np.ndarray) -> np.ndarray:
    return np.abs(x)


def linear_envelope(x: np.ndarray, fs: float, cutoff: float = ENVELOPE_HZ, causal: bool = False) -> np.ndarray:
    """Full-wave rectified, low-passed conditioned EMG (V)."""
    return apply_sos(lowpass_sos(fs, cutoff), rectify(x), causal=causal)


def moving_rms(x: np.ndarray, fs: float, window_s: float = RMS_WINDOW_S, causal: bool = False) -> np.ndarray:
    """Root mean square over a sliding window (centred, or trailing if causal), V.

    Windows touching a NaN row are NaN.
    """
    x = np.asarray(x, dtype=np.float64)
    two_d = x if x.ndim == 2 else x[:, None]
    w = max(1, int(round(window_s * fs)))
    bad = ~np.isfinite(two_d)
    zero = np.zeros((1, two_d.shape[1]))
    sq = np.vstack([zero, np.cumsum(np.where(bad, 0.0, two_d) ** 2, axis=0)])
    nan_count = np.vstack([zero, np.cumsum(bad, axis=0)])
    mean = (sq[w:] - sq[:-w]) / w  # mean square of the window ending at each row (from row w-1)
    mean[(nan_count[w:] - nan_count[:-w]) > 0] = np.nan
    out = np.full_like(two_d, np.nan)
    shift = w - 1 if causal else (w - 1) // 2
    out[shift : shift + len(mean)] = np.sqrt(np.maximum(mean, 0))
    return out if x.ndim == 2 else out[:, 0]


def mvc_reference(envelope: np.ndarray, fs: float, window_s: float = 0.5) -> np.ndarray:
    """The MVC reference per channel: the highest mean of the envelope over `window_s`."""
    env = np.asarray(envelope, dtype=np.float64)
    two_d = env if env.ndim == 2 else env[:, None]
    w = max(1, int(round(window_s * fs)))
    if len(two_d) < w:
        raise ValueError("the MVC trial is shorter than the averaging window")
    kernel = np.ones(w) / w
    means = np.column_stack([np.convolve(np.nan_to_num(c, nan=0.0), kernel, "valid") for c in two_d.T])
    ref = means.max(axis=0)
    return ref if env.ndim == 2 else ref[0]


def percent_mvc(envelope: np.ndarray, reference: np.ndarray | float) -> np.ndarray:
    """Envelope as a percentage of the MVC reference."""
    return 100.0 * np.asarray(envelope, dtype=np.float64) / np.asarray(reference, dtype=np.float64)


class StreamingFilter:
    """The causal twin of `apply_sos(..., causal=True)`: same output for any chunking.

    Keeps the filter state between chunks; a lost sample (NaN) ends its channel's current
    segment and the channel's next finite sample starts a new one at rest, exactly as the
    offline version does (all channels at once where whole rows are lost, as a dropped
    packet loses them: one 2-D `sosfilt`; each channel alone where some are lost).
    """

    def __init__(self, sos: np.ndarray) -> None:
        self.sos = np.asarray(sos, dtype=np.float64)
        self._zi: np.ndarray | None = None  # (sections, 2, channels)
        self._fresh: np.ndarray | None = None  # per channel: its next finite sample starts at rest

    def process(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        two_d = x if x.ndim == 2 else x[:, None]
        out = np.full_like(two_d, np.nan)
        if len(self.sos) == 0:
            out[:] = two_d
            return out if x.ndim == 2 else out[:, 0]
        m = two_d.shape[1]
        if self._zi is None:
            self._zi = np.zeros((len(self.sos), 2, m))
            self._fresh = np.ones(m, dtype=bool)
        fresh = self._fresh
        if _partly_lost(two_d) or (fresh.any() and not fresh.all()):
            for j in range(m):
                for a, b in finite_segments(two_d[:, j : j + 1]):
                    seg = two_d[a:b, j : j + 1]
                    zi = _steady_zi(self.sos, seg[0]) if a > 0 or fresh[j] else self._zi[:, :, j : j + 1]
                    out[a:b, j : j + 1], self._zi[:, :, j : j + 1] = sosfilt(self.sos, seg, axis=0, zi=zi)
                    fresh[j] = False
        else:
            for a, b in finite_segments(two_d):
                seg = two_d[a:b]
                zi = _steady_zi(self.sos, seg[0]) if a > 0 or fresh.all() else self._zi
                out[a:b], self._zi = sosfilt(self.sos, seg, axis=0, zi=zi)
                fresh[:] = False
        if len(two_d):
            fresh |= ~np.isfinite(two_d[-1])  # a channel that ended the chunk inside a gap
        return out if x.ndim == 2 else out[:, 0]


def _notch_fill(fs: float, mains_hz: float) -> tuple[int, int]:
    """(period, max_len) in samples of the gap fill before a mains notch (`fill_periodic`)."""
    return mains_period(fs, mains_hz), max(1, int(round(MAX_FILL_S * fs)))


def condition_lost(bridged: np.ndarray, fs: float, band: tuple[float, float], mains_hz: float | None) -> np.ndarray:
    """`condition(..., causal=True)` of a signal with lost samples (NaN), which stay lost: where
    a mains notch filters it, its gaps are first filled with the hum a period earlier
    (`fill_periodic`), so that the notch does not ring after every drop-out."""
    part = bridged
    if mains_hz and not np.isfinite(bridged).all():
        part = fill_periodic(bridged, *_notch_fill(fs, mains_hz))[0]
    out = condition(part, fs, band=band, mains=mains_hz, causal=True)
    out[~np.isfinite(bridged)] = np.nan  # what the fill made up is not signal
    return out


class StreamingConditionLost:
    """The streaming twin of `condition_lost`: the same output for any chunking."""

    def __init__(self, fs: float, band: tuple[float, float], mains_hz: float | None) -> None:
        self._filter = StreamingFilter(condition_sos(fs, band, mains_hz))
        self._fill = StreamingPeriodicFill(*_notch_fill(fs, mains_hz)) if mains_hz else None

    def process(self, bridged: np.ndarray) -> np.ndarray:
        part = bridged if self._fill is None else self._fill.process(bridged)[0]
        return np.where(np.isfinite(bridged), self._filter.process(part), np.nan)


class StreamingRms:
    """The causal twin of `moving_rms(..., causal=True)`, chunk by chunk."""

    def __init__(self, fs: float, window_s: float = RMS_WINDOW_S) -> None:
        self.w = max(1, int(round(window_s * fs)))
        self._tail: np.ndarray | None = None  # the last w-1 rows seen

    def process(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        two_d = x if x.ndim == 2 else x[:, None]
        tail = self._tail if self._tail is not None else np.full((self.w - 1, two_d.shape[1]), np.nan)
        joined = np.vstack([tail, two_d])
        out = moving_rms(joined, 1.0, window_s=self.w, causal=True)[len(tail) :]
        self._tail = joined[len(joined) - (self.w - 1) :] if self.w > 1 else joined[:0]
        return out if x.ndim == 2 else out[:, 0]
