"""The script of a simulated session: what the patient does when, and the ground truth.

A plan is pure data: kinematic pulses of the pelvis, muscle excitation bursts and
markers, built exercise by exercise with randomised timing so that no two
repetitions are alike. `sensorkit.sim.session` renders it into signals.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sensorkit.sim.gait import GaitBout, plan_walk

# pelvis posture relative to standing: rotation about the left-right axis (deg), then
# about the longitudinal axis (deg)
STANDING = (0.0, 0.0)
SUPINE = (-90.0, 0.0)
PRONE = (-90.0, 180.0)


@dataclass(frozen=True)
class Pulse:
    """A smooth excursion of one kinematic channel: 0 -> peak over [t0, t1], held,
    back to 0 over [t2, t3]. Channels: obliquity, tilt, rotation (deg), x, y, z (m)."""

    channel: str
    t0: float
    t1: float
    t2: float
    t3: float
    peak: float


@dataclass(frozen=True)
class Burst:
    """Excitation of one muscle: exponential rise from `onset` with time constant `tau`
    (s) to `level` (0-1), falling back to 0 over [off, off + fall]."""

    muscle: str
    onset: float
    tau: float
    level: float
    off: float
    fall: float


@dataclass(frozen=True)
class PostureChange:
    t0: float
    t1: float
    start: tuple[float, float]
    end: tuple[float, float]
    drop_m: float  # vertical displacement of the pelvis


@dataclass
class Plan:
    muscles: tuple[str, ...]
    pulses: list[Pulse] = field(default_factory=list)
    bursts: list[Burst] = field(default_factory=list)
    postures: list[PostureChange] = field(default_factory=list)
    markers: list[tuple[float, str]] = field(default_factory=list)
    tonic: dict[str, float] = field(default_factory=dict)
    artefact_times: list[float] = field(default_factory=list)
    calibration: dict[str, list[list[float]]] = field(default_factory=dict)
    exercises: list[dict] = field(default_factory=list)
    walks: list[GaitBout] = field(default_factory=list)
    duration: float = 0.0

    def burst(self, muscle: str, onset: float, level: float, off: float, rng, rise_ms=(10, 80)):
        if muscle in self.muscles:
            tau = rng.uniform(*rise_ms) / 1000 / 3
            self.bursts.append(Burst(muscle, onset, tau, level, off, rng.uniform(0.15, 0.35)))
        return onset if muscle in self.muscles else None


@dataclass(frozen=True)
class Dosage:
    """What the simulated patient's glutes and pelvis do (the knobs of a scenario)."""

    reps: int = 5
    glute_delay_ms: float = 0.0  # glute onset minus the exercise's reference onset
    glute_delay_sd_ms: float = 15.0  # repetition-to-repetition spread
    pelvic_drop_deg: float = 4.0  # peak contralateral drop on single-leg tasks
    pelvic_drop_sd_deg: float = 1.0
    gait_impairment: float = 0.0  # 0 healthy walker ... 1 markedly impaired (slow, asymmetric, irregular)
    # pelvic rotation in gait as a multiple of the usual (2.5-6 deg, the swing side forward):
    # small (0.2) or reversed (-1, the stance side forward, seen in some slow walkers)
    pelvic_rotation: float = 1.0
    calibration_bend_deg: float = 0.0  # how far the calibration's forward bends tilt the pelvis; 0: 40-65 deg
    weight_shift_m: tuple[float, float] = (0.03, 0.06)  # sideways shift of the pelvis onto a single-leg task's leg
    # the lying exercises (prone hip extension, glute bridge): their lifts' and lowerings' durations
    # (prone 0.6-1.0 s, bridge 0.8-1.3 s) times `lift_pace`, and the pelvis's excursion times
    # `lift_range`: a patient who lifts slowly (2) with the pelvis held still (0.5) moves the sensor little
    lift_pace: float = 1.0
    lift_range: float = 1.0
    # the pelvis's postural sway while lying as a multiple of standing's (obliquity, tilt, rotation
    # 0.3 / 0.4 / 0.6 deg RMS below 0.8 Hz): on a table it moves less, mostly with the breath
    lying_sway: float = 1.0
    # the clinician presses a lying exercise's start button before the patient lies down or rolls
    # over (the glute bridges' block and the first prone block): the posture change lies inside
    # the marked block
    marks_span_posture: bool = False

    def __post_init__(self) -> None:
        # one clear message for a knob set outside what a patient can do (from `--param`)
        if self.reps < 1:
            raise ValueError(f"reps must be at least 1, not {self.reps}")
        if self.glute_delay_sd_ms < 0 or self.pelvic_drop_sd_deg < 0:
            raise ValueError("glute_delay_sd_ms and pelvic_drop_sd_deg must be >= 0")
        if not -1000 <= self.glute_delay_ms <= 1000:
            raise ValueError(f"glute_delay_ms must lie within +-1000 ms, not {self.glute_delay_ms}")
        if not -30 <= self.pelvic_drop_deg <= 30:
            raise ValueError(f"pelvic_drop_deg must lie within +-30 deg, not {self.pelvic_drop_deg}")
        if not 0 <= self.gait_impairment <= 1:
            raise ValueError(f"gait_impairment must lie between 0 (healthy) and 1, not {self.gait_impairment}")
        if not 0 <= self.calibration_bend_deg <= 90:
            raise ValueError(f"calibration_bend_deg must lie between 0 and 90, not {self.calibration_bend_deg}")
        if not (0.25 <= self.lift_pace <= 5 and 0.1 <= self.lift_range <= 3 and 0 <= self.lying_sway <= 3):
            raise ValueError("lift_pace must lie in 0.25-5, lift_range in 0.1-3 and lying_sway in 0-3")
        if not 0 <= self.weight_shift_m[0] <= self.weight_shift_m[1] <= 0.3:
            raise ValueError("weight_shift_m must be a range within 0-0.3 m")


def _pulse(plan: Plan, channel: str, t0: float, up: float, hold: float, down: float, peak: float):
    plan.pulses.append(Pulse(channel, t0, t0 + up, t0 + up + hold, t0 + up + hold + down, peak))


def _sway_rest(rng, lo=1.5, hi=2.5) -> float:
    return float(rng.uniform(lo, hi))


def add_calibration(plan: Plan, t: float, rng, bend_deg: float = 0.0) -> float:
    """Quiet standing (>= 5 s) then two slow forward bends, with their markers."""
    t += 0.5
    plan.markers.append((t, "calibration_start:standing"))
    quiet_end = t + rng.uniform(6.0, 7.0)
    plan.markers.append((quiet_end, "calibration_end:standing"))
    plan.calibration["standing"] = [[t, quiet_end]]
    t = quiet_end + 1.0
    plan.markers.append((t, "calibration_start:forward_bend"))
    bends = []
    for _ in range(2):
        t0 = t + 0.5
        down, hold, up = rng.uniform(1.8, 2.5), rng.uniform(0.3, 0.8), rng.uniform(1.8, 2.5)
        peak = rng.uniform(40, 65)  # drawn either way: the rest of the session stays the same
        _pulse(plan, "tilt", t0, down, hold, up, bend_deg or peak)
        _pulse(plan, "x", t0, down, hold, up, -rng.uniform(0.03, 0.08))
        for side in "LR":
            plan.burst(f"erector_spinae_{side}", t0 + 0.1, rng.uniform(0.1, 0.2), t0 + down + hold + up, rng)
        bends.append([t0, t0 + down + hold + up])
        t = t0 + down + hold + up + 1.0
    plan.markers.append((t, "calibration_end:forward_bend"))
    plan.calibration["forward_bend"] = bends
    return t + 1.0


def _rep_truth(index, start, end, movement_onset, reference, reference_s, onsets) -> dict:
    latency = {m: None if v is None else round((v - reference_s) * 1000, 3) for m, v in onsets.items()}
    return {
        "index": index, "start_s": start, "end_s": end, "movement_onset_s": movement_onset,
        "reference_s": reference_s, "onsets_s": onsets, "latency_ms": latency,
    }  # fmt: skip


def _open_block(plan: Plan, t: float, exercise: str, side: str | None, reference: str) -> dict:
    tag = exercise if side is None else f"{exercise}:{side}"
    plan.markers.append((t, f"exercise_start:{tag}"))
    return {"exercise": exercise, "side": side, "start_s": t, "reference": reference, "reps": []}


def _close_block(plan: Plan, block: dict, t: float, rng) -> float:
    """End marker one second after the last rep; returns when the next block may start."""
    t += 1.0
    block["end_s"] = t
    tag = block["exercise"] if block["side"] is None else f"{block['exercise']}:{block['side']}"
    plan.markers.append((t, f"exercise_end:{tag}"))
    plan.exercises.append(block)
    return t + rng.uniform(2.0, 4.0)


def add_single_leg_squat(plan: Plan, t: float, side: str, dose: Dosage, rng) -> float:
    """Single-leg squats on stance leg `side`, starting each from quiet bilateral stance."""
    block = _open_block(plan, t, "single_leg_squat", side, "movement")
    for i in range(dose.reps):
        t = _single_leg_rep(plan, block, t, side, dose, rng, i + 1, (0.12, 0.25), (0.2, 0.5), (8, 18))
    return _close_block(plan, block, t, rng)


def _single_leg_rep(plan: Plan, block: dict, t: float, side: str, dose: Dosage, rng, index: int,
                    depth_m: tuple[float, float], hold_s: tuple[float, float], tilt_deg: tuple[float, float],
                    forward_m: float = 0.0) -> float:  # fmt: skip
    """One single-leg repetition from quiet bilateral stance: weight shift onto `side`, the pelvis
    lowers by `depth_m` (0 for stance alone), holds, comes back; the other side drops."""
    sign = 1.0 if side == "L" else -1.0  # + rotation about x raises the left side
    other = "R" if side == "L" else "L"
    start = t
    tm = t + _sway_rest(rng)
    shift, down = rng.uniform(0.4, 0.6), rng.uniform(0.9, 1.4)
    hold, up = rng.uniform(*hold_s), rng.uniform(0.9, 1.4)
    move0 = tm + shift * 0.6
    move_time = shift * 0.6 + down + hold + up + shift
    _pulse(plan, "y", tm, shift, move_time - 2 * shift, shift, sign * rng.uniform(*dose.weight_shift_m))
    if depth_m[1] > 0:
        _pulse(plan, "z", move0, down, hold, up, -rng.uniform(*depth_m))
    if forward_m:
        _pulse(plan, "x", move0, down, hold, up, rng.uniform(0.5, 1.0) * forward_m)
    _pulse(plan, "tilt", move0, down, hold, up, rng.uniform(*tilt_deg))
    _pulse(plan, "rotation", move0, down, hold, up, rng.normal(0, 3))
    drop = rng.normal(dose.pelvic_drop_deg, dose.pelvic_drop_sd_deg)
    _pulse(plan, "obliquity", move0, down * rng.uniform(0.7, 1.0), hold, up, sign * drop)
    end = tm + move_time + 0.3
    off = end - rng.uniform(0.3, 0.6)
    delay = rng.normal(dose.glute_delay_ms, dose.glute_delay_sd_ms) / 1000
    onsets = {
        f"glute_med_{side}": plan.burst(f"glute_med_{side}", tm + delay, rng.uniform(0.3, 0.55), off, rng),
        f"glute_max_{side}": plan.burst(f"glute_max_{side}", tm + delay + rng.normal(0, 0.015),
                                        rng.uniform(0.2, 0.45), off, rng),
        f"biceps_femoris_{side}": plan.burst(f"biceps_femoris_{side}", tm + rng.uniform(0.0, 0.15),
                                             rng.uniform(0.12, 0.25), off, rng),
        f"glute_med_{other}": None,
        f"glute_max_{other}": None,
    }  # fmt: skip
    for s in "LR":
        onsets[f"erector_spinae_{s}"] = plan.burst(
            f"erector_spinae_{s}", tm + rng.uniform(0.05, 0.25), rng.uniform(0.08, 0.18), off, rng
        )
    onsets = {m: v for m, v in onsets.items() if m in plan.muscles}
    plan.artefact_times.append(tm)
    rep = _rep_truth(index, start, end, tm, "movement", tm, onsets)
    rep["pelvic_drop_param_deg"] = drop
    block["reps"].append(rep)
    return end


def add_step_down(plan: Plan, t: float, side: str, dose: Dosage, rng) -> float:
    """Lateral step-downs from a 15-20 cm step, standing on leg `side`: the other heel lowers to the floor."""
    block = _open_block(plan, t, "step_down", side, "movement")
    for i in range(dose.reps):
        t = _single_leg_rep(plan, block, t, side, dose, rng, i + 1, (0.10, 0.18), (0.1, 0.3), (5, 12), 0.03)
    return _close_block(plan, block, t, rng)


def add_single_leg_stance(plan: Plan, t: float, side: str, dose: Dosage, rng) -> float:
    """Single-leg stance on leg `side`, held 8-15 s each time (Trendelenburg test)."""
    block = _open_block(plan, t, "single_leg_stance", side, "movement")
    for i in range(max(2, dose.reps // 2)):
        t = _single_leg_rep(plan, block, t, side, dose, rng, i + 1, (0.0, 0.0), (8.0, 15.0), (0, 3))
    return _close_block(plan, block, t, rng)


def add_prone_hip_extension(plan: Plan, t: float, side: str, dose: Dosage, rng) -> float:
    """Prone hip extensions of leg `side`; reference: ipsilateral hamstrings onset."""
    sign = 1.0 if side == "L" else -1.0
    other = "R" if side == "L" else "L"
    ref = f"biceps_femoris_{side}"
    block = _open_block(plan, t, "prone_hip_extension", side, ref)
    for i in range(dose.reps):
        start = t
        th = t + _sway_rest(rng, 2.0, 3.0)
        tm = th + rng.uniform(0.08, 0.15)
        up = dose.lift_pace * rng.uniform(0.6, 1.0)
        hold, down = rng.uniform(1.5, 2.5), dose.lift_pace * rng.uniform(0.6, 1.0)
        _pulse(plan, "tilt", tm, up, hold, down, dose.lift_range * rng.uniform(3, 8))
        _pulse(plan, "obliquity", tm, up, hold, down, dose.lift_range * sign * rng.uniform(1, 3))
        _pulse(plan, "rotation", tm, up, hold, down, dose.lift_range * sign * rng.uniform(1, 4))
        end = tm + up + hold + down + 0.3
        off = end - rng.uniform(0.4, 0.7)
        delay = rng.normal(dose.glute_delay_ms, dose.glute_delay_sd_ms) / 1000
        onsets = {
            ref: plan.burst(ref, th, rng.uniform(0.25, 0.45), off, rng),
            f"glute_max_{side}": plan.burst(f"glute_max_{side}", th + delay, rng.uniform(0.25, 0.5), off, rng),
            f"glute_med_{side}": plan.burst(f"glute_med_{side}", th + delay + rng.uniform(0, 0.04),
                                            rng.uniform(0.1, 0.2), off, rng),
            f"erector_spinae_{other}": plan.burst(f"erector_spinae_{other}", th + rng.uniform(0.02, 0.08),
                                                  rng.uniform(0.15, 0.3), off, rng),
            f"erector_spinae_{side}": plan.burst(f"erector_spinae_{side}", th + rng.uniform(0.04, 0.12),
                                                 rng.uniform(0.1, 0.25), off, rng),
            f"glute_max_{other}": None,
            f"glute_med_{other}": None,
            f"biceps_femoris_{other}": None,
        }  # fmt: skip
        onsets = {m: v for m, v in onsets.items() if m in plan.muscles}
        plan.artefact_times.append(th + 0.1)
        block["reps"].append(_rep_truth(i + 1, start, end, tm, ref, th, onsets))
        t = end
    return _close_block(plan, block, t, rng)


def add_glute_bridge(plan: Plan, t: float, dose: Dosage, rng) -> float:
    """Supine glute bridges (bilateral); reference: movement onset."""
    block = _open_block(plan, t, "glute_bridge", None, "movement")
    for i in range(dose.reps):
        start = t
        tm = t + _sway_rest(rng, 2.0, 3.0)
        up = dose.lift_pace * rng.uniform(0.8, 1.3)
        hold, down = rng.uniform(1.5, 2.5), dose.lift_pace * rng.uniform(0.8, 1.3)
        _pulse(plan, "z", tm, up, hold, down, dose.lift_range * rng.uniform(0.12, 0.2))
        _pulse(plan, "tilt", tm, up, hold, down, -dose.lift_range * rng.uniform(15, 25))
        _pulse(plan, "obliquity", tm, up, hold, down, dose.lift_range * rng.normal(0, 1.0))
        end = tm + up + hold + down + 0.3
        off = end - rng.uniform(0.4, 0.7)
        delay = rng.normal(dose.glute_delay_ms, dose.glute_delay_sd_ms) / 1000
        onsets = {}
        for s in "LR":
            onsets[f"glute_max_{s}"] = plan.burst(f"glute_max_{s}", tm + delay + rng.normal(0, 0.015),
                                                  rng.uniform(0.3, 0.55), off, rng)  # fmt: skip
            onsets[f"glute_med_{s}"] = plan.burst(f"glute_med_{s}", tm + delay + rng.uniform(0, 0.05),
                                                  rng.uniform(0.1, 0.25), off, rng)  # fmt: skip
            onsets[f"biceps_femoris_{s}"] = plan.burst(f"biceps_femoris_{s}", tm - rng.uniform(0.03, 0.12),
                                                       rng.uniform(0.15, 0.3), off, rng)  # fmt: skip
            onsets[f"erector_spinae_{s}"] = plan.burst(f"erector_spinae_{s}", tm + rng.uniform(0.0, 0.1),
                                                       rng.uniform(0.1, 0.2), off, rng)  # fmt: skip
        onsets = {m: v for m, v in onsets.items() if m in plan.muscles}
        plan.artefact_times.append(tm)
        block["reps"].append(_rep_truth(i + 1, start, end, tm, "movement", tm, onsets))
        t = end
    return _close_block(plan, block, t, rng)


def add_gait(plan: Plan, t: float, dose: Dosage, rng, passes: int = 3) -> float:
    """Walking to and fro; each glute fires in late swing before its foot's contact."""
    block = _open_block(plan, t, "gait", None, "initial_contact")
    walk = plan_walk(t + rng.uniform(1.5, 2.5), passes, dose.gait_impairment, rng, dose.pelvic_rotation)
    plan.walks.append(walk)
    for i, ((t_ic, side), soft) in enumerate(zip(walk.contacts, walk.softness, strict=True)):
        end = walk.contacts[i + 1][0] if i + 1 < len(walk.contacts) else t_ic + 0.6
        delay = rng.normal(dose.glute_delay_ms, dose.glute_delay_sd_ms) / 1000
        start = t_ic - rng.uniform(0.04, 0.12) + delay  # late swing (Perry & Burnfield)
        off = t_ic + 0.3 * (end - t_ic)
        onsets = {f"glute_med_{side}": plan.burst(f"glute_med_{side}", start, rng.uniform(0.2, 0.4) * soft, off, rng),
                  f"glute_max_{side}": plan.burst(f"glute_max_{side}", start + rng.normal(0, 0.01),
                                                  rng.uniform(0.15, 0.35) * soft, off, rng)}  # fmt: skip
        onsets = {m: v for m, v in onsets.items() if m in plan.muscles}
        rep = _rep_truth(i + 1, t_ic, end, None, "initial_contact", t_ic, onsets)
        rep.update(side=side, turning=bool(soft < 1.0))
        block["reps"].append(rep)
    return _close_block(plan, block, walk.end_s + 1.0, rng)


def change_posture(plan: Plan, t: float, start, end, drop_m: float, rng) -> float:
    """Lying down, rolling over or getting up: a large, slow whole-body movement."""
    duration = rng.uniform(3.0, 4.5)
    plan.postures.append(PostureChange(t, t + duration, start, end, drop_m))
    plan.artefact_times.extend([t + 0.2, t + duration * 0.6])
    return t + duration + rng.uniform(2.0, 3.0)


def _marks_across(plan: Plan, t: float, exercise: str) -> None:
    """Move the start marker of `exercise`'s first block (and its truth) to half a second
    before `t`, where the posture change before it began: the clinician pressed the button
    first, and the patient lay down or rolled over inside the block."""
    block = next(b for b in plan.exercises if b["exercise"] == exercise)
    k = next(i for i, (tm, m) in enumerate(plan.markers) if tm == block["start_s"] and m.startswith("exercise_start"))
    block["start_s"] = t - 0.5
    plan.markers[k] = (block["start_s"], plan.markers[k][1])


SCENARIOS = ("session", "single_leg_squat", "step_down", "single_leg_stance", "prone_hip_extension", "glute_bridge",
             "gait", "calibration")  # fmt: skip


def build_plan(scenario: str, muscles: tuple[str, ...], dose: Dosage, rng) -> Plan:
    """The script of a scenario; every one starts with the calibration protocol."""
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}; choose from {', '.join(SCENARIOS)}")
    plan = Plan(muscles=muscles)
    plan.tonic = {m: 0.012 for m in muscles if m.startswith("erector_spinae")}
    t = add_calibration(plan, 1.0, rng, dose.calibration_bend_deg)
    if scenario in ("session", "single_leg_squat"):
        t = add_single_leg_squat(plan, t, "L", dose, rng)
        t = add_single_leg_squat(plan, t, "R", dose, rng)
    for name, add in (("step_down", add_step_down), ("single_leg_stance", add_single_leg_stance)):
        if scenario == name:
            t = add(plan, t, "L", dose, rng)
            t = add(plan, t, "R", dose, rng)
    if scenario == "gait":
        t = add_gait(plan, t, dose, rng)
    posture = STANDING
    if scenario in ("session", "glute_bridge"):
        t0 = t
        t = change_posture(plan, t, posture, SUPINE, -0.75, rng)
        posture = SUPINE
        t = add_glute_bridge(plan, t, dose, rng)
        if dose.marks_span_posture:
            _marks_across(plan, t0, "glute_bridge")
    if scenario in ("session", "prone_hip_extension"):
        t0 = t
        t = change_posture(plan, t, posture, PRONE, 0.0 if posture == SUPINE else -0.75, rng)
        for side in "LR":
            t = add_prone_hip_extension(plan, t, side, dose, rng)
        if dose.marks_span_posture:
            _marks_across(plan, t0, "prone_hip_extension")
    plan.duration = float(np.ceil(t + 1.0))
    return plan
