"""C3D files of motion-capture labs: EMG analog channels (named as the lab names them) and foot
events become an XDF recording whose gait EMG is timed against the lab's own foot contacts."""

import json

import ezc3d
import numpy as np
import pytest
from helpers import record_sim, small_session

from sensorkit.cli import main
from sensorkit.recording.c3d_import import gait_event
from sensorkit.recording.muscle_names import muscle_label
from sensorkit.recording.xdf_reader import read_xdf
from sensorkit.sim import SimConfig, simulate

LAB_NAMES = {"glute_max_L": "Left Gluteus Maximus", "glute_max_R": "Right Gluteus Maximus",
             "glute_med_L": "L_GLUT_MED", "glute_med_R": "R_GLUT_MED", "biceps_femoris_L": "LT Biceps Femoris",
             "biceps_femoris_R": "RT Biceps Femoris", "erector_spinae_L": "Erector spinae left",
             "erector_spinae_R": "Erector spinae right"}  # fmt: skip
FIRST_FRAME = 150  # the capture's first frame at 100 Hz: the file's time starts at 1.5 s


@pytest.fixture(scope="module")
def lab_walk(tmp_path_factory):
    """A simulated walk as a gait lab's C3D: EMG in mV as analog channels named the lab's way,
    a force plate's channel in N beside them, each foot strike and foot off as a Vicon event
    (context Left / Right), the capture starting at frame 150."""
    rec = simulate(SimConfig(scenario="gait", seed=1))
    fs = rec.config.fs_emg
    n = len(rec.emg) - len(rec.emg) % int(fs / 100)
    c = ezc3d.c3d()
    c["parameters"]["POINT"]["RATE"]["value"] = [100.0]
    c["parameters"]["POINT"]["LABELS"]["value"] = ()
    c["data"]["points"] = np.zeros((4, 0, n // int(fs / 100)))
    c["parameters"]["ANALOG"]["RATE"]["value"] = [fs]
    c["parameters"]["ANALOG"]["LABELS"]["value"] = (*[LAB_NAMES[m] for m in rec.config.muscles], "Fz1")
    c["parameters"]["ANALOG"]["UNITS"]["value"] = (*["mV"] * len(rec.config.muscles), "N")
    force = 700.0 + 50 * np.sin(np.arange(n) / fs)
    c["data"]["analogs"] = np.vstack([rec.emg[:n].T * 1e3, force])[np.newaxis]
    c["header"]["points"]["first_frame"] = FIRST_FRAME
    t0 = FIRST_FRAME / 100.0
    (walk,) = [b for b in rec.truth["exercises"] if b["exercise"] == "gait"]
    for r in walk["reps"]:
        side = {"L": "Left", "R": "Right"}[r["side"]]
        c.add_event([0, t0 + r["reference_s"]], context=side, label="Foot Strike")
        c.add_event([0, t0 + r["reference_s"] + 0.6], context=side, label="Foot Off")
    path = tmp_path_factory.mktemp("c3d") / "walk.c3d"
    c.write(str(path))
    return rec, walk, path, n


def test_a_labs_c3d_gives_its_emg_named_as_sensorkits_and_its_foot_contacts(lab_walk, tmp_path, capsys):
    rec, walk, path, n = lab_walk
    out = tmp_path / "walk.xdf"
    assert main(["import", str(path), "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "1 other analog channel(s) left out" in err and "Left Gluteus Maximus -> glute_max_L" in err
    got = read_xdf(out)
    (emg,) = got.of_kind("EMG")
    assert emg.info.channels == rec.config.muscles and set(emg.info.units) == {"V"}
    np.testing.assert_allclose(emg.samples, rec.emg[:n], rtol=1e-5, atol=1e-9)  # mV back to V (float32)
    np.testing.assert_allclose(emg.timestamps[0], FIRST_FRAME / 100.0)
    strikes = [(t, m) for t, m in got.markers() if m.startswith("initial_contact")]
    assert [m for _, m in strikes] == [f"initial_contact:{r['side']}" for r in walk["reps"]]
    np.testing.assert_allclose([t for t, _ in strikes], [1.5 + r["reference_s"] for r in walk["reps"]], atol=1e-4)
    assert sum(m.startswith("final_contact") for _, m in got.markers()) == len(walk["reps"])


def test_gait_emg_from_a_c3d_is_timed_against_the_labs_foot_contacts(lab_walk, tmp_path):
    rec, walk, path, _ = lab_walk
    out, result = tmp_path / "walk.xdf", tmp_path / "r.json"
    assert main(["import", str(path), "-o", str(out)]) == 0
    assert main(["analyze", str(out), "--exercise", "gait", "--json", str(result), "-q"]) == 0
    (block,) = json.loads(result.read_text())["exercises"]
    assert block["contacts_from"] == "markers"
    steps = block["reps"]
    assert len(steps) >= len(walk["reps"]) - 1  # a step runs from a contact to the next
    true = [1.5 + r["reference_s"] for r in walk["reps"]]
    np.testing.assert_allclose([s["start_s"] for s in steps], true[: len(steps)], atol=1e-3)
    pairs = zip(steps, walk["reps"][: len(steps)], strict=True)
    errors = [s["latency_ms"]["glute_med_L"] - r["latency_ms"]["glute_med_L"] for s, r in pairs
              if s["side"] == "L" and s["latency_ms"].get("glute_med_L") is not None
              and r["latency_ms"].get("glute_med_L") is not None]  # fmt: skip
    assert len(errors) >= 10 and np.median(np.abs(errors)) < 20


def test_a_sensorkit_c3d_export_imports_back_with_its_emg_and_markers(tmp_path, capsys):
    src, c3d, back = tmp_path / "s.xdf", tmp_path / "s.c3d", tmp_path / "back.xdf"
    record_sim(src, small_session(seed=4, reps=2))
    assert main(["export", str(src), "--to", "c3d", "-o", str(c3d)]) == 0
    assert main(["import", str(c3d), "-o", str(back)]) == 0
    assert "analog channel(s) left out" in capsys.readouterr().err  # the IMU's, in m/s^2 and rad/s
    a, b = read_xdf(src), read_xdf(back)
    ea, eb = a.of_kind("EMG")[0], b.of_kind("EMG")[0]
    assert eb.info.channels == ea.info.channels
    np.testing.assert_allclose(eb.samples[: len(ea.samples)], ea.samples, rtol=1e-6, atol=1e-12)
    t0 = min(float(s.timestamps[0]) for s in a.streams if len(s.timestamps) and s.info.srate)
    assert [m for _, m in b.markers()] == [m for _, m in a.markers()]
    np.testing.assert_allclose([t for t, _ in b.markers()], [t - t0 for t, _ in a.markers()], atol=1e-4)


def test_c3d_mistakes_are_one_line(tmp_path, capsys):
    fake = tmp_path / "fake.c3d"
    fake.write_text("not a c3d\n")
    c = ezc3d.c3d()
    c["parameters"]["POINT"]["RATE"]["value"] = [100.0]
    c["parameters"]["POINT"]["LABELS"]["value"] = ()
    c["data"]["points"] = np.zeros((4, 0, 100))
    c["parameters"]["ANALOG"]["RATE"]["value"] = [1000.0]
    c["parameters"]["ANALOG"]["LABELS"]["value"] = ("Fz1", "Voltage.1")
    c["parameters"]["ANALOG"]["UNITS"]["value"] = ("N", "V")
    c["data"]["analogs"] = np.zeros((1, 2, 1000))
    plates = tmp_path / "plates.c3d"
    c.write(str(plates))
    for path, message in ((fake, "not a C3D file ezc3d can read"),
                          (plates, "no analog channel is named as EMG; name them with --channel-map LABEL=glute_med_R "
                                   "(channels in volts: Voltage.1)")):  # fmt: skip
        assert main(["import", str(path), "-o", str(tmp_path / "o.xdf")]) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and message in err[0]
    assert main(["import", str(plates), "-o", str(tmp_path / "o.xdf"), "--channel-map", "Voltage.1=glute_med_L"]) == 0


@pytest.mark.parametrize("label, context, marker", [
    ("Foot Strike", "Left", "initial_contact:L"), ("Foot Off", "Right", "final_contact:R"),
    ("LHS", "", "initial_contact:L"), ("RTO", "", "final_contact:R"), ("Right Foot Strike", "", "initial_contact:R"),
    ("Event", "Left", None), ("Toe Off", "L", "final_contact:L"),
])  # fmt: skip
def test_foot_events_by_label_and_context(label, context, marker):
    assert gait_event(label, context) == marker


@pytest.mark.parametrize("label, name", [
    ("Left Gluteus Medius", "glute_med_L"), ("R_GLUT_MAX", "glute_max_R"), ("gluteus medius R", "glute_med_R"),
    ("Left Tibialis anterior", "tibialis_anterior_L"), ("Delt_ant.EMG1", None), ("EMG 1", None),
])  # fmt: skip
def test_lab_muscle_names_in_sensorkits_terms(label, name):
    assert muscle_label(label) == name
