"""A recording's per-channel EMG signal quality: the `signal_quality` block of a result.

Built from `sensorkit.dsp.quality`'s half-second windows (the same the live monitor
judges), `sensorkit.dsp.ecg` and the mains line found in the data. Per channel: the
baseline noise in the analysis band, the mains hum, the ECG's R wave and the events
(lift-off, flat, pop, saturation, motion artefact, gap) on the file clock. Each
repetition's onset quality flags derive from these events (`Assessment.flagger`).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from sensorkit.dsp import ecg
from sensorkit.dsp.filters import BAND_HZ, MAX_HOLD_S, band_edges, mains_frequency
from sensorkit.dsp.onset import HELD_FRACTION, HELD_WINDOW_S
from sensorkit.dsp.quality import EVENT_KINDS, KINDS, Windows, concat, merge_spans, window_len, window_states
from sensorkit.units import in_volts

GAP_MERGE_S = 0.1
JUDGE_CHUNK_WINDOWS = 240  # 2 min of windows judged at a time
# the ECG is measured on the recording's first 10 minutes: whether a channel picks up the
# heart, and how strongly, is a property of its electrode site, and ~700 beats give its
# R wave to ~5 % of the EMG noise (the template's noise is 1.25/sqrt(beats) of it); on an
# hour the whole recording took two thirds of the signal-quality pass
ECG_SPAN_S = 600.0
NOISE_PERCENTILE = 10  # quiet stretches: the quietest tenth of the half-second windows
# an onset's flag from the events within this span around it (s): before the onset its
# baseline, after it the burst's first 150 ms, where the onset's time is decided
ONSET_SPAN_S = (-0.05, 0.15)
GAP_AROUND_S, GAP_SHARE = HELD_WINDOW_S, HELD_FRACTION  # lost samples judged as the onset detector does
# event kind -> onset quality flag (motion is judged at each onset by the detector itself)
FLAG = {"gap": "gap", "lift_off": "lift_off", "flat": "lift_off", "saturation": "saturated", "pop": "artefact"}


def _noise_correction(fs: float, band: tuple[float, float]) -> float:
    """The 10th percentile of a Gaussian noise's window RMS over its true RMS (~0.95)."""
    low, high = band_edges(fs, band)
    dof = 2 * (high - low) * 0.5
    return 1 - 1.2816 / np.sqrt(2 * dof)


def units_note(units: tuple[str, ...] | list[str], labels: list[str]) -> list[str]:
    """A warning naming the EMG channels whose samples are not in volts (a Myo armband's counts,
    a file that gives no unit), and what that leaves out; none when all are."""
    other = [f"{label} ({unit or 'no unit'})" for label, unit, v in zip(labels, units, in_volts(units), strict=True)
             if not v]  # fmt: skip
    if not other:
        return []
    return [f"EMG not in volts: {', '.join(other)}. Onsets are timed as usual; hum, movement artefacts, pops "
            "and lift-offs (told by limits in volts) are not judged on these channels and their levels are not "
            "given in uV. A montage file's [units] gives the unit where the file has none."]


def judge_recording(x: np.ndarray, fs: float, mains_hz: float | None, volts: np.ndarray | None = None) -> Windows:
    """Every complete half-second window of `x` (samples, channels; V), as the live monitor
    does: in stretches of `JUDGE_CHUNK_WINDOWS` carrying each one's history to the next,
    so that the working arrays stay small (an hour of 8 channels at once made gigabytes
    of temporaries, and the allocating cost more than the judging)."""
    n_win_s, pad = window_len(fs)
    n_win = len(x) // n_win_s
    lost = lambda i: not np.isfinite(x[i]).all()  # noqa: E731
    parts, history, w0 = [], None, 0
    while True:
        w1 = min(w0 + JUDGE_CHUNK_WINDOWS, n_win)
        # a hole is judged whole (its length decides a window's state): no stretch ends inside one
        while w1 < n_win and (lost(w1 * n_win_s - 1) or lost(w1 * n_win_s)):
            w1 += 1
        lo, hi = w0 * n_win_s - pad, w1 * n_win_s + pad
        ext = np.full((hi - lo, x.shape[1]), np.nan)
        part = x[max(lo, 0) : min(hi, len(x))]
        ext[max(lo, 0) - lo : max(lo, 0) - lo + len(part)] = part
        parts.append(window_states(ext, fs, w0, mains_hz, history, volts=volts))
        history, w0 = parts[-1].history, w1
        if w0 >= n_win:
            return parts[0] if len(parts) == 1 else concat(parts, x.shape[1])


def channel_summary(w: Windows, fs: float, j: int, band: tuple[float, float] = BAND_HZ) -> dict:
    """noise_uv_rms and mains_uv_rms of channel `j` over the windows judged `ok` or `hum`."""
    good = w.states[:, j] <= KINDS.index("hum")
    if not good.any():
        return {"noise_uv_rms": None, "mains_uv_rms": None}
    noise = np.percentile(w.band_rms[good, j], NOISE_PERCENTILE) / _noise_correction(fs, band)
    mains = float(np.median(w.mains_rms[good, j]))
    return {"noise_uv_rms": round(float(noise) * 1e6, 2), "mains_uv_rms": round(mains * 1e6, 2)}


@dataclass(frozen=True)
class Assessment:
    """A recording's signal quality: the result's `block`, and its events in stream samples
    (channel index, kind, start, stop) for flagging onsets (`flagger`)."""

    block: dict
    events: list[tuple[int, str, int, int]]
    labels: list[str]
    fs: float

    def flagger(self, t0_at: Callable[[float], float]) -> OnsetFlagger:
        """Onset flags from the events; sample i at time t0_at(t) + i / fs where the onset is
        (as onsets are placed: `timing.local_t0`)."""
        return sample_flagger(self.events, self.labels, self.fs, t0_at)


def signal_quality(x: np.ndarray, fs: float, labels: list[str], timestamps: np.ndarray,
                   mains: float | str | None = "auto", volts: np.ndarray | None = None) -> dict:  # fmt: skip
    """The `signal_quality` block for EMG `x` (samples, channels; V) sampled at `fs` Hz,
    whose rows are at `timestamps` (s, file clock). `mains`: "auto" finds the line's
    frequency in the data; a number or None is what the user set. `volts`: the channels
    in volts (None: all); the others are judged only by what needs no unit (`window_states`)
    and have no levels in uV."""
    return assess(x, fs, labels, timestamps, mains, volts).block


def assess(x: np.ndarray, fs: float, labels: list[str], timestamps: np.ndarray,
           mains: float | str | None = "auto", volts: np.ndarray | None = None) -> Assessment:  # fmt: skip
    """`signal_quality`'s block with the events behind it."""
    x = np.asarray(x, dtype=np.float64)
    found = mains_frequency(x, fs)
    mains_hz = found if mains == "auto" else (found or mains)
    w = judge_recording(x, fs, mains_hz, volts)
    events = merge_spans([w], fs)
    t = np.asarray(timestamps, dtype=np.float64)
    block = quality_block(w, events, x, fs, labels, lambda i: t[min(max(i, 0), len(t) - 1)], mains_hz, volts)
    return Assessment(block, events, list(labels), fs)


def quality_block(w: Windows, events: list[tuple[int, str, int, int]], x: np.ndarray | None, fs: float,
                  labels: list[str], sample_time: Callable[[int], float], mains_hz: float | None,
                  volts: np.ndarray | None = None) -> dict:  # fmt: skip
    """The `signal_quality` block from judged windows, their events (placed on the recording
    clock by `sample_time`, sample index -> s), and the signal itself for the ECG (None: not
    assessed, as live, which keeps no whole recording). Channels not in volts (`volts`) get
    no levels in uV (noise, hum, R wave: None)."""
    clock = lambda i: round(float(sample_time(int(i))), 4)  # noqa: E731
    low, high = band_edges(fs)  # the band the noise is measured in (its upper edge capped at low rates)
    band = [low, round(high, 2)]
    out: dict = {"mains_hz": mains_hz, "window_s": window_len(fs)[0] / fs, "band_hz": band, "channels": {}}
    clean = _cleaner(x, w, fs) if x is not None else None
    beats = ecg.heartbeats((clean(j) for j in range(len(labels))), fs) if clean is not None else None
    for j, label in enumerate(labels):
        ch = channel_summary(w, fs, j)
        if not mains_hz:  # no line found: its level was not measured
            ch["mains_uv_rms"] = None
        ch["ecg"], ch["ecg_uv"] = False, None
        if beats is not None:
            amp, noise = ecg.r_wave_amplitude(clean(j), fs, beats)
            if np.isfinite(amp):
                ch["ecg_uv"] = round(amp * 1e6, 2)
                floor = (ch["noise_uv_rms"] or 0.0) * 1e-6
                ch["ecg"] = bool(amp >= max(floor, 4 * noise))
        if volts is not None and not volts[j]:
            ch["noise_uv_rms"] = ch["mains_uv_rms"] = ch["ecg_uv"] = None
        ch["events"] = []
        for kind, a, b, lost in _gaps_merged([(kind, a, b) for k, kind, a, b in events if k == j], fs):
            e = {"kind": kind, "start_s": clock(a), "end_s": clock(b - 1)}
            if kind == "gap":
                e["lost_s"] = round(lost / fs, 4)
            ch["events"].append(e)
        out["channels"][label] = ch
    return out


def _gaps_merged(events: list[tuple[str, int, int]], fs: float) -> list[tuple[str, int, int, int]]:
    """(kind, start, stop, lost samples): lost-sample runs closer than `GAP_MERGE_S` are one
    event in the result (1 % of samples lost one by one is one long drop-out event, not
    thousands), with the samples it actually lost; other events as they are."""
    out: list[list] = []
    for kind, a, b in sorted(events, key=lambda e: (e[0] != "gap", e[1])):
        if kind == "gap" and out and out[-1][0] == "gap" and a - out[-1][2] < GAP_MERGE_S * fs:
            out[-1][2], out[-1][3] = b, out[-1][3] + (b - a)
        else:
            out.append([kind, a, b, b - a])
    return sorted((tuple(e) for e in out), key=lambda e: e[1])  # type: ignore[return-value]


def _cleaner(x: np.ndarray, w: Windows, fs: float) -> Callable[[int], np.ndarray]:
    """A function giving channel j of `x`'s first `ECG_SPAN_S` with its lost, lifted-off,
    flat, saturated and popping windows set to the channel's median, so no fault is taken
    for a heartbeat or averaged into one. One channel at a time: a cleaned copy of a whole
    recording is as large as the recording."""
    n_win_s, _ = window_len(fs)
    bad_kinds = np.array([KINDS.index(k) for k in ("pop", "lift_off", "saturation", "flat", "gap")])
    medians: dict[int, float] = {}

    def channel(j: int) -> np.ndarray:
        out = np.array(x[: int(ECG_SPAN_S * fs), j], dtype=np.float64)
        if j not in medians:
            kept = out[~np.isnan(out)]
            medians[j] = float(np.median(kept)) if kept.size else np.nan
        bad = np.repeat(np.isin(w.states[:, j], bad_kinds), n_win_s)[: len(out)]
        mask = ~np.isfinite(out)
        mask[: len(bad)] |= bad
        out[mask] = medians[j]
        return out

    return channel


OnsetFlagger = Callable[[str, float | None, float, float], str | None]
# onset quality flags from the mildest to the worst: the worse of the detector's and the events' wins
SEVERITY = ("ok", "no_burst", "noisy_baseline", "artefact", "saturated", "lift_off", "gap")


def worse(a: str | None, b: str) -> str:
    """The worse of two onset quality flags (`a` None: `b`)."""
    if a is None:
        return b
    return max(a, b, key=lambda q: SEVERITY.index(q) if q in SEVERITY else 0)


def sample_flagger(events: list[tuple[int, str, int, int]], labels: list[str], fs: float,
                   t0_at: Callable[[float], float]) -> OnsetFlagger:  # fmt: skip
    """A function (channel, onset_s, search start, search end) -> the flag the signal-quality
    events put on that onset (None: none). Event samples i are at t0_at(t) + i / fs, with
    t0_at read where the onset is (the search's start without one), as the onset itself was
    placed (`timing.local_t0`). Why: placed from the first sample at the nominal rate, a
    stream whose clock runs 1 % off had its artefacts flag onsets 6 s away after 10 min."""
    by_channel: dict[str, list[tuple[str, float, float]]] = {}
    for j, kind, a, b in events:
        by_channel.setdefault(labels[j], []).append((kind, a / fs, (b - 1) / fs))
    on_grid = events_flagger(by_channel)  # event times on the sample grid (s from sample 0)

    def flag(channel: str, onset_s: float | None, lo: float, hi: float) -> str | None:
        t0 = t0_at(lo if onset_s is None else onset_s)
        return on_grid(channel, None if onset_s is None else onset_s - t0, lo - t0, hi - t0)

    return flag


def events_flagger(by_channel: dict[str, list[tuple[str, float, float]]]) -> OnsetFlagger:
    """A function (channel, onset_s, search start, search end) -> the flag the events put on
    that onset (None: none), from (kind, start_s, end_s) events per channel."""
    # events sorted by start, with the longest one's length: an onset looks only at those that
    # may reach it (a link losing 1 % of its samples leaves tens of thousands of one-sample gaps)
    index = {}
    for ch, evs in by_channel.items():
        evs = sorted(evs, key=lambda e: e[1])
        index[ch] = (evs, [e[1] for e in evs], max((e[2] - e[1] for e in evs), default=0.0))

    def near(channel: str, lo: float, hi: float) -> list[tuple[str, float, float]]:
        evs, starts, longest = index.get(channel, ([], [], 0.0))
        return evs[bisect.bisect_left(starts, lo - longest) : bisect.bisect_right(starts, hi)]

    def flag(channel: str, onset_s: float | None, lo: float, hi: float) -> str | None:
        if onset_s is not None:
            lo = min(lo, onset_s + ONSET_SPAN_S[0], onset_s - GAP_AROUND_S)
            hi = max(hi, onset_s + ONSET_SPAN_S[1], onset_s + GAP_AROUND_S)
        events = near(channel, lo, hi)
        # lost samples, as the detector judges them: a tenth of the 20 ms around the onset,
        # or (no onset) a hole longer than the filters bridge anywhere in the search window
        if onset_s is not None:
            a0, b0 = onset_s - GAP_AROUND_S, onset_s + GAP_AROUND_S
            lost = sum(max(0.0, min(b, b0) - max(a, a0)) for k, a, b in events if k == "gap")
            gap = lost >= GAP_SHARE * (b0 - a0)
            lo, hi = onset_s + ONSET_SPAN_S[0], onset_s + ONSET_SPAN_S[1]
        else:
            gap = any(k == "gap" and a <= hi and b >= lo and b - a > MAX_HOLD_S for k, a, b in events)
        hits = [FLAG[k] for k, a, b in events if k in FLAG and k != "gap" and a <= hi and b >= lo]
        hits += ["gap"] if gap else []
        return max(hits, key=SEVERITY.index) if hits else None

    return flag


__all__ = ["EVENT_KINDS", "signal_quality", "sample_flagger", "assess", "events_flagger", "judge_recording", "worse"]
