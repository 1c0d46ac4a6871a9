"""Steps in a walk's vertical acceleration and their initial contacts (for `sensorkit.dsp.gait`).

Sample indices throughout; `p` is the walk's `GaitParams`.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import find_peaks

from sensorkit.dsp.filters import apply_sos, lowpass_sos
from sensorkit.dsp.gait_params import GaitParams


def step_peaks(smooth: np.ndarray, slope: np.ndarray, fs: float, p: GaitParams
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """(peaks, prominence in m/s^2, relative prominence): the peaks of the low-passed vertical
    acceleration (`smooth`, `slope`: `step_signals`) that
    rise as fast as a foot strike loads the leg, with each one's prominence as a share of
    the 75th percentile of its neighbours' (those above `min_prominence` within
    `neighbour_s`). Steps are those of `rel_prominence` and `min_prominence`; the softer
    ones may carry a run on (`extend_runs`) or bridge a gap in it (`bridge_gaps`)."""
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


def step_signals(av: np.ndarray, fs: float, p: GaitParams) -> tuple[np.ndarray, np.ndarray]:
    """The vertical acceleration low-passed for the step peaks (`step_lowpass_hz`, m/s^2), and
    the slope of it low-passed for the contact instants (`slope_lowpass_hz`, m/s^3): filtered
    once per stretch, for every step search there."""
    smooth = apply_sos(lowpass_sos(fs, min(p.step_lowpass_hz, 0.4 * fs), order=4), av)
    slope = np.gradient(apply_sos(lowpass_sos(fs, min(p.slope_lowpass_hz, 0.4 * fs), order=4), av)) * fs
    return smooth, slope


def extend_runs(steps: np.ndarray, runs: list[tuple[int, int]], weak: np.ndarray, fs: float, p: GaitParams
                 ) -> np.ndarray:  # fmt: skip
    """The weaker peaks (`weak`) that carry each walking run (`walking_runs`) on past its
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


def bridge_gaps(steps: np.ndarray, peaks: np.ndarray, rel: np.ndarray, usable: np.ndarray, fs: float,
                 p: GaitParams) -> np.ndarray:  # fmt: skip
    """Softer peaks (`peaks` with relative prominence `rel`, where `usable`) that bridge a gap
    between walking steps (`steps`, sorted): sample indices of the peaks added.

    A gap is an interval of more than `missed_step_ratio` local step times (the median of
    the two intervals either side) and at most `bridge_max_s`, with regular walking on both
    sides. The walker kept stepping through it, softly: a turn, a hesitation. Its steps are
    the chain of peaks of at least `bridge_rel_prominence` that joins the two sides with
    every step time within `bridge_step_times` local step times and the largest sum of
    relative prominences (dynamic programming over the gap's candidates); no chain, no step.
    Held at both ends by the walk, a chain can take softer peaks than `extend_runs`, which
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


def closing_steps(steps: np.ndarray, peaks: np.ndarray, rel: np.ndarray, usable: np.ndarray, smooth: np.ndarray,
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


def walking_runs(steps: np.ndarray, fs: float, p: GaitParams) -> list[tuple[int, int]]:
    """(first, stop) indices into `steps` of the runs of >= min_steps with plausible step times."""
    out, i = [], 0
    while i < len(steps):
        j = i
        while j + 1 < len(steps) and _plausible(steps[j + 1] - steps[j], fs, p):
            j += 1
        if j - i + 1 >= p.min_steps:
            out.append((i, j + 1))
        i = j + 1
    return out


def contact_instants(slope: np.ndarray, peaks: np.ndarray, fs: float, p: GaitParams) -> np.ndarray:
    """Each step's initial contact: the steepest rise (`slope`: `step_signals`) of the vertical acceleration within
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


def with_braking(fwd: np.ndarray, ics: np.ndarray, fs: float, p: GaitParams) -> np.ndarray:
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


def merged_steps(steps: np.ndarray, ics: np.ndarray, made: np.ndarray, added: np.ndarray, slope: np.ndarray, fs: float,
            p: GaitParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """(steps, contact instants, made) with the peaks `added` (seen, not made) merged in, in time order."""
    order = np.argsort(np.concatenate([steps, added]), kind="stable")
    return (np.concatenate([steps, added])[order],
            np.concatenate([ics, contact_instants(slope, added, fs, p)])[order],
            np.concatenate([made, np.zeros(len(added), dtype=bool)])[order])  # fmt: skip


def fill_hidden_steps(steps: np.ndarray, ics: np.ndarray, bridged: np.ndarray, fs: float, p: GaitParams
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """Steps a drop-out hid, placed from the cadence around them: (step peaks, contact
    instants, made) with the made ones inserted.

    Between two detected steps whose interval holds lost samples and is k = 2 or 3 times the
    local step time within `cadence_tolerance`, k - 1 steps are placed evenly, where a drop-out
    lies within 0.15 s of each: walking's step times vary by a few per cent, so a placed contact
    is usually within tens of ms, where leaving it out breaks the run and its alternation.
    Their contact instant keeps the median peak-to-contact lead of the segment's steps, as
    does a step seen whose rise holds lost samples (the steepest slope may be the
    interpolation's kink at the gap's edge).

    The local step time is the median of up to three intervals without lost samples either
    side in the same walk (up to the first interval outside plausible step times), else of
    those just before the gap: taken across a stop, the shuffling after a walk (steps 0.3 s
    apart) once set it and placed a step in the walk's last, slightly longer interval, which
    broke the run's last steps off (on Voisard et al.'s walks, December 2026: within 100 ms
    3549 -> 3550 of 3866 (in the trials +3), false 143 -> 140; with 5 % more lost 3473 -> 3475, 166 -> 163;
    the simulator with 20 % lost 94.0 -> 94.4 %; mobgap's lab walks with 20 % lost 102 -> 101 of 205).
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
            around = [gaps[j] for j in _same_walk(gaps, k, 3, fs, p) if not lost[j]]
            if not around:  # the cadence that led into the gap (after it the walker may have stopped)
                around = [gaps[j] for j in range(max(0, k - 3), k)
                          if not lost[j] and _plausible(gaps[j], fs, p)]  # fmt: skip
            local = float(np.median(around)) if around else 0.0
            n = int(round(g / local)) if local else 0
            if 2 <= n <= 3 and abs(g / n - local) <= p.cadence_tolerance * local:
                placed = [int(round(steps[k] + m * g / n)) for m in range(1, n)]
                if all(bridged[max(0, q - near) : q + near + 1].any() for q in placed):
                    for q in placed:
                        out_s.append(q), out_i.append(max(0, q - lead)), out_m.append(True)
        out_s.append(steps[k + 1]), out_i.append(ics[k + 1]), out_m.append(made[k + 1])
    return np.array(out_s), np.array(out_i), np.array(out_m)


def _plausible(interval: float, fs: float, p: GaitParams) -> bool:
    """Whether a step interval (samples) lies within walking's step times (`min_step_s`-`max_step_s`)."""
    return p.min_step_s * fs <= interval <= p.max_step_s * fs


def _same_walk(gaps: np.ndarray, k: int, n: int, fs: float, p: GaitParams) -> list[int]:
    """Indices of up to `n` step intervals (`gaps`, samples) either side of interval `k` in the same
    walk: up to the first one outside plausible step times (`min_step_s`-`max_step_s`)."""
    out = []
    for direction in (-1, 1):
        j = k + direction
        while 0 <= j < len(gaps) and abs(j - k) <= n and _plausible(gaps[j], fs, p):
            out.append(j)
            j += direction
    return sorted(out)
