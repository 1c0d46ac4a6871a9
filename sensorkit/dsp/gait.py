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
  peaks that keep its cadence (the steps into a turn or a stop; `extend_runs`),
  and a gap between two stretches of walking is bridged by the softest peaks
  that join them at plausible step times (the steps of a turn; `bridge_gaps`); a
  walk that ends in stillness ends with the step that closes it (`closing_steps`).
- Initial contact. The instant of steepest rise of the vertical acceleration
  before its peak: the impact, which precedes the peak by a few tens of ms. Where
  the walk's forward axis is known, averaged with the peak of the forward
  acceleration that ends as the foot lands and the trunk brakes (Zijlstra & Hof 2003;
  `with_braking`).
- Side. The pelvis turns about the vertical with the swinging leg: in the last
  part of the swing before a left contact it rotates clockwise seen from above
  (the left side coming forward), before a right contact anticlockwise. The sign
  of the band-passed yaw rate around the contact tells the side; turning while
  walking adds the mean rate over the stride, which is subtracted. Feet
  alternate, so each unbroken run of steps takes the phase that most of its
  steps vote for.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from sensorkit.dsp.filters import apply_sos, finite_segments, interpolate_short_gaps, lowpass_sos, run_edges
from sensorkit.dsp.gait_params import Contact, GaitParams
from sensorkit.dsp.gait_pruning import uncrowded, without_short_pieces
from sensorkit.dsp.gait_sides import contact_sides, left_from_contacts
from sensorkit.dsp.gait_steps import (
    bridge_gaps,
    closing_steps,
    contact_instants,
    extend_runs,
    fill_hidden_steps,
    merged_steps,
    step_peaks,
    step_signals,
    walking_runs,
    with_braking,
)
from sensorkit.dsp.movement import rest_bias
from sensorkit.dsp.orientation import G, gravity_direction


def vertical_signals(acc: np.ndarray, gyr: np.ndarray, fs: float, up: np.ndarray | None = None
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """Vertical acceleration without gravity (m/s^2, up > 0), yaw rate about the vertical
    (rad/s) and the vertical itself (unit vectors in the sensor frame): `up` where the
    caller has it, else from the orientation filter (gyro bias from the stillest seconds)."""
    if up is None:
        up = gravity_direction(acc, gyr, fs, rest_bias(gyr, fs))
    return np.einsum("ij,ij->i", acc, up) - G, np.einsum("ij,ij->i", gyr, up), up


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
    With an axis the side comes from the sideways sway as well as the yaw swing (`contact_sides`).
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
    the gap hid is placed from the cadence around it (`fill_hidden_steps`,
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
    Two contacts closer than the shortest step keep one (`uncrowded`), and a run whose
    steps' side votes do not agree (`min_side_agreement`: stepping on the spot, shuffling,
    turning in place) is left out, and so are a few contacts left on their own by these rules
    (`without_short_pieces`): on Voisard et al.'s walks false contacts 235 -> 211 -> 164 ->
    150 (6.2 -> 5.6 -> 4.4 -> 4.1 %) for 1, 35 and 3 true ones (docs/analysis.md, Gait).
    """
    p = params or GaitParams()
    acc, gyr = np.asarray(acc, dtype=np.float64), np.asarray(gyr, dtype=np.float64)
    if acc.shape != gyr.shape or acc.ndim != 2 or acc.shape[1] != 3:
        raise ValueError("acc and gyr must both have shape (n, 3)")
    acc, gyr, bridged, av, yaw, up = _bridged_signals(acc, gyr, fs, p, up)
    bridged = _longer_runs(bridged, p.seen_gap_s * fs)
    stretches = [_steps_of(av, yaw, bridged, lo, hi, fs, p) for lo, hi in finite_segments(np.column_stack([av, yaw]))
                 if hi - lo >= p.min_steps * p.min_step_s * fs]  # fmt: skip
    if left_axis is None and stretches:  # no calibration: the walk's own braking gives left and right
        left_axis = left_from_contacts(acc, up, np.concatenate([w.lo + w.ics[~w.made] for w in stretches]), fs)
    lat = fwd = None
    if left_axis is not None:
        lat = acc @ left_axis - G * (up @ left_axis)
        ahead = np.cross(left_axis, up)  # forward, horizontal wherever the vertical is
        ahead /= np.linalg.norm(ahead, axis=1, keepdims=True)
        fwd = np.einsum("ij,ij->i", acc, ahead)
    contacts = []
    for lo, hi, ics, made, soft, voteless, placed, smooth in stretches:
        if fwd is not None:
            forward = apply_sos(lowpass_sos(fs, min(p.braking_lowpass_hz, 0.4 * fs), order=4), fwd[lo:hi])
            # a soft step (a gap's bridging step in a turn, a walk's closing step) keeps its vertical
            # rise: the trunk barely brakes there, and a forward peak near it is another movement's.
            # On Voisard et al.'s walks within 100 ms 3545 -> 3549 of 3866 (U-turns 339 -> 343),
            # false contacts 150 -> 143; mobgap's lab walks within 50 ms 64.4 -> 64.9 %; the
            # simulator unchanged (benchmarks/bench_gait.py, December 2026). The steps a run is carried
            # on by (`extend_runs`) still brake: kept at their rise too, 3549 -> 3540 and 143 -> 153 false.
            ics = np.where(made | soft, ics, with_braking(forward, ics, fs, p))
        # a bridged gap's steps carry the feet of the steps before it; the walk after it votes anew
        after_gap = np.flatnonzero(soft[:-1] & ~soft[1:]) + 1
        left, conf, agree = contact_sides(yaw[lo:hi], ics, fs, p, voteless, None if lat is None else lat[lo:hi],
                                          after_gap)  # fmt: skip
        agree = [None] * len(ics) if agree is None else [bool(x) for x in agree]
        keep = made | ~bridged[lo + ics]  # a detected contact inside a bridged gap is made up
        # feet alternate in walking: a run of contacts whose steps vote for neither phase
        # (stepping on the spot, shuffling, turning in place) is not walking, and its sides would be guesses
        keep &= np.asarray(conf) >= p.min_side_agreement
        shown = np.flatnonzero(keep)
        keep[shown] = uncrowded(ics[shown], placed[shown], soft[shown], smooth, fs, p)
        keep = without_short_pieces(ics, keep, fs, p)
        for i, is_left, c, m, ag, k in zip(ics, left, conf, made, agree, keep, strict=True):
            if k:
                contacts.append(Contact((lo + i) / fs, "L" if is_left else "R", float(c), bool(m), ag))
    return contacts


# A walk that gives the pelvis's heading where no bends do (`walk_heading`): at least this many
# contacts (`left_from_contacts` itself asks 6, and a clinic session's few steps between
# exercises are not a walk).
MIN_WALK_CONTACTS = 10


def walk_heading(acc: np.ndarray, gyr: np.ndarray, fs: float, params: GaitParams | None = None
                 ) -> tuple[np.ndarray, tuple[int, int]] | None:  # fmt: skip
    """The pelvis's left axis (a unit vector in the sensor frame) from a walk in the recording,
    and the walk's span (its first contact's sample, the sample after its last); None without
    a walk of `MIN_WALK_CONTACTS` contacts whose braking is clear (`left_from_contacts`).
    acc in m/s^2 and gyr in rad/s, shape (n, 3), at `fs` Hz: a heading for the pelvis where no
    forward bends give one (a recording of walking alone, or a sensor whose x axis points up)."""
    acc, gyr = np.asarray(acc, dtype=np.float64), np.asarray(gyr, dtype=np.float64)
    p = params or GaitParams()
    # the vertical `initial_contacts` tracks across the drop-outs it bridges, tracked once for
    # the contacts and their braking alike
    up = _bridged_signals(acc, gyr, fs, p)[5]
    contacts = [c for c in initial_contacts(acc, gyr, fs, p, up=up) if not c.inferred]
    if len(contacts) < MIN_WALK_CONTACTS:
        return None
    ics = np.array([int(round(c.t_s * fs)) for c in contacts])
    left = left_from_contacts(acc, up, ics, fs)
    return None if left is None else (left / np.linalg.norm(left), (int(ics[0]), int(ics[-1]) + 1))


class _Stretch(NamedTuple):
    """The steps of one stretch of samples without a long gap, before their sides: contact
    instants (sample indices from `lo`) and, per contact, whether it was `made` (placed in a
    drop-out, or its rise lost samples), `soft` (a gap bridged, a closing step; not the steps a
    run is carried on by, which brake and vote as the walk's do: marked soft too, 3549 -> 3539 of
    Voisard et al.'s contacts within 100 ms), `voteless` (it gives no side vote) and `placed` (no
    peak seen at all); `smooth` is the stretch's 4-Hz vertical acceleration (m/s^2)."""

    lo: int
    hi: int
    ics: np.ndarray
    made: np.ndarray
    soft: np.ndarray
    voteless: np.ndarray
    placed: np.ndarray
    smooth: np.ndarray


def _steps_of(av: np.ndarray, yaw: np.ndarray, bridged: np.ndarray, lo: int, hi: int, fs: float,
              p: GaitParams) -> _Stretch:  # fmt: skip
    """The walking steps in samples lo:hi of the vertical acceleration `av` (m/s^2; `yaw` in
    rad/s; `bridged`: samples interpolated across a drop-out)."""
    smooth, slope = step_signals(av[lo:hi], fs, p)
    peaks, prom, rel = step_peaks(smooth, slope, fs, p)
    clear = prom >= p.min_prominence
    steps = peaks[clear & (rel >= p.rel_prominence)]
    weak = peaks[clear & (rel < p.rel_prominence) & (rel >= p.edge_rel_prominence)]
    ics = contact_instants(slope, steps, fs, p)
    seen = steps
    steps, ics, made = fill_hidden_steps(steps, ics, bridged[lo:hi], fs, p)
    walking = walking_runs(steps, fs, p)
    keep = np.zeros(len(steps), dtype=bool)
    for a, b in walking:
        keep[a:b] = True
    added = extend_runs(steps, walking, weak, fs, p)
    steps, ics, made = merged_steps(steps[keep], ics[keep], made[keep], added, slope, fs, p)
    # a bridging peak must have its rise in samples seen, not interpolated across a drop-out
    back = int(p.contact_search_s * fs)
    usable = np.array([not bridged[lo + max(0, i - back) : lo + i + 1].any() for i in peaks], dtype=bool)
    added = np.concatenate([bridge_gaps(steps, peaks, rel, usable, fs, p),
                            closing_steps(steps, peaks, rel, usable, smooth, yaw[lo:hi], fs, p)])  # fmt: skip
    merged, ics, made = merged_steps(steps, ics, made, added, slope, fs, p)
    soft = np.isin(merged, added)
    # without a vote: the steps placed in drop-outs (their signals are made up) and the soft
    # ones; a step seen whose rise lost samples votes (its swing, at ~1 Hz, survives a few)
    voteless = (made & ~np.isin(merged, seen)) | soft
    placed = made & ~np.isin(merged, peaks)
    return _Stretch(lo, hi, ics, made, soft, voteless, placed, smooth)


def _longer_runs(mask: np.ndarray, shortest: float) -> np.ndarray:
    """`mask` with its runs of True of at most `shortest` samples cleared."""
    starts, stops = run_edges(mask)
    out = np.zeros(len(mask), dtype=bool)
    for a, b in zip(starts, stops, strict=True):
        if b - a > shortest:
            out[a:b] = True
    return out


__all__ = ["Contact", "GaitParams", "initial_contacts", "left_from_contacts", "vertical_signals", "walk_heading",
           "walk_vertical"]
