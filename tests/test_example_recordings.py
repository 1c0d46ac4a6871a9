"""The bundled before/after recordings load, match their ground truth, and differ as labelled."""

import json

import numpy as np
import pytest
from conftest import ROOT
from helpers import expected_emg

from sensorkit.recording.xdf_reader import read_xdf
from sensorkit.sim import Dosage, SimConfig, simulate

REC = ROOT / "recordings"


@pytest.mark.parametrize("name", ["before", "after"])
def test_example_loads_with_truth_on_its_clock(name):
    path = REC / f"{name}.xdf"
    assert path.stat().st_size < 5e6  # small enough to ship
    r = read_xdf(path)
    truth = json.loads((REC / f"{name}.truth.json").read_text())
    assert r.file_header["info"]["session"] == [name] and r.file_header["info"]["patient"] == ["P001"]
    assert {s.info.name for s in r.streams} == {"emg", "pelvis", "markers"}
    got = r.markers()
    assert [m for _, m in got] == [m for _, m in truth["markers"]]
    np.testing.assert_allclose([t for t, _ in got], [t for t, _ in truth["markers"]], atol=1e-6)
    emg = r.of_kind("EMG")[0]
    first_onset = truth["exercises"][0]["reps"][0]["onsets_s"]["glute_med_L"]
    assert emg.timestamps[0] <= first_onset <= emg.timestamps[-1]


def test_before_and_after_differ_as_labelled():
    before = json.loads((REC / "before.truth.json").read_text())
    after = json.loads((REC / "after.truth.json").read_text())

    def mean_latency(t):
        return np.mean([r["latency_ms"][f"glute_med_{b['side']}"] for b in t["exercises"] for r in b["reps"]])

    def mean_drop(t):
        return np.mean([r["pelvic_drop_deg"] for b in t["exercises"] for r in b["reps"]])

    assert mean_latency(before) - mean_latency(after) > 40
    assert mean_drop(before) - mean_drop(after) > 2.5


def test_example_samples_are_what_the_simulator_makes():
    truth = json.loads((REC / "before.truth.json").read_text())
    c = dict(truth["config"])
    dose = Dosage(**c.pop("dose"))
    c["muscles"] = tuple(c["muscles"])
    rec = simulate(SimConfig(**c, dose=dose))
    emg = read_xdf(REC / "before.xdf").of_kind("EMG")[0]
    np.testing.assert_array_equal(emg.samples, expected_emg(rec).astype(np.float64))
