"""Exercise blocks of a recording without markers, found from the pelvis IMU (and the EMG).

`analyze --exercise NAME [--side S]` on a recording with no marker for NAME: the
exercise is searched where the pelvis lies as the exercise is done
(`Exercise.postures`), after the calibration (its standing and forward bends are
never repetitions) and away from lying down, getting up and rolling over
(`sensorkit.dsp.posture.posture_spans`). Repetitions are the pelvis's movements
there, as in a marked block (a held exercise's pieces joined, `stretch_movements`).

Exercises done on one side get each repetition's side from two cues, each judged
against a stated least size and checked for agreement:
- the pelvis: standing, the weight shift towards the stance leg
  (`lateral_shift`); lying prone, the rise of the lifted leg's side (`lateral_roll`);
  lying on one side, the upper leg works;
- the EMG: the working side's glutes and hamstrings are more active, each channel
  relative to its own quiet level (so electrode gains do not matter).
Where they disagree the stronger one (in units of its least size) decides, and
the block says so. A repetition with no decisive cue takes its neighbours' side
when both agree, else its side stays unknown and it is left out of sided blocks.
Consecutive repetitions of one side form a block; `--side` keeps that side's.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from sensorkit.analysis.exercises import GLUTES, HAMSTRINGS, REGISTRY, Block
from sensorkit.analysis.pelvic_drop import PelvisTrack
from sensorkit.dsp.gait import MIN_WALK_CONTACTS, initial_contacts
from sensorkit.dsp.held import join_held
from sensorkit.dsp.movement import Movement, MovementParams, lying, movement_periods
from sensorkit.dsp.onset import ChannelOnsets
from sensorkit.dsp.posture import SETTLE_S, SHIFT_MIN_M_S, lateral_roll, lateral_shift, posture_spans

ROLL_MIN_DEG = 0.5  # a lifted leg rolling the pelvis less than this is no cue
EMG_MIN_RATIO = 1.5  # the working side's muscles at least this much more active, relative to rest
REST_PERCENTILE = 10  # a channel's quiet level: this percentile of its envelope in the stretch
CUE_CAP = 3.0  # a cue counts at most this many times its least size when cues disagree
WEAK = 2.0  # a side this close to the least size gives way to its neighbours' agreeing side
# The first repetition's onset is measured against the rest before it, which must not hold the
# last bend's slow settling: 1 s after a bend detected as over, the first squat of an example
# recording came out 0.9 s early (the settling taken for its start); 2 s left it exact.
AFTER_BENDS_S = 2.0
# A calibration found this long into a recording may not be one: without its calibration, a
# rest and the two repetitions after it are taken for the standing and the bends, and what came
# before is never searched (5 of 10 single-leg squats of a simulated session cut after its
# calibration). Said in a note; searching before a calibration would take the handling of the
# sensor before it was worn, and sitting down and getting up, for repetitions.
LATE_CALIBRATION_S = 15.0


@dataclass(frozen=True)
class SideVote:
    """One repetition's side ("L", "R" or None) and the cues behind it."""

    side: str | None
    pelvis: str | None  # the side the pelvis says, None: not decisive
    emg: str | None
    strength: float = 0.0  # the cues' sum in units of their least sizes (>= 1: decisive)


@dataclass(frozen=True)
class Emg:
    """The EMG as the side cue reads it: envelopes by channel label on the file clock."""

    channels: dict[str, ChannelOnsets]
    timestamps: np.ndarray


def unmarked_blocks(exercise: str, side: str | None, track: PelvisTrack, acc: np.ndarray, gyr: np.ndarray,
                    fs: float, emg: Emg | None, p: MovementParams = MovementParams()
                    ) -> tuple[list[Block], list[str]]:  # fmt: skip
    """(blocks, notes) of `exercise` in a recording without its markers; `acc`, `gyr` the pelvis
    IMU at `fs` Hz on `track`'s clock. `side` keeps only that side's blocks (None: all)."""
    ex = REGISTRY[exercise]
    t = track.timestamps
    sided = not ex.bilateral and ex.reps_from == "movement"
    stretches = list(_stretches(track, acc, gyr, fs, emg, p, ex.postures, sided, ex.reps_from == "movement",
                                ex.hold_s))  # fmt: skip
    notes = []
    cal = track.calibration
    first = t[min(track.calibration_start, len(t) - 1)]
    if not stretches:
        found = "" if cal.source != "detected" else (
            f" (postures are told from the calibration's quiet standing, found in the data at {first - t[0]:.0f} s: "
            "in a recording without a calibration that may have been lying still)")  # fmt: skip
        return [], [f"no stretch of the recording after the calibration has the pelvis "
                    f"{' or '.join(ex.postures)}, as {exercise} is done{found}"]  # fmt: skip
    late = first - t[0]
    if cal.source == "detected" and late > LATE_CALIBRATION_S and ex.reps_from == "movement":
        notes.append(f"the calibration (quiet standing and forward bends) was found {late:.0f} s into the recording, "
                     f"and {exercise} was searched only after it: if the recording has no calibration at its start, "
                     "its first repetitions were taken for one; mark the blocks (exercise_start:NAME:SIDE)")
    blocks: list[Block] = []
    unknown = 0
    for _, (a, b), reps, votes in stretches:
        if not sided or not reps:
            times = None if ex.reps_from == "contacts" else tuple((r[2], r[3]) for r in reps)
            blocks.append(Block(exercise, None, float(t[a]), float(t[b - 1]), "pelvis IMU", times))
            continue
        unknown += sum(v.side is None for v in votes)
        blocks += _group(exercise, reps, votes, (a, b), t)
    if unknown:
        notes.append(f"{unknown} repetition(s) of {exercise} without markers had no side the pelvis or the "
                     "EMG could tell, and were left out; mark the blocks (exercise_start:NAME:SIDE) to keep them")
    disagree = [b for b in blocks if "disagree" in b.found_from]
    if disagree:
        notes.append(f"{len(disagree)} block(s) of {exercise}: the pelvis and the EMG disagreed on the side of some "
                     "repetitions; the stronger cue decided (see each block's blocks_from)")  # fmt: skip
    if side is not None:
        blocks = [b for b in blocks if b.side in (side, None)]
    return blocks, notes


POSTURE_WORDS = {"upright": "standing", "supine": "lying supine", "prone": "lying prone",
                 "left_side_down": "lying on the left side", "right_side_down": "lying on the right side"}


def describe(track: PelvisTrack, acc: np.ndarray, gyr: np.ndarray, fs: float, emg: Emg | None,
             p: MovementParams = MovementParams()) -> list[str]:  # fmt: skip
    """What a recording without markers holds after its calibration, stretch by stretch of one
    posture: where, how many movements on which side, and the exercises done that way (for a
    refusal that helps the user name one)."""
    t = track.timestamps
    out = []
    for posture, (a, b), reps, votes in _stretches(track, acc, gyr, fs, emg, p, tuple(POSTURE_WORDS), True):
        walk = _walk(acc, gyr, fs, a, b) if posture == "upright" else None
        if walk is not None:  # a walk's steps are no exercise's movements: it is said as a walk
            (wa, wb), steps = walk
            out.append(f"walking at {t[wa] - t[0]:.0f}-{t[wb] - t[0]:.0f} s: {steps} steps, as in gait")
            keep = [not (wa - fs <= r[0] <= wb + fs) for r in reps]
            reps = [r for r, k in zip(reps, keep, strict=True) if k]
            votes = [v for v, k in zip(votes, keep, strict=True) if k] if votes else votes
        if not reps:
            continue
        sides = ""
        if posture != "supine":  # bridges are mostly done on both legs: no side to count there
            sides = ", ".join(f"{n} on {s}" for s in "LR" if (n := sum(v.side == s for v in votes)))
        names = [e.name for e in REGISTRY.values() if posture in e.postures and e.reps_from == "movement"]
        moves = f"{len(reps)} movement{'s' * (len(reps) != 1)}"
        out.append(f"{POSTURE_WORDS[posture]} at {t[a] - t[0]:.0f}-{t[b - 1] - t[0]:.0f} s: {moves}"
                   f"{f' ({sides})' if sides else ''}, as in {', '.join(names)}")  # fmt: skip
    return out


def _walk(acc: np.ndarray, gyr: np.ndarray, fs: float, a: int, b: int) -> tuple[tuple[int, int], int] | None:
    """((first, last) contact's sample, contacts) of the walking in samples a:b, where there are
    at least `MIN_WALK_CONTACTS` contacts (a few steps between exercises are not a walk)."""
    found = initial_contacts(acc[a:b], gyr[a:b], fs)
    if len(found) < MIN_WALK_CONTACTS:
        return None
    return (a + int(round(found[0].t_s * fs)), a + int(round(found[-1].t_s * fs))), len(found)


def _stretches(track: PelvisTrack, acc: np.ndarray, gyr: np.ndarray, fs: float, emg: Emg | None,
               p: MovementParams, postures: tuple[str, ...], sided: bool, moves: bool = True,
               hold_s: float | None = None) -> Iterator[tuple[str, tuple[int, int], list[Rep], list[SideVote]]]:
    """Per stretch of one of `postures` after the calibration (at least 2 s): (posture,
    (start, stop) samples, its movements, their side votes (empty unless `sided`)); without
    `moves`, the stretch as it is, without movements. `hold_s`: an exercise held up to so
    long, whose pieces are joined into repetitions (`stretch_movements`) before their sides are asked."""
    t = track.timestamps
    # gait is told by its steps anywhere, before a calibration too (a walk recorded with its
    # quiet standing at the end: that standing was taken for the calibration, and the walk
    # before it was never searched)
    after = track.calibration_end + int(AFTER_BENDS_S * fs) if moves else 0
    for posture, a, b in posture_spans(track.up, fs):
        a = max(a, after)
        if posture not in postures or b - a < 2 * fs:
            continue
        if not moves:  # gait: the walk is found in the stretch by its steps, not as movements
            yield posture, (a, b), [], []
            continue
        pp = p if posture == "upright" else lying(p)  # as a marked block of an exercise done lying
        (a, b), reps = stretch_movements(acc, gyr, fs, a, b, b >= len(t), pp, t, hold_s)
        votes = _smooth([_vote(posture, on, end, track, acc, fs, emg, (a, b)) for on, end, _, _ in reps]) if (
            sided and reps) else []  # fmt: skip
        yield posture, (a, b), reps, votes


Rep = tuple[int, int, float, float]  # movement onset and end: IMU samples, then s on the file clock


def stretch_movements(acc: np.ndarray, gyr: np.ndarray, fs: float, a: int, b: int, at_end: bool, p: MovementParams,
                      t: np.ndarray, hold_s: float | None = None,
                      arrives: bool = True) -> tuple[tuple[int, int], list[Rep]]:  # fmt: skip
    """The stretch [a, b) without what belongs to the postures around it, and the movements
    in it (`t`: the IMU's timestamps). A movement under way at the stretch's start is the
    arrival in the posture (unless `arrives` is False: the stretch starts where a marked block
    does); one still under way at its end (unless the recording, or a marked block, ends
    there: `at_end`) is the departure from it: the stretch is cut to exclude both. `hold_s`: an
    exercise held up to so long, whose pieces are joined into one repetition per hold
    (`join_held`, as a marked block's are) before their sides are asked: a hold with the
    pelvis level falls back to rest, and each piece then took the side its own shift said,
    the put-down's (shifting back) the other one.

    On 6 simulated sessions (24 stances) per row without markers (ad hoc, December 2026),
    found with the right side / false repetitions, before -> after: with the EMG, the pelvis
    level 100 % / 39 -> 100 % / 0 (drops' p95 error 1.63 -> 0.37 deg), a 2-deg hip hike
    100 % / 13 -> 100 % / 0; IMU only, level 87.5 % / 7 -> 95.8 % / 0 (p95 1.36 -> 0.37
    deg), hip hike 95.8 % / 0 -> 100 % / 0; a 1-2 cm weight shift, too small to see,
    95.8 % / 39 -> 87.5 % / 33; as built, a 10-deg drop (also IMU only), raised-cosine
    movements, 40-deg mounting, 19-deg bends, the sensor upside down, 2 % of samples lost,
    3 deg/s gyro bias: 100 % / 0 either way. Across the stretch, which holds both sides one
    after the other, the other leg's lift-off shifts the weight the way a put-down does;
    `join_held` takes only a brief movement for a put-down (without that, a 10-deg drop's
    stance was joined to the other side's first, its drop 20 deg off).
    """
    edge = int(round(0.25 * fs))
    while b - a >= 2 * fs:
        moves = movement_periods(acc[a:b], gyr[a:b], fs, p)
        reps = _reps(moves, a, fs, t)
        if arrives and reps and reps[0][0] - a < edge:
            a = reps[0][1] + int(SETTLE_S * fs)
        elif reps and not at_end and b - reps[-1][1] < edge:
            b = max(reps[-1][0] - edge, a + 1)
        else:
            if hold_s is not None:
                reps = _reps(join_held(moves, acc[:b], gyr[:b], fs, hold_s, origin=a), a, fs, t)
            return (a, b), reps
    return (a, max(b, a + 1)), []


def _reps(moves: list[Movement], a: int, fs: float, t: np.ndarray) -> list[Rep]:
    """`moves` (s from sample `a`) as repetitions: IMU samples, then s on the file clock."""
    return [(a + int(round(m.onset_s * fs)), a + int(round(m.end_s * fs)), float(t[a]) + m.onset_s,
             float(t[a]) + m.end_s) for m in moves]  # fmt: skip


def _vote(posture: str, on: int, end: int, track: PelvisTrack, acc: np.ndarray, fs: float, emg: Emg | None,
          span: tuple[int, int]) -> SideVote:  # fmt: skip
    """The side of one repetition [on, end) (samples of the IMU) done in `posture`."""
    if posture in ("left_side_down", "right_side_down"):  # the upper leg works
        s = "R" if posture == "left_side_down" else "L"
        return SideVote(s, s, None, CUE_CAP)
    score_p = 0.0
    if posture == "upright":
        score_p = lateral_shift(acc, track.up, track.calibration.axes[1], fs, on, SHIFT_MIN_M_S) / SHIFT_MIN_M_S
    elif posture == "prone":
        score_p = lateral_roll(track.up, fs, on, end) / ROLL_MIN_DEG
    score_p = 0.0 if not np.isfinite(score_p) else score_p
    score_e = _emg_score(emg, track.timestamps, on, end, span) if emg is not None else 0.0
    pelvis = _side(score_p) if abs(score_p) >= 1 else None
    by_emg = _side(score_e) if abs(score_e) >= 1 else None
    total = np.clip(score_p, -CUE_CAP, CUE_CAP) * (pelvis is not None) + np.clip(score_e, -CUE_CAP, CUE_CAP) * (
        by_emg is not None)  # fmt: skip
    return SideVote(_side(total) if total else None, pelvis, by_emg, float(abs(total)))


def _side(score: float) -> str:
    return "L" if score > 0 else "R"


def _emg_score(emg: Emg, t_imu: np.ndarray, on: int, end: int, span: tuple[int, int]) -> float:
    """log(left/right activity) of the working muscles over log(EMG_MIN_RATIO), averaged over
    the pairs recorded on both sides; activity = mean envelope in the repetition over the
    channel's quiet level in the stretch. 0 without a pair."""
    t = emg.timestamps
    i0, i1 = np.searchsorted(t, [t_imu[on], t_imu[min(end, len(t_imu) - 1)]])
    s0, s1 = np.searchsorted(t, [t_imu[span[0]], t_imu[span[1] - 1]])
    scores = []
    for name in GLUTES + HAMSTRINGS:
        pair = [emg.channels.get(f"{name}_{s}") for s in "LR"]
        if any(c is None for c in pair) or i1 - i0 < 2:
            continue
        act = []
        for ch in pair:
            quiet = np.nanpercentile(ch.env[s0:s1:10], REST_PERCENTILE)
            act.append(np.nanmean(ch.env[i0:i1]) / max(quiet, 1e-12))
        if all(np.isfinite(act)) and min(act) > 0:
            scores.append(np.log(act[0] / act[1]) / np.log(EMG_MIN_RATIO))
    return float(np.mean(scores)) if scores else 0.0


def _smooth(votes: list[SideVote]) -> list[SideVote]:
    """A repetition without a side, or with a weak one (under `WEAK` times the least size),
    takes the side of its neighbours where they agree (at a stretch's first or last
    repetition, of its one neighbour): a side's repetitions are done one after another."""
    out = list(votes)
    for k, v in enumerate(votes):
        near = {votes[i].side for i in (k - 1, k + 1) if 0 <= i < len(votes)}
        if v.strength < WEAK and len(near) == 1 and None not in near:
            out[k] = SideVote(near.pop(), v.pelvis, v.emg, v.strength)
    return out


def _group(exercise: str, reps: list[Rep], votes: list[SideVote], span: tuple[int, int],
           t: np.ndarray) -> list[Block]:  # fmt: skip
    """Blocks of consecutive repetitions of one side, each from the middle of the rest before
    its first repetition to the middle of the rest after its last (the stretch's ends outside),
    holding those repetitions."""
    runs: list[list[int]] = []  # [first rep, last rep + 1]
    for k, v in enumerate(votes):
        if runs and votes[runs[-1][0]].side == v.side:
            runs[-1][1] = k + 1
        else:
            runs.append([k, k + 1])
    out = []
    for i, (k0, k1) in enumerate(runs):
        side = votes[k0].side
        if side is None:
            continue
        lo = span[0] if i == 0 else (reps[k0 - 1][1] + reps[k0][0]) // 2
        hi = span[1] - 1 if i == len(runs) - 1 else (reps[k1 - 1][1] + reps[k1][0]) // 2
        cues = votes[k0:k1]
        pelvis = sum(v.pelvis == side for v in cues)
        emg = sum(v.emg == side for v in cues)
        against = sum((v.pelvis not in (None, side)) or (v.emg not in (None, side)) for v in cues)
        how = f"pelvis IMU; side from the pelvis on {pelvis}/{len(cues)} repetitions, from the EMG on {emg}"
        how += f"; the cues disagree on {against}" if against else ""
        times = tuple((r[2], r[3]) for r in reps[k0:k1])
        out.append(Block(exercise, side, float(t[lo]), float(t[hi]), how, times))
    return out
