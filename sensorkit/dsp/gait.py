"""Foot contacts during walking from one IMU on the lower back (sacrum / L5).

Written here because no maintained library does this for an arbitrarily mounted
sensor: mobgap's pipeline expects the Mobilise-D axis convention and, on real
walking with turns, finds fewer contacts (see benchmarks/bench_gait.py).

Everything is expressed about the vertical, which the orientation filter gives in
the sensor's own frame, so the mounting does not matter:

- Steps. Each foot strike decelerates the trunk's fall: the vertical acceleration
  rises steeply and peaks shortly after initial contact. Step candidates are the
  peaks of the low-passed vertical acceleration; a candidate counts as a step when
  its prominence is a good fraction of the neighbouring steps' (so slow, soft
  walkers and brisk walkers are treated alike), above an absolute floor (so that
  postural sway is never a step), and it rises as fast as a foot strike loads
  the leg (a squat or a sit-to-stand rises several times slower).
- Walking. Steps count only in runs of at least `min_steps` with plausible step
  times between them: isolated jolts (sitting down, a stumble, a bump on the
  sensor) are not gait. A run is carried on past its last step through softer
  peaks that keep its cadence (the steps into a turn or a stop; `_extend_runs`),
  and a gap between two stretches of walking is bridged by the softest peaks
  that join them at plausible step times (the steps of a turn; `_bridge_gaps`); a
  walk that ends in stillness ends with the step that closes it (`_closing_steps`).
- Initial contact. The instant of steepest rise of the vertical acceleration
  before its peak: the impact, which precedes the peak by a few tens of ms. Where
  the walk's forward axis is known, averaged with the peak of the forward
  acceleration that ends as the foot lands and the trunk brakes (Zijlstra & Hof 2003;
  `_with_braking`).
- Side. The pelvis turns about the vertical with the swinging leg: in the last
  part of the swing before a left contact it rotates clockwise seen from above
  (the left side coming forward), before a right contact anticlockwise. The sign
  of the band-passed yaw rate around the contact tells the side; turning while
  walking adds the mean rate over the stride, which is subtracted. Feet
  alternate, so each unbroken run of steps takes the phase that most of its
  steps vote for.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import find_peaks

from sensorkit.dsp.filters import apply_sos, finite_segments, interpolate_short_gaps, lowpass_sos, run_edges
from sensorkit.dsp.movement import rest_bias
from sensorkit.dsp.orientation import G, gravity_direction


@dataclass(frozen=True)
class GaitParams:
    step_lowpass_hz: float = 4.0  # vertical acceleration for the step peaks
    slope_lowpass_hz: float = 8.0  # vertical acceleration for the contact instant
    min_step_s: float = 0.25  # shortest step time (a very fast cadence of 240 steps/min)
    max_step_s: float = 1.3  # longest step time within one walking bout
    min_steps: int = 4  # fewer steps in a row are not walking
    rel_prominence: float = 0.5  # of the 75th percentile of the prominences within +-neighbour_s
    min_prominence: float = 0.5  # m/s^2: quiet standing sways far less than this
    neighbour_s: float = 3.0
    search_before_s: float = 0.2  # a step's rise (its loading) lies within this before its acceleration peak
    contact_search_s: float = 0.12  # the contact precedes its acceleration peak by at most this (_contact_instants)
    max_rise_s: float = 0.3  # a foot strike loads within the loading response (~0.1 s); squats take longer
    side_lowpass_hz: float = 3.0  # yaw rate: the swing is at stride frequency (~1 Hz)
    side_window_s: tuple[float, float] = (-0.15, 0.05)  # around the contact
    braking_window_s: tuple[float, float] = (-0.15, 0.15)  # the braking (_with_braking), around the vertical rise
    braking_peak_s: float = 0.1  # the forward peak at contact comes at most this long before the braking
    braking_lowpass_hz: float = 8.0  # forward acceleration for its peak at contact
    parity_vote: float = 0.4  # a run whose votes turn this clearly part-way is split there (_parity_break)
    missed_step_ratio: float = 1.6  # a step time this much above its neighbours' means one was missed (below: an extra)
    max_gap_s: float = 1.0  # lost samples in gaps up to this long are interpolated (see initial_contacts)
    seen_gap_s: float = 0.03  # ... and in gaps up to this long count as seen (see initial_contacts)
    cadence_tolerance: float = 0.2  # a gap hides k steps when its interval is k local step times within this share
    edge_rel_prominence: float = 0.2  # a run's last steps (_extend_runs): share of the neighbours' prominence
    edge_step_times: tuple[float, float] = (0.75, 1.4)  # ... each within these of the run's step time
    edge_steps: int = 3  # ... at most this many
    bridge_rel_prominence: float = 0.1  # a gap between steps (_bridge_gaps): share of the neighbours' prominence
    bridge_step_times: tuple[float, float] = (0.7, 1.4)  # ... each step time within these local step times
    bridge_max_s: float = 4.0  # ... gaps up to this long
    closing_after_s: float = 1.5  # a walk's last step (_closing_steps): no step within this after it
    closing_step_times: tuple[float, float] = (0.6, 1.1)  # ... its closing step within these local step times
    closing_rel_prominence: float = 0.05  # ... of at least this share of the neighbours' prominence
    closing_still_s: tuple[float, float] = (0.3, 1.3)  # ... and the pelvis still over this after it
    closing_still: tuple[float, float] = (0.2, 0.2)  # ... SD of the vertical acceleration (m/s^2), yaw rate (rad/s)
    crowded_stronger: float = 2.5  # of two contacts closer than min_step_s: the later kept if its loading rises 2.5x
    # a run of contacts whose steps' side votes agree less than this (`Contact.side_confidence`) is left out
    min_side_agreement: float = 0.3


@dataclass(frozen=True)
class Contact:
    """One initial contact: time (s from the start of the arrays), foot, and how sure the side is (0-1)."""

    t_s: float
    side: str  # "L" or "R"
    side_confidence: float  # how unanimously the steps of its walking run agree on the alternation
    inferred: bool = False  # inside a drop-out: placed from the cadence of the steps around it
    cues_agree: bool | None = None  # the yaw swing and the sideways sway gave the same side (None: yaw only)


def vertical_signals(acc: np.ndarray, gyr: np.ndarray, fs: float, up: np.ndarray | None = None
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """Vertical acceleration without gravity (m/s^2, up > 0), yaw rate about the vertical
    (rad/s) and the vertical itself (unit vectors in the sensor frame): `up` where the
    caller has it, else from the orientation filter (gyro bias from the stillest seconds)."""
    if up is None:
        up = gravity_direction(acc, gyr, fs, rest_bias(gyr, fs))
    return np.einsum("ij,ij->i", acc, up) - G, np.einsum("ij,ij->i", gyr, up), up


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


def _step_peaks(smooth: np.ndarray, slope: np.ndarray, fs: float, p: GaitParams
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """(peaks, prominence in m/s^2, relative prominence): the peaks of the low-passed vertical
    acceleration (`smooth`, `slope`: `_filtered`) that
    rise as fast as a foot strike loads the leg, with each one's prominence as a share of
    the 75th percentile of its neighbours' (those above `min_prominence` within
    `neighbour_s`). Steps are those of `rel_prominence` and `min_prominence`; the softer
    ones may carry a run on (`_extend_runs`) or bridge a gap in it (`_bridge_gaps`)."""
    # find_peaks thins by distance before it filters by prominence, so the low floor here
    # keeps the same steps as a floor at min_prominence would
    peaks, props = find_peaks(smooth, distance=max(1, int(p.min_step_s * fs)), prominence=0.02 * p.min_prominence)
    prom = props["prominences"]
    clear = prom >= p.min_prominence
    rel = np.zeros(len(peaks))
    for k, i in enumerate(peaks):
        near = prom[clear & (np.abs(peaks - i) <= p.neighbour_s * fs)]
        steepest = slope[max(0, i - int(p.search_before_s * fs)) : i + 1].max()
        rise_s = prom[k] / steepest if steepest > 0 else np.inf  # time to rise at the steepest slope
        if rise_s <= p.max_rise_s and len(near):
            rel[k] = prom[k] / np.percentile(near, 75)
    fast = rel > 0
    return peaks[fast], prom[fast], rel[fast]


def _filtered(av: np.ndarray, fs: float, p: GaitParams) -> tuple[np.ndarray, np.ndarray]:
    """The vertical acceleration low-passed for the step peaks (`step_lowpass_hz`, m/s^2), and
    the slope of it low-passed for the contact instants (`slope_lowpass_hz`, m/s^3): filtered
    once per stretch, for every step search there."""
    smooth = apply_sos(lowpass_sos(fs, min(p.step_lowpass_hz, 0.4 * fs), order=4), av)
    slope = np.gradient(apply_sos(lowpass_sos(fs, min(p.slope_lowpass_hz, 0.4 * fs), order=4), av)) * fs
    return smooth, slope


def _extend_runs(steps: np.ndarray, runs: list[tuple[int, int]], weak: np.ndarray, fs: float, p: GaitParams
                 ) -> np.ndarray:  # fmt: skip
    """The weaker peaks (`weak`) that carry each walking run (`_walking_runs`) on past its
    last step, where the run's cadence puts the next step (the median of its last three
    step times: a step after `edge_step_times` of it, the closest to one step time), up to
    `edge_steps` per run; sample indices.

    The last steps before a turn or a stop load the leg more softly than the steps of the
    walk: held to their neighbours' prominence, three quarters of the contacts in the turns
    and half of those at the walks' ends were lost on Voisard et al.'s real walks (IPOL 2023,
    lower-back IMU, foot-sensor reference). Carried on by the cadence, within 100 ms 87 ->
    90 % there, turns 29 -> 53 %, false contacts 4 -> 5 %; mobgap's lab walks and the
    simulator unchanged (benchmarks/bench_gait.py). Runs are not carried backwards: before
    a walk's first step the weight shift onto the stance leg jolts the pelvis like a soft
    step, and 50 such jolts came out as contacts there, with no contact gained.

    The window is lopsided (0.75-1.4 step times, where it was 0.75-1.25): a walker slowing
    into a stop or a turn lengthens the last steps. On the same walks the contact before a
    walk's closing step was found 92 times of 110 (85 before), all contacts within 100 ms 3569 ->
    3584 of 3866 for 4 more false ones (231 -> 235), turns 336 -> 342 of 438; mobgap's lab
    walks the same within 100 ms (160 of 205) with 1 more contact outside the reference's
    bouts (3 more in them with 5 % of samples lost); the simulator unchanged. Up to 1.6 step
    times: 19 more contacts for 20 more false ones.
    """
    out: list[int] = []
    for a, b in runs if len(weak) else []:  # no weaker peaks: nothing to carry a run on through
        run = list(steps[a:b])
        for _ in range(p.edge_steps):
            local = float(np.median(np.diff(run[-4:])))
            want = run[-1] + local
            after = weak - run[-1]
            near = weak[(after >= p.edge_step_times[0] * local) & (after <= p.edge_step_times[1] * local)]
            if not len(near):
                break
            run.append(int(near[np.argmin(np.abs(near - want))]))
        out += run[b - a :]
    return np.unique(np.array(out, dtype=np.int64))


def _bridge_gaps(steps: np.ndarray, peaks: np.ndarray, rel: np.ndarray, usable: np.ndarray, fs: float,
                 p: GaitParams) -> np.ndarray:  # fmt: skip
    """Softer peaks (`peaks` with relative prominence `rel`, where `usable`) that bridge a gap
    between walking steps (`steps`, sorted): sample indices of the peaks added.

    A gap is an interval of more than `missed_step_ratio` local step times (the median of
    the two intervals either side) and at most `bridge_max_s`, with regular walking on both
    sides. The walker kept stepping through it, softly: a turn, a hesitation. Its steps are
    the chain of peaks of at least `bridge_rel_prominence` that joins the two sides with
    every step time within `bridge_step_times` local step times and the largest sum of
    relative prominences (dynamic programming over the gap's candidates); no chain, no step.
    Held at both ends by the walk, a chain can take softer peaks than `_extend_runs`, which
    has only the run behind it.

    The steps of a U-turn load the leg with a fifth of a straight step's jolt (median of
    those missed), at step times 0.7-1.4 times the walk's. On Voisard et al.'s real walks
    (IPOL 2023, lower-back IMU, foot-sensor reference) contacts within 0.5 s of a U-turn
    found within 100 ms went from 291 to 332 of 438 (mobgap's chain: 341, with twice the
    false contacts there), all contacts inside the trials 91.5 -> 92.7 %, false 2.6 ->
    3.3 %; mobgap's lab walks 76 -> 78 %, the simulator unchanged (benchmarks/bench_gait.py).
    Peaks down to 0.05 x found 7 more and 5 more false ones; step times of 0.6-1.7 x, 16
    more and 42 more false (the same trials, a prototype working on the contact times).
    """
    lo_f, hi_f = p.bridge_step_times
    out: list[int] = []
    for k in range(2, len(steps) - 3):
        before, after = np.diff(steps[k - 2 : k + 1]), np.diff(steps[k + 1 : k + 4])
        local = float(np.median(np.concatenate([before, after])))
        gap = steps[k + 1] - steps[k]
        if not p.missed_step_ratio * local < gap <= p.bridge_max_s * fs:
            continue
        if max(before.max(), after.max()) > p.missed_step_ratio * local:
            continue  # not regular walking on both sides
        inside = (peaks > steps[k]) & (peaks < steps[k + 1]) & usable & (rel >= p.bridge_rel_prominence)
        at = np.concatenate([[steps[k]], peaks[inside], [steps[k + 1]]])
        gain = np.concatenate([[0.0], rel[inside], [0.0]])
        best, prev = np.full(len(at), -np.inf), np.full(len(at), -1)
        best[0] = 0.0
        for j in range(1, len(at)):
            step = at[j] - at[:j]
            ok = (step >= lo_f * local) & (step <= hi_f * local) & np.isfinite(best[:j])
            if ok.any():
                i = int(np.argmax(np.where(ok, best[:j], -np.inf)))
                best[j], prev[j] = best[i] + gain[j], i
        j = prev[-1]
        while j > 0:
            out.append(int(at[j]))
            j = prev[j]
    return np.unique(np.array(out, dtype=np.int64))


def _closing_steps(steps: np.ndarray, peaks: np.ndarray, rel: np.ndarray, usable: np.ndarray, smooth: np.ndarray,
                   yaw: np.ndarray, fs: float, p: GaitParams) -> np.ndarray:  # fmt: skip
    """The step that closes each walk ending in stillness: sample indices of the peaks added.

    A walk that stops ends with the trailing foot brought beside the other; that contact
    jolts the pelvis little, so held to the walk's steps it was missed. After a walk's last
    step (no step within `closing_after_s`; at least three step times before it), the
    most prominent peak (`peaks`, `rel`, where `usable`) of at least
    `closing_rel_prominence` within `closing_step_times` local step times is taken as that
    contact when the pelvis is still from `closing_still_s` after it: the 4-Hz vertical
    acceleration (`smooth`) and the yaw rate each varying less than `closing_still` (standard
    deviations, m/s^2 and rad/s). Without the stillness the same peaks were a contact
    only 6 times in 10: a walk's last step before a turn or a shuffle is followed by more.

    On Voisard et al.'s real walks (IPOL 2023, lower-back IMU, foot-sensor reference) the
    last contact of 93 of the 110 walks had been missed. With this rule, within 100 ms
    3516 -> 3547 of 3866 contacts, false 221 -> 232 (inside the trials 3.3 -> 3.5 %),
    sides right 96.6 -> 97.1 %; the simulator 98 -> 99 % (94 % with 20 % of samples lost,
    from 93); mobgap's lab walks 78 % either way (benchmarks/bench_gait.py). Every
    setting from 0.5-0.7 to 1.1-1.2 step times, prominence 0.02-0.1 and stillness
    0.1-0.3 gave +21 to +34 contacts and +8 to +14 false ones there: a plateau.
    """
    lo_f, hi_f = p.closing_step_times
    a, b = (int(round(x * fs)) for x in p.closing_still_s)
    out = []
    for k in range(3, len(steps)):
        if k + 1 < len(steps) and steps[k + 1] - steps[k] < p.closing_after_s * fs:
            continue
        local = float(np.median(np.diff(steps[k - 3 : k + 1])))
        near = np.flatnonzero((peaks >= steps[k] + lo_f * local) & (peaks <= steps[k] + hi_f * local) & usable
                              & (rel >= p.closing_rel_prominence))  # fmt: skip
        if not len(near):
            continue
        j = int(peaks[near[np.argmax(rel[near])]])
        if j + b > len(smooth) or (k + 1 < len(steps) and steps[k + 1] <= j + b):
            continue  # the stillness after it is not all in view
        if np.std(smooth[j + a : j + b]) < p.closing_still[0] and np.std(yaw[j + a : j + b]) < p.closing_still[1]:
            out.append(j)
    return np.array(out, dtype=np.int64)


def _walking_runs(steps: np.ndarray, fs: float, p: GaitParams) -> list[tuple[int, int]]:
    """(first, stop) indices into `steps` of the runs of >= min_steps with plausible step times."""
    out, i = [], 0
    while i < len(steps):
        j = i
        while j + 1 < len(steps) and p.min_step_s * fs <= steps[j + 1] - steps[j] <= p.max_step_s * fs:
            j += 1
        if j - i + 1 >= p.min_steps:
            out.append((i, j + 1))
        i = j + 1
    return out


def _contact_instants(slope: np.ndarray, peaks: np.ndarray, fs: float, p: GaitParams) -> np.ndarray:
    """Each step's initial contact: the steepest rise (`slope`: `_filtered`) of the vertical acceleration within
    `contact_search_s` before its peak (the impact loads the leg; the peak follows within
    the loading response). Searched 0.2 s back, the steepest rise was often an earlier
    one, 50-150 ms before the foot sensors' contact on a public set of real walks
    (Voisard et al., IPOL 2023); 0.1-0.12 s was best on it, on mobgap's lab walks and on
    the simulator alike (within 50 ms: 59 -> 62 %, 65 -> 66 %, 95 %; benchmarks/bench_gait.py)."""
    out = np.empty(len(peaks), dtype=np.int64)
    for k, i in enumerate(peaks):
        lo = max(0, i - int(p.contact_search_s * fs))
        out[k] = lo + int(np.argmax(slope[lo : i + 1]))
    return out


def _with_braking(fwd: np.ndarray, ics: np.ndarray, fs: float, p: GaitParams) -> np.ndarray:
    """Contact instants (samples) moved halfway to the forward acceleration's peak before its
    steepest fall within `braking_window_s` of each (the braking); unchanged where no peak
    precedes that fall within `braking_peak_s`.

    The trunk accelerates forwards until the foot lands and brakes sharply after it, so the
    forward acceleration peaks at contact and then falls steeply through the loading
    response (Zijlstra & Hof 2003), as the vertical acceleration rises; each cue errs in its
    own walkers. On a public set of real walks with a foot-sensor reference (Voisard et al.,
    IPOL 2023) the vertical rise came 50-90 ms early for 4 of 19 walkers, every step, and
    130 ms late on one foot of others whose impact comes as two bumps, where the forward
    peak sat on the reference; on mobgap's lab walks (optical reference) the vertical rise
    was the closer one. The midpoint, against the vertical rise alone (benchmarks/bench_gait.py):
    within 50 / 100 ms 62 / 77 -> 70 / 80 % there, false contacts 13 -> 9 %; 66 / 75 ->
    63 / 76 % on mobgap's walks; 95 / 97 -> 94 / 97 % on the simulator. Windows of
    +-0.1-0.2 s gave the same. Taking the highest forward peak near the vertical rise
    instead of the one before the braking: 69 / 78 %, 11 % false. `braking_peak_s` 0.06 or
    0.15 s gave the same on the real walks; at 0.15 s the simulator's walkers of the time
    lost their contacts (within 50 ms 94 -> 69 %): their forward acceleration was a sinusoid
    with no braking edge, its peak 150 ms before the contact. The simulator now brakes as
    the real walks do, and 0.06-0.2 s give the same there too."""
    a, b = (int(round(w * fs)) for w in p.braking_window_s)
    back = int(round(p.braking_peak_s * fs))
    fall = np.gradient(fwd)
    out = ics.copy()
    for k, i in enumerate(ics):
        lo, hi = max(0, i + a), min(len(fwd), i + b + 1)
        if hi - lo < 3:
            continue
        j = lo + int(np.argmin(fall[lo:hi]))  # the braking
        before = max(0, j - back)
        peak = before + int(np.argmax(fwd[before : j + 1]))
        if peak > before:  # a peak, not still rising into the window's start
            out[k] = int(round((i + peak) / 2))
    return out


def _sides(yaw: np.ndarray, ics: np.ndarray, fs: float, p: GaitParams, voteless: np.ndarray | None = None,
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

    Cues: the pelvis's yaw swing (`_yaw_scores`) and, given the acceleration to the left
    (`lat`: along a calibrated pelvis's left axis, or one `left_from_contacts` found), its
    sway towards the stance leg (`_sway_scores`).
    Where they disagree the sway decides: the body's mass must move over the stance foot
    in every walker, while the pelvis's rotation is reversed in some (slow walkers turn the
    stance side forward instead of the swing side)."""
    score = _yaw_scores(yaw, ics, fs, p)
    if voteless is not None:
        score[voteless] = 0.0
    left, conf = _alternate(ics, score, fs, p, breaks)
    if lat is None:
        return left, conf, None
    sway = _sway_scores(lat, ics)
    if voteless is not None:
        sway[voteless] = 0.0
    if not sway.any():
        return left, conf, None
    left_s, conf_s = _alternate(ics, sway, fs, p, breaks)
    return left_s, conf_s, left_s == left


def _sway_scores(lat: np.ndarray, ics: np.ndarray) -> np.ndarray:
    """Per contact, > 0 for a left one: in the step it starts the pelvis sways over the stance
    foot and back, so its mean acceleration to the left over the step is negative on left
    stance (less the stride's mean, the walker's curve); 0 for the last contact."""
    out = np.zeros(len(ics))
    for k in range(len(ics) - 1):
        a, b = ics[k], ics[k + 1]
        lo, hi = ics[k - 1] if k > 0 else a, ics[k + 2] if k + 2 < len(ics) else b
        out[k] = -(np.mean(lat[a : max(b, a + 1)]) - np.mean(lat[lo : max(hi, lo + 1)]))
    return out


def _yaw_scores(yaw: np.ndarray, ics: np.ndarray, fs: float, p: GaitParams) -> np.ndarray:
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


def _alternate(ics: np.ndarray, score: np.ndarray, fs: float, p: GaitParams, breaks: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Feet alternate: each run of steps with no step missed takes one phase, voted by all its steps.

    One unclear yaw swing (a turn, a stumble) then cannot flip a single contact; a
    step time well above its neighbours' (a missed step) starts a new run, so does one well
    below them (an extra contact: a jolt in a turn), and so does a break in the parity that
    the votes themselves show (`_parity_break`). Without the split at short step times, one
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
        m = _parity_break(_votes(score[a:b], scale), p)
        if m is None:
            runs.append((a, b))
        else:
            todo += [(a, a + m), (a + m, b)]
    for a, b in runs:
        votes = _votes(score[a:b], scale)
        vote = np.sum(votes)
        left[a:b] = (np.arange(b - a) % 2 == 0) == (vote > 0)
        agreement[a:b] = abs(vote) / (b - a)
    return left, agreement


def _votes(score: np.ndarray, scale: float) -> np.ndarray:
    """Each step's vote for the run's first step being a left one (tanh: no single step outvotes the run)."""
    return np.tanh(score / scale) * np.where(np.arange(len(score)) % 2 == 0, 1.0, -1.0)


def _parity_break(votes: np.ndarray, p: GaitParams) -> int | None:
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


def _bridged_signals(acc: np.ndarray, gyr: np.ndarray, fs: float, p: GaitParams, up: np.ndarray | None = None
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """(acc, gyr) with gaps up to `max_gap_s` interpolated, which samples that bridged, and the
    vertical acceleration, yaw rate and vertical (`vertical_signals`) over them: what
    `initial_contacts` finds steps in, and `walk_vertical` draws."""
    given = [] if up is None else [np.asarray(up, dtype=np.float64)]
    both, bridged = interpolate_short_gaps(np.column_stack([acc, gyr, *given]), int(round(p.max_gap_s * fs)))
    acc, gyr = both[:, :3], both[:, 3:6]
    av, yaw, up = vertical_signals(acc, gyr, fs, both[:, 6:9] if given else None)
    return acc, gyr, bridged, av, yaw, up


def walk_vertical(acc: np.ndarray, gyr: np.ndarray, fs: float,
                  params: GaitParams | None = None) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """The vertical acceleration without gravity (m/s^2, per sample) that `initial_contacts`
    finds steps in, across gaps up to `max_gap_s` as it bridges them (NaN in longer ones),
    and which samples were lost (for a picture of the walk)."""
    acc, gyr = np.asarray(acc, dtype=np.float64), np.asarray(gyr, dtype=np.float64)
    lost = ~(np.isfinite(acc).all(axis=1) & np.isfinite(gyr).all(axis=1))
    return _bridged_signals(acc, gyr, fs, params or GaitParams())[3], lost


def initial_contacts(acc: np.ndarray, gyr: np.ndarray, fs: float, params: GaitParams | None = None,
                     left_axis: np.ndarray | None = None, up: np.ndarray | None = None) -> list[Contact]:  # fmt: skip
    """Initial contacts of both feet from a lower-back IMU, mounted any way round.

    acc in m/s^2 and gyr in rad/s, shape (n, 3), in the sensor's frame at `fs` Hz.
    `left_axis`: the pelvis's left axis in the sensor frame, from a calibration; without
    it, the walk's own braking at each contact gives it (`left_from_contacts`) where clear.
    With an axis the side comes from the sideways sway as well as the yaw swing (`_sides`).
    `up` (n, 3): the vertical in the sensor frame where the caller tracked it over the whole
    recording. Tracked from a block's start instead, the orientation filter's 3-s start-up
    (high gain, no rejection of accelerations) can end inside the walk and tilt the vertical
    for seconds, mixing the forward acceleration into the vertical one (contacts 140 ms
    early on a simulated walk that began 3 s into its block).
    Lost samples (NaN rows, radio drop-outs) in gaps up to `max_gap_s` are interpolated
    so that a walk stays one walk: split at every drop-out, its runs of steps fell below
    `min_steps` and its feet lost their alternation (5 % of samples lost cost a quarter of
    the contacts). 1 s: the longest gap whose hidden steps the cadence can place (an
    interval of up to 3 step times). Bridging only up to 0.5 s, drop-outs of 10-500 ms
    that ran together split walks where 20 % of samples were lost: contacts within
    100 ms 84 % -> 90 % on simulated walks, 52 % -> 60 % on mobgap's real lab walks, false
    contacts no more, sides right 98 % and 96 % (benchmarks/bench_gait.py). A contact
    detected inside a bridged gap, where the signal is made up, is not reported; a step
    the gap hid is placed from the cadence around it (`_fill_hidden_steps`,
    `Contact.inferred`). Stretches between longer gaps are analysed separately.
    Gaps of up to `seen_gap_s` (one to three samples at 100 Hz, lost one by one as a
    wireless sensor's packets are) count as seen for all of that: the 4-8 Hz signals the
    steps are found in change little over them, and held to "any sample lost", a walk's
    soft last steps whose rise had lost one sample were never taken. On Voisard et al.'s
    real walks (IPOL 2023; 79 of 110 trials lose samples, 36 of them 5-20 %, and 94 % of
    the drop-outs are 1-3 samples long) contacts inside the trials within 100 ms 93.5 ->
    93.9 %, within 50 ms 83.6 -> 84.4 %, false 3.5 -> 3.3 %, sides 97.9 -> 97.8 % (trials
    losing >= 5 %: 92.2 -> 93.5 % within 100 ms; those losing none 94.2 % either way); the
    simulator unchanged (benchmarks/bench_gait.py). 0.02 s and 0.05 s gave 93.8 and 94.0 %.
    Two contacts closer than the shortest step keep one (`_uncrowded`), and a run whose
    steps' side votes do not agree (`min_side_agreement`: stepping on the spot, shuffling,
    turning in place) is left out, and so are a few contacts left on their own by these rules
    (`_without_short_pieces`): on Voisard et al.'s walks false contacts 235 -> 211 -> 164 ->
    150 (6.2 -> 5.6 -> 4.4 -> 4.1 %) for 1, 35 and 3 true ones (docs/analysis.md, Gait).
    """
    p = params or GaitParams()
    acc, gyr = np.asarray(acc, dtype=np.float64), np.asarray(gyr, dtype=np.float64)
    if acc.shape != gyr.shape or acc.ndim != 2 or acc.shape[1] != 3:
        raise ValueError("acc and gyr must both have shape (n, 3)")
    acc, gyr, bridged, av, yaw, up = _bridged_signals(acc, gyr, fs, p, up)
    bridged = _longer_runs(bridged, p.seen_gap_s * fs)
    runs = []
    for lo, hi in finite_segments(np.column_stack([av, yaw])):
        if hi - lo < p.min_steps * p.min_step_s * fs:
            continue
        smooth, slope = _filtered(av[lo:hi], fs, p)
        peaks, prom, rel = _step_peaks(smooth, slope, fs, p)
        clear = prom >= p.min_prominence
        steps = peaks[clear & (rel >= p.rel_prominence)]
        weak = peaks[clear & (rel < p.rel_prominence) & (rel >= p.edge_rel_prominence)]
        ics = _contact_instants(slope, steps, fs, p)
        seen = steps
        steps, ics, made = _fill_hidden_steps(steps, ics, bridged[lo:hi], fs, p)
        walking = _walking_runs(steps, fs, p)
        keep = np.zeros(len(steps), dtype=bool)
        for a, b in walking:
            keep[a:b] = True
        added = _extend_runs(steps, walking, weak, fs, p)
        steps, ics, made = _merged(steps[keep], ics[keep], made[keep], added, slope, fs, p)
        # a bridging peak must have its rise in samples seen, not interpolated across a drop-out
        back = int(p.contact_search_s * fs)
        usable = np.array([not bridged[lo + max(0, i - back) : lo + i + 1].any() for i in peaks], dtype=bool)
        added = np.concatenate([_bridge_gaps(steps, peaks, rel, usable, fs, p),
                                _closing_steps(steps, peaks, rel, usable, smooth, yaw[lo:hi], fs, p)])  # fmt: skip
        merged, ics, made = _merged(steps, ics, made, added, slope, fs, p)
        soft = np.isin(merged, added)
        # without a vote: the steps placed in drop-outs (their signals are made up) and the soft
        # ones; a step seen whose rise lost samples votes (its swing, at ~1 Hz, survives a few)
        voteless = (made & ~np.isin(merged, seen)) | soft
        placed = made & ~np.isin(merged, peaks)
        runs.append((lo, hi, ics, made, soft, voteless, placed, smooth))
    if left_axis is None and runs:  # no calibration: the walk's own braking gives left and right
        left_axis = left_from_contacts(acc, up, np.concatenate([lo + i[~m] for lo, _, i, m, *_ in runs]), fs)
    lat = fwd = None
    if left_axis is not None:
        lat = acc @ left_axis - G * (up @ left_axis)
        ahead = np.cross(left_axis, up)  # forward, horizontal wherever the vertical is
        ahead /= np.linalg.norm(ahead, axis=1, keepdims=True)
        fwd = np.einsum("ij,ij->i", acc, ahead)
    contacts = []
    for lo, hi, ics, made, soft, voteless, placed, smooth in runs:
        if fwd is not None:
            forward = apply_sos(lowpass_sos(fs, min(p.braking_lowpass_hz, 0.4 * fs), order=4), fwd[lo:hi])
            ics = np.where(made, ics, _with_braking(forward, ics, fs, p))
        # a bridged gap's steps carry the feet of the steps before it; the walk after it votes anew
        after_gap = np.flatnonzero(soft[:-1] & ~soft[1:]) + 1
        left, conf, agree = _sides(yaw[lo:hi], ics, fs, p, voteless, None if lat is None else lat[lo:hi],
                                   after_gap)  # fmt: skip
        agree = [None] * len(ics) if agree is None else [bool(x) for x in agree]
        keep = made | ~bridged[lo + ics]  # a detected contact inside a bridged gap is made up
        # feet alternate in walking: a run of contacts whose steps vote for neither phase
        # (stepping on the spot, shuffling, turning in place) is not walking, and its sides would be guesses
        keep &= np.asarray(conf) >= p.min_side_agreement
        shown = np.flatnonzero(keep)
        keep[shown] = _uncrowded(ics[shown], placed[shown], soft[shown], smooth, fs, p)
        keep = _without_short_pieces(ics, keep, fs, p)
        for i, is_left, c, m, ag, k in zip(ics, left, conf, made, agree, keep, strict=True):
            if k:
                contacts.append(Contact((lo + i) / fs, "L" if is_left else "R", float(c), bool(m), ag))
    return contacts


LOADING_S = (0.1, 0.25)  # a contact's loading: the rise of the vertical acceleration from this long before to after it


def _loading(smooth: np.ndarray, ic: int, fs: float, until: int | None = None) -> float:
    """How much the (4-Hz) vertical acceleration rises over a contact's loading (m/s^2), up to
    `until` (the next contact) where that comes first."""
    before, after = int(LOADING_S[0] * fs), int(LOADING_S[1] * fs)
    end = ic + after + 1 if until is None else min(ic + after + 1, max(until, ic + 1))
    return float(np.max(smooth[ic:end]) - np.min(smooth[max(0, ic - before) : ic + 1]))


def _uncrowded(ics: np.ndarray, placed: np.ndarray, soft: np.ndarray, smooth: np.ndarray, fs: float,
               p: GaitParams) -> np.ndarray:  # fmt: skip
    """Which contacts to keep where two lie closer than the shortest step (`min_step_s`): one foot
    cannot follow the other that fast, so one of them is not a step. Step peaks are at least
    that far apart; their contact instants (searched back from the peak, moved towards the
    braking) and the steps carried on, bridged or placed in drop-outs may not be.

    Kept: a step seen over a soft one (a run carried on, a gap bridged, a closing step) over
    one placed in a drop-out; between equals the earlier (a loading that comes as two bumps,
    heel then forefoot, sets a second contact after the first), unless the later one's
    loading rises at least `crowded_stronger` times as much as the earlier one's does before
    it (a light touch before the real loading: a shuffling or impaired step). On Voisard et
    al.'s walks (IPOL 2023) 25 such pairs, every one with a contact that no reference
    contact matched; in the 13 where one was matched it was the earlier 12 times, and there
    the later rose 0.2-2.1 times as much. On mobgap's lab walks 5, all in the walker with
    multiple sclerosis: the later was the matched one in 4 and rose 3.1-26 times as much
    (the fifth, both matched, 1.1). December 2026, ad hoc; the 2.5 lies between the two
    sets' ratios, read off these 30 pairs (the simulator's walks have none): contacts found
    within 100 ms 3584 -> 3583 and 160 -> 159, false ones 235 -> 211 and 145 -> 141.
    """
    keep = np.ones(len(ics), dtype=bool)
    rank = np.where(placed, 0, np.where(soft, 1, 2))
    last = -1
    for i in range(len(ics)):
        if last >= 0 and ics[i] - ics[last] < p.min_step_s * fs:
            if rank[i] != rank[last]:
                later = rank[i] > rank[last]
            else:
                first = _loading(smooth, ics[last], fs, until=ics[i])
                later = _loading(smooth, ics[i], fs) >= p.crowded_stronger * first
            if later:
                keep[last], last = False, i
            else:
                keep[i] = False
            continue
        last = i
    return keep


def _without_short_pieces(ics: np.ndarray, keep: np.ndarray, fs: float, p: GaitParams) -> np.ndarray:
    """`keep` with every piece of fewer than `min_steps` kept contacts cleared, a piece being
    contacts (sample indices, sorted) no more than `max_step_s` apart.

    Fewer steps in a row are not walking (`min_steps`), and that holds for what is reported
    as well as for what is searched: the steps are found in runs of at least `min_steps`,
    but leaving out a run that does not alternate (`min_side_agreement`), one contact of a
    crowded pair or those inside a bridged gap can leave a few contacts on their own. On
    Voisard et al.'s real walks (IPOL 2023) these were 14 false contacts and 3 true ones,
    most of them in the stepping after the trials; on mobgap's lab walks 7 false and 2 true
    (December 2026, ad hoc; benchmarks/bench_gait.py)."""
    out = keep.copy()
    shown = np.flatnonzero(keep)
    if not len(shown):
        return out
    for piece in np.split(shown, np.flatnonzero(np.diff(ics[shown]) > p.max_step_s * fs) + 1):
        if len(piece) < p.min_steps:
            out[piece] = False
    return out


def _longer_runs(mask: np.ndarray, shortest: float) -> np.ndarray:
    """`mask` with its runs of True of at most `shortest` samples cleared."""
    starts, stops = run_edges(mask)
    out = np.zeros(len(mask), dtype=bool)
    for a, b in zip(starts, stops, strict=True):
        if b - a > shortest:
            out[a:b] = True
    return out


def _merged(steps: np.ndarray, ics: np.ndarray, made: np.ndarray, added: np.ndarray, slope: np.ndarray, fs: float,
            p: GaitParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """(steps, contact instants, made) with the peaks `added` (seen, not made) merged in, in time order."""
    order = np.argsort(np.concatenate([steps, added]), kind="stable")
    return (np.concatenate([steps, added])[order],
            np.concatenate([ics, _contact_instants(slope, added, fs, p)])[order],
            np.concatenate([made, np.zeros(len(added), dtype=bool)])[order])  # fmt: skip


def _fill_hidden_steps(steps: np.ndarray, ics: np.ndarray, bridged: np.ndarray, fs: float, p: GaitParams
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """Steps a drop-out hid, placed from the cadence around them: (step peaks, contact
    instants, made) with the made ones inserted.

    Between two detected steps whose interval holds lost samples and is k = 2 or 3 times the
    local step time (the median of up to three intervals either side without lost samples)
    within `cadence_tolerance`, k - 1 steps are placed evenly, where a drop-out lies within
    0.15 s of each: walking's step times vary by a few per cent, so a placed contact is
    usually within tens of ms, where leaving it out breaks the run and its alternation.
    Their contact instant keeps the median peak-to-contact lead of the segment's steps, as
    does a step seen whose rise holds lost samples (the steepest slope may be the
    interpolation's kink at the gap's edge).
    """
    made = np.zeros(len(steps), dtype=bool)
    if len(steps) < 3 or not bridged.any():
        return steps, ics, made
    gaps = np.diff(steps)
    lost = np.array([bridged[a:b].any() for a, b in zip(steps[:-1], steps[1:], strict=True)])
    lead = int(np.median(steps - ics))
    # a step seen whose rise (the contact instant's search window) holds lost samples: the
    # steepest slope there may be the interpolation's kink at the gap's edge; its peak is real
    back = int(p.contact_search_s * fs)
    inside = np.array([bridged[max(0, i - back) : i + 1].any() for i in steps])
    ics = np.where(inside, np.maximum(steps - lead, 0), ics)
    made = inside.copy()
    near = int(round(0.15 * fs))
    out_s, out_i, out_m = [steps[0]], [ics[0]], [made[0]]
    for k, g in enumerate(gaps):
        if lost[k]:
            around = [gaps[j] for j in range(max(0, k - 3), min(len(gaps), k + 4))
                      if j != k and not lost[j] and p.min_step_s * fs <= gaps[j] <= p.max_step_s * fs]  # fmt: skip
            local = float(np.median(around)) if around else 0.0
            n = int(round(g / local)) if local else 0
            if 2 <= n <= 3 and abs(g / n - local) <= p.cadence_tolerance * local:
                placed = [int(round(steps[k] + m * g / n)) for m in range(1, n)]
                if all(bridged[max(0, q - near) : q + near + 1].any() for q in placed):
                    for q in placed:
                        out_s.append(q), out_i.append(max(0, q - lead)), out_m.append(True)
        out_s.append(steps[k + 1]), out_i.append(ics[k + 1]), out_m.append(made[k + 1])
    return np.array(out_s), np.array(out_i), np.array(out_m)
