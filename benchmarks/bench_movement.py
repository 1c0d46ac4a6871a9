"""Repetitions and movement onset from the pelvis IMU, on simulated sessions.

For each exercise: repetitions found against the truth, and the |error| of each
true repetition's movement onset to the nearest detected one (median, share
within 30 ms and 100 ms). Issue 5's target for single-leg squats: median <= 30 ms,
repetition recall >= 98%. Run with the simulator's two movement shapes: minimum-jerk
(smooth starts, angular rate ~ t^2) and raised cosine (a finite starting acceleration,
rate ~ t), since the onset fit's shape must hold for both.

Then the lying exercises (prone hip extension, glute bridge) on patients who lift
slowly (twice the simulator's durations: prone lifts over 1.2-2 s) or move the pelvis
little (half its excursion: prone 1.5-4 deg of tilt), both, and each again with the
pelvis swaying a third as much while lying (on a table it moves mostly with the
breath): issue 14 asks for >= 98 % of repetitions and a median onset error <= 30 ms
there. A repetition is found when a detected onset lies within 300 ms of its true one
(one to one); the others detected are false.

First, single-leg stances through `analyze` with the pelvis dropping, level and hiked
(`run_held`): a level or hiked stance turns the pelvis little more than standing's sway, and
an onset found in the sway before the weight shift makes on-time glutes read late.
"""

from __future__ import annotations

import numpy as np
from common import match, sim_session

from sensorkit.analysis.exercises import REGISTRY
from sensorkit.analysis.session import AnalysisOptions, analyze_session
from sensorkit.dsp.movement import MovementParams, movement_periods
from sensorkit.sim import Dosage, SimConfig, simulate


def _params(exercise: str) -> MovementParams:
    """What `analyze` finds an exercise's movements with (one done lying against its stiller pause)."""
    return REGISTRY[exercise].movement(MovementParams())

SEEDS = range(6)


def run(profile: str) -> dict:
    err: dict[str, list[float]] = {}
    counts: dict[str, list[int]] = {}
    runs = [(seed, "session") for seed in SEEDS] + [(seed, sc) for seed in SEEDS[:3]
                                                    for sc in ("step_down", "single_leg_stance")]  # fmt: skip
    for seed, scenario in runs:
        rec = simulate(SimConfig(seed=seed, scenario=scenario, dose=Dosage(reps=5), motion_profile=profile))
        fs = rec.config.fs_imu
        for b in rec.truth["exercises"]:
            a, e = int(b["start_s"] * fs), int(b["end_s"] * fs)
            found = [m.onset_s + b["start_s"]
                     for m in movement_periods(rec.imu[a:e, :3], rec.imu[a:e, 3:], fs, _params(b["exercise"]))]
            counts.setdefault(b["exercise"], [0, 0])
            counts[b["exercise"]][0] += len(found)
            counts[b["exercise"]][1] += len(b["reps"])
            for r in b["reps"]:
                t = r["movement_onset_s"]
                err.setdefault(b["exercise"], []).append(min((f - t for f in found), key=abs) if found else np.inf)
    print(f"Movement onset from the pelvis IMU, {profile} movements ({len(runs)} simulated sessions: {len(SEEDS)} "
          f"clinic sessions, 3 of step-downs and 3 of single-leg stance (held 8-15 s); 5 reps per block, 2 for stance)")
    print(f"  {'exercise':<22}{'reps':>6}{'found':>7}{'median ms':>11}{'signed':>8}{'<30 ms':>8}{'<100 ms':>9}")
    out = {}
    for ex, v in err.items():
        v = np.asarray(v) * 1000
        found, true = counts[ex]
        share = f"{np.mean(np.abs(v) < 30):>8.0%}{np.mean(np.abs(v) < 100):>9.0%}"
        print(f"  {ex:<22}{true:>6}{found:>7}{np.median(np.abs(v)):>11.0f}{np.median(v):>8.0f}{share}")
        out[ex] = float(np.median(np.abs(v)))
    return out


LYING = ("prone_hip_extension", "glute_bridge")
LYING_VARIATIONS = (("as built", 1.0, 1.0), ("slow lifts (x2 duration)", 2.0, 1.0),
                    ("small lifts (x0.5 range)", 1.0, 0.5), ("slow and small", 2.0, 0.5))  # name, pace, range


def run_lying() -> dict:
    """The lying exercises under slow and small lifts and less sway; prints a table, returns the
    worst prone median (ms) and recall over the variations with the lying sway reduced."""
    print("Lying exercises on varied patients (3 sessions per scenario, 5 reps a side; minimum-jerk / raised-cosine):")
    group = f"{'found':>6}{'false':>4}{'median':>7}{'p95':>7} |"
    print(f"  {'':<28}{'':>6}  {'':<21}{'':>5}{'minimum jerk':^26}{'raised cosine':^26}")
    print(f"  {'variation':<28}{'sway':>6}  {'exercise':<21}{'reps':>5}{group}{group}   (ms)")
    worst = {"median_ms": 0.0, "recall": 1.0}
    for name, pace, rng_ in LYING_VARIATIONS:
        for sway in (1.0, 1 / 3):
            for ex in LYING:
                cells = []
                for profile in ("minjerk", "cosine"):
                    n = hit = extra = 0
                    errs: list[float] = []
                    for seed in range(3):
                        dose = Dosage(reps=5, lift_pace=pace, lift_range=rng_, lying_sway=sway)
                        rec = simulate(SimConfig(seed=seed, scenario=ex, dose=dose, motion_profile=profile))
                        fs = rec.config.fs_imu
                        for b in rec.truth["exercises"]:
                            a, e = int(b["start_s"] * fs), int(b["end_s"] * fs)
                            found = [m.onset_s + b["start_s"]
                                     for m in movement_periods(rec.imu[a:e, :3], rec.imu[a:e, 3:], fs,
                                                               _params(ex))]  # fmt: skip
                            true = [r["movement_onset_s"] for r in b["reps"]]
                            got = [found[j] - true[i] for i, j in match(true, found, 0.3)]
                            n, hit, extra = n + len(b["reps"]), hit + len(got), extra + len(found) - len(got)
                            errs += got
                    v = np.abs(errs) * 1000
                    cells.append((n, hit, extra, float(np.median(v)), float(np.percentile(v, 95))))
                    if sway < 1 and ex == "prone_hip_extension":
                        worst["median_ms"] = max(worst["median_ms"], float(np.median(v)))
                        worst["recall"] = min(worst["recall"], hit / n)
                n = cells[0][0]
                print(f"  {name:<28}{sway:>6.2f}  {ex:<21}{n:>5}"
                      + "".join(f"{x[1] / x[0]:>6.0%}{x[2]:>4}{x[3]:>7.0f}{x[4]:>7.0f} |" for x in cells))  # fmt: skip
    return worst


HELD_DROPS = ((4.0, "a 4-deg drop"), (0.0, "pelvis level"), (-2.0, "a 2-deg hip hike"))


def run_held(seeds: range = range(6)) -> dict:
    """Single-leg stances (held 8-15 s) with the pelvis dropping, level and hiked, through
    `analyze` (EMG and IMU, marked): movement onsets within 0.1 s of the truth and glute
    latencies more than 100 ms off. A level or hiked stance turns the pelvis little more than
    standing's sway, and an onset found in the sway before the weight shift makes on-time
    glutes read late (docs/analysis.md, Known limits)."""
    print(f"Single-leg stance through analyze ({len(seeds)} sessions per row, 2 stances a side; both movement shapes)")
    print(f"  {'pelvis':<20}{'stances':>8}{'onset <0.1 s':>14}{'glute latencies':>17}{'>100 ms off':>13}")
    out = {}
    for drop, name in HELD_DROPS:
        n = near = lat = off = 0
        for profile in ("minjerk", "cosine"):
            for seed in seeds:
                rec = simulate(SimConfig(scenario="single_leg_stance", seed=seed, motion_profile=profile,
                                         dose=Dosage(pelvic_drop_deg=drop)))  # fmt: skip
                found = analyze_session(sim_session(rec), AnalysisOptions())["exercises"]
                for tb in rec.truth["exercises"]:
                    got = [r for b in found if b["side"] == tb["side"] for r in b["reps"]]
                    for i, j in match([r["movement_onset_s"] for r in tb["reps"]],
                                      [g["movement_onset_s"] or np.inf for g in got], 1.5):  # fmt: skip
                        true, rep = tb["reps"][i], got[j]
                        near += abs(rep["movement_onset_s"] - true["movement_onset_s"]) < 0.1
                        for m in (f"glute_med_{tb['side']}", f"glute_max_{tb['side']}"):
                            if true["latency_ms"].get(m) is not None and rep["latency_ms"].get(m) is not None:
                                lat += 1
                                off += abs(rep["latency_ms"][m] - true["latency_ms"][m]) > 100
                    n += len(tb["reps"])
        print(f"  {name:<20}{n:>8}{near / n:>14.0%}{lat:>17}{off:>13}")
        out[name] = off / max(lat, 1)
    return out


def main() -> dict:
    held = run_held()
    medians = {profile: run(profile) for profile in ("minjerk", "cosine")}
    worst = max(m["prone_hip_extension"] for m in medians.values())
    print(f"movement: prone hip extension onset, worst median over both shapes {worst:.0f} ms (target <= 30)")
    lying = run_lying()
    print(f"movement: varied prone lifts with less sway lying, worst median {lying['median_ms']:.0f} ms, "
          f"least found {lying['recall']:.0%} (targets <= 30 ms, >= 98 %)")
    return {"sls_median_ms": medians["minjerk"]["single_leg_squat"], "prone_worst_median_ms": worst,
            "stance_level_latencies_off": held["pelvis level"],
            "prone_varied_worst_median_ms": lying["median_ms"], "prone_varied_least_recall": lying["recall"]}


if __name__ == "__main__":
    main()
