"""Analysis of a whole session: exercise blocks -> repetitions -> activation timing.

Input is plain arrays on the recording's clock (`SessionData`), so the analysis
knows nothing about files or devices; output is the JSON-ready result of
DESIGN.md section 7.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field, replace
from functools import partial

import numpy as np

from sensorkit import __version__
from sensorkit.analysis.beside import can_fork, run_beside
from sensorkit.analysis.exercises import (
    BILATERAL,
    EXERCISES,
    MUSCLE_LABEL,
    REGISTRY,
    SINGLE_LEG,
    Block,
    block_reference,
    glutes_of_interest,
    parse_blocks,
)  # fmt: skip
from sensorkit.analysis.pelvic_drop import (
    DROP_THRESHOLD_DEG,
    PelvisTrack,
    drop_curve,
    rep_drop,
    single_support,
    track_pelvis,
)
from sensorkit.analysis.signal_quality import OnsetFlagger, assess, worse
from sensorkit.analysis.timing import (
    RepTiming,
    TimingParams,
    flag_onsets,
    local_t0,
    rep_onsets,
    sample_clock,
    summarise_latencies,
)
from sensorkit.analysis.unmarked import Emg, describe, stretch_movements, unmarked_blocks
from sensorkit.dsp.gait import GaitParams, initial_contacts
from sensorkit.dsp.held import join_held
from sensorkit.dsp.movement import MovementParams, movement_periods, signal_movements
from sensorkit.dsp.onset import ChannelOnsets, OnsetParams, find_bursts
from sensorkit.dsp.pelvis import MIN_BEND_DEG, MIN_STANDING_S
from sensorkit.dsp.posture import posture_parts
from sensorkit.errors import SensorkitError

# below this the band-pass shrinks to nothing and the 50 Hz detection envelope has no room;
# 200 Hz still admits the Myo armband and OpenBCI Cyton (250 Hz)
MIN_EMG_RATE_HZ = 200.0


@dataclass
class EmgData:
    timestamps: np.ndarray  # s, file clock, one per sample
    samples: np.ndarray  # (n, channels), V (or counts: `volts`)
    labels: list[str]
    fs: float
    volts: list[bool] | None = None  # per channel: its samples are in volts (None: all are)


@dataclass
class ImuData:
    timestamps: np.ndarray
    acc: np.ndarray  # (n, 3) m/s^2
    gyr: np.ndarray  # (n, 3) rad/s
    fs: float


@dataclass
class SignalData:
    """One channel that follows the movement (a goniometer's angle, a force), a possible
    movement reference (`--reference-channel`)."""

    timestamps: np.ndarray  # s, file clock
    values: np.ndarray  # (n,), in `unit`
    fs: float
    unit: str
    kind: str  # the stream's type: Angle, Force, ...


@dataclass
class SessionData:
    file: str
    emg: EmgData | None  # None: an IMU-only recording (pelvic drop, movement, gait contacts)
    imu: ImuData | None = None
    markers: list[tuple[float, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # what reading the file had to correct
    meta: dict[str, str | None] = field(default_factory=dict)  # pseudonym, session, recorded (file header)
    signals: dict[str, SignalData] = field(default_factory=dict)  # other channels by label (goniometer, ...)


@dataclass(frozen=True)
class AnalysisOptions:
    exercise: str | None = None  # analyse only this exercise (required without markers)
    side: str | None = None
    reference: str | None = None  # "movement" or a muscle label; default per exercise
    reference_channel: str | None = None  # movement from this channel (a goniometer) instead of the IMU
    mains: float | str | None = "auto"
    onset: OnsetParams = OnsetParams()
    timing: TimingParams = TimingParams()
    drop_threshold_deg: float = DROP_THRESHOLD_DEG
    movement: MovementParams = MovementParams()
    gait: GaitParams = GaitParams()


def _span(data: SessionData) -> tuple[float, float]:
    """First and last sample time (s) over the recording's EMG and pelvis IMU."""
    ts = [s.timestamps for s in (data.emg, data.imu) if s is not None and len(s.timestamps)]
    return min(float(t[0]) for t in ts), max(float(t[-1]) for t in ts)


def _blocks(data: SessionData, opt: AnalysisOptions, track: PelvisTrack | None,
            channels: dict[str, ChannelOnsets]) -> tuple[list[Block], list[str]]:  # fmt: skip
    """The blocks to analyse, and notes on how blocks without markers were found."""
    t = _span(data)
    blocks = parse_blocks(data.markers, float(t[-1]))
    if opt.exercise is not None:
        if opt.exercise not in EXERCISES:
            raise SensorkitError(f"unknown exercise {opt.exercise!r}; choose from {', '.join(EXERCISES)}")
        chosen = [b for b in blocks if b.exercise == opt.exercise and (opt.side is None or b.side == opt.side)]
        if chosen:
            return chosen, []
        return _unmarked(data, opt, track, channels, t)
    known = [b for b in blocks if b.exercise in EXERCISES]
    if not known:
        found = f" (only unknown ones: {', '.join(sorted({b.exercise for b in blocks}))})" if blocks else ""
        held = ""
        if track is not None and track.up is not None and data.imu is not None:
            seen = describe(track, data.imu.acc, data.imu.gyr, data.imu.fs, _emg_cue(data, channels), opt.movement)
            held = "; found in it after the calibration: " + "; ".join(seen) if seen else ""
        raise SensorkitError(f"the recording has no exercise markers{found}{held}; name the exercise with "
                             "--exercise (and --side to keep one side)")  # fmt: skip
    return known, []


def _emg_cue(data: SessionData, channels: dict[str, ChannelOnsets]) -> Emg | None:
    """The EMG as a side cue for blocks found without markers (None: no EMG)."""
    return Emg(channels, data.emg.timestamps) if data.emg is not None and channels else None


def _unmarked(data: SessionData, opt: AnalysisOptions, track: PelvisTrack | None, channels: dict[str, ChannelOnsets],
              span: tuple[float, float]) -> tuple[list[Block], list[str]]:  # fmt: skip
    """Blocks of `opt.exercise` in a recording without its markers: found from the calibrated
    pelvis IMU (`sensorkit.analysis.unmarked`), else the whole recording, said in a note."""
    name = opt.exercise
    if track is None or track.up is None or data.imu is None:
        why = "no pelvis IMU" if data.imu is None else "no calibration of the pelvis IMU"
        side = None if name in BILATERAL else opt.side
        note = (f"no markers for {name} and {why} to find its blocks: the whole recording is taken as {name}"
                + (f" on side {side}" if side else ""))  # fmt: skip
        return [Block(name, side, span[0], span[1], "the whole recording")], [note]
    imu = data.imu
    found, notes = unmarked_blocks(name, opt.side, track, imu.acc, imu.gyr, imu.fs, _emg_cue(data, channels),
                                   opt.movement)  # fmt: skip
    # what other markers say is another exercise (or the other side) is not searched again
    marked = parse_blocks(data.markers, span[1])
    if marked and found:
        inside = lambda t: any(b.start_s <= t <= b.end_s for b in marked)  # noqa: E731
        kept = [replace(b, reps=tuple(r for r in b.reps if not inside(r[0]))) if b.reps else b for b in found]
        found = [b for b, old in zip(kept, found, strict=True) if b.reps or not old.reps]
        if not found:
            notes.append("its movements lie in blocks marked as other exercises")
    if not found:
        why = "; ".join(notes)
        mark = "" if "exercise_start:" in why else f"; mark its blocks (exercise_start:{name}...)"
        raise SensorkitError(f"no {name} found in a recording without its markers: {why}{mark}")
    return found, notes


def muscle_columns(emg: EmgData) -> list[int]:
    """The columns of `emg` labelled with a muscle and side (`glute_med_L`), the channels analysed."""
    idx = [i for i, label in enumerate(emg.labels) if MUSCLE_LABEL.match(label)]
    if not idx:
        raise SensorkitError(
            "no EMG channel is labelled with a muscle and side such as glute_med_L "
            f"(found: {', '.join(emg.labels)}); relabel with --channel-map"
        )
    return idx


def reps_from_imu(imu: ImuData, block: Block, p: MovementParams,
                  up: np.ndarray | None = None) -> list[tuple[float, float, float]]:  # fmt: skip
    """The block's repetitions as (start s, end s, movement onset s) on the recording clock:
    `movement_periods` over the pelvis IMU inside the block, a held exercise's pieces joined
    (`join_held`) (the live pipeline asks the same of its block once the block is complete).
    `up`: the vertical in pelvis coordinates over the whole IMU stream (`PelvisTrack.up`), or
    None (no calibration); where the patient lay down, rolled over or got up inside the block,
    only its parts in the exercise's postures are searched (`posture_parts`), each without the
    arrival in it or the departure from it, as a stretch found without markers is."""
    a, b = (int(i) for i in np.searchsorted(imu.timestamps, [block.start_s, block.end_s]))
    ex = REGISTRY[block.exercise]
    parts = None if up is None or b <= a else posture_parts(up, imu.fs, ex.postures, a, b)
    if parts is not None:
        reps = []
        for pa, pb in parts:
            _, found = stretch_movements(imu.acc, imu.gyr, imu.fs, pa, pb, pb >= b, ex.movement(p), imu.timestamps,
                                         ex.hold_s, arrives=pa > a)  # fmt: skip
            reps += [(on_s, end_s, on_s) for _, _, on_s, end_s in found]
        return reps
    moves = movement_periods(imu.acc[a:b], imu.gyr[a:b], imu.fs, ex.movement(p))
    hold_s = ex.hold_s
    if hold_s is not None:  # a hold with the pelvis level falls back to rest: join its shifts out and back
        moves = join_held(moves, imu.acc[:b], imu.gyr[:b], imu.fs, hold_s, origin=int(a))
    if b <= a:
        return []
    at = sample_clock(imu.timestamps, imu.fs, int(a))
    return [(at(m.onset_s), at(m.end_s), at(m.onset_s)) for m in moves]


def _reps_from_signal(sig: SignalData, block: Block, p: MovementParams) -> list[tuple[float, float, float]]:
    a, b = np.searchsorted(sig.timestamps, [block.start_s, block.end_s])
    moves = signal_movements(sig.values[a:b], sig.fs, p)
    if b <= a:
        return []
    at = sample_clock(sig.timestamps, sig.fs, int(a))
    return [(at(m.onset_s), at(m.end_s), at(m.onset_s)) for m in moves]


def _reps_from_emg(ch: ChannelOnsets, emg: EmgData, block: Block, p: OnsetParams):
    a, b = np.searchsorted(emg.timestamps, [block.start_s, block.end_s])
    bursts = find_bursts(ch.cond[a:b], emg.fs, p, env=ch.env[a:b])
    at = sample_clock(emg.timestamps, emg.fs, int(a))
    return [(at(on), at(off), None) for on, off in bursts]


def result_base(file: str, opt: AnalysisOptions, mains_detected: dict[str, float | None],
                meta: dict[str, str | None] | None = None) -> dict:  # fmt: skip
    """The parts of a result that come before its exercises (DESIGN.md section 7): the file,
    whose session it is (pseudonym, session label, recording date), software and parameters."""
    meta = meta or {}
    return {
        "file": os.path.basename(file),
        "pseudonym": meta.get("pseudonym"), "session": meta.get("session"), "recorded": meta.get("recorded"),
        "software": {"name": "sensorkit", "version": __version__},
        "parameters": {"onset": asdict(opt.onset), "timing": asdict(opt.timing),
                       "movement": asdict(opt.movement), "gait": asdict(opt.gait), "mains": opt.mains,
                       "mains_detected_hz": mains_detected},  # fmt: skip
        "exercises": [],
    }


def not_analysed(has_emg: bool, has_imu: bool, movement_from: str | None = None) -> list[dict[str, str]]:
    """What a recording without EMG or without a pelvis IMU leaves out, and why (a result's
    `not_analysed`; offline and live say the same). `movement_from`: the channel movement
    onsets come from instead of the IMU."""
    out = []
    if not has_emg:
        out.append({"what": "muscle onsets and latencies", "why": "the recording has no EMG stream"})
    if not has_imu:
        what = "pelvic drop" if movement_from else "pelvic drop and movement onsets"
        out.append({"what": what, "why": "the recording has no pelvis IMU stream"})
    return out


NO_MOVEMENT = ("its reference is movement onset and the recording has no pelvis IMU; choose a reference "
               "muscle with --reference (e.g. biceps_femoris: the working side's)")  # fmt: skip


def pelvis_json(cal, opt: AnalysisOptions) -> dict:
    """How the pelvis sensor was calibrated, for a result's `pelvis` field."""
    out = {"calibration": cal.source, "mounting_deg": round(cal.mounting_deg, 1),
           "bend_deg": round(cal.bend_deg, 1), "upside_down": cal.upside_down,
           "heading_from": cal.heading_from, "heading_sd_deg": round(cal.heading_sd_deg, 1),
           "drop_threshold_deg": opt.drop_threshold_deg}  # fmt: skip
    if cal.source == "walk":
        out["note"] = ("no quiet standing found: the vertical and the heading come from the walk itself (its strides' "
                       f"mean acceleration, its braking at each foot contact; heading +-{cal.heading_sd_deg:.0f} deg), "
                       "and obliquity is 0 at the walk's mean posture, not at standing")  # fmt: skip
    elif cal.heading_from != "bends":
        why = (f"the forward bends tilted the pelvis {cal.bend_deg:.0f} deg, too little to give its heading"
               if cal.bends else "no forward bends found before the exercises (a recording without its calibration?)")
        how = ("from the walk's braking at each foot contact" if cal.heading_from == "walk"
               else "from the mounting convention (sensor x anterior)")
        out["note"] = f"{why}: taken {how}, +-{cal.heading_sd_deg:.0f} deg; each drop's uncertainty includes it"
    elif cal.bend_deg < MIN_BEND_DEG:
        out["note"] = (f"the forward bends tilted the pelvis only {cal.bend_deg:.0f} deg: heading +-"
                       f"{cal.heading_sd_deg:.0f} deg, included in each drop's uncertainty")  # fmt: skip
    if cal.source == "detected" and cal.standing_s is not None and cal.standing_s < MIN_STANDING_S:
        short = (f"no {MIN_STANDING_S:.0f} s of quiet standing outside the exercises: obliquity is 0 at the "
                 f"{cal.standing_s:.0f} s of it found outside them")  # fmt: skip
        out["note"] = f"{short}; {out['note']}" if "note" in out else short
    return out


def analyze_session(data: SessionData, opt: AnalysisOptions = AnalysisOptions(),
                    progress: Callable[[str], None] | None = None) -> dict:  # fmt: skip
    """Per-repetition activation timing of every labelled muscle and the pelvic drop, per
    exercise block, with what the recording holds: EMG and a pelvis IMU, or either alone
    (the result's `not_analysed` says what was left out and why)."""
    emg = data.emg
    if emg is None and data.imu is None:
        raise SensorkitError(f"{data.file} has neither EMG nor a pelvis IMU to analyse")
    if opt.reference_channel is not None and opt.reference_channel not in data.signals:
        have = ", ".join(f"{k} ({v.kind}, {v.unit or 'no unit'})" for k, v in data.signals.items()) or "none"
        raise SensorkitError(f"--reference-channel {opt.reference_channel!r}: the recording has no such channel "
                             f"besides EMG and IMU (it has: {have})")  # fmt: skip
    # the EMG channels, their quality check and the pelvis are independent, and numpy and
    # scipy release the interpreter while they filter and transform: threads share the cores
    # (the results do not depend on the order in which they finish). The blocks are measured
    # in turn while the quality check runs, in a process of its own where it can (`beside`:
    # beside the blocks' onset fits, which hold the interpreter, a thread of it waited at
    # every numpy call; threads among the blocks gained nothing); its flags are put on their
    # onsets afterwards.
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix=POOL_NAME) as pool:
        return _analyze(data, opt, progress, pool)


POOL_NAME = "sensorkit-analysis"


def _idle_workers() -> list[threading.Thread]:
    """The analysis pool's threads (idle once every task given to them is done)."""
    return [t for t in threading.enumerate() if t.name.startswith(POOL_NAME)]


def _analyze(data: SessionData, opt: AnalysisOptions, progress: Callable[[str], None] | None,
             pool: ThreadPoolExecutor) -> dict:  # fmt: skip
    emg = data.emg
    tracking = None
    if data.imu is not None:
        imu = data.imu
        tracking = pool.submit(track_pelvis, imu.timestamps, imu.acc, imu.gyr, imu.fs, data.markers)
    muscles: list[str] = []
    channels: dict[str, ChannelOnsets] = {}
    judged = None
    if emg is not None:
        if emg.fs < MIN_EMG_RATE_HZ:
            raise SensorkitError(f"EMG sampled at {emg.fs:g} Hz is too slow for onsets: surface EMG carries its "
                                 f"power at 20-250 Hz (SENIAM recommends >= 1000 Hz); sensorkit needs at least "
                                 f"{MIN_EMG_RATE_HZ:g} Hz")  # fmt: skip
        if len(emg.timestamps) < emg.fs:
            raise SensorkitError("the EMG stream holds less than a second of data")
        idx = muscle_columns(emg)
        muscles = [emg.labels[i] for i in idx]
        if progress:
            progress(f"conditioning {len(muscles)} EMG channels and checking their signal quality")
        # the channels first: the blocks wait for them, while the quality check is needed only
        # at the end (its flags), and runs beside the blocks
        built = pool.map(lambda i: ChannelOnsets(emg.samples[:, i], emg.fs, opt.onset, mains=opt.mains), idx)
        every = list(idx) == list(range(emg.samples.shape[1]))  # no copy of the recording then
        volts = None if emg.volts is None else [emg.volts[i] for i in idx]
        check = (assess, emg.samples if every else emg.samples[:, idx], emg.fs, muscles, emg.timestamps, opt.mains,
                 volts)  # fmt: skip
        forking = can_fork(_idle_workers())  # else (the caller's threads) a thread of the pool, started now
        judged = None if forking else pool.submit(*check)
        channels = dict(zip(muscles, built, strict=True))
        if forking:  # a process forked once the pool is idle: the channels are built, the pelvis tracked
            if tracking is not None:
                wait([tracking])
            judged = run_beside(pool, *check, idle=_idle_workers())
    first_s, last_s = _span(data)
    t0 = float(emg.timestamps[0]) if emg is not None else first_s
    result = result_base(data.file, opt, {m: c.mains_hz for m, c in channels.items()}, data.meta)
    result["recording_start_s"] = round(first_s, 4)  # tables show times from here, as `info` does
    if data.warnings:
        result["warnings"] = list(data.warnings)
    if emg is not None:
        result["signal_quality"] = None  # judged while the blocks are measured (below)
    missing = not_analysed(emg is not None, data.imu is not None, opt.reference_channel)
    if missing:
        result["not_analysed"] = missing
    track = None
    if tracking is not None:
        if progress:
            progress("calibrating the pelvis sensor")
        try:
            track = tracking.result()
            result["pelvis"] = pelvis_json(track.calibration, opt)
        except ValueError as exc:  # no usable calibration: pelvic drop is not reported
            result["pelvis"] = {"calibration": None, "reason": str(exc)}
    blocks, notes = _blocks(data, opt, track, channels)
    if notes:
        result.setdefault("warnings", []).extend(notes)
    skipped = sorted({b.exercise for b in parse_blocks(data.markers, last_s)} - set(EXERCISES))
    if skipped:
        result["skipped_exercises"] = skipped
        if progress:
            progress(f"skipping exercises sensorkit does not know: {', '.join(skipped)}")
    measured = []
    for block in blocks:
        if progress:
            progress(f"analysing {block.exercise} {block.side or ''}".strip())
        measured.append((block, _measure_block(block, data, channels, muscles, t0, opt, track)))
    flag = None
    if judged is not None:
        quality = judged.result()
        result["signal_quality"] = quality.block
        flag = quality.flagger(lambda t: local_t0(emg.timestamps, emg.fs, t))  # where each onset is placed
    for block, finish in measured:
        block_json = finish(flag)
        if block.found_from != "markers":
            block_json["blocks_from"] = block.found_from
        result["exercises"].append(with_drops(block_json, block, track, opt))
    return result


GAIT_WINDOW_S = (-0.4, 0.3)  # a burst belongs to the contact it precedes (late swing) or follows


Contact = tuple[float, str, str, bool]  # time (s), kind, side, placed from the cadence in a drop-out


def _contacts(markers: list[tuple[float, str]], block: Block) -> list[Contact]:
    """(time, kind, side, False) of foot-contact markers inside a block."""
    out = []
    for t, text in markers:
        parts = text.split(":")
        inside = block.start_s <= t <= block.end_s
        if parts[0] in ("initial_contact", "final_contact") and len(parts) > 1 and inside:
            out.append((t, parts[0], parts[1], False))
    return sorted(out)


def _contacts_from_imu(imu: ImuData, block: Block, p: GaitParams, track: PelvisTrack | None = None
                       ) -> tuple[list[Contact], str]:  # fmt: skip
    """Contacts found in the pelvis IMU, and where their sides came from (the block's `sides_from`);
    `track`: the calibrated pelvis (its left axis, and its vertical tracked over the recording)."""
    a, b = np.searchsorted(imu.timestamps, [block.start_s, block.end_s])
    if b - a < 2:
        return [], "yaw swing"
    # a heading from the mounting convention (no bends deep enough) is a guess; the walk's own
    # braking at each contact gives left better (`left_from_contacts`)
    left = None if track is None or track.calibration.heading_from != "bends" else track.calibration.axes[1]
    # a calibration from the walk itself (no quiet standing) is the walk's own tracking: its vertical
    # is left to `initial_contacts`, which bridges drop-outs before it tracks (passed, on Voisard et
    # al.'s walks, where 79 of 110 trials lose samples, contacts within 50 / 100 ms 81.9 / 91.2 % ->
    # 81.4 / 90.7 %; `analyze --exercise gait`, IMU only, ad hoc, December 2026)
    up = None if track is None or track.up is None or track.calibration.source == "walk" else \
        track.up[a:b] @ track.calibration.axes
    found = initial_contacts(imu.acc[a:b], imu.gyr[a:b], imu.fs, p, left, up)
    judged = [c.cues_agree for c in found if c.cues_agree is not None]
    sides_from = "yaw swing" if not judged else (f"sideways sway over the stance foot; the yaw swing agrees on "
                                                 f"{sum(judged)} of {len(judged)} steps")  # fmt: skip
    at = sample_clock(imu.timestamps, imu.fs, int(a))
    return [(at(c.t_s), "initial_contact", c.side, c.inferred) for c in found], sides_from


# a block measured, waiting for the signal quality's flags to make its part of the result
Finish = Callable[[OnsetFlagger | None], dict]


def gait_contacts(markers: list[tuple[float, str]], imu: ImuData | None, block: Block, p: GaitParams,
                  track: PelvisTrack | None = None) -> tuple[list[Contact], str, str]:  # fmt: skip
    """A gait block's contacts, where they came from and where their sides came from: from
    markers (force plate or footswitch events) where the recording has them, else from the
    pelvis IMU (`track`: the calibrated pelvis, where there is one)."""
    contacts, source, sides_from = _contacts(markers, block), "markers", "markers"
    if not any(kind == "initial_contact" for _, kind, _, _ in contacts) and imu is not None:
        (contacts, sides_from), source = _contacts_from_imu(imu, block, p, track), "imu"
    return contacts, source, sides_from


def gait_block(block: Block, found: tuple[list[Contact], str, str], onsets: dict[str, list[float]], channels,
               muscles: list[str], opt: AnalysisOptions) -> Finish:  # fmt: skip
    """The gait block of the result, once the onsets' quality flags can be given: each step
    runs from an initial contact to the next, latencies to its contact. `found`: from
    `gait_contacts`; `onsets`: each muscle's burst onsets in the block (s, file clock)."""
    contacts, source, sides_from = found
    ics = [(t, side) for t, kind, side, _ in contacts if kind == "initial_contact"]
    if not ics:  # the block says so; the session's other blocks still count
        out = block_json(block, "initial_contact", [], muscles, opt)
        out["not_analysed"] = ("no foot contacts: gait needs initial_contact:L/R markers (from a force plate or "
                               "footswitch export, see sensorkit import --events) or a pelvis IMU in which "
                               "walking can be found")  # fmt: skip
        return lambda flag: out
    return partial(_gait_json, block, ics, contacts, onsets, source, sides_from, channels, muscles, opt)


def _gait_result(block: Block, data: SessionData, channels, muscles, opt: AnalysisOptions,
                 track: PelvisTrack | None = None) -> Finish:  # fmt: skip
    """Gait: contacts (`gait_contacts`) and each muscle's burst onsets over the block."""
    found = gait_contacts(data.markers, data.imu, block, opt.gait, track)
    emg = data.emg
    onsets = {}
    if channels:  # none in an IMU-only recording: steps and drops only
        a, b = np.searchsorted(emg.timestamps, [block.start_s, block.end_s])
        at = sample_clock(emg.timestamps, emg.fs, int(a))  # the block's samples' own times
        for m, ch in channels.items():
            bursts = find_bursts(ch.cond[a:b], emg.fs, opt.onset, env=ch.env[a:b])
            onsets[m] = [at(on) - ch.delay_s for on, _ in bursts]
    return gait_block(block, found, onsets, channels, muscles, opt)


def with_drops(block_json: dict, block: Block, track: PelvisTrack | None, opt: AnalysisOptions) -> dict:
    """`block_json` with each repetition's pelvic drop on single-leg tasks and gait (each
    step's stance side), where the pelvis is calibrated."""
    if track is not None and block.exercise in SINGLE_LEG:
        for rep in block_json["reps"]:
            stance = block.side or rep.get("side")  # gait: the stance side of each step
            if stance is not None:
                # gait: the drop over the step's single-limb support (`single_support`)
                start = rep["start_s"] if block.side is not None else single_support(rep["start_s"], rep["end_s"])
                rep.update(rep_drop(track, start, rep["end_s"], stance, opt.drop_threshold_deg))
                rep["pelvic_drop_curve"] = drop_curve(track, rep["start_s"], rep["end_s"], stance)
    return block_json


def _gait_json(block: Block, ics: list[tuple[float, str]], contacts: list[Contact], onsets: dict[str, list[float]],
               source: str, sides_from: str, channels, muscles, opt: AnalysisOptions,
               flag: OnsetFlagger | None) -> dict:  # fmt: skip
    """The gait block of the result from its contacts and each muscle's burst onsets."""
    fs = next(iter(channels.values())).fs if channels else None
    reps = []
    for k, (t_ic, side) in enumerate(ics):
        end = ics[k + 1][0] if k + 1 < len(ics) else block.end_s
        rep = {"index": k + 1, "side": side, "start_s": _r(t_ic), "end_s": _r(end), "movement_onset_s": None,
               "reference_s": _r(t_ic), "onsets_s": {}, "latency_ms": {}, "delayed": {}, "onset_sd_ms": {},
               "quality": {}}  # fmt: skip
        for m in muscles:
            near = [o for o in onsets[m] if t_ic + GAIT_WINDOW_S[0] <= o <= t_ic + GAIT_WINDOW_S[1]]
            lat = None if not near else (near[0] - t_ic) * 1000
            rep["onsets_s"][m] = _r(near[0]) if near else None
            rep["latency_ms"][m] = _r(lat, 1)
            rep["delayed"][m] = None if lat is None else bool(lat > opt.timing.delay_margin_ms)
            rep["onset_sd_ms"][m] = _r(max(channels[m].delay_sd_s, 1 / fs) * 1000, 1) if near else None
            lo, hi = t_ic + GAIT_WINDOW_S[0], t_ic + GAIT_WINDOW_S[1]
            found = flag(m, near[0] if near else None, lo, hi) if flag else None
            rep["quality"][m] = worse(found, "ok" if near else "no_burst")
        reps.append(rep)
    return {
        "exercise": "gait", "side": None, "start_s": _r(block.start_s), "end_s": _r(block.end_s),
        "reference": "initial_contact", "contacts_from": source, "sides_from": sides_from,
        "glutes": glutes_of_interest("gait", None, muscles),
        "events": [{"kind": kind, "side": side, "t_s": _r(t)} | ({"inferred": True} if made else {})
                   for t, kind, side, made in contacts],  # fmt: skip
        "reps": reps, "summary": reps_summary(reps, muscles, opt),
    }  # fmt: skip


def reps_summary(reps: list[dict], muscles: list[str], opt: AnalysisOptions) -> dict:
    """Per muscle, the summary of the clean latencies in result rows."""
    return {m: _summary([r["latency_ms"][m] for r in reps if r["quality"][m] == "ok"], opt) for m in muscles}


def _measure_block(block: Block, data: SessionData, channels, muscles, t0, opt: AnalysisOptions,
                  track: PelvisTrack | None = None) -> Finish:  # fmt: skip
    """The block measured (repetitions, onsets, contacts); the returned function makes its
    part of the result once the onsets' quality flags can be given."""
    if REGISTRY[block.exercise].reps_from == "contacts":
        return _gait_result(block, data, channels, muscles, opt, track)
    reference = block_reference(opt.reference, block.exercise, block.side, muscles)
    if reference != "movement" and reference not in channels:
        raise SensorkitError(f"reference {reference!r} is neither 'movement' nor a labelled EMG channel")
    if opt.reference_channel is not None:
        reps = _reps_from_signal(data.signals[opt.reference_channel], block, opt.movement)
    elif block.reps is not None:  # found with the block (a recording without markers)
        reps = [(on, end, on) for on, end in block.reps]
    elif data.imu is not None:
        reps = reps_from_imu(data.imu, block, opt.movement, track.up if track is not None else None)
    elif reference != "movement":
        reps = _reps_from_emg(channels[reference], data.emg, block, opt.onset)
    else:  # EMG only: this block needs a reference muscle; the others may still have one
        out = block_json(block, reference, [], muscles, opt)
        out["not_analysed"] = NO_MOVEMENT
        return lambda flag: out
    timings, windows = [], []
    floor = block.start_s
    for k, (start, end, movement_onset) in enumerate(reps, 1):
        anchor = movement_onset if movement_onset is not None else start
        here = local_t0(data.emg.timestamps, data.emg.fs, anchor) if data.emg is not None else t0
        onsets = rep_onsets(channels, here, anchor, end, floor, opt.timing)
        ref_s = movement_onset if reference == "movement" else onsets[reference].onset_s
        timings.append(RepTiming(k, start, end, movement_onset, ref_s, onsets))
        windows.append((anchor, end, floor))
        floor = end

    def finish(flag: OnsetFlagger | None) -> dict:
        if flag is not None:
            for rt, (anchor, end, floor) in zip(timings, windows, strict=True):
                rt.onsets = flag_onsets(rt.onsets, anchor, end, floor, opt.timing, flag)
        out = block_json(block, reference, timings, muscles, opt)
        if opt.reference_channel is not None:
            out["movement_from"] = opt.reference_channel
        return out

    return finish


def _r(x: float | None, nd: int = 4):
    return None if x is None else round(float(x), nd)


def _summary(latencies: list[float | None], opt: AnalysisOptions) -> dict:
    s = summarise_latencies(latencies, opt.timing.delay_margin_ms)
    return {"n": s.n, "mean_latency_ms": _r(s.mean_ms, 1), "sd_ms": _r(s.sd_ms, 1),
            "ci95_ms": None if s.ci95_ms is None else [_r(s.ci95_ms[0], 1), _r(s.ci95_ms[1], 1)],
            "delayed": s.delayed, "outliers": s.outliers}  # fmt: skip


def rep_json(rt: RepTiming, muscles: list[str], margin_ms: float) -> dict:
    """One repetition's row of the result (DESIGN.md section 7), without its pelvic drop."""
    lat = {m: rt.latency_ms(m) for m in muscles}
    return {
        "index": rt.index, "start_s": _r(rt.start_s), "end_s": _r(rt.end_s),
        "movement_onset_s": _r(rt.movement_onset_s), "reference_s": _r(rt.reference_s),
        "onsets_s": {m: _r(rt.onsets[m].onset_s) for m in muscles},
        "latency_ms": {m: _r(v, 1) for m, v in lat.items()},
        "delayed": {m: None if v is None else bool(v > margin_ms) for m, v in lat.items()},
        "onset_sd_ms": {m: _r(rt.onsets[m].sd_ms, 1) for m in muscles},
        "quality": {m: rt.onsets[m].quality for m in muscles},
    }  # fmt: skip


def block_json(block: Block, reference: str, timings: list[RepTiming], muscles: list[str],
               opt: AnalysisOptions, reps: list[dict] | None = None) -> dict:  # fmt: skip
    """One exercise block of the result: its repetitions (`reps`, else made from `timings`)
    and the per-muscle summary with the block's delayed verdict."""
    if reps is None:
        reps = [rep_json(rt, muscles, opt.timing.delay_margin_ms) for rt in timings]
    summary = {m: _summary([rt.latency_ms(m) for rt in timings if rt.onsets[m].quality == "ok"], opt)
               for m in muscles}  # fmt: skip
    return {
        "exercise": block.exercise, "side": block.side, "start_s": _r(block.start_s),
        "end_s": _r(block.end_s), "reference": reference,
        "glutes": glutes_of_interest(block.exercise, block.side, muscles),
        "reps": reps, "summary": summary,
    }  # fmt: skip
