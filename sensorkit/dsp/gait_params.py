"""Settings of the walking analysis (`GaitParams`) and what it finds (`Contact`): see `sensorkit.dsp.gait`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GaitParams:
    """Settings of `initial_contacts` (times in s, frequencies in Hz, accelerations in m/s^2)."""

    step_lowpass_hz: float = 4.0  # vertical acceleration for the step peaks
    slope_lowpass_hz: float = 8.0  # vertical acceleration for the contact instant
    min_step_s: float = 0.25  # shortest step time (a very fast cadence of 240 steps/min)
    max_step_s: float = 1.3  # longest step time within one walking bout
    min_steps: int = 4  # fewer steps in a row are not walking
    rel_prominence: float = 0.5  # of the 75th percentile of the prominences within +-neighbour_s
    min_prominence: float = 0.5  # m/s^2: quiet standing sways far less than this
    neighbour_s: float = 3.0
    search_before_s: float = 0.2  # a step's rise (its loading) lies within this before its acceleration peak
    contact_search_s: float = 0.12  # the contact precedes its acceleration peak by at most this (contact_instants)
    max_rise_s: float = 0.3  # a foot strike loads within the loading response (~0.1 s); squats take longer
    side_lowpass_hz: float = 3.0  # yaw rate: the swing is at stride frequency (~1 Hz)
    side_window_s: tuple[float, float] = (-0.15, 0.05)  # around the contact
    braking_window_s: tuple[float, float] = (-0.15, 0.15)  # the braking (with_braking), around the vertical rise
    braking_peak_s: float = 0.1  # the forward peak at contact comes at most this long before the braking
    braking_lowpass_hz: float = 8.0  # forward acceleration for its peak at contact
    parity_vote: float = 0.4  # a run whose votes turn this clearly part-way is split there (parity_break)
    missed_step_ratio: float = 1.6  # a step time this much above its neighbours' means one was missed (below: an extra)
    max_gap_s: float = 1.0  # lost samples in gaps up to this long are interpolated (see initial_contacts)
    seen_gap_s: float = 0.03  # ... and in gaps up to this long count as seen (see initial_contacts)
    cadence_tolerance: float = 0.2  # a gap hides k steps when its interval is k local step times within this share
    edge_rel_prominence: float = 0.2  # a run's last steps (extend_runs): share of the neighbours' prominence
    edge_step_times: tuple[float, float] = (0.75, 1.4)  # ... each within these of the run's step time
    edge_steps: int = 3  # ... at most this many
    bridge_rel_prominence: float = 0.1  # a gap between steps (bridge_gaps): share of the neighbours' prominence
    bridge_step_times: tuple[float, float] = (0.7, 1.4)  # ... each step time within these local step times
    bridge_max_s: float = 4.0  # ... gaps up to this long
    closing_after_s: float = 1.5  # a walk's last step (closing_steps): no step within this after it
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
