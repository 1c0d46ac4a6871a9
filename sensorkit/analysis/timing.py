"""Activation timing per repetition: each muscle's onset and its latency to a reference.

A repetition's baseline is the quiet second before its movement (or reference)
onset; its onsets are searched from shortly before that onset to the repetition's
end. Latency = muscle onset - reference onset, in ms; positive is later.

Delayed: a glute is delayed in a repetition when its onset follows the reference
by more than `delay_margin_ms`. The 50 ms default is the feed-forward window of
postural control: activity that begins later than 50 ms after the prime mover's
onset is too late to be anticipatory (Aruin & Latash 1995, Exp Brain Res 103:323;
used for "delayed" trunk-muscle onsets by Hodges & Richardson 1996, Spine
21:2640). Across a block a glute is called delayed only when the 95% confidence
interval of its mean latency lies wholly above the margin.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

import numpy as np

from sensorkit.analysis.signal_quality import OnsetFlagger, worse
from sensorkit.analysis.stats import summarise
from sensorkit.defaults import DELAY_MARGIN_MS
from sensorkit.dsp.onset import ChannelOnsets, Onset


@dataclass(frozen=True)
class TimingParams:
    delay_margin_ms: float = DELAY_MARGIN_MS
    baseline_s: tuple[float, float] = (-1.2, -0.35)  # relative to the repetition's anchor
    search_before_s: float = 0.35  # onsets may precede the anchor by this much
    # a channel whose burst's start was not seen (none, or one later than the search's first
    # 0.1 s) is asked once more with both windows this much earlier, for a burst that began
    # inside the baseline because the anchor was found late (`rep_onsets`); 0: never
    step_back_s: float = 0.5


@dataclass
class RepTiming:
    index: int
    start_s: float
    end_s: float
    movement_onset_s: float | None
    reference_s: float | None
    onsets: dict[str, Onset] = field(default_factory=dict)

    def latency_ms(self, muscle: str) -> float | None:
        o = self.onsets.get(muscle)
        if o is None or o.onset_s is None or self.reference_s is None:
            return None
        return (o.onset_s - self.reference_s) * 1000.0


def _windows(anchor_s: float, end_s: float, floor_s: float,
             p: TimingParams) -> tuple[tuple[float, float], tuple[float, float]]:  # fmt: skip
    """A repetition's (baseline, search) windows on the file clock."""
    return (max(anchor_s + p.baseline_s[0], floor_s), anchor_s + p.baseline_s[1]), (anchor_s - p.search_before_s, end_s)


def local_t0(timestamps: np.ndarray, fs: float, t: float, first_index: int = 0) -> float:
    """The recording time (s) of a stream's sample 0 on its nominal grid (index / `fs`), read
    where the stream passes time `t`: timestamps[k] - k / fs at the first sample at or after
    `t` (the last one past the end). `timestamps` are those of samples first_index,
    first_index + 1, ... (a live buffer's).

    Why: onsets are found on the sample grid and placed on the recording clock with one
    offset. Taken once from the stream's first sample, that offset carried whatever the
    stream's times did since, while the pelvis's movement onsets are placed from the block's
    own samples: live, a device's first frames are mapped onto the host clock before the
    mapping has seen its quickest frames (`devices.clock`), and every EMG onset of the session
    came that much late against the movement onsets (1.7 ms on a simulated unit in real
    time, 5-13 ms at 4-16x, more over a radio link); a device clock's drift (30 ppm is 54 ms
    after half an hour) and a rate off its nominal value moved them further the later the
    repetition. Read at each repetition, both share the stream's clock there."""
    k = min(int(np.searchsorted(timestamps, t)), len(timestamps) - 1)
    return float(timestamps[k]) - (first_index + k) / fs


def sample_clock(timestamps: np.ndarray, fs: float, a: int) -> Callable[[float], float]:
    """Recording time (s) of a point `s` seconds after sample `a` on the nominal grid: the
    samples' own times (`timestamps`), interpolated (beyond the last, at the nominal rate).
    Why: placed from a block's first sample at the nominal rate, the movement onsets of a
    device whose clock runs 1 % off (a loop timed by hand, another program's stream) drifted
    from the EMG's, which is placed by its own times (`local_t0`): glute latencies moved by
    up to 158 ms on a simulated session (tests/test_analysis.py), by 0 with this. Written
    here rather than with `np.interp` over every sample's index, which allocated that index
    (7.2 M entries for an hour at 2 kHz) at each call."""
    last = len(timestamps) - 1

    def at(s: float) -> float:
        k = a + s * fs
        i = min(int(k), last)
        if i >= last:
            return float(timestamps[last]) + (k - last) / fs
        return float(timestamps[i] + (k - i) * (timestamps[i + 1] - timestamps[i]))

    return at


def rep_onsets(channels: dict[str, ChannelOnsets], t0: float, anchor_s: float, end_s: float,
               floor_s: float, p: TimingParams, only: Iterable[str] | None = None,
               flag: OnsetFlagger | None = None) -> dict[str, Onset]:  # fmt: skip
    """Onsets of every channel (or those named in `only`) for one repetition; times on the
    file clock.

    `t0` is the file time of the channels' first sample on their nominal grid (`local_t0` at
    the repetition: the same offset for every sample of one repetition), `anchor_s` the repetition's
    movement (or reference) onset, `floor_s` the end of the previous repetition (the
    baseline never reaches into it). `channels` may be any objects with `ChannelOnsets`'s
    `onset` method (the live pipeline's channels are). `flag`: as in `flag_onsets`, which
    may also be applied later (`analyze` finds onsets while the signal quality is judged).
    """
    base, search = _windows(anchor_s, end_s, floor_s, p)
    earlier, _ = _windows(anchor_s - p.step_back_s, end_s, floor_s, p)
    out = {}
    names = list(channels) if only is None else list(only)
    for name in names:
        ch = channels[name]
        if base[1] - base[0] < 0.2:
            out[name] = Onset(None, None, None, "noisy_baseline")
            continue
        o = ch.onset((base[0] - t0, base[1] - t0), (search[0] - t0, search[1] - t0))
        unseen = o.onset_s is None or o.onset_s + t0 >= search[0] + 0.1  # its start not seen
        if unseen and p.step_back_s > 0 and earlier[1] - earlier[0] >= 0.5:
            # A slow lift's movement onset is found late (by 0.3-0.5 s where the pelvis barely
            # moves at first): its burst then begins inside the baseline, which it lifts, and
            # no burst is seen, or only a later rise. Asked with both windows earlier, the burst
            # is kept only where it began inside the first baseline or search's first 0.1 s (the
            # first answer could not see it; a later one is the first answer's to give) and
            # lasts on past the anchor (a blip of ECG or tonic activity before it does not).
            before = (earlier[0] - t0, earlier[1] - t0)
            lo, hi = search[0] - p.step_back_s - t0, search[1] - t0
            # first only up to shortly after the first search's start (a burst's departure is
            # traced back from its crossing), where nothing is usually found, which is quick: the
            # whole question costs about as much again as the first answer (analyze 300x -> 190-230x
            # real time on a simulated session)
            if ch.onset(before, (lo, min(hi, search[0] + 0.2 - t0))).onset_s is not None:
                again = ch.onset(before, (lo, hi))
                began = again.onset_s is not None and again.onset_s + t0 < search[0] + 0.1
                if began and (again.offset_s is None or again.offset_s + t0 >= anchor_s):  # on into the movement
                    o = again
        shift = (lambda x: None if x is None else x + t0)  # noqa: E731
        out[name] = Onset(shift(o.onset_s), shift(o.offset_s), o.sd_ms, o.quality, o.snr_db)
    return out if flag is None else flag_onsets(out, anchor_s, end_s, floor_s, p, flag)


def flag_onsets(onsets: dict[str, Onset], anchor_s: float, end_s: float, floor_s: float, p: TimingParams,
                flag: OnsetFlagger) -> dict[str, Onset]:  # fmt: skip
    """`rep_onsets`' onsets with the flags the recording's signal-quality events put on them:
    `flag(channel, onset_s, search start, search end)` (`analysis.signal_quality`); the
    worse of it and the detector's own is kept. A repetition too short for a baseline
    keeps its `noisy_baseline`."""
    base, search = _windows(anchor_s, end_s, floor_s, p)
    if base[1] - base[0] < 0.2:
        return dict(onsets)
    return {name: replace(o, quality=worse(flag(name, o.onset_s, search[0], search[1]), o.quality))
            for name, o in onsets.items()}  # fmt: skip


@dataclass(frozen=True)
class LatencySummary:
    n: int  # latencies averaged
    mean_ms: float | None
    sd_ms: float | None
    ci95_ms: tuple[float, float] | None
    delayed: bool | None  # None: too few repetitions to say
    outliers: int = 0  # latencies set aside as outliers (shown, not averaged)


def summarise_latencies(latencies: list[float], margin_ms: float = DELAY_MARGIN_MS) -> LatencySummary:
    """n, mean, SD and 95% CI (t distribution) of a muscle's latencies over a block, outliers
    (more than 3.5 robust SDs from the median, further in small blocks: `analysis.stats.outlier_z`)
    set aside."""
    s = summarise(latencies)
    delayed = None if s.ci95 is None else bool(s.ci95[0] > margin_ms)
    return LatencySummary(s.n, s.mean, s.sd, s.ci95, delayed, s.outliers)
