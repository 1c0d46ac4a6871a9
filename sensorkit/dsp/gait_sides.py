"""Which foot each contact of a walk is (for `sensorkit.dsp.gait`), and the pelvis's left axis from
the walk itself.
"""

from __future__ import annotations

import numpy as np

from sensorkit.dsp.filters import apply_sos, lowpass_sos
from sensorkit.dsp.gait_params import GaitParams

BRAKE_S = 0.15  # the horizontal acceleration is compared this long before and after each contact
MIN_BRAKE_T = 3.0  # the braking direction must stand this many standard errors clear of 0


def left_from_contacts(acc: np.ndarray, up: np.ndarray, ics: np.ndarray, fs: float) -> np.ndarray | None:
    """The pelvis's left axis in the sensor frame, from the walk itself; None where unclear.

    At each initial contact the trunk's forward acceleration turns into braking (Zijlstra &
    Hof 2003 time contacts by it), so the mean change of the horizontal acceleration across
    the contacts points backwards; left is the vertical x forward. Left and right contacts
    sway the pelvis opposite ways, which the mean over both cancels. Unclear: a change
    within `MIN_BRAKE_T` standard errors of 0, or fewer than 6 contacts.

    The change is taken from `BRAKE_S` before to `BRAKE_S` after each contact: braking
    lasts the loading response (0.1-0.15 s), and a contact found from the pelvis can be
    50-100 ms early on real walkers. Compared only 50 ms either side, the change pointed
    forwards for 4 of the 19 walkers of a public set (lower-back IMU, foot-sensor
    reference: Voisard et al., IPOL 2023), whose sides all came out swapped (right 75 %
    of contacts; 94 % at 0.15 s, and unchanged on the simulator and mobgap's lab walks).
    """
    h = max(1, int(round(BRAKE_S * fs)))
    ics = ics[(ics >= h) & (ics < len(acc) - h)]
    if len(ics) < 6:
        return None
    u = np.nanmean(up[ics], axis=0)
    u /= np.linalg.norm(u)
    change = acc[ics + h] - acc[ics - h]
    change = change - np.outer(change @ u, u)
    change = change[np.isfinite(change).all(axis=1)]
    mean = change.mean(axis=0)
    along = change @ (mean / (np.linalg.norm(mean) + 1e-12))
    if len(change) < 6 or along.mean() < MIN_BRAKE_T * along.std(ddof=1) / np.sqrt(len(along)):
        return None
    forward = -mean / np.linalg.norm(mean)
    return np.cross(u, forward)


def contact_sides(yaw: np.ndarray, ics: np.ndarray, fs: float, p: GaitParams, voteless: np.ndarray | None = None,
           lat: np.ndarray | None = None, breaks: np.ndarray | None = None
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:  # fmt: skip
    """Left? per contact, how unanimously its run of steps voted (0-1), and whether the two
    cues agreed (None: one cue). `voteless` contacts (placed in a drop-out, where the signals
    are made up, or soft steps in a turn or at a stop) take their side from the run, without
    a vote. `breaks`: indices of contacts that start a new run whatever their step times.

    A step seen whose rise lost samples votes: its swing, at stride frequency, survives
    them. Without its vote, a pass of Voisard et al.'s walks that lost every other sample
    took a default phase, all 15 of its feet swapped; sides right there 97.1 -> 97.7 %
    (benchmarks/bench_gait.py: with 20 % more lost 95 -> 97 %; mobgap's lab walks with 20 %
    lost 98 -> 97 %, one contact; the simulator 100 %).

    Cues: the pelvis's yaw swing (`yaw_scores`) and, given the acceleration to the left
    (`lat`: along a calibrated pelvis's left axis, or one `left_from_contacts` found), its
    sway towards the stance leg (`sway_scores`).
    Where they disagree the sway decides: the body's mass must move over the stance foot
    in every walker, while the pelvis's rotation is reversed in some (slow walkers turn the
    stance side forward instead of the swing side)."""
    score = yaw_scores(yaw, ics, fs, p)
    if voteless is not None:
        score[voteless] = 0.0
    left, conf = alternate(ics, score, fs, p, breaks)
    if lat is None:
        return left, conf, None
    sway = sway_scores(lat, ics)
    if voteless is not None:
        sway[voteless] = 0.0
    if not sway.any():
        return left, conf, None
    left_s, conf_s = alternate(ics, sway, fs, p, breaks)
    return left_s, conf_s, left_s == left


def sway_scores(lat: np.ndarray, ics: np.ndarray) -> np.ndarray:
    """Per contact, > 0 for a left one: in the step it starts the pelvis sways over the stance
    foot and back, so its mean acceleration to the left over the step is negative on left
    stance (less the stride's mean, the walker's curve); 0 for the last contact."""
    out = np.zeros(len(ics))
    for k in range(len(ics) - 1):
        a, b = ics[k], ics[k + 1]
        lo, hi = ics[k - 1] if k > 0 else a, ics[k + 2] if k + 2 < len(ics) else b
        out[k] = -(np.mean(lat[a : max(b, a + 1)]) - np.mean(lat[lo : max(hi, lo + 1)]))
    return out


def yaw_scores(yaw: np.ndarray, ics: np.ndarray, fs: float, p: GaitParams) -> np.ndarray:
    """Per contact, > 0 for a left one: the yaw rate just before it, less the stride's mean."""
    smooth = apply_sos(lowpass_sos(fs, min(p.side_lowpass_hz, 0.4 * fs), order=2), yaw)
    a, b = (int(round(w * fs)) for w in p.side_window_s)
    stride = int(round(2 * p.max_step_s * fs))
    score = np.empty(len(ics))
    for k, i in enumerate(ics):
        # the mean rate over the stride around the contact is the walker turning; the rest is the swing
        lo = ics[k - 1] if k > 0 and i - ics[k - 1] <= stride // 2 else max(0, i - stride // 4)
        hi = ics[k + 1] if k + 1 < len(ics) and ics[k + 1] - i <= stride // 2 else i + stride // 4
        turning = np.mean(smooth[lo : max(hi, lo + 1)])
        score[k] = turning - np.mean(smooth[max(0, i + a) : max(i + b, i + 1)])
    return score


def alternate(ics: np.ndarray, score: np.ndarray, fs: float, p: GaitParams, breaks: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Feet alternate: each run of steps with no step missed takes one phase, voted by all its steps.

    One unclear yaw swing (a turn, a stumble) then cannot flip a single contact; a
    step time well above its neighbours' (a missed step) starts a new run, so does one well
    below them (an extra contact: a jolt in a turn), and so does a break in the parity that
    the votes themselves show (`parity_break`). Without the split at short step times, one
    extra contact in a turn put the rest of two real walks on the wrong feet (Voisard et
    al.'s set, sides right 96 -> 97 %; benchmarks/bench_gait.py).
    """
    left, agreement = score > 0, np.zeros(len(ics))
    if len(ics) == 0:
        return left, agreement
    gaps = np.diff(ics).astype(float)
    starts = [0] + [
        k + 1
        for k, g in enumerate(gaps)
        if g > p.max_step_s * fs
        or not 1 / p.missed_step_ratio <= g / np.median(gaps[max(0, k - 3) : k + 4]) <= p.missed_step_ratio
    ]
    starts = sorted(set(starts) | ({int(b) for b in breaks} if breaks is not None else set()))
    scale = np.median(np.abs(score)) + 1e-12
    todo, runs = list(zip(starts, starts[1:] + [len(ics)], strict=True)), []
    while todo:
        a, b = todo.pop()
        m = parity_break(side_votes(score[a:b], scale), p)
        if m is None:
            runs.append((a, b))
        else:
            todo += [(a, a + m), (a + m, b)]
    for a, b in runs:
        votes = side_votes(score[a:b], scale)
        vote = np.sum(votes)
        left[a:b] = (np.arange(b - a) % 2 == 0) == (vote > 0)
        agreement[a:b] = abs(vote) / (b - a)
    return left, agreement


def side_votes(score: np.ndarray, scale: float) -> np.ndarray:
    """Each step's vote for the run's first step being a left one (tanh: no single step outvotes the run)."""
    return np.tanh(score / scale) * np.where(np.arange(len(score)) % 2 == 0, 1.0, -1.0)


def parity_break(votes: np.ndarray, p: GaitParams) -> int | None:
    """Where a run's votes turn from one phase to the other (each part of at least `min_steps`
    voting with a mean of `parity_vote` or more, opposite ways), or None.

    A step missed without a long interval (a soft turning step), or an extra one (a step
    placed in a drop-out that hid none), flips the feet's parity part-way through a run: a
    single vote then took the larger part's phase for all of it, every contact of the
    smaller part on the wrong foot (simulated walks with 20 % of samples lost: sides right
    92 %, a third of a walk swapped in 3 of 12). Splitting there: 100 %; on Voisard et al.'s
    real walks with 20 % lost 92 -> 94 %; every set without losses unchanged (a clear
    majority each way, 0.3-0.4, gave the same; 0.5: 96 % and 93 %; benchmarks/bench_gait.py).
    """
    n, k = len(votes), p.min_steps
    best, at = abs(votes.sum()), None
    for m in range(k, n - k + 1):
        head, tail = votes[:m].mean(), votes[m:].mean()
        if head * tail < 0 and min(abs(head), abs(tail)) >= p.parity_vote:
            gain = abs(votes[:m].sum()) + abs(votes[m:].sum())
            if gain > best:
                best, at = gain, m
    return at
