"""Repetitions of marked blocks whose buttons were pressed while the patient changed posture.

A clinician often presses an exercise's start button before the patient lies down or rolls
over, or its end button after the patient has got up or rolled over for the next one. The
transition then lies inside the marked block; `analyze` searches such a block only where the
pelvis lay as its exercise is done (`sensorkit.dsp.posture.posture_parts`). This runs `analyze`
(EMG and IMU, markers) on simulated clinic sessions marked three ways: as built (buttons
pressed with the patient in place), the glute bridges' and the first prone block's starts
before the lying down / rolling over (`Dosage.marks_span_posture`), and the last squat
block's and the bridges' ends just before the next block's start (after the lying down /
rolling over). A true repetition counts as found when a repetition of its block starts within
0.3 s of it; false: the block's repetitions that match none.
"""

from __future__ import annotations

from common import match, sim_session

from sensorkit.analysis.session import analyze_session
from sensorkit.sim import Dosage, SimConfig, simulate

SEEDS = range(6)
MARKINGS = ("as built", "starts before lying down", "ends after the next posture")


def _late_ends(markers: list[tuple[float, str]]) -> list[tuple[float, str]]:
    """The squats' (right side) and the bridges' end markers moved to 0.5 s before the next start."""
    starts = sorted(t for t, m in markers if m.startswith("exercise_start"))
    out = []
    for t, m in markers:
        if m in ("exercise_end:single_leg_squat:R", "exercise_end:glute_bridge"):
            t = min(s for s in starts if s > t) - 0.5
        out.append((t, m))
    return sorted(out)


def main() -> dict:
    print(f"Marked blocks holding a posture change: analyze on simulated clinic sessions ({len(SEEDS)} seeds x "
          "minimum-jerk / raised-cosine movements; found within 0.3 s / false repetitions)")  # fmt: skip
    blocks = ("single_leg_squat L", "single_leg_squat R", "glute_bridge", "prone_hip_extension L",
              "prone_hip_extension R")  # fmt: skip
    print(f"  {'markers':<30}" + "".join(f"{b:>24}" for b in blocks))
    worst = 1.0
    for marking in MARKINGS:
        tally = {b: [0, 0, 0] for b in blocks}  # true, found, false
        for seed in SEEDS:
            for profile in ("minjerk", "cosine"):
                dose = Dosage(marks_span_posture=marking == MARKINGS[1])
                rec = simulate(SimConfig(scenario="session", seed=seed, motion_profile=profile, dose=dose))
                data = sim_session(rec)
                if marking == MARKINGS[2]:
                    data.markers = _late_ends(data.markers)
                result = analyze_session(data)
                for tb in rec.truth["exercises"]:
                    name = f"{tb['exercise']} {tb['side']}" if tb["side"] else tb["exercise"]
                    got = [r["movement_onset_s"] for b in result["exercises"]
                           if (b["exercise"], b["side"]) == (tb["exercise"], tb["side"]) for r in b["reps"]
                           if r["movement_onset_s"] is not None]  # fmt: skip
                    pairs = match([r["movement_onset_s"] for r in tb["reps"]], got, 0.3)
                    tally[name][0] += len(tb["reps"])
                    tally[name][1] += len(pairs)
                    tally[name][2] += len(got) - len(pairs)
        cells = "".join(f"{f'{f}/{n} / {x}':>24}" for n, f, x in tally.values())
        print(f"  {marking:<30}{cells}")
        worst = min(worst, min(f / n for n, f, _ in tally.values()))
    print(f"marked blocks holding a posture change: lowest share found {worst:.1%}")
    return {"marked_posture_found_worst": worst}


if __name__ == "__main__":
    main()
