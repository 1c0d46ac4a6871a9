"""Real exports through the product path: sensorkit import -> XDF -> read/analyze."""

import json

import numpy as np
from conftest import shared_file

from sensorkit.cli import main
from sensorkit.recording.xdf_reader import read_xdf

GAIT_MAP = "ME=glute_med_R,MA=glute_max_R,FL=tfl_R,ST=semitendinosus_R,BF=biceps_femoris_R"


def test_gait_emg_latency_to_touchdown_per_stride(tmp_path):
    emg = shared_file("musclesynergies_gait_emg", "ID0012_TW_01_emg_raw.csv")
    events = shared_file("musclesynergies_gait_emg", "ID0012_TW_01_gait_events.csv")
    out = tmp_path / "gait.xdf"
    assert main(["import", str(emg), "-o", str(out), "--time-column", "time", "--unit", "uV",
                 "--channel-map", GAIT_MAP, "--columns", "glute_med_R,glute_max_R,tfl_R,semitendinosus_R",
                 "--events", str(events), "--events-side", "R"]) == 0
    rec = read_xdf(out)
    e = rec.of_kind("EMG")[0]
    assert e.info.srate == 1000 and e.info.units == ("V",) * 4
    assert np.abs(e.samples).max() < 5e-3  # microvolts became volts (< 5 mV)
    result_path = tmp_path / "gait.json"
    assert main(["analyze", str(out), "--exercise", "gait", "--json", str(result_path), "-q"]) == 0
    block = json.loads(result_path.read_text())["exercises"][0]
    touchdowns = [ev["t_s"] for ev in block["events"] if ev["kind"] == "initial_contact"]
    assert len(block["reps"]) == len(touchdowns) == 6
    for rep in block["reps"]:
        for m in ("glute_med_R", "glute_max_R"):
            assert rep["quality"][m] == "ok"
            assert -250 < rep["latency_ms"][m] < 50  # every stride: late swing, before contact


def test_uci_millivolt_export(tmp_path):
    src = shared_file("uci_lower_limb_emg", "5Nmar.txt")
    out = tmp_path / "uci.xdf"
    assert main(["import", str(src), "-o", str(out), "--rate", "1000", "--unit", "mV",
                 "--channel-map", "ch1=rectus_femoris_R,ch2=biceps_femoris_R,ch3=vastus_medialis_R,"
                 "ch4=semitendinosus_R", "--columns", "rectus_femoris_R,biceps_femoris_R,vastus_medialis_R,"
                 "semitendinosus_R"]) == 0
    e = read_xdf(out).of_kind("EMG")[0]
    raw = np.genfromtxt(src, delimiter="\t", skip_header=7)[:, :4]  # the goniometer column runs on
    raw = raw[~np.isnan(raw).all(axis=1)]
    assert e.samples.shape == (len(raw), 4) == (6563, 4)
    np.testing.assert_allclose(e.samples[:, 1], raw[:, 1] * 1e-3, rtol=1e-6, atol=1e-12)


def test_biosppy_adc_counts(tmp_path, capsys):
    src = shared_file("biosppy_emg", "emg_1.txt")
    out = tmp_path / "counts.xdf"
    # 12-bit ADC around mid-scale; 3.3 V range / 4096 counts / gain 1000, for the sake of a scale
    assert main(["import", str(src), "-o", str(out), "--rate", "1000", "--unit", "counts",
                 "--scale", str(3.3 / 4096 / 1000), "--offset", "2048", "--channel-map",
                 "ch1=biceps_brachii_R"]) == 0
    e = read_xdf(out).of_kind("EMG")[0]
    raw = np.loadtxt(src)
    np.testing.assert_allclose(e.samples[:, 0], (raw - 2048) * 3.3 / 4096 / 1000, rtol=1e-6, atol=1e-12)
    assert main(["import", str(src), "-o", str(tmp_path / "x.xdf"), "--rate", "1000", "--unit", "counts"]) == 1
    assert "--scale" in capsys.readouterr().err


def test_uci_header_names_units_and_the_goniometer_as_its_own_stream(tmp_path, capsys):
    src = shared_file("uci_lower_limb_emg", "5Npie.txt")
    out = tmp_path / "pie.xdf"
    assert main(["import", str(src), "-o", str(out), "--rate", "1000", "--channel-map", "FX=knee_angle_R"]) == 0
    assert "knee_angle_R: angle (deg), a stream of its own" in capsys.readouterr().err
    rec = read_xdf(out)
    emg, angle = rec.of_kind("EMG")[0], rec.of_kind("Angle")[0]
    assert emg.info.channels == ("RF", "BF", "VM", "ST") and emg.info.units == ("V",) * 4  # names from the header
    assert angle.info.channels == ("knee_angle_R",) and angle.info.units == ("deg",)
    raw = np.genfromtxt(src, delimiter="\t", skip_header=7)
    np.testing.assert_allclose(emg.samples[:, 1], raw[: len(emg.samples), 1] * 1e-3, rtol=1e-6, atol=1e-12)  # mV
    np.testing.assert_allclose(angle.samples[:, 0], raw[: len(angle.samples), 4], rtol=1e-6)  # degrees, not volts
    assert 0 < np.nanmax(angle.samples) < 180


def test_biosppy_rate_from_the_header(tmp_path, capsys):
    src = shared_file("biosppy_emg", "emg_1.txt")
    out = tmp_path / "b.xdf"
    assert main(["import", str(src), "-o", str(out), "--unit", "counts", "--scale", "1e-6", "--offset", "2048"]) == 0
    assert "sample rate 1000 Hz, from the file's header" in capsys.readouterr().err
    assert read_xdf(out).of_kind("EMG")[0].info.srate == 1000.0


def test_uci_seated_knee_extensions_timed_against_the_goniometer(tmp_path, capsys):
    """Seated knee extension (UCI `sen`): repetitions and movement onsets from the knee
    goniometer (`--reference-channel`); the quadriceps switch on before the knee moves."""
    src = shared_file("uci_lower_limb_emg", "5Nsen.txt")
    xdf, out = tmp_path / "sen.xdf", tmp_path / "sen.json"
    names = "RF=rectus_femoris_R,BF=biceps_femoris_R,VM=vastus_medialis_R,ST=semitendinosus_R,FX=knee_angle_R"
    assert main(["import", str(src), "-o", str(xdf), "--rate", "1000", "--channel-map", names]) == 0
    assert main(["analyze", str(xdf), "--exercise", "single_leg_squat", "--side", "R",
                 "--reference-channel", "knee_angle_R", "--json", str(out), "-q"]) == 0  # fmt: skip
    assert "latency (ms) to movement onset (movement from knee_angle_R)" in capsys.readouterr().out
    block = json.loads(out.read_text())["exercises"][0]
    assert block["movement_from"] == "knee_angle_R"
    angle = read_xdf(xdf).of_kind("Angle")[0].samples[:, 0]
    lo, hi = np.percentile(angle, [5, 95])
    out_ = angle < lo + 0.5 * (hi - lo)  # an independent count: extensions past half the range (from ~64 deg)
    assert len(block["reps"]) == int(np.sum(out_[1:] & ~out_[:-1])) == 4
    for rep in block["reps"]:
        assert -400 < rep["latency_ms"]["rectus_femoris_R"] < 0  # the extensor fires before the knee moves
        assert -400 < rep["latency_ms"]["vastus_medialis_R"] < 0
