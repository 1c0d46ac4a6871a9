"""Sessions without markers: `analyze --exercise NAME` finds the blocks, repetitions and
sides from the pelvis IMU (and the EMG), on the simulator's variety.

Each simulated recording is analysed once per exercise it holds, without markers and
without --side; a true repetition is found when a reported one's movement onset lies
within 1 s of it, and its side is right when that repetition's block has the true
side. False: reported repetitions matching none (calibration bends, posture changes,
the other exercises); wrong: found with the other side (a side without a cue is left
out, not guessed). Variants change one thing at a time: the EMG or the IMU cue
missing, a small weight shift (1-2 cm), 40-deg mounting errors, shallow calibration
bends (19 deg), a sensor upside down, lost samples, movements that start with a
finite acceleration (raised cosine) instead of smoothly, slow and small lying lifts, the
pelvis level on single-leg tasks (no drop, as in a healthy patient), with and without EMG.
Target (issue 14): recall >= 98 % with the right side in every variant where a side cue is
present.

    .venv/bin/python benchmarks/bench_unmarked.py
"""

from __future__ import annotations

import sys
from dataclasses import replace

import numpy as np
from common import sim_session

from sensorkit.analysis.session import AnalysisOptions, SessionData, analyze_session
from sensorkit.errors import SensorkitError
from sensorkit.sim import Dosage, SimConfig, simulate

SCENARIOS = ("session", "step_down", "single_leg_stance", "prone_hip_extension", "glute_bridge")
SEEDS = range(3)
FLIP = np.diag([1.0, -1.0, -1.0])  # the sensor turned 180 deg about its x axis


def _data(rec, emg: bool = True, imu_transform=None, lose: float = 0.0, seed: int = 0) -> SessionData:
    c = rec.config
    acc, gyr = rec.imu[:, :3].copy(), rec.imu[:, 3:].copy()
    if imu_transform is not None:
        acc, gyr = acc @ imu_transform.T, gyr @ imu_transform.T
    if lose:  # radio drop-outs: 50-300 ms holes, `lose` of the samples
        rng = np.random.default_rng(seed)
        n = len(acc)
        while np.isnan(acc[:, 0]).mean() < lose:
            a = int(rng.integers(0, n))
            acc[a : a + int(rng.uniform(0.05, 0.3) * c.fs_imu)] = np.nan
        gyr[np.isnan(acc[:, 0])] = np.nan
    return sim_session(rec, emg, np.column_stack([acc, gyr]), markers=False)


VARIANTS = {
    "default": ({}, {}),
    "IMU only": ({}, {"emg": False}),
    "small shift, EMG": ({"dose": Dosage(weight_shift_m=(0.01, 0.02))}, {}),
    "small shift, IMU only": ({"dose": Dosage(weight_shift_m=(0.01, 0.02))}, {"emg": False}),
    "mounting 40 deg": ({"misalignment_deg": 40.0}, {}),
    "bends 19 deg": ({"dose": Dosage(calibration_bend_deg=19.0)}, {}),
    "upside down": ({}, {"imu_transform": FLIP}),
    "2 % lost IMU": ({}, {"lose": 0.02}),
    "raised-cosine movements": ({"motion_profile": "cosine"}, {}),
    # no drop (0 +- 1 deg): a stance's hold falls back to rest and comes out in pieces (dsp/held.py)
    "pelvis level": ({"dose": Dosage(pelvic_drop_deg=0.0)}, {}),
    "pelvis level, IMU only": ({"dose": Dosage(pelvic_drop_deg=0.0)}, {"emg": False}),
    "slow, small lying lifts": ({"dose": Dosage(lift_pace=2.0, lift_range=0.5, lying_sway=1 / 3)}, {}),
}


def run(variant: str, scenarios=SCENARIOS, seeds=SEEDS) -> dict[str, list[int]]:
    """Per exercise: [true, found, side right, false, errors ms, side wrong]."""
    sim_kw, data_kw = VARIANTS[variant]
    out: dict[str, list] = {}
    for scenario in scenarios:
        for seed in seeds:
            rec = simulate(replace(SimConfig(scenario=scenario, seed=seed, markers=False), **sim_kw))
            data = _data(rec, seed=seed, **data_kw)
            for ex in sorted({b["exercise"] for b in rec.truth["exercises"]}):
                truth = [(r["movement_onset_s"], b["side"]) for b in rec.truth["exercises"] if b["exercise"] == ex
                         for r in b["reps"]]  # fmt: skip
                try:
                    res = analyze_session(data, AnalysisOptions(exercise=ex))
                    got = [(r["movement_onset_s"], b["side"]) for b in res["exercises"] for r in b["reps"]]
                except SensorkitError:
                    got = []
                row = out.setdefault(ex, [0, 0, 0, 0, [], 0])
                used = set()
                for t, side in truth:
                    near = [k for k, g in enumerate(got) if g[0] is not None and abs(g[0] - t) < 1.0]
                    row[0] += 1
                    if near:
                        k = min(near, key=lambda k: abs(got[k][0] - t))
                        used.add(k)
                        row[1] += 1
                        row[2] += got[k][1] == side
                        row[5] += got[k][1] not in (side, None)
                        row[4].append(abs(got[k][0] - t) * 1000)
                row[3] += len(got) - len(used)
    return out


def main(variants: tuple[str, ...] = tuple(VARIANTS)) -> dict:
    print(f"Sessions without markers: analyze --exercise NAME ({len(SCENARIOS)} scenarios x {len(SEEDS)} seeds "
          "per variant; recall with the right side, false repetitions, movement onset median error)")  # fmt: skip
    print(f"  {'variant':<24}{'exercise':<22}{'reps':>5}{'found':>7}{'side ok':>9}{'wrong':>7}{'false':>7}"
          f"{'onset ms':>10}{'p95 ms':>8}")  # fmt: skip
    worst = 1.0
    for variant in variants:
        for ex, (n, found, right, false, errs, wrong) in run(variant).items():
            print(f"  {variant:<24}{ex:<22}{n:>5}{found / n:>7.0%}{right / n:>9.0%}{wrong:>7}{false:>7}"
                  f"{np.median(errs) if errs else float('nan'):>10.0f}"
                  f"{np.percentile(errs, 95) if errs else float('nan'):>8.0f}")  # fmt: skip
            if variant != "small shift, IMU only":
                worst = min(worst, right / n)
    print(f"unmarked: worst recall with the right side {worst:.1%} (target >= 98 %; the small shift without EMG "
          "is shown, not judged: no cue is left there)")  # fmt: skip
    return {"unmarked_worst_recall": worst}


if __name__ == "__main__":
    main(tuple(sys.argv[1:]) or tuple(VARIANTS))
