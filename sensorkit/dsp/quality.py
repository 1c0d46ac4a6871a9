"""Per-channel EMG signal quality in half-second windows: what a clinician must fix.

Every window of `WINDOW_S` (aligned to the stream's first sample) is judged from its
own samples plus `PAD_S` either side, never from a filter's history, so the live
monitor (`quality_stream.QualityMonitor`) and the offline pass (`window_states`)
judge every window identically; live just waits `PAD_S` after a window ends.

Per window and channel (volts in, volts out):
- `band_rms`: RMS in the EMG band (20-450 Hz) without the mains lines (Hann-windowed
  spectrum of the linearly detrended window);
- `mains_rms`: RMS of the mains line and its harmonics below 450 Hz, each harmonic's
  power over its main lobe in the window's Hann spectrum minus the level beside it;
- `lf_rms`: RMS at 2-20 Hz (movement of cables and electrodes);
- `ptp`: peak-to-peak of the window.

Rules, in order of precedence (each window gets one state):
- `gap`: lost samples (NaN): a hole longer than the filters bridge (`MAX_HOLD_S`) or
  5 % of the window; the events carry every lost sample's exact span.
- `flat`: a run of identical values of >= `FLAT_S` that is not a rail (a stuck
  converter or a dead lead: neither noise nor muscle is constant for 0.1 s).
- `saturation`: the window piles up at an extreme value (1 % of its samples, 3x as
  many as at the next value inward: a quantised or repeated-sample quiet
  signal thins out towards its extremes instead), reached from values close to it
  (a clipped swing; a drop to a constant from far away is `flat`), or continuing
  the rail of the window before.
- `lift_off`: the floating input of a lifted electrode: mains hum 5x the median of
  the other channels in the same window, > 50 uV and above the rest of the EMG band
  (a burst's own power at the mains lines is not hum) (or > 0.5 mV whatever the
  others do, when every electrode is off), or a 20 mV swing within 0.5 s, or 2-20 Hz
  content over 1 mV RMS without a pop in the window. Surface EMG stays under ~5 mV
  peak to peak; hum is common to all leads while an electrode touches the skin, so
  the cross-channel median is the reference; real walking puts up to ~0.45 mV of
  2-20 Hz on a well attached thigh lead (UCI gait recordings), a floating one far more.
- `pop`: an electrode potential step: the mean over 5 ms after a sample differs from
  the 5 ms before by at least half of what the 45 ms after differ from the 45 ms
  before, the level before was steady (the 45 ms before differ from the 100 ms
  before them by under half the step) and the new level persists (25-50 ms after it
  still 30 % of the step beyond the old level, where a heartbeat's QRS is back, and
  the 100 ms after the 50 between a fifth and all of it: a level still moving away is
  a drift or a slow wave, not a step), and that step exceeds
  150 uV and 4x the window's EMG level (1.48 x median |band-passed signal|, which
  a step's ringing barely moves), so that a burst's own fluctuation or a 1-12 Hz
  movement wave, both without a sharp step from a steady level, do not count.
- `motion_artefact`: 2-20 Hz content above 20 uV, over 1.5x the EMG band and over 3x
  the upper quartile of the channel's minute before: the low-frequency energy
  outweighs the muscle (SENIAM's 20 Hz high-pass exists for it) and is not the
  channel's usual level (a trunk lead's ECG puts its beats there all the time).
- `hum` (live state only): mains RMS above 50 uV; the notch removes it from the
  analysis, but a cable humming that much is worth fixing before the exercise.
- otherwise `ok`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from sensorkit.dsp.filters import BAND_HZ, MAX_HOLD_S, STRETCH, band_edges, hold_short_gaps, merge_runs, true_runs

WINDOW_S = 0.5
PAD_S = 0.15  # a pop is told from a swing by the 0.15 s around it
FLAT_S = 0.1
LIFT_MAINS_RATIO, LIFT_MAINS_MIN_V, LIFT_MAINS_ALONE_V = 5.0, 50e-6, 0.5e-3
LIFT_PTP_V = 20e-3
LIFT_LF_V = 1e-3
POP_MIN_V, POP_BAND_RATIO = 150e-6, 4.0
POP_FAST_S, POP_SLOW_S = 0.005, 0.045
POP_SPAN_S = 0.3  # a pop's event span: its decay is what disturbs an onset nearby
MOTION_MIN_V, MOTION_BAND_RATIO, MOTION_USUAL_RATIO = 20e-6, 1.5, 3.0
HUM_V = 50e-6
GAP_WINDOW_SHARE = 0.05
LF_HZ = (2.0, 20.0)
KINDS = ("ok", "hum", "motion_artefact", "pop", "lift_off", "saturation", "flat", "gap")  # low to high precedence
EVENT_KINDS = ("lift_off", "flat", "pop", "saturation", "motion_artefact", "gap")
LF_HISTORY = 120  # windows (60 s): a channel's usual 2-20 Hz level, e.g. its ECG's P and T waves


@dataclass
class History:
    """What a window's judgement carries from the windows before it, per channel: the
    value a channel sits clipped at (a rail spans windows), and the last minute of
    2-20 Hz levels (a motion artefact stands out from the channel's usual level)."""

    rails: np.ndarray  # (channels,) V; NaN where not clipped
    lf: np.ndarray  # (<= LF_HISTORY, channels)

    @classmethod
    def start(cls, n_channels: int) -> History:
        return cls(np.full(n_channels, np.nan), np.zeros((0, n_channels)))


@dataclass
class Windows:
    """Measures of consecutive windows: arrays (windows, channels) in V; `first` is the
    index of the first window in the stream; `states` indices into KINDS; `spans` the
    exact (channel, kind, start sample, stop sample) of gaps, runs and pops, in stream
    samples."""

    first: int
    band_rms: np.ndarray
    mains_rms: np.ndarray
    lf_rms: np.ndarray
    ptp: np.ndarray
    states: np.ndarray
    spans: list[tuple[int, str, int, int]] = field(default_factory=list)
    history: History | None = None


def window_len(fs: float) -> tuple[int, int]:
    """(samples per window, samples of padding)."""
    return int(round(WINDOW_S * fs)), int(round(PAD_S * fs))


def _detrend(x: np.ndarray) -> np.ndarray:
    """Remove each window's straight line (axis 1): electrode drift is not hum or noise."""
    n = x.shape[1]
    t = np.arange(n) - (n - 1) / 2
    mean = x.mean(axis=1)
    slope = np.matmul(t, x) / np.sum(t * t)  # (windows, channels); t sums to 0
    return x - mean[:, None, :] - slope[:, None, :] * t[None, :, None]


def _spectral(win: np.ndarray, fs: float, mains_hz: float | None, band: tuple[float, float]):
    """band_rms, mains_rms, lf_rms (each (w, c)) and the band's bins, of windows (w, c, n)
    without NaN (each window's samples contiguous: the transforms run along memory).

    One Hann-windowed spectrum per window serves all four: the EMG band without the bins
    of the mains lines, each line's power over its main lobe (the bins within 1 of it hold
    a Hann-windowed sinusoid's power wherever it falls between them) minus the level 3-4
    bins beside it, and the 2-20 Hz bins.
    """
    n = win.shape[2]
    w = np.hanning(n)
    spec = np.fft.rfft(win * w, axis=-1)
    # each window's straight line (electrode drift, not hum or noise) taken out of the
    # spectrum: the Hann-windowed constant and ramp occupy its first bins only
    t = np.arange(n) - (n - 1) / 2
    mean = win.mean(axis=-1)
    slope = np.matmul(win, t) / np.sum(t * t)
    shapes = np.fft.rfft(np.stack([w, t * w]), axis=1)
    k = int(np.flatnonzero(np.abs(shapes[1]) > 1e-6 * np.abs(shapes[1]).max())[-1]) + 1  # beyond: < 1e-6
    spec[..., :k] -= mean[..., None] * shapes[0, :k] + slope[..., None] * shapes[1, :k]
    power = spec.real**2
    power += spec.imag**2
    power *= 2 / (np.sum(w**2) * n)  # mean-square per bin (one-sided)
    f = np.fft.rfftfreq(n, 1 / fs)
    df = f[1] - f[0]
    hi = band_edges(fs, band)[1]
    in_band = (f >= band[0]) & (f <= hi)
    mains_rms = np.zeros(power.shape[:2])
    if mains_hz:
        total = np.zeros(mains_rms.shape)
        for h in np.arange(mains_hz, hi, mains_hz):
            k = int(round(h / df))
            if k + 4 >= len(f):
                break
            in_band[k - 2 : k + 3] = False
            line = power[..., k - 1 : k + 2].sum(axis=-1)
            beside = power[..., [k - 4, k - 3, k + 3, k + 4]].mean(axis=-1)
            total += line - 3 * beside  # unclipped: a burst's noise at the lines averages out
        mains_rms = np.sqrt(np.maximum(total, 0.0))
    lf = (f >= LF_HZ[0]) & (f <= LF_HZ[1])
    sums = power @ np.stack([in_band, lf], axis=1).astype(np.float64)  # (windows, channels, 2)
    return np.sqrt(sums[..., 0]), mains_rms, np.sqrt(sums[..., 1]), in_band


def _band_level(win: np.ndarray, in_band: np.ndarray) -> np.ndarray:
    """The muscle's level in windows (w, n) of one channel, robust to a step inside them (a
    pop's edge rings in the band for tens of ms and would inflate an RMS): 1.4826 x median
    |band-passed signal|, the median over every 4th sample (as robust, a quarter of the sorting)."""
    n = win.shape[1]
    plain = np.fft.rfft(_detrend(win[:, :, None])[:, :, 0], axis=1) * in_band[None, :]
    return 1.4826 * np.median(np.abs(np.fft.irfft(plain, n=n, axis=1)[:, ::4]), axis=1)


def _hold_forward(x: np.ndarray) -> np.ndarray:
    """`x` with each NaN replaced by the last finite value before it (`hold_short_gaps` with
    no length limit), and those before any by the first finite value."""
    held = hold_short_gaps(x, len(x))[0]
    held[~np.isfinite(held)] = held[np.flatnonzero(np.isfinite(held))[0]]
    return held


def _pops(seg: np.ndarray, fs: float, local_rms: float, lost: np.ndarray | None = None) -> list[int]:
    """Samples of `seg` (one channel, finite) where an electrode potential step starts;
    none within 50 ms of a sample marked `lost`."""
    a, b = max(1, int(round(POP_FAST_S * fs))), max(2, int(round((POP_FAST_S + POP_SLOW_S) * fs)))
    if len(seg) < 2 * b + 1:
        return []
    c = np.r_[0.0, np.cumsum(seg)]
    i = np.arange(b, len(seg) - b + 1)
    mean = lambda lo, hi: (c[i + hi] - c[i + lo]) / (hi - lo)  # noqa: E731 (mean of seg[i+lo:i+hi])
    fast = mean(0, a) - mean(-a, 0)
    slow = mean(a, b) - mean(-b, -a)
    thr = max(POP_MIN_V, POP_BAND_RATIO * local_rms)
    hit = (np.abs(slow) > thr) & (np.abs(fast) > 0.5 * np.abs(slow)) & (np.sign(fast) == np.sign(slow))
    if hit.any():  # a step from a steady level that persists: not a swing of a movement artefact
        c3 = 3 * (b - a) + a
        ok = (i >= c3) & (i + c3 <= len(seg))
        j = i[ok & hit]
        pre = (c[j - b] - c[j - c3]) / (c3 - b) - (c[j - a] - c[j - b]) / (b - a)
        late = (c[j + c3] - c[j + b]) / (c3 - b) - (c[j - b] - c[j - c3]) / (c3 - b)
        s = slow[ok & hit]
        # 25-50 ms after, still beyond the old level: a QRS complex is back (or past it) by then
        mid = (c[j + b] - c[j + b // 2]) / (b - b // 2) - (c[j - a] - c[j - b]) / (b - a)
        # ... and decays: a level still moving away 50-140 ms later is a drift or a slow wave
        keep = (np.abs(pre) < 0.5 * np.abs(s)) & (np.sign(late) == np.sign(s))
        keep &= (np.abs(late) > 0.2 * np.abs(s)) & (np.abs(late) < np.abs(s))
        keep &= (np.sign(mid) == np.sign(s)) & (np.abs(mid) > 0.3 * np.abs(s))
        hit[:] = False
        hit[np.searchsorted(i, j[keep])] = True
    if lost is not None and lost.any():
        near = np.convolve(lost.astype(float), np.ones(2 * b + 1), mode="same") > 0
        hit &= ~near[i]
    out = []
    for lo, hi in true_runs(hit):
        out.append(int(i[lo + int(np.argmax(np.abs(fast[lo:hi])))]))
    return out


def _clip_values(x: np.ndarray) -> set[float]:
    """The extremes of `x` at which it is clipped: a clipped signal piles up at its limit (the
    extreme value in 1 % of the samples and 3x as often as the next value inward), where
    a quantised or repeated-sample quiet signal thins out towards its extremes."""
    finite = x[np.isfinite(x)]
    out = set()
    if finite.size < 10:
        return out
    values, counts = np.unique(finite, return_counts=True)
    for k, inward in ((len(values) - 1, len(values) - 2), (0, 1)):
        if 0 <= inward < len(values) and counts[k] >= max(5, 0.01 * finite.size) and counts[k] > 3 * counts[inward]:
            out.add(float(values[k]))
    return out


def _trailing_level(x: np.ndarray, k: int, start: int = 0, q: float = 75.0) -> np.ndarray:
    """For rows `start`... of `x` (rows, channels), the `q`th percentile of each and up to
    `k` - 1 rows before it."""
    out = np.empty_like(x[start:])
    head = min(k - 1, len(x))
    for r in range(start, head):  # the first rows have fewer before them
        out[r - start] = np.percentile(x[: r + 1], q, axis=0)
    first = max(head, start)
    if len(x) > first:
        windows = np.lib.stride_tricks.sliding_window_view(x[first - k + 1 :], k, axis=0)
        out[first - start :] = np.percentile(windows, q, axis=-1)
    return out


def _segments(column: np.ndarray, n_win: int, n_win_s: int, pad: int) -> np.ndarray:
    """(windows, window + 2 pads) view of one channel: each window with `pad` either side."""
    return np.lib.stride_tricks.sliding_window_view(column, n_win_s + 2 * pad)[::n_win_s][:n_win]


def _step_test(column: np.ndarray, a: int, b: int, floor: float) -> np.ndarray:
    """For samples b .. len - b of `column` (finite), whether `_pops`' first test passes
    with the absolute `floor` alone: the mean over the next `a` samples differs from the
    last `a` by over half as much as the mean over the next a..b differs from the last
    a..b, which exceeds `floor`. Worked through in cache-sized stretches (each with its own
    running sum, so a large electrode offset costs no precision)."""
    m = len(column) - 2 * b + 1
    out = np.zeros(max(m, 0), dtype=bool)
    for k in range(0, max(m, 0), STRETCH):
        part = column[k : min(k + STRETCH, m) + 2 * b - 1]
        c = np.zeros(len(part) + 1)
        np.cumsum(part - part[0], out=c[1:])
        n = len(part) - 2 * b + 1
        centre = c[b : b + n]
        # window sums about each tested sample i: fast = (next a) - (last a), slow likewise for a..b
        fast = (c[b + a : b + a + n] - 2 * centre + c[b - a : b - a + n]) / a
        slow = (c[2 * b : 2 * b + n] - c[b + a : b + a + n] - c[b - a : b - a + n] + c[:n]) / (b - a)
        slow = np.abs(slow)
        out[k : k + n] = (slow > floor) & (np.abs(fast) > 0.45 * slow)
    return out


def _any_within(flags: np.ndarray, starts: np.ndarray, span: int) -> np.ndarray:
    """For each start, whether any of flags[start : start + span] is set (one running count
    serves every window, however much the windows overlap)."""
    count = np.r_[0, np.cumsum(flags)]
    return count[starts + span] > count[starts]


def _pop_candidates(x: np.ndarray, fs: float, n_win: int, n_win_s: int, pad: int) -> np.ndarray:
    """(windows, channels): where `_pops` may find a step, by its first test with the
    absolute floor alone (10 % looser, so no window it would accept is skipped); windows
    with lost samples are always candidates. The test is made once per sample of each
    channel and each window asks whether any of its candidate samples passed: the padded
    windows overlap, and testing them one by one did the overlap twice."""
    a, b = max(1, int(round(POP_FAST_S * fs))), max(2, int(round((POP_FAST_S + POP_SLOW_S) * fs)))
    out = np.zeros((n_win, x.shape[1]), dtype=bool)
    length = n_win_s + 2 * pad
    if length < 2 * b + 1 or n_win <= 0:
        return out
    used = x[: (n_win - 1) * n_win_s + length]
    starts = np.arange(n_win) * n_win_s  # window w's segment: used[starts[w] : starts[w] + length]
    for j in range(x.shape[1]):
        column = np.ascontiguousarray(used[:, j])
        finite = np.isfinite(column)
        if not finite.all():  # lost samples count as zero: their windows are candidates anyway
            column = np.where(finite, column, 0.0)
        # the test covers samples b .. len - b; window w's are starts[w] + b .. starts[w] + length - b
        hit = _any_within(_step_test(column, a, b, 0.9 * POP_MIN_V), starts, length - 2 * b + 1)
        out[:, j] = hit | _any_within(~finite, starts, length)
    return out


def _run_candidates(column: np.ndarray, n_win: int, n_win_s: int, pad: int) -> np.ndarray:
    """(windows,): which padded windows of one channel may hold a run or a clip (`_runs`):
    those with two equal neighbours or their extreme met 5 times. Worked out once per
    sample, the padded windows overlapping, from blocks of the largest size that divides
    both the window and its padding (each block's extreme and how often it is met)."""
    length = n_win_s + 2 * pad
    used = np.ascontiguousarray(column[: (n_win - 1) * n_win_s + length])
    starts = np.arange(n_win) * n_win_s
    with np.errstate(invalid="ignore"):
        same = (used[1:] == used[:-1]) & np.isfinite(used[1:])  # a difference of 0
    out = _any_within(same, starts, length - 1)  # window w's neighbour pairs: starts[w] .. + length - 2
    g = math.gcd(n_win_s, pad)
    blocks = used.reshape(-1, g)
    per, step = length // g, n_win_s // g
    for extreme in (np.fmax, np.fmin):  # NaN only where every sample is lost, as nanmax
        ext = extreme.reduce(blocks, axis=1)
        count = (blocks == ext[:, None]).sum(axis=1)
        ext_w = np.lib.stride_tricks.sliding_window_view(ext, per)[::step][:n_win]
        count_w = np.lib.stride_tricks.sliding_window_view(count, per)[::step][:n_win]
        met = np.where(ext_w == extreme.reduce(ext_w, axis=1)[:, None], count_w, 0).sum(axis=1)
        out |= met >= 5
    return out


def _runs(x: np.ndarray, fs: float, rail: float = np.nan) -> list[tuple[str, int, int, float]]:
    """('flat' | 'saturation', start, stop, value) of identical-value runs in one channel.

    Saturation: runs at a value `x` is clipped at (`_clip_values`) that the signal reaches
    from values near it (a clipped swing; a drop to a constant from far away is flat), or
    at `rail`, the value the channel was clipped at in the window before (a rail longer than
    a window leaves nothing to compare with). Flat: any other run of `FLAT_S`.
    """
    clips = _clip_values(x)
    same = np.r_[False, np.diff(x) == 0]  # sample equals the one before
    if not clips and not same.any():
        return []  # no clip, and no run to be flat or to continue a rail
    out = []
    runs = [(lo - 1, hi) for lo, hi in true_runs(same)]  # a run starts at the first of its equal samples
    w = int(0.02 * fs)
    for v in clips:  # clipped samples, alone or in runs
        where = merge_runs(true_runs(x == v), 0.005 * fs)
        rest = x[np.isfinite(x) & (x != v)]
        if rest.size == 0:
            continue
        centre = float(np.median(rest))
        dev = abs(v - centre)
        near = np.concatenate([np.r_[x[max(a - w, 0) : a], x[b : b + w]] for a, b in where[:20]])
        near = near[np.isfinite(near) & (near != v)]
        if dev > 0 and near.size and np.any(np.abs(near - centre) >= 0.5 * dev):
            out += [("saturation", lo, hi, v) for lo, hi in where]
    for lo, hi in runs:
        v = x[lo]
        if any(k == "saturation" and a <= lo < b for k, a, b, _ in out):
            continue
        if v == rail:
            out.append(("saturation", lo, hi, v))
        elif hi - lo >= FLAT_S * fs:
            out.append(("flat", lo, hi, v))
    return out


def window_states(x: np.ndarray, fs: float, first: int, mains_hz: float | None,
                  history: History | None = None, band: tuple[float, float] = BAND_HZ,
                  volts: np.ndarray | None = None) -> Windows:  # fmt: skip
    """Judge the complete windows in `x` (samples, channels; V).

    `x` starts `PAD_S` before window `first` (NaN where the stream had not begun) and
    ends `PAD_S` after the last complete window. Returns each window's measures and
    state, and the exact spans of gaps, identical runs and pops (stream samples);
    `history` is the previous call's (`Windows.history`), None at the stream's start.
    `volts` (one bool per channel; None: all): the channels whose samples are in volts. The
    others (a Myo armband's counts, a file without units) are judged only by what needs no
    unit (gaps, flat lines, saturation): hum, movement artefacts, pops and lift-offs are told
    by limits in volts, and read against counts every window of a Myo was a lift-off.
    """
    x = np.asarray(x, dtype=np.float64)
    n_win_s, pad = window_len(fs)
    n_win = (len(x) - 2 * pad) // n_win_s
    n_ch = x.shape[1]
    history = History.start(n_ch) if history is None else history
    shape = (n_win, n_ch)
    if n_win <= 0:
        empty = np.zeros((0, n_ch))
        return Windows(first, empty, empty, empty, empty, np.zeros((0, n_ch), dtype=np.int8), [], history)
    core = x[pad : pad + n_win * n_win_s].reshape(n_win, n_win_s, n_ch)
    finite = np.isfinite(core)
    filled = core
    if not finite.all():  # lost samples take their window's median for the spectra
        holed = ~finite.all(axis=(1, 2))
        part = core[holed]
        # a channel that lost its whole window takes 0 (no median, and no nanmedian warning)
        seen = np.isfinite(part).any(axis=1, keepdims=True)
        med = np.nanmedian(np.where(seen, part, 0.0), axis=1, keepdims=True)
        filled = core.copy()
        filled[holed] = np.where(np.isfinite(part), part, med)
    # each window's samples contiguous (windows, channels, samples): reductions and
    # transforms along memory are several times faster than across it
    along = np.ascontiguousarray(np.moveaxis(filled, 1, 2))
    band_rms, mains_rms, lf_rms, in_band = _spectral(along, fs, mains_hz, band)
    ptp = np.ptp(along, axis=2)
    states = np.zeros(shape, dtype=np.int8)
    spans: list[tuple[int, str, int, int]] = []
    start0 = (first * n_win_s) - pad  # stream sample of x[0]

    def put(mask: np.ndarray, kind: str) -> None:
        k = KINDS.index(kind)
        states[:] = np.where(mask & (states < k), k, states)

    in_volts = np.ones(n_ch, dtype=bool) if volts is None else np.asarray(volts, dtype=bool)
    v = np.where(in_volts, 1.0, np.inf)  # the limits in volts, per channel: never reached without volts
    put(mains_rms > HUM_V * v, "hum")
    # each window's usual low-frequency level: the upper quartile of the minute up to it (a
    # trunk lead's ECG puts a beat's P, QRS and T waves in some windows and not in others)
    lf_all = np.vstack([history.lf, lf_rms])
    usual = _trailing_level(lf_all, LF_HISTORY, len(history.lf))
    put((lf_rms > MOTION_MIN_V * v) & (lf_rms > MOTION_BAND_RATIO * band_rms) & (lf_rms > MOTION_USUAL_RATIO * usual),
        "motion_artefact")  # fmt: skip
    others_mains = np.median(mains_rms, axis=1, keepdims=True) if n_ch >= 3 else np.zeros((n_win, 1))
    pop_in = np.zeros(shape, dtype=bool)
    hold = int(MAX_HOLD_S * fs)
    maybe = _pop_candidates(x, fs, n_win, n_win_s, pad)
    for j in map(int, np.flatnonzero(in_volts)):  # plain ints: they go into the events
        where = np.flatnonzero(maybe[:, j])
        levels = _band_level(filled[where, :, j], in_band) if where.size else []
        segs = _segments(x[:, j], n_win, n_win_s, pad)
        for w, level in zip(where, levels, strict=True):
            lo = w * n_win_s
            seg = segs[w]
            lost = ~np.isfinite(seg)
            if lost.all():
                continue
            if lost.any():  # held over lost samples; no step is looked for next to a hole
                seg = _hold_forward(seg)  # longer than the filters bridge (single samples barely move a mean)
                holes = np.zeros(len(seg), dtype=bool)
                for a, b in true_runs(lost):
                    holes[a:b] = b - a > hold
                lost = holes
            for p in _pops(seg, fs, float(level), lost):
                if pad <= p < pad + n_win_s:  # a window owns the steps inside it
                    pop_in[w, j] = True
                    s = start0 + lo + p
                    spans.append((j, "pop", s, s + int(POP_SPAN_S * fs)))
    put(pop_in, "pop")
    floating = ((mains_rms > LIFT_MAINS_RATIO * others_mains) & (mains_rms > LIFT_MAINS_MIN_V * v)
                & (mains_rms > band_rms))  # fmt: skip
    wandering = (lf_rms > LIFT_LF_V * v) & ~pop_in  # a floating input's drift, not a pop's decay
    lift = floating | wandering | (mains_rms > LIFT_MAINS_ALONE_V * v) | (ptp > LIFT_PTP_V * v)
    put(lift, "lift_off")
    rails = history.rails.copy()
    for j in range(n_ch):
        segs = _segments(x[:, j], n_win, n_win_s, pad)
        maybe = _run_candidates(x[:, j], n_win, n_win_s, pad)
        for w in range(n_win):
            if not maybe[w] and not np.isfinite(rails[j]):
                continue
            lo = pad + w * n_win_s
            seg = segs[w]
            clipped = np.nan
            for kind, a, b, v in _runs(seg, fs, rails[j]):
                a, b = max(a, pad), min(b, pad + n_win_s)  # the part inside this window
                if b - a >= (1 if kind == "saturation" else FLAT_S * fs / 2):
                    states[w, j] = max(states[w, j], KINDS.index(kind))
                    spans.append((j, kind, start0 + lo - pad + a, start0 + lo - pad + b))
                    clipped = v if kind == "saturation" else clipped
            rails[j] = clipped
    # a window is lost when a hole is longer than the filters bridge or 5 % of it is gone;
    # single lost samples here and there are kept as exact spans but leave the window `ok`
    gap = np.zeros(shape, dtype=bool)
    for j in range(n_ch):
        for a, b in true_runs(~finite[:, :, j].reshape(-1)):
            spans.append((j, "gap", start0 + pad + a, start0 + pad + b))
            if b - a > hold:
                gap[a // n_win_s : (b - 1) // n_win_s + 1, j] = True
    gap |= (~finite).mean(axis=1) >= GAP_WINDOW_SHARE
    put(gap, "gap")
    return Windows(first, band_rms, mains_rms, lf_rms, ptp, states, spans, History(rails, lf_all[-LF_HISTORY:]))


def merge_spans(windows: list[Windows], fs: float) -> list[tuple[int, str, int, int]]:
    """Events (channel, kind, start, stop in stream samples) of consecutive judged windows.

    `lift_off` and `motion_artefact` span their windows; gaps, flat runs, saturation and
    pops their exact samples. Pops inside a window judged worse (a lift-off, flat,
    saturated or lost stretch) are that window's doing and are dropped; spans of a kind
    closer than half a window merge (a clipped swing touches its rail many times), but
    lost samples stay exact (one in a hundred lost is not a lost stretch).
    """
    n_win_s, _ = window_len(fs)
    raw: list[tuple[int, str, int, int]] = []
    worse = {KINDS.index(k) for k in ("lift_off", "saturation", "flat", "gap")}
    if not windows:
        return []
    first = windows[0].first
    states = np.vstack([w.states for w in windows])  # consecutive windows: one run may span calls
    for j in range(states.shape[1]):
        for kind in ("lift_off", "motion_artefact"):
            for a, b in true_runs(states[:, j] == KINDS.index(kind)):
                raw.append((j, kind, (first + a) * n_win_s, (first + b) * n_win_s))
    for w in windows:
        for j, kind, a, b in w.spans:
            k = (a - w.first * n_win_s) // n_win_s
            state = int(w.states[min(max(k, 0), len(w.states) - 1), j]) if len(w.states) else 0
            if kind == "pop" and state in worse:
                continue
            raw.append((j, kind, a, b))
    raw.sort()
    sat = [(j, a, b) for j, kind, a, b in raw if kind == "saturation"]
    lifts = [(j, a) for j, kind, a, b in raw if kind == "lift_off"]

    def relabel(j: int, kind: str, a: int, b: int) -> str | None:
        if kind == "lift_off" and b - a <= n_win_s and any(
                k == j and sa - n_win_s <= b and sb + n_win_s >= a for k, sa, sb in sat):  # fmt: skip
            return "saturation"  # the swing that drove the amplifier into its rail
        if kind == "pop" and any(k == j and 0 <= la - a <= n_win_s for k, la in lifts):
            return None  # the step of an electrode coming off
        return kind

    raw = sorted((j, k, a, b) for j, kind, a, b in raw if (k := relabel(j, kind, a, b)) is not None)
    out: list[list] = []
    for j, kind, a, b in raw:
        same = [e for e in out[-8:] if e[0] == j and e[1] == kind]
        join = 1 if kind == "gap" else n_win_s / 2  # lost samples exactly (a run cut by a window joins)
        if same and a - same[-1][3] < join and kind != "pop":
            same[-1][3] = max(same[-1][3], b)
        elif same and kind == "pop" and a - same[-1][2] < 0.1 * fs:
            continue
        else:
            out.append([j, kind, a, b])
    return [(j, kind, a, b) for j, kind, a, b in out]


def concat(windows: list[Windows], n_channels: int) -> Windows:
    """Consecutive judged windows as one `Windows`."""
    if not windows:
        empty = np.zeros((0, n_channels))
        return Windows(0, empty, empty, empty, empty, np.zeros((0, n_channels), dtype=np.int8))
    cat = lambda name: np.vstack([getattr(w, name) for w in windows])  # noqa: E731
    return Windows(windows[0].first, cat("band_rms"), cat("mains_rms"), cat("lf_rms"), cat("ptp"), cat("states"),
                   [s for w in windows for s in w.spans], windows[-1].history)  # fmt: skip
