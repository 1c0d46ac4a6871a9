"""Movement from a channel that follows it (a goniometer): `signal_movements` finds each
repetition and its onset on movements of several shapes, and `analyze
--reference-channel` uses it instead of the IMU."""

import numpy as np
import pytest

from sensorkit.analysis.session import AnalysisOptions, EmgData, SessionData, SignalData, analyze_session
from sensorkit.dsp.movement import signal_movements
from sensorkit.errors import SensorkitError

FS = 1000.0


def knee(shape, rng, fs=FS, noise=0.2):
    """30 s of seated knee extensions from 90 deg: (angle deg, true onsets s)."""
    x, onsets, t = np.full(int(30 * fs), 90.0), [], 2.5
    while t < 25:
        n = int(rng.uniform(0.5, 1.2) * fs)
        k = np.arange(n) / n
        rise = {"cosine": (1 - np.cos(np.pi * k)) / 2, "min-jerk": 10 * k**3 - 15 * k**4 + 6 * k**5,
                "ramp": k}[shape] * -rng.uniform(40, 70)  # fmt: skip
        a = int(t * fs)
        hold = int(rng.uniform(0.2, 0.8) * fs)
        x[a : a + n] = 90 + rise
        x[a + n : a + n + hold] = 90 + rise[-1]
        x[a + n + hold : a + 2 * n + hold] = 90 + rise[::-1]
        onsets.append(t)
        t += (2 * n + hold) / fs + rng.uniform(1.5, 2.5)
    return x + rng.normal(0, noise, len(x)), onsets


@pytest.mark.parametrize("shape, within_ms", [("cosine", 15), ("min-jerk", 40), ("ramp", 40)])
def test_every_repetition_is_found_near_its_onset(shape, within_ms):
    rng = np.random.default_rng(3)
    x, truth = knee(shape, rng)
    found = [m.onset_s for m in signal_movements(x, FS)]
    assert len(found) == len(truth) >= 5
    err = np.abs(np.array(found) - truth) * 1000
    assert np.median(err) < within_ms and err.max() < 150, err.round()


def test_lost_samples_and_a_slow_goniometer_still_give_every_repetition():
    rng = np.random.default_rng(4)
    x, truth = knee("cosine", rng, fs=50.0, noise=0.5)
    x[100:110] = np.nan
    found = [m.onset_s for m in signal_movements(x, 50.0)]
    assert len(found) == len(truth)
    assert np.median(np.abs(np.array(found) - truth)) < 0.08


def session_with_knee(latency_ms=-150.0):
    """EMG of one quadriceps bursting `latency_ms` before each knee extension, and the knee angle."""
    rng = np.random.default_rng(5)
    x, truth = knee("cosine", rng)
    t = np.arange(len(x)) / FS
    emg = rng.normal(0, 5e-6, len(x))
    for o in truth:
        a = int((o + latency_ms / 1000) * FS)
        emg[a : a + 800] += rng.normal(0, 150e-6, 800)
    data = SessionData("knee.xdf", EmgData(t, emg[:, None], ["rectus_femoris_R"], FS),
                       signals={"knee_angle_R": SignalData(t, x, FS, "deg", "Angle")})  # fmt: skip
    return data, truth


def test_analyze_times_the_emg_against_the_reference_channel():
    data, truth = session_with_knee(-150.0)
    result = analyze_session(data, AnalysisOptions(exercise="single_leg_squat", side="R",
                                                   reference_channel="knee_angle_R"))  # fmt: skip
    block = result["exercises"][0]
    assert block["movement_from"] == "knee_angle_R" and len(block["reps"]) == len(truth)
    lat = [r["latency_ms"]["rectus_femoris_R"] for r in block["reps"]]
    assert np.median(lat) == pytest.approx(-150, abs=25)
    assert result["not_analysed"] == [{"what": "pelvic drop", "why": "the recording has no pelvis IMU stream"}]


def test_a_reference_channel_the_recording_lacks_is_one_clear_error():
    data, _ = session_with_knee()
    with pytest.raises(SensorkitError, match=r"--reference-channel 'hip_angle'.*knee_angle_R \(Angle, deg\)"):
        analyze_session(data, AnalysisOptions(exercise="single_leg_squat", reference_channel="hip_angle"))
