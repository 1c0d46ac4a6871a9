"""Pelvic drop per repetition on simulated single-leg squats, and IMU analysis speed.

Each session: random mounting misalignment up to 20 deg about every axis, gyro bias
up to 2 deg/s, drops drawn around 2-8 deg. Error: measured minus true signed peak
drop of each repetition. Issue 5 targets: median |error| <= 0.5 deg, 95th
percentile <= 1.5 deg; the whole IMU analysis >= 1000x real time at 200 Hz.

Orientation: the tilt error (angle between the estimated and the true vertical in
the sensor frame) of sensorkit's tracker (x-io Fusion via imufusion, standing gyro
bias removed) against imufusion's filter with its default settings and the `ahrs`
package's Madgwick and Mahony filters with theirs, on the same squat sessions and
on simulated walking, with each filter's speed. The drops once more with 5 % and 20 % of the samples lost in radio
drop-outs of 10-500 ms.

End to end (`end_to_end`): `analyze` on whole marked sessions of each single-leg task, as a
user runs it, under variations of the patient and the sensor; a true drop counts as reported
when a repetition of its side starts within 1 s of it and carries a drop. Issue 14 asks for
>= 98 % reported with median / p95 error <= 0.5 / 1.5 deg. False: repetitions matching none.
In 1.96 SD: the share of reported drops whose error lies within 1.96 of their stated SD
(`pelvic_drop_sd_deg`). One row records the sessions from after their calibration, the
exercises still marked (a clinic that skipped it): the heading then comes from the
mounting convention, +-20 deg, and the errors grow, which the SD has to say.
"""

from __future__ import annotations

import time

import numpy as np
from common import match, sim_session

from sensorkit.analysis.pelvic_drop import rep_drop, track_pelvis
from sensorkit.analysis.session import AnalysisOptions, ImuData, analyze_session
from sensorkit.dsp.movement import movement_periods
from sensorkit.dsp.orientation import G, gravity_direction
from sensorkit.sim import Dosage, SimConfig, simulate
from sensorkit.sim.faults import with_drop_outs

SEEDS = range(12)
END_TO_END_SEEDS = range(6)
# (SimConfig fields, share of IMU samples lost, recorded from after the calibration): the patient
# and the sensor varied one at a time
END_TO_END = {
    "as built (drop 4 +- 1 deg)": ({}, 0.0, False),
    "pelvis level (drop 0 +- 1 deg)": ({"dose": Dosage(pelvic_drop_deg=0.0)}, 0.0, False),
    "hip hike (drop -2 +- 1 deg)": ({"dose": Dosage(pelvic_drop_deg=-2.0)}, 0.0, False),
    "drop 10 deg": ({"dose": Dosage(pelvic_drop_deg=10.0)}, 0.0, False),
    "raised-cosine movements": ({"motion_profile": "cosine"}, 0.0, False),
    "mounting 40 deg off": ({"misalignment_deg": 40.0}, 0.0, False),
    "5 % of samples lost": ({}, 0.05, False),
    # the exercises marked, no calibration (the recording started after it): the mounting
    # convention's heading, +-20 deg, so larger errors, which the stated SD must hold
    "no calibration recorded": ({}, 0.0, True),
}


def _up_from_quaternions(q: np.ndarray, acc: np.ndarray) -> np.ndarray:
    """Up in the sensor frame from (w, x, y, z) earth-from-sensor quaternions (NED or ENU: the sign that
    agrees with the accelerometer over the recording, a convention and not a fit)."""
    w, x, y, z = q.T
    third_row = np.column_stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)])
    sign = 1.0 if np.nanmean(np.einsum("ij,ij->i", third_row, acc)) > 0 else -1.0
    return sign * third_row


def _imufusion_default(acc: np.ndarray, gyr: np.ndarray, fs: float, _standing=None) -> np.ndarray:
    import imufusion

    ahrs = imufusion.Ahrs()
    ahrs.set_sample_period(1.0 / fs)
    up = np.empty_like(acc)
    for i in range(len(acc)):
        ahrs.update_no_magnetometer(np.degrees(gyr[i]), acc[i] / G)
        up[i] = ahrs.get_gravity()
    return up


def _ahrs_filter(name: str):
    def run(acc: np.ndarray, gyr: np.ndarray, fs: float, _standing=None) -> np.ndarray:
        from ahrs import filters

        q = getattr(filters, name)(gyr=gyr, acc=acc, frequency=fs).Q
        return _up_from_quaternions(q, acc)

    return run


def _sensorkit(acc: np.ndarray, gyr: np.ndarray, fs: float, standing: tuple[int, int]) -> np.ndarray:
    """As the analysis runs it: gyro bias measured over the quiet standing of the calibration."""
    return gravity_direction(acc, gyr, fs, np.median(gyr[standing[0] : standing[1]], axis=0))


FILTERS = {
    "sensorkit (imufusion, bias removed)": _sensorkit,
    "imufusion defaults": _imufusion_default,
    "ahrs Madgwick defaults": _ahrs_filter("Madgwick"),
    "ahrs Mahony defaults": _ahrs_filter("Mahony"),
}


def orientation_table() -> None:
    for scenario, seeds in (("single_leg_squat", range(4)), ("gait", range(4))):
        err = {k: [] for k in FILTERS}
        cost = dict.fromkeys(FILTERS, 0.0)
        seconds = 0.0
        for seed in seeds:
            rec = simulate(SimConfig(seed=500 + seed, scenario=scenario, misalignment_deg=20, gyro_bias_dps=2,
                                     muscles=("glute_med_L",), dose=Dosage(reps=5)))  # fmt: skip
            fs, acc, gyr = rec.config.fs_imu, rec.imu[:, :3], rec.imu[:, 3:]
            seconds += len(acc) / fs
            standing = [int(x * fs) for x in rec.truth["calibration"]["standing"][0]]
            for name, run in FILTERS.items():
                t0 = time.perf_counter()
                up = run(acc, gyr, fs, standing)
                cost[name] += time.perf_counter() - t0
                up = up / np.linalg.norm(up, axis=1, keepdims=True)
                cos = np.clip(np.einsum("ij,ij->i", up, rec.true_up), -1, 1)
                err[name].append(np.degrees(np.arccos(cos[int(2 * fs) :])))  # after 2 s of start-up
        print(f"Orientation (tilt error vs the true vertical), simulated {scenario}, {len(seeds)} sessions, "
              f"mounting up to 20 deg, gyro bias up to 2 deg/s")  # fmt: skip
        for name in FILTERS:
            e = np.concatenate(err[name])
            print(f"  {name:36s} median {np.median(e):5.2f} deg  95th {np.percentile(e, 95):5.2f} deg  "
                  f"max {e.max():6.2f} deg  speed {seconds / cost[name]:7.0f}x real time")  # fmt: skip


def drop_errors(rec, imu: np.ndarray) -> list[float]:
    """Measured minus true drop of every repetition of `rec`, from the IMU samples `imu`."""
    fs = rec.config.fs_imu
    track = track_pelvis(np.arange(len(imu)) / fs, imu[:, :3], imu[:, 3:], fs, rec.markers)
    return [rep_drop(track, r["start_s"], r["end_s"], b["side"])["pelvic_drop_deg"] - r["pelvic_drop_deg"]
            for b in rec.truth["exercises"] for r in b["reps"]]  # fmt: skip


def main() -> dict:
    orientation_table()
    errors, seconds, spent, sessions = [], 0.0, 0.0, []
    for seed in SEEDS:
        drop = 2.0 + (seed % 4) * 2.0
        rec = simulate(SimConfig(seed=300 + seed, scenario="single_leg_squat", misalignment_deg=20,
                                 gyro_bias_dps=2, dose=Dosage(reps=5, pelvic_drop_deg=drop)))  # fmt: skip
        sessions.append(rec)
        fs = rec.config.fs_imu
        t0 = time.perf_counter()
        errors += drop_errors(rec, rec.imu)
        movement_periods(rec.imu[:, :3], rec.imu[:, 3:], fs)
        spent += time.perf_counter() - t0
        seconds += len(rec.imu) / fs
    e = np.abs(errors)
    print(f"Pelvic drop, {len(e)} simulated single-leg squats (mounting up to 20 deg, gyro bias up to 2 deg/s)")
    print(f"  |error| median {np.median(e):.2f} deg, 95th percentile {np.percentile(e, 95):.2f} deg, "
          f"max {e.max():.2f} deg; mean signed error {np.mean(errors):+.2f} deg")
    for share in (0.05, 0.2):  # radio drop-outs of 10-500 ms (NaN rows) until that share is lost, same sessions
        lost = np.abs([x for seed, rec in zip(SEEDS, sessions, strict=True) for x in drop_errors(
            rec, with_drop_outs(rec.imu, rec.config.fs_imu, share, np.random.default_rng(seed)))])  # fmt: skip
        print(f"  with {100 * share:.0f} % of samples lost in 10-500 ms drop-outs: |error| median "
              f"{np.median(lost):.2f} deg, 95th percentile {np.percentile(lost, 95):.2f} deg, max {lost.max():.2f} deg")
    print(f"  IMU analysis (calibration, orientation, repetitions, drops): {seconds / spent:.0f}x real time")
    print()
    worst = end_to_end()
    return {"drop_median": float(np.median(e)), "drop_p95": float(np.percentile(e, 95)), "drop_reported_worst": worst}


def end_to_end() -> float:
    """`analyze` (IMU only, markers) on whole sessions per task and variation; returns the lowest
    reported share."""
    print(f"Pelvic drop end to end: analyze on whole marked sessions ({len(END_TO_END_SEEDS)} per cell; "
          "reported: true drops with a repetition of their side within 1 s that carries a drop)")  # fmt: skip
    print(f"  {'variation':<32}{'task':<19}{'drops':>6}{'reported':>9}{'median':>8}{'p95':>7}{'false reps':>11}"
          f"{'in 1.96 SD':>11}")  # fmt: skip
    worst = 1.0
    for name, (change, lost, uncalibrated) in END_TO_END.items():
        for task in ("single_leg_squat", "step_down", "single_leg_stance"):
            n, errors, false, covered = 0, [], 0, []
            for seed in END_TO_END_SEEDS:
                rec = simulate(SimConfig(scenario=task, seed=seed, **change))
                fs = rec.config.fs_imu
                imu = rec.imu if not lost else with_drop_outs(rec.imu, fs, lost, np.random.default_rng(seed))
                data = sim_session(rec, emg=False, imu=imu)
                if uncalibrated:  # from 0.5 s after the calibration's end (times and truth unchanged)
                    cut = max(t for t, m in rec.markers if m.startswith("calibration_end")) + 0.5
                    k = int(np.searchsorted(data.imu.timestamps, cut))
                    data.imu = ImuData(data.imu.timestamps[k:], data.imu.acc[k:], data.imu.gyr[k:], fs)
                    data.markers = [(t, m) for t, m in data.markers if t >= cut]
                found = analyze_session(data, AnalysisOptions())["exercises"]
                false += sum(len(b["reps"]) for b in found if b["side"] not in ("L", "R"))  # no side: none true
                for side in "LR":
                    got = [r for b in found if b["side"] == side for r in b["reps"]]
                    true = [r for b in rec.truth["exercises"] if b["side"] == side for r in b["reps"]]
                    pairs = match([r["movement_onset_s"] for r in true],
                                  [r["movement_onset_s"] if r["movement_onset_s"] is not None else np.inf
                                   for r in got], 1.0)  # fmt: skip
                    n, false = n + len(true), false + len(got) - len(pairs)
                    # no calibration, no drop (a session of lying exercises alone without one)
                    errors += [got[j]["pelvic_drop_deg"] - true[i]["pelvic_drop_deg"] for i, j in pairs
                               if got[j].get("pelvic_drop_deg") is not None]  # fmt: skip
                    covered += [abs(got[j]["pelvic_drop_deg"] - true[i]["pelvic_drop_deg"])
                                <= 1.96 * got[j]["pelvic_drop_sd_deg"] for i, j in pairs
                                if got[j].get("pelvic_drop_deg") is not None]  # fmt: skip
            e = np.abs(errors)
            if not uncalibrated:  # the target is for calibrated sessions
                worst = min(worst, len(e) / n)
            stats = f"{np.median(e):>8.2f}{np.percentile(e, 95):>7.2f}" if len(e) else f"{'-':>8}{'-':>7}"
            share = f"{np.mean(covered):>11.0%}" if covered else f"{'-':>11}"
            print(f"  {name:<32}{task:<19}{n:>6}{len(e) / n:>9.1%}{stats}{false:>11}{share}")
    print(f"pelvic drop end to end: lowest share reported {worst:.1%} (target >= 98 %; calibrated sessions)")
    return worst


if __name__ == "__main__":
    main()
