"""The live onset detector agrees with the offline one, whatever the chunking."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sensorkit.dsp.onset import ChannelOnsets
from sensorkit.dsp.onset_stream import StreamingOnsetDetector
from sensorkit.sim import Dosage, SimConfig, simulate


@pytest.fixture(scope="module")
def rec():
    return simulate(SimConfig(seed=5, scenario="single_leg_squat", dose=Dosage(reps=3)))


def live_onsets(x, fs, sizes):
    det = StreamingOnsetDetector(fs, mains_hz=50.0)
    out, k, i = [], 0, 0
    while k < len(x):
        n = sizes[i % len(sizes)]
        out += det.process(x[k : k + n])
        k, i = k + n, i + 1
    return np.array(out)


@pytest.mark.parametrize("muscle", ["glute_med_L", "glute_max_R", "biceps_femoris_L", "erector_spinae_R"])
def test_live_onsets_within_30_ms_of_offline(rec, muscle):
    fs = rec.config.fs_emg
    x = rec.emg[:, rec.config.muscles.index(muscle)]
    ch = ChannelOnsets(x, fs, mains=50.0)
    live = live_onsets(x, fs, [37, 400, 1, 93])
    checked = 0
    for b in rec.truth["exercises"]:
        for r in b["reps"]:
            tm = r["movement_onset_s"]
            o = ch.onset((tm - 1.2, tm - 0.35), (tm - 0.35, r["end_s"]))
            if o.onset_s is None or o.quality != "ok":
                continue
            assert np.min(np.abs(live - o.onset_s)) < 0.03
            checked += 1
    assert checked >= 3


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(1, 3000), min_size=1, max_size=8))
def test_chunking_does_not_change_live_onsets(rec, sizes):
    fs = rec.config.fs_emg
    x = rec.emg[: int(40 * fs), rec.config.muscles.index("glute_med_R")]
    np.testing.assert_array_equal(live_onsets(x, fs, sizes), live_onsets(x, fs, [len(x)]))


def test_only_threshold_detectors_run_live():
    with pytest.raises(ValueError, match="live"):
        from sensorkit.dsp.onset import OnsetParams

        StreamingOnsetDetector(2000.0, OnsetParams(detector="changepoint"))
