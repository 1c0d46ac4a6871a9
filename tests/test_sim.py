"""The simulated patient: deterministic, physiological enough, and truthful about itself."""

import numpy as np
import pytest
from scipy.signal import butter, sosfiltfilt, welch

from sensorkit.sim import Dosage, SimConfig, simulate
from sensorkit.sim.session import GRAVITY


@pytest.fixture(scope="module")
def sls():
    return simulate(SimConfig(scenario="single_leg_squat", seed=3,
                              dose=Dosage(reps=3, glute_delay_ms=80, pelvic_drop_deg=7)))


def test_same_seed_same_session_other_seed_differs():
    a = simulate(SimConfig(scenario="calibration", seed=1))
    b = simulate(SimConfig(scenario="calibration", seed=1))
    c = simulate(SimConfig(scenario="calibration", seed=2))
    np.testing.assert_array_equal(a.emg, b.emg)
    assert a.emg.shape != c.emg.shape or not np.array_equal(a.emg, c.emg)


def test_shapes_and_markers(sls):
    cfg = sls.config
    assert sls.emg.shape == (int(sls.duration * cfg.fs_emg), len(cfg.muscles))
    assert sls.imu.shape[1] == 6
    texts = [m for _, m in sls.markers]
    assert texts[:4] == ["calibration_start:standing", "calibration_end:standing",
                         "calibration_start:forward_bend", "calibration_end:forward_bend"]
    assert "exercise_start:single_leg_squat:L" in texts and "exercise_end:single_leg_squat:R" in texts
    standing = sls.truth["calibration"]["standing"][0]
    assert standing[1] - standing[0] >= 5.0
    assert len(sls.truth["calibration"]["forward_bend"]) == 2


def test_truth_latencies_follow_the_dose(sls):
    lat = [r["latency_ms"][f"glute_med_{b['side']}"] for b in sls.truth["exercises"] for r in b["reps"]]
    assert len(lat) == 6
    assert 80 - 40 < np.mean(lat) < 80 + 40  # 15 ms rep-to-rep SD around the dose
    for b in sls.truth["exercises"]:
        for r in b["reps"]:
            assert r["start_s"] < r["movement_onset_s"] < r["end_s"]
            other = "R" if b["side"] == "L" else "L"
            assert r["onsets_s"][f"glute_med_{other}"] is None  # quiet: no burst to find


def test_emg_bursts_rise_at_the_true_onset(sls):
    fs = sls.config.fs_emg
    x = sosfiltfilt(butter(4, [20, 450], btype="band", fs=fs, output="sos"), sls.emg, axis=0)
    j = sls.config.muscles.index("glute_med_L")
    for rep in sls.truth["exercises"][0]["reps"]:
        k = int(rep["onsets_s"]["glute_med_L"] * fs)
        before = np.std(x[k - int(0.6 * fs) : k - int(0.05 * fs), j])
        after = np.std(x[k + int(0.05 * fs) : k + int(0.4 * fs), j])
        assert after > 4 * before
        # the first clear departure from baseline is within 30 ms of the truth
        above = np.flatnonzero(np.abs(x[k - int(0.1 * fs) : k + int(0.2 * fs), j]) > 6 * before)
        assert abs(above[0] / fs - 0.1) < 0.03


def test_emg_spectrum_is_surface_emg_like(sls):
    fs = sls.config.fs_emg
    x = sosfiltfilt(butter(4, [20, 450], btype="band", fs=fs, output="sos"), sls.emg[:, 2])
    f, p = welch(x, fs=fs, nperseg=1024)
    c = np.cumsum(p)
    median = f[np.searchsorted(c, c[-1] / 2)]
    assert 60 <= median <= 160  # typical sEMG median frequency


def test_mains_and_ecg_are_present_when_asked():
    quiet = simulate(SimConfig(scenario="calibration", seed=4, mains_uv=0, ecg_uv=0))
    noisy = simulate(SimConfig(scenario="calibration", seed=4, mains_uv=50, ecg_uv=200))
    fs = quiet.config.fs_emg
    j = quiet.config.muscles.index("erector_spinae_L")
    f, pq = welch(quiet.emg[:, j], fs=fs, nperseg=4000)
    _, pn = welch(noisy.emg[:, j], fs=fs, nperseg=4000)
    k50 = np.argmin(np.abs(f - 50))
    assert pn[k50] > 50 * pq[k50]
    start, end = (int(v * fs) for v in noisy.truth["calibration"]["standing"][0])
    hp = butter(2, 5, btype="high", fs=fs, output="sos")
    ptp_quiet = np.ptp(sosfiltfilt(hp, quiet.emg[start:end, j]))
    ptp_noisy = np.ptp(sosfiltfilt(hp, noisy.emg[start:end, j]))
    assert ptp_noisy > ptp_quiet + 100e-6  # R waves stand out of the quiet standing baseline


def test_imu_at_rest_reads_gravity_through_the_misaligned_mount(sls):
    fs = sls.config.fs_imu
    start, end = sls.truth["calibration"]["standing"][0]
    rest = sls.imu[int(start * fs) : int(end * fs)]
    acc = rest[:, :3].mean(axis=0)
    assert abs(np.linalg.norm(acc) - GRAVITY) < 0.15
    mis = sls.truth["mounting"]["misalignment_xyz_deg"]
    tilt = np.degrees(np.arccos(acc[2] / np.linalg.norm(acc)))
    assert tilt > 0.2 or max(abs(m) for m in mis[:2]) < 1  # gravity is off the sensor z axis
    bias = np.array(sls.truth["mounting"]["gyro_bias_rad_s"])
    np.testing.assert_allclose(rest[:, 3:].mean(axis=0), bias, atol=np.radians(0.3))


def test_pelvic_drop_truth_follows_the_dose(sls):
    drops = [r["pelvic_drop_deg"] for b in sls.truth["exercises"] for r in b["reps"]]
    assert len(drops) == 6
    assert 7 - 2.5 < np.mean(drops) < 7 + 1.0  # tilt during the squat lowers it a little
    for b in sls.truth["exercises"]:
        for r in b["reps"]:
            assert r["start_s"] < r["pelvic_drop_peak_s"] < r["end_s"]


def test_full_session_has_all_exercises():
    rec = simulate(SimConfig(scenario="session", seed=5, dose=Dosage(reps=2)))
    names = [(b["exercise"], b["side"]) for b in rec.truth["exercises"]]
    assert names == [("single_leg_squat", "L"), ("single_leg_squat", "R"), ("glute_bridge", None),
                     ("prone_hip_extension", "L"), ("prone_hip_extension", "R")]
    phe = rec.truth["exercises"][3]
    assert phe["reference"] == "biceps_femoris_L"
    fs = rec.config.fs_imu
    # lying prone: gravity along the sensor's (misaligned) anterior axis, not superior
    t = phe["reps"][0]["start_s"] + 0.5
    acc = rec.imu[int(t * fs) : int(t * fs) + 50, :3].mean(axis=0)
    assert abs(acc[0]) > abs(acc[2])


@pytest.mark.parametrize("shape", ["linear", "raised_cosine", "exp"])
def test_drive_rises_take_their_stated_10_90_time(shape):
    from sensorkit.sim.session import drive_rise

    dt = np.arange(0, 1.0, 1e-5)
    y = drive_rise(dt, shape, 0.08)
    t10, t90 = dt[np.argmax(y >= 0.1)], dt[np.argmax(y >= 0.9)]
    assert y[0] == 0 and t90 - t10 == pytest.approx(0.08, abs=2e-4)


def test_varied_onset_ramps_change_only_how_bursts_rise():
    base = dict(seed=4, scenario="single_leg_squat", dose=Dosage(reps=2))
    exp, varied = simulate(SimConfig(**base)), simulate(SimConfig(onset_ramps="varied", **base))
    np.testing.assert_array_equal(exp.imu, varied.imu)  # the rest of the session is the same
    assert exp.truth["exercises"] == varied.truth["exercises"] and exp.markers == varied.markers
    assert not np.array_equal(exp.emg, varied.emg)
    ramps = varied.truth["onset_ramps"]
    assert {r["shape"] for r in ramps} == {"linear", "raised_cosine", "exp"}
    assert all(20 <= r["rise_ms"] <= 150 for r in ramps) and "onset_ramps" not in exp.truth
    with pytest.raises(ValueError, match="onset_ramps"):
        SimConfig(onset_ramps="steep")
    with pytest.raises(ValueError, match="first_unit"):
        SimConfig(first_unit=0.7)
    with pytest.raises(ValueError, match="tonic"):
        SimConfig(crosstalk=-1.0)


def test_pink_noise_falls_with_frequency_at_the_same_rms():
    from sensorkit.sim.confounds import amplifier_noise

    fs, n = 2000.0, 400000  # 200 s, as long as a session: the slope must hold through the band
    white = amplifier_noise(n, fs, 5e-6, np.random.default_rng(1))
    pink = amplifier_noise(n, fs, 5e-6, np.random.default_rng(1), colour=1.0)
    f, pw = welch(white, fs, nperseg=2048)
    _, pp = welch(pink, fs, nperseg=2048)
    band = lambda p, lo, hi: p[(f >= lo) & (f < hi)].mean()  # noqa: E731
    assert band(pw, 25, 35) / band(pw, 290, 310) == pytest.approx(1.0, rel=0.3)  # white in the EMG band
    assert band(pp, 25, 35) / band(pp, 290, 310) == pytest.approx(10.0, rel=0.3)  # 1/f: 300 Hz / 30 Hz
    assert np.std(pink) == pytest.approx(np.std(white), rel=0.1)
    # ...and about as much of it in the EMG band: not piled up as drift below it
    assert 0.9 < np.sqrt(band(pp, 20, 450) / band(pw, 20, 450)) < 1.4


def test_first_unit_threshold_sets_when_recruitment_starts():
    from sensorkit.sim.emg import motor_unit_emg

    fs = 2000.0
    drive = np.clip(np.arange(int(fs)) / fs - 0.2, 0, None) * 0.5  # 0 until 0.2 s, then 0.5 per s
    first = {}
    for thr in (0.01, 0.03):
        x = motor_unit_emg(drive, fs, np.random.default_rng(2), first_threshold=thr)
        first[thr] = np.argmax(np.abs(x) > 1e-9) / fs
        steady = motor_unit_emg(np.full(int(fs), 0.02), fs, np.random.default_rng(2), first_threshold=thr)
        assert (np.abs(steady).max() > 0) == (thr < 0.02)  # a drive of 0.02 recruits only below it
    # the drive passes 0.01 at 0.22 s and 0.03 at 0.26 s; the first discharge follows within a cycle
    # (its potential, centred on the discharge, starts up to 10 ms before it)
    assert 0.21 <= first[0.01] < 0.26 + 0.05 and first[0.03] >= 0.25 and first[0.03] > first[0.01]


def test_crosstalk_and_tonic_variations_change_only_their_channels():
    base = dict(seed=5, scenario="single_leg_squat", dose=Dosage(reps=2), artefacts=False, mains_uv=0.0)
    rec = simulate(SimConfig(**base))
    muscles = rec.config.muscles
    glutes = [j for j, m in enumerate(muscles) if m.startswith("glute")]
    others = [j for j in range(len(muscles)) if j not in glutes]
    quiet = simulate(SimConfig(crosstalk=0.0, **base))
    np.testing.assert_array_equal(quiet.emg[:, others], rec.emg[:, others])
    assert all(not np.array_equal(quiet.emg[:, j], rec.emg[:, j]) for j in glutes)
    np.testing.assert_array_equal(quiet.imu, rec.imu)
    # tonic drive: the glutes fire at rest (the first second is quiet standing)
    tonic = simulate(SimConfig(tonic=0.05, **base))
    fs = rec.config.fs_emg
    rest = slice(int(0.2 * fs), int(1.0 * fs))
    band = butter(4, [20, 450], btype="bandpass", fs=fs, output="sos")
    rms = lambda x: float(np.sqrt(np.mean(sosfiltfilt(band, x[:, glutes[0]])[rest] ** 2)))  # noqa: E731
    assert rms(tonic.emg) > 1.5 * rms(rec.emg)  # small units, sparse: they add to the noise


def test_wider_potentials_lower_the_spectrum_and_keep_the_session():
    base = dict(seed=3, scenario="glute_bridge", noise_uv=0.3, ecg_uv=0.0, mains_uv=0.0, artefacts=False)

    def median_hz(rec):
        fs = rec.config.fs_emg
        x = sosfiltfilt(butter(4, [20, 450], btype="band", fs=fs, output="sos"), rec.emg[:, 0])
        f, p = welch(x, fs=fs, nperseg=1024)
        c = np.cumsum(p)
        return f[np.searchsorted(c, c[-1] / 2)]

    usual, wide = simulate(SimConfig(**base)), simulate(SimConfig(muap_scale=2.0, **base))
    assert 80 <= median_hz(usual) <= 130 and 35 <= median_hz(wide) <= 60  # ~100 and ~50 Hz
    np.testing.assert_array_equal(wide.imu, usual.imu)
    assert wide.truth["exercises"] == usual.truth["exercises"]
    with pytest.raises(ValueError, match="muap_scale"):
        SimConfig(muap_scale=0.1)


def test_potentials_after_their_discharges_come_later_and_keep_the_session():
    """Potentials that begin at their discharge (peak 4-14 ms later; the default) instead of
    centred on it: the same discharges, so the same EMG arriving later."""
    base = dict(seed=3, scenario="glute_bridge", noise_uv=0.3, ecg_uv=0.0, mains_uv=0.0, artefacts=False)
    centred, after = simulate(SimConfig(muap_after_discharge=False, **base)), simulate(SimConfig(**base))
    fs = centred.config.fs_emg
    x, y = centred.emg[:, 0], after.emg[:, 0]
    lags = np.arange(0, int(0.02 * fs))
    corr = [np.dot(x[: x.size - k], y[k:]) for k in lags]
    lag_ms = lags[int(np.argmax(corr))] / fs * 1e3
    assert 3 <= lag_ms <= 15
    np.testing.assert_array_equal(after.imu, centred.imu)
    assert after.truth["exercises"] == centred.truth["exercises"]


def test_slow_small_lifts_and_still_lying_change_only_the_lying_movements():
    """`lift_pace` stretches the lying exercises' lifts and lowerings, `lift_range` scales their
    excursion, `lying_sway` the sway while lying; nothing else in the session moves."""
    from sensorkit.sim.plan import build_plan

    def plan(**dose):
        return build_plan("session", SimConfig().muscles, Dosage(**dose), np.random.default_rng(4))

    usual, varied = plan(), plan(lift_pace=2.0, lift_range=0.5)
    lying = [b for b in usual.exercises if b["exercise"] in ("prone_hip_extension", "glute_bridge")]
    assert lying and all(b["start_s"] > 30 for b in lying)
    first_lying = min(b["start_s"] for b in lying)
    changed = 0
    for a, b in zip(usual.pulses, varied.pulses, strict=True):
        if a.t0 < first_lying:  # the calibration and the standing exercises: untouched
            assert a == b
        else:
            changed += 1
            assert b.t1 - b.t0 == pytest.approx(2 * (a.t1 - a.t0))
            assert b.t3 - b.t2 == pytest.approx(2 * (a.t3 - a.t2))
            assert b.peak == pytest.approx(0.5 * a.peak)
    assert changed >= 3 * 10  # three channels per lift, 10 prone lifts and 5 bridges
    before = [x for x in usual.bursts if x.onset < first_lying]  # later ones move with the slower lifts
    assert before and before == varied.bursts[: len(before)]

    base = dict(seed=4, scenario="prone_hip_extension", artefacts=False)
    swaying, still = simulate(SimConfig(**base)), simulate(SimConfig(**base, dose=Dosage(lying_sway=0.3)))
    fs = swaying.config.fs_imu
    standing = slice(0, int(5 * fs))  # the calibration's quiet standing
    np.testing.assert_allclose(still.imu[standing], swaying.imu[standing], atol=1e-12)
    rests = [slice(int(r["start_s"] * fs), int((r["movement_onset_s"] - 0.3) * fs))
             for b in swaying.truth["exercises"] for r in b["reps"]]  # fmt: skip
    assert len(rests) == 10 and all(r.stop - r.start >= 1.5 * fs for r in rests)  # lying still 1.5 s or more

    def rest_speed(rec):  # the gyroscope's spread at rest between prone lifts, rad/s
        return np.median([np.linalg.norm(np.std(rec.imu[r, 3:], axis=0)) for r in rests])

    assert rest_speed(still) < 0.5 * rest_speed(swaying)


@pytest.mark.parametrize("fs_imu", [128.0, 148.148, 102.4])
def test_an_imu_rate_that_does_not_divide_the_kinematics_keeps_time(fs_imu):
    """An APDM Opal samples at 128 Hz, a Delsys Trigno's IMU at 148 Hz, a Shimmer at 102.4 Hz.
    Each IMU sample k lies at k / fs_imu (within 0.5 ms); a whole step of the 1-kHz
    kinematics sampled 128 Hz at 125 under a 128-Hz label, and a walk's contacts came
    out up to a second early against its truth."""
    from sensorkit.dsp.gait import initial_contacts

    rec = simulate(SimConfig(scenario="gait", seed=1, fs_imu=fs_imu))
    assert abs(len(rec.imu) / fs_imu - rec.duration) < 2 / fs_imu
    block = next(b for b in rec.truth["exercises"] if b["exercise"] == "gait")
    truth = np.array([r["start_s"] for r in block["reps"]])
    found = np.array([c.t_s for c in initial_contacts(rec.imu[:, :3], rec.imu[:, 3:], fs_imu)])
    near = np.array([np.min(np.abs(found - t)) for t in truth])
    assert np.mean(near < 0.05) >= 0.9


@pytest.mark.parametrize("param,message", [
    ("fs_emg=0", "fs_emg must lie above 0"), ("fs_imu=-5", "fs_imu must lie above 0"),
    ("fs_imu=2000", "at most 1000 Hz"), ("noise_uv=-3", "must be >= 0"), ("misalignment_deg=-5", "must be >= 0"),
    ("mains_hz=0", "mains_hz must lie in"), ("reps=0", "reps must be at least 1"),
    ("gait_impairment=5", "gait_impairment must lie"), ("lift_pace=0", "lift_pace must lie"),
])  # fmt: skip
def test_a_simulator_setting_outside_its_range_is_one_clear_error(tmp_path, capsys, param, message):
    """Before, fs_emg=0 and negative mounting errors stopped with a traceback, and a negative
    IMU rate or noise level wrote a file."""
    from sensorkit.cli import main

    out = tmp_path / "s.xdf"
    assert main(["simulate", "calibration", "-o", str(out), "--param", param]) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and not out.exists()
