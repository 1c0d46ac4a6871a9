"""Text exports: what their header says (names, units, rate) is read; columns that are not
EMG become typed streams of their own; what the user says wins, and is told."""

import numpy as np
import pytest

from sensorkit.cli import main
from sensorkit.recording.text_import import TextImport, column_kind, read_text_export
from sensorkit.recording.xdf_reader import read_xdf
from sensorkit.streams import IMU_CHANNELS

EXPORT = """# exported by some lab system
# Sampling Rate (Hz):= 2000.00
time\tRF (mV)\tGM [uV]\tknee (deg)\tFootswitch\tForce Fz (N)
{rows}
"""


@pytest.fixture
def export(tmp_path):
    rng = np.random.default_rng(1)
    n = 4000
    t = np.arange(n) / 2000
    rows = "\n".join(f"{ti:.4f}\t{rng.normal(0, 0.05):.5f}\t{rng.normal(0, 30):.3f}\t{20 + 40 * np.sin(ti):.3f}"
                     f"\t{int(ti % 1 < 0.6)}\t{700 + 10 * np.cos(ti):.2f}" for ti in t)  # fmt: skip
    path = tmp_path / "lab.txt"
    path.write_text(EXPORT.format(rows=rows))
    return path


def test_names_units_and_rate_come_from_the_header(export):
    data = read_text_export(TextImport(str(export)))
    assert data.rate_hz == 2000.0 and data.labels == ["RF", "GM"]
    assert "column 'time' taken as time (s)" in data.notes
    np.testing.assert_allclose(data.t, np.arange(4000) / 2000, atol=1e-9)
    raw = np.genfromtxt(export, delimiter="\t", skip_header=3)
    np.testing.assert_allclose(data.emg[:, data.labels.index("RF")], raw[:, 1] * 1e-3)  # mV
    np.testing.assert_allclose(data.emg[:, data.labels.index("GM")], raw[:, 2] * 1e-6)  # uV
    kinds = {o.kind: o for o in data.others}
    assert set(kinds) == {"Angle", "Force", "Switch"}
    assert kinds["Angle"].labels == ["knee"] and kinds["Angle"].units == ["deg"]
    np.testing.assert_allclose(kinds["Force"].values[:, 0], raw[:, 5])
    assert set(np.unique(kinds["Switch"].values)) == {0.0, 1.0}


def test_import_writes_typed_streams_and_uses_them_by_name(export, tmp_path, capsys):
    out = tmp_path / "lab.xdf"
    assert main(["import", str(export), "-o", str(out), "--time-column", "time",
                 "--channel-map", "RF=rectus_femoris_R,ch3=glute_max_R,knee=knee_angle_R"]) == 0  # fmt: skip
    err = capsys.readouterr().err
    assert "knee_angle_R: angle (deg)" in err and "Footswitch: switch" in err
    rec = read_xdf(out)
    assert {s.info.kind: s.info.channels for s in rec.streams} == {
        "EMG": ("rectus_femoris_R", "glute_max_R"), "Angle": ("knee_angle_R",), "Force": ("Force Fz",),
        "Switch": ("Footswitch",)}  # fmt: skip
    assert rec.of_kind("EMG")[0].info.srate == 2000.0
    assert np.abs(rec.of_kind("EMG")[0].samples).max() < 1e-3  # volts, from mV and uV


def test_the_users_unit_wins_and_is_told(export, capsys):
    data = read_text_export(TextImport(str(export), unit="uV"))
    assert any("RF: --unit uV used; the file says mV" in n for n in data.notes)
    raw = np.genfromtxt(export, delimiter="\t", skip_header=3)
    np.testing.assert_allclose(data.emg[:, data.labels.index("RF")], raw[:, 1] * 1e-6)


@pytest.mark.parametrize("names, unit, kind", [
    (("ch1",), "", "EMG"), (("RF",), "mV", "EMG"), (("FX",), "deg", "Angle"), (("knee_angle_R",), "", "Angle"),
    (("GRF_z",), "", "Force"), (("ch5", "heel_switch"), "", "Switch"), (("glute_med_L",), "uV", "EMG"),
])  # fmt: skip
def test_column_kinds(names, unit, kind):
    assert column_kind(names, unit) == kind


def test_a_file_without_emg_is_refused(tmp_path, capsys):
    path = tmp_path / "g.csv"
    path.write_text("knee (deg)\n" + "\n".join(str(v) for v in range(100)))
    assert main(["import", str(path), "-o", str(tmp_path / "g.xdf"), "--rate", "100"]) != 0
    assert "no EMG column among knee" in capsys.readouterr().err


def test_a_time_column_is_never_imported_as_emg(export):
    data = read_text_export(TextImport(str(export), rate_hz=2000.0))
    assert "time" not in data.labels and data.labels == ["RF", "GM"]
    assert "column 'time' (time) left out: --rate gives the timestamps" in data.notes


XSENS = """Acquisition frequency: 100 Hz
PacketCounter\tAcc_X\tAcc_Y\tAcc_Z\tGyr_X\tGyr_Y\tGyr_Z
{rows}
"""


def xsens_export(tmp_path, counts):
    """An Xsens-style lower-back export: each row's values encode its own sample number."""
    rows = "\n".join(f"{c}\t{9.81 + 0.01 * k}\t0.1\t0.2\t0.01\t0.02\t{k}" for k, c in enumerate(counts))
    path = tmp_path / "walk_lb.txt"
    path.write_text(XSENS.format(rows=rows))
    return path


def test_a_packet_counter_places_rows_where_packets_were_lost(tmp_path):
    """Lost packets (a single one too) become NaN rows at their own places, across the
    16-bit counter's roll-over; the rate comes from the header's acquisition frequency."""
    from sensorkit.recording.text_import import read_text_imu

    counts = [65530, 65531, 65533, 65534, 65535, 0, 1, 5, 6, 7]  # 65532 lost; 2, 3, 4 lost after the wrap
    t, acc, gyr, fs, note = read_text_imu(str(xsens_export(tmp_path, counts)))
    assert fs == 100.0 and "from the file's header" in note and "4 samples missing" in note
    assert len(t) == 14 and np.allclose(np.diff(t), 0.01)
    lost = np.isnan(gyr[:, 2])
    assert list(np.flatnonzero(lost)) == [2, 8, 9, 10]
    assert list(gyr[~lost, 2]) == list(range(len(counts)))  # every real row in order, none moved


def test_a_repeated_count_is_left_out_and_said(tmp_path):
    from sensorkit.recording.text_import import read_text_imu

    t, acc, gyr, fs, note = read_text_imu(str(xsens_export(tmp_path, [10, 11, 12, 12, 13])))
    assert list(gyr[:, 2]) == [0, 1, 2, 4] and "1 rows repeating the 'PacketCounter'" in note


def test_a_counter_that_runs_back_is_refused_with_its_row(tmp_path, capsys):
    path = xsens_export(tmp_path, [10, 11, 12, 9, 13])
    assert main(["contacts", str(path)]) == 1
    err = capsys.readouterr().err
    assert "PacketCounter" in err and "from 12 to 9 after data row 3" in err and "Traceback" not in err


def test_a_file_that_is_no_table_of_samples_is_said_with_where(tmp_path, capsys):
    """A JSON result handed where a text export is read says so (its lines of numbers once made
    "120 rows do not have 2 columns"); a ragged table names its first wrong line."""
    result = tmp_path / "session.json"
    result.write_text('{\n  "exercises": [\n    1,\n    2\n  ]\n}\n')
    assert main(["contacts", str(result)]) != 0
    assert "holds JSON, not a text export of samples" in capsys.readouterr().err
    sections = tmp_path / "sections.txt"  # an export whose header comes in [sections]: a table all the same
    sections.write_text("[Header]\nrate=100\n[Data]\n" + "\n".join(f"{k / 100} 0 0 9.81 0 0 0" for k in range(300)))
    assert main(["contacts", str(sections), "--rate", "100", "--columns", "ch2,ch3,ch4,ch5,ch6,ch7"]) == 0
    assert "JSON" not in capsys.readouterr().err
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("t,a,b\n0,1,2\n1,2\n2,3,4\n3,4\n")
    assert main(["contacts", str(ragged)]) != 0
    err = capsys.readouterr().err
    assert "2 rows do not have the 3 columns of the first row of numbers (line 2); the first is line 3" in err
    events = tmp_path / "events.csv"  # foot contacts handed as the recording: they asked for a sample rate
    events.write_text("touchdown_s,liftoff_s\n1.414,2.074\n2.448,3.115\n")
    assert main(["import", str(events), "-o", str(tmp_path / "e.xdf")]) == 1
    assert "holds foot contact times (touchdown_s, liftoff_s), not samples: give it with --events" in \
        capsys.readouterr().err  # fmt: skip


# ---------------------------------------------------------------- Delsys Trigno exports

DELSYS_MAP = {f"Avanti sensor {k + 1}": m for k, m in enumerate(
    ("glute_max_L", "glute_max_R", "glute_med_L", "glute_med_R", "biceps_femoris_L", "biceps_femoris_R",
     "erector_spinae_L", "erector_spinae_R"))}  # fmt: skip


@pytest.fixture(scope="module")
def delsys(tmp_path_factory):
    """A simulated single-leg-squat session at Trigno's rates (EMG 1259.26 Hz, IMU 148.15 Hz),
    written as an EMGworks CSV export with and without its 'Label:' header lines."""
    from helpers import write_delsys_csv

    from sensorkit.sim import Dosage, SimConfig, simulate

    rec = simulate(SimConfig(scenario="single_leg_squat", seed=2, dose=Dosage(reps=3), fs_emg=1259.259259,
                             fs_imu=148.148148))  # fmt: skip
    folder = tmp_path_factory.mktemp("delsys")
    with_labels, bare = folder / "trigno.csv", folder / "bare.csv"
    write_delsys_csv(with_labels, rec)
    write_delsys_csv(bare, rec, labels=False)
    return rec, with_labels, bare


def test_a_delsys_export_gives_its_emg_and_the_sacral_sensors_imu(delsys):
    rec, path, bare = delsys
    for f in (path, bare):  # the header's rates, or each channel's own time column
        data = read_text_export(TextImport(str(f), channel_map=DELSYS_MAP, pelvis="9"))
        assert data.labels == [*DELSYS_MAP.values(), "Avanti sensor 9: EMG 9"]
        assert data.rate_hz == pytest.approx(1259.259259, rel=1e-6)
        np.testing.assert_allclose(data.emg[:, :8], rec.emg, rtol=1e-6, atol=1e-12)  # V, as written (7 digits)
        np.testing.assert_allclose(data.t, np.arange(len(rec.emg)) / 1259.259259, atol=1e-6)
        (imu,) = data.imus
        assert (imu.name, imu.location) == ("pelvis", "pelvis") and imu.rate_hz == pytest.approx(148.148148, rel=1e-6)
        np.testing.assert_allclose(imu.values, rec.imu, rtol=1e-5, atol=1e-6)  # g and deg/s back to SI
        assert len(imu.t) == len(rec.imu) < len(data.t) / 8  # on its own clock


def test_an_imported_delsys_export_analyses_without_markers(delsys, tmp_path, capsys):
    """`sensorkit import` then `analyze --exercise`: the repetitions, sides and drops of the
    simulated patient, read from the Trigno layout with the pelvis sensor named by its number."""
    import json

    rec, path, _ = delsys
    out = tmp_path / "trigno.xdf"
    cmap = ",".join(f"{k}={v}" for k, v in DELSYS_MAP.items())
    assert main(["import", str(path), "-o", str(out), "--channel-map", cmap, "--pelvis", "9"]) == 0
    assert "IMU 'pelvis' at 148.148 Hz" in capsys.readouterr().out
    names = [s.info.name for s in read_xdf(out).streams]
    assert names == ["emg", "pelvis"]
    result = tmp_path / "r.json"
    assert main(["analyze", str(out), "--exercise", "single_leg_squat", "--json", str(result), "-q"]) == 0
    blocks = {b["side"]: b for b in json.loads(result.read_text())["exercises"]}
    for tb in rec.truth["exercises"]:
        got = blocks[tb["side"]]["reps"]
        assert len(got) == len(tb["reps"])
        for r, t in zip(got, tb["reps"], strict=True):
            assert abs(r["movement_onset_s"] - t["movement_onset_s"]) < 0.05
            assert abs(r["pelvic_drop_deg"] - t["pelvic_drop_deg"]) < 1.0
            glute = f"glute_med_{tb['side']}"
            assert abs(r["latency_ms"][glute] - t["latency_ms"][glute]) < 40


def test_a_delsys_export_without_a_pelvis_keeps_each_sensors_imu_apart(delsys, tmp_path, capsys):
    _, path, _ = delsys
    out = tmp_path / "t.xdf"
    assert main(["import", str(path), "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "name the sensor on the sacrum with --pelvis" in err
    rec = read_xdf(out)
    (imu,) = rec.of_kind("IMU")
    assert imu.info.name == "avanti_sensor_9" and imu.info.metadata["location"] == "Avanti sensor 9"
    from sensorkit.recording.session_input import pelvis_stream

    assert pelvis_stream(rec) is None  # a glute's sensor is never taken for the pelvis


def test_delsys_mistakes_are_one_line(delsys, tmp_path, capsys, export):
    _, path, _ = delsys
    cases = [
        (["--pelvis", "12"], "no single sensor '12' (sensors: Avanti sensor 1, "),
        (["--pelvis", "Avanti sensor 1"], "--pelvis 'Avanti sensor 1': no IMU stream (no ACC.X, ACC.Y, ACC.Z, GYRO.X"),
        (["--channel-map", "Avanti sensor 99=glute_max_L"], "'Avanti sensor 99' is no single EMG channel or sensor"),
    ]
    for k, (args, message) in enumerate(cases):
        assert main(["import", str(path), "-o", str(tmp_path / f"{k}.xdf"), *args]) == 1
        assert message in capsys.readouterr().err
        assert not (tmp_path / f"{k}.xdf").exists()
    assert main(["import", str(export), "-o", str(tmp_path / "x.xdf"), "--pelvis", "3"]) == 1
    assert "is not one" in capsys.readouterr().err
    assert main(["contacts", str(path)]) == 1
    assert "is a Delsys export: convert it with sensorkit import" in capsys.readouterr().err


# ---------------------------------------------------------------- an IMU logger's export


def _xsens_like(path, rec, lose=(), sep="\t"):
    """A simulated pelvis IMU written as Xsens MT Manager exports it: the rate in a header line, a
    PacketCounter, Acc_X.. in m/s^2, Gyr_X.. in rad/s, a normalised magnetometer; the packets in
    `lose` missing."""
    names = ["PacketCounter", "Acc_X", "Acc_Y", "Acc_Z", "Gyr_X", "Gyr_Y", "Gyr_Z", "Mag_X", "Mag_Y", "Mag_Z"]
    rows = [f"Acquisition frequency: {rec.config.fs_imu:g} Hz", sep.join(names)]
    for k, row in enumerate(rec.imu):
        if k not in lose:
            rows.append(sep.join([str(k), *(f"{v:.6f}" for v in row), "0.3", "-0.1", "0.8"]))
    path.write_text("\n".join(rows) + "\n")


def test_an_imu_loggers_export_imports_as_the_pelvis_imu_not_as_emg(tmp_path, capsys):
    """An IMU export (Xsens's layout) came in as ten 'EMG channels at 100 Hz', the packet counter and
    the magnetometer among them. Now its six IMU columns are the pelvis IMU stream in SI units, its
    rows placed by the counter (lost packets as lost samples), the rest left out, and the file
    analyses IMU only."""
    import json

    from helpers import small_session

    rec = small_session(seed=3, reps=3)
    lose = set(range(4000, 4006)) | {5000}
    src, out = tmp_path / "sacrum.txt", tmp_path / "sacrum.xdf"
    _xsens_like(src, rec, lose)
    assert main(["import", str(src), "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "rows placed by 'PacketCounter': 7 samples missing" in err and "Mag_X, Mag_Y, Mag_Z" in err
    (imu,) = read_xdf(out).streams
    assert (imu.info.name, imu.info.kind, imu.info.channels) == ("pelvis", "IMU", IMU_CHANNELS)
    assert imu.info.units == ("m/s^2",) * 3 + ("rad/s",) * 3 and imu.info.srate == rec.config.fs_imu
    got = imu.samples
    assert len(got) == len(rec.imu) and np.isnan(got[sorted(lose)]).all()
    kept = np.setdiff1d(np.arange(len(rec.imu)), sorted(lose))
    np.testing.assert_allclose(got[kept], rec.imu[kept], atol=1e-5)
    result = tmp_path / "r.json"
    assert main(["analyze", str(out), "--exercise", "single_leg_squat", "--json", str(result), "-q"]) == 0
    blocks = {b["side"]: b for b in json.loads(result.read_text())["exercises"]}
    for tb in rec.truth["exercises"]:
        drops = [r["pelvic_drop_deg"] for r in blocks[tb["side"]]["reps"]]
        np.testing.assert_allclose(drops, [r["pelvic_drop_deg"] for r in tb["reps"]], atol=1.0)


def test_emg_beside_an_imu_is_what_says_it_is_emg(tmp_path):
    """Beside IMU columns, a column is EMG by its unit of volts or a muscle's name; a quaternion
    or a magnetometer is not."""
    n, fs = 2000, 500.0
    rng = np.random.default_rng(4)
    t = np.arange(n) / fs
    cols = {"time": t, "glute_med_R": rng.normal(0, 1e-5, n), "RF (mV)": rng.normal(0, 0.02, n),
            "accel.x": np.zeros(n), "accel.y": np.zeros(n), "accel.z": np.ones(n),
            "gyro.x": np.full(n, 30.0), "gyro.y": np.zeros(n), "gyro.z": np.zeros(n),
            "quat_w": np.ones(n), "mag_x": np.full(n, 40.0)}  # fmt: skip
    path = tmp_path / "logger.csv"
    path.write_text(",".join(cols) + "\n" + "\n".join(",".join(f"{v[i]:.8g}" for v in cols.values())
                                                      for i in range(n)) + "\n")  # fmt: skip
    data = read_text_export(TextImport(str(path)))
    assert data.labels == ["glute_med_R", "RF"]
    np.testing.assert_allclose(data.emg[:, 1], cols["RF (mV)"] * 1e-3, rtol=1e-6)  # mV
    (imu,) = data.imus
    np.testing.assert_allclose(imu.values[0], [0, 0, 9.80665, np.radians(30.0), 0, 0])  # g and deg/s, guessed
    assert any("quat_w, mag_x" in n for n in data.notes)


def test_import_mistakes_with_imus_and_delsys_layouts_are_one_line(tmp_path, capsys):
    """Five of an IMU's six columns came in as five EMG channels; an empty Delsys export said its
    rows were 'not all numbers (No columns to parse from file)'."""
    cases = {
        "five.csv": ("acc_x,acc_y,acc_z,gyr_x,gyr_y,time\n" + "0,0,9.8,0,0,0.0\n0,0,9.8,0,0,0.01\n",
                     "are an IMU's columns, but there is no gyr_z"),
        "empty.csv": ('X[s],"Avanti sensor 1: EMG 1"\n', "the Delsys export holds no rows of data"),
        "rates.csv": ('X[s],"S 1: EMG 1",X[s],"S 2: EMG 2"\n'
                      + "".join(f"{i / 1000:.4f},0.1,{i / 2000:.4f},0.2\n" for i in range(50)),
                      "EMG channels at 1000, 2000 Hz; keep the channels of one rate with --columns"),
    }  # fmt: skip
    for name, (text, message) in cases.items():
        (tmp_path / name).write_text(text)
        out = tmp_path / f"{name}.xdf"
        assert main(["import", str(tmp_path / name), "-o", str(out)]) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and message in err[0] and not out.exists()


def test_a_large_export_says_it_is_being_read(export, tmp_path, capsys, monkeypatch):
    import sensorkit.cli as cli

    monkeypatch.setattr(cli, "LARGE_IMPORT_BYTES", export.stat().st_size - 1)
    assert main(["import", str(export), "-o", str(tmp_path / "big.xdf")]) == 0
    assert f"reading {export} ({export.stat().st_size / 1e6:.0f} MB)..." in capsys.readouterr().err
    monkeypatch.setattr(cli, "LARGE_IMPORT_BYTES", export.stat().st_size)
    assert main(["import", str(export), "-o", str(tmp_path / "small.xdf")]) == 0
    assert "reading" not in capsys.readouterr().err


def test_an_imu_exports_missing_rows_by_its_time_column_are_lost_samples(tmp_path):
    """A logger that writes what arrived leaves a drop-out as a jump in its time column: those
    samples are put back as lost (NaN) rows, as `read_text_imu` and `contacts` keep them."""
    fs, n = 100.0, 600
    keep = np.r_[0:200, 230:n]  # 30 samples lost
    rows = ["time,acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z"]
    rows += [f"{k / fs:.2f},0.01,0.02,9.81,{0.001 * k:.4f},0,0" for k in keep]
    path = tmp_path / "imu.csv"
    path.write_text("\n".join(rows) + "\n")
    data = read_text_export(TextImport(str(path)))
    (imu,) = data.imus
    assert len(imu.values) == n and np.isnan(imu.values[200:230]).all() and np.isfinite(imu.values[keep]).all()
    np.testing.assert_allclose(imu.t, np.arange(n) / fs, atol=1e-9)
    np.testing.assert_allclose(imu.values[keep, 3], 0.001 * keep, atol=1e-9)
    assert "30 samples missing where 'time' jumps, kept as lost samples" in data.notes


def test_a_delsys_channels_times_past_1000_s_come_back_on_their_grid():
    """Written with 7 significant digits, an EMG channel's times past 1000 s step by whole
    milliseconds, more than its 0.47-ms period: the grid fitted through them is exact."""
    from sensorkit.recording.delsys_csv import regular_times

    fs = 2148.1481
    true = 995.0 + np.arange(int(20 * fs)) / fs  # 995-1015 s
    written = np.array([float(f"{v:.7g}") for v in true])
    assert np.max(np.abs(written - true)) > 0.5 / fs  # off by more than half a period as written
    grid, rate = regular_times(written)
    assert rate == pytest.approx(fs, rel=2e-6)
    np.testing.assert_allclose(grid, true, atol=1e-5)  # 2 % of a period, where the written times are off by 50-100 %
    jumps = written.copy()
    jumps[5000:] += 0.1  # a real gap in the times is not a grid
    assert regular_times(jumps)[1] is None


def test_channels_named_for_a_muscle_and_side_take_sensorkits_names(tmp_path):
    """The analysis knows a glute as glute_med_L: an export's 'Left Gluteus Medius' or a Trigno
    sensor named 'L GLUT MED' came in under that name and was analysed as an unknown muscle."""
    rows = "".join(f"{k / 1000:.3f},{0.01 * np.sin(k):.5f},{0.02 * np.cos(k):.5f},{0.01:.5f}\n" for k in range(2000))
    text = tmp_path / "lab.csv"
    text.write_text("time,Left Gluteus Medius (mV),R_GLUT_MAX (mV),Left Gluteus Maximus (mV)\n" + rows)
    data = read_text_export(TextImport(str(text), channel_map={"Left Gluteus Maximus": "glute_max_L"}))
    assert data.labels == ["glute_med_L", "glute_max_R", "glute_max_L"]
    assert any("Left Gluteus Medius -> glute_med_L" in n for n in data.notes)
    trigno = tmp_path / "trigno.csv"
    lines = "".join(f"{k / 2000:.6f},0.0001,{k / 2000:.6f},0.0002,{k / 2000:.6f},0.0\n" for k in range(500))
    trigno.write_text('X[s],"L GLUT MED: EMG 1",X[s],"R GLUT MED: EMG 2",X[s],"Avanti sensor 3: EMG 3"\n' + lines)
    data = read_text_export(TextImport(str(trigno)))
    assert data.labels == ["glute_med_L", "glute_med_R", "Avanti sensor 3: EMG 3"]
    twice = tmp_path / "twice.csv"  # two channels that would take one name keep their own
    twice.write_text("time,Left Gluteus Medius,L_GLUT_MED\n" + "".join(f"{k / 1000:.3f},0.1,0.2\n" for k in range(100)))
    assert read_text_export(TextImport(str(twice))).labels == ["Left Gluteus Medius", "L_GLUT_MED"]
