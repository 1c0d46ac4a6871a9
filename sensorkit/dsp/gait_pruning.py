"""Contacts left out of what a walk reports (for `sensorkit.dsp.gait`): one of two closer than a
step, and a few left on their own.
"""

from __future__ import annotations

import numpy as np

from sensorkit.dsp.gait_params import GaitParams

LOADING_S = (0.1, 0.25)  # a contact's loading: the rise of the vertical acceleration from this long before to after it


def loading_rise(smooth: np.ndarray, ic: int, fs: float, until: int | None = None) -> float:
    """How much the (4-Hz) vertical acceleration rises over a contact's loading (m/s^2), up to
    `until` (the next contact) where that comes first."""
    before, after = int(LOADING_S[0] * fs), int(LOADING_S[1] * fs)
    end = ic + after + 1 if until is None else min(ic + after + 1, max(until, ic + 1))
    return float(np.max(smooth[ic:end]) - np.min(smooth[max(0, ic - before) : ic + 1]))


def uncrowded(ics: np.ndarray, placed: np.ndarray, soft: np.ndarray, smooth: np.ndarray, fs: float,
               p: GaitParams) -> np.ndarray:  # fmt: skip
    """Which contacts to keep where two lie closer than the shortest step (`min_step_s`): one foot
    cannot follow the other that fast, so one of them is not a step. Step peaks are at least
    that far apart; their contact instants (searched back from the peak, moved towards the
    braking) and the steps carried on, bridged or placed in drop-outs may not be.

    Kept: a step seen over a soft one (a gap bridged, a closing step) over
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
                first = loading_rise(smooth, ics[last], fs, until=ics[i])
                later = loading_rise(smooth, ics[i], fs) >= p.crowded_stronger * first
            if later:
                keep[last], last = False, i
            else:
                keep[i] = False
            continue
        last = i
    return keep


def without_short_pieces(ics: np.ndarray, keep: np.ndarray, fs: float, p: GaitParams) -> np.ndarray:
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
