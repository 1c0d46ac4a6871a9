"""`sensorkit export`: every format re-read with the tool researchers use (pandas, pyarrow,
scipy.io, pyedflib, ezc3d) gives the recording's samples back (within the format's
quantisation), with labels, rates and markers; nothing existing is overwritten."""

import json
import warnings
from pathlib import Path

import ezc3d
import numpy as np
import pandas as pd
import pyedflib
import pytest
import scipy.io

from sensorkit.cli import main
from sensorkit.export.edf import edf_number, record_seconds
from sensorkit.recording.xdf_reader import read_xdf
from sensorkit.recording.xdf_writer import XdfWriter
from sensorkit.streams import Chunk, StreamInfo

T0 = 5000.0  # the file clock of the first sample
IMU_START = T0 + 0.0123  # the IMU starts later, between EMG samples
EMG_INFO = StreamInfo("emg", "EMG", ("glute_max_L", "glute_med_R"), ("V", "V"), 1000.0, "t:0", "double64")
IMU_INFO = StreamInfo("pelvis", "IMU", ("acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z"),
                      ("m/s^2",) * 3 + ("rad/s",) * 3, 100.0, "t:1", "double64")  # fmt: skip
MARK_INFO = StreamInfo("markers", "Markers", ("marker",), ("",), 0.0, "t:2", "string")
MARKERS = [(T0 + 1.25, "calibration_start:standing"), (T0 + 7.5, "exercise_start:single_leg_squat:L"),
           (T0 + 9.0, "exercise_end:single_leg_squat:L")]  # fmt: skip
LOST = slice(3000, 3050)  # 50 ms of EMG lost in transit (NaN rows)


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """A 10-s recording: 2 EMG channels at 1 kHz with a drop-out, an IMU at 100 Hz starting
    12.3 ms later, three markers."""
    rng = np.random.default_rng(7)
    path = tmp_path_factory.mktemp("src") / "s.xdf"
    emg = rng.normal(0, 50e-6, (10000, 2))
    emg[LOST] = np.nan
    imu = np.column_stack([rng.normal(0, 0.3, (1000, 3)) + [0, 0, 9.81], rng.normal(0, 0.2, (1000, 3))])
    w = XdfWriter(path, {"patient": "P042", "session": "before"})
    w.write_chunk(Chunk(EMG_INFO, T0 + np.arange(10000) / 1000.0, emg, lost=50))
    w.write_chunk(Chunk(IMU_INFO, IMU_START + np.arange(1000) / 100.0, imu))
    for t, text in MARKERS:
        w.write_chunk(Chunk(MARK_INFO, [t], [[text]]))
    w.close()
    return path


def export(source, tmp_path, fmt, *extra):
    out = tmp_path / f"out.{fmt}"
    assert main(["export", str(source), "--to", fmt, "-o", str(out), "-q", *extra]) == 0
    return out, read_xdf(source)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_tables_reread_equal_the_recording(source, tmp_path, fmt):
    out, rec = export(source, tmp_path, fmt)
    read = pd.read_csv if fmt == "csv" else pd.read_parquet
    names = ("channels", "emg", "markers", "pelvis")
    assert sorted(p.name for p in out.iterdir()) == [f"{n}.{fmt}" for n in names]
    for s in rec.streams[:2]:
        df = read(out / f"{s.info.name}.{fmt}")
        assert list(df.columns) == ["time_s", "time_from_start_s", *s.info.channels]
        np.testing.assert_array_equal(df["time_s"].to_numpy(), s.timestamps)
        np.testing.assert_allclose(df["time_from_start_s"].to_numpy(), s.timestamps - T0, atol=1e-9)
        np.testing.assert_array_equal(df[list(s.info.channels)].to_numpy(), s.samples)  # NaN where lost
    assert read(out / f"emg.{fmt}")["glute_max_L"].isna().sum() == 50
    marks = read(out / f"markers.{fmt}")
    assert list(marks["marker"]) == [m for _, m in MARKERS]
    np.testing.assert_allclose(marks["time_from_start_s"], [t - T0 for t, _ in MARKERS], atol=1e-9)
    ch = read(out / f"channels.{fmt}")
    assert dict(zip(ch["column"], ch["unit"], strict=True))["gyr_z"] == "rad/s"
    assert set(ch.loc[ch["stream"] == "emg", "lost_samples"]) == {50}


def test_matlab_structs_reread_equal_the_recording(source, tmp_path):
    out, rec = export(source, tmp_path, "mat")
    m = scipy.io.loadmat(out, simplify_cells=True)
    emg, imu = m["emg"], m["pelvis"]
    np.testing.assert_array_equal(emg["data"], rec.streams[0].samples)
    np.testing.assert_array_equal(imu["time_s"], rec.streams[1].timestamps)
    assert list(emg["labels"]) == list(EMG_INFO.channels) and list(imu["units"])[3] == "rad/s"
    assert emg["srate"] == 1000.0 and imu["type"] == "IMU"
    assert list(m["markers"]["text"]) == [t for _, t in MARKERS]
    np.testing.assert_allclose(m["markers"]["time_from_start_s"], [t - T0 for t, _ in MARKERS], atol=1e-9)
    assert m["info"]["pseudonym"] == "P042"


@pytest.mark.parametrize("fmt, levels", [("edf", 65535), ("bdf", 16777215)])
def test_edf_and_bdf_reread_within_quantisation_with_labels_rates_and_annotations(source, tmp_path, fmt, levels):
    out, rec = export(source, tmp_path, fmt)
    emg, imu = rec.streams[0], rec.streams[1]
    with pyedflib.EdfReader(str(out)) as r:
        assert r.getSignalLabels() == ["glute_max_L", "glute_med_R"] + [f"pelvis {c}" for c in IMU_INFO.channels]
        assert [r.getSampleFrequency(i) for i in range(8)] == [1000.0] * 2 + [100.0] * 6
        assert r.getPhysicalDimension(0) == "uV" and r.getPhysicalDimension(7) == "rad/s"
        assert r.getPatientCode() == "P042"
        for i, (s, c, scale, first) in enumerate([(emg, 0, 1e6, 0), (emg, 1, 1e6, 0), (imu, 0, 1, 1), (imu, 5, 1, 1)]):
            sig = [0, 1, 2, 7][i]
            h = r.getSignalHeader(sig)
            step = (h["physical_max"] - h["physical_min"]) / levels
            x = r.readSignal(sig)[first : first + len(s.samples)]
            ok = ~np.isnan(s.samples[:, c])
            assert np.max(np.abs(x[ok] - s.samples[ok, c] * scale)) <= step * 1.01, h["label"]
        onsets, _, texts = r.readAnnotations()
    got = list(zip(texts, onsets, strict=True))
    assert [(text, pytest.approx(t - T0, abs=1e-3)) for t, text in MARKERS] == [g for g in got if "lost" not in g[0]]
    assert [g for g in got if "lost" in g[0]] == [("lost samples: emg", pytest.approx(3.0, abs=1e-3))]


def test_c3d_rereads_equal_with_the_imu_on_its_own_samples_and_markers_as_events(source, tmp_path, capsys):
    out, rec = export(source, tmp_path, "c3d")
    assert "pelvis (100 Hz) interpolated to C3D's single analog rate 1000 Hz" in capsys.readouterr().err
    c = ezc3d.c3d(str(out))
    a = c["data"]["analogs"][0]
    labels = c["parameters"]["ANALOG"]["LABELS"]["value"]
    assert labels == ["glute_max_L", "glute_med_R"] + [f"pelvis:{ch}" for ch in IMU_INFO.channels]
    assert c["parameters"]["ANALOG"]["RATE"]["value"][0] == 1000.0
    assert c["parameters"]["ANALOG"]["UNITS"]["value"][2] == "m/s^2"
    emg, imu = rec.streams[0].samples, rec.streams[1].samples
    ok = ~np.isnan(emg[:, 0])
    np.testing.assert_allclose(a[0, :10000][ok], emg[ok, 0], rtol=1e-6, atol=1e-12)  # float32 in C3D
    first = round((IMU_START - T0) * 1000)  # the IMU's own samples sit on every 10th analog sample
    np.testing.assert_allclose(a[2:8, first : first + 10000 : 10].T, imu, rtol=1e-6, atol=1e-6)
    times = c["parameters"]["EVENT"]["TIMES"]["value"]
    assert list(c["parameters"]["EVENT"]["LABELS"]["value"]) == [t for _, t in MARKERS]
    np.testing.assert_allclose(times[0] * 60 + times[1], [t - T0 for t, _ in MARKERS], atol=1e-4)


def test_results_export_as_parquet_equal_to_the_csv(tmp_path):
    src = Path(__file__).resolve().parents[1] / "recordings" / "before.xdf"
    csv, pq = tmp_path / "r.csv", tmp_path / "r.parquet"
    assert main(["analyze", str(src), "--csv", str(csv), "--parquet", str(pq), "-q"]) == 0
    a, b = pd.read_csv(csv), pd.read_parquet(pq)
    assert len(a) == len(b) == 64 and list(a.columns) == list(b.columns)
    np.testing.assert_allclose(a["latency_ms"], b["latency_ms"].astype(float))
    assert list(a["muscle"]) == list(b["muscle"])


def test_export_never_overwrites(source, tmp_path, capsys):
    out, _ = export(source, tmp_path, "edf")
    before = out.read_bytes()
    assert main(["export", str(source), "--to", "edf", "-o", str(out)]) != 0
    assert "exists; pass --overwrite" in capsys.readouterr().err and out.read_bytes() == before
    assert main(["export", str(source), "--to", "mat", "-o", str(source), "--overwrite"]) != 0
    assert "also an input" in capsys.readouterr().err
    folder, _ = export(source, tmp_path, "csv")
    (folder / "notes.txt").write_text("mine")
    stamp = (folder / "emg.csv").stat().st_mtime_ns
    assert main(["export", str(source), "--to", "csv", "-o", str(folder)]) != 0
    assert "exists; pass --overwrite" in capsys.readouterr().err and (folder / "emg.csv").stat().st_mtime_ns == stamp
    assert main(["export", str(source), "--to", "csv", "-o", str(folder), "--overwrite", "-q"]) == 0
    assert (folder / "notes.txt").read_text() == "mine"  # a folder's other files are left alone
    assert not [p for p in tmp_path.rglob("*partial*")]


def test_export_picks_streams(source, tmp_path):
    out, _ = export(source, tmp_path, "csv", "--stream", "IMU")
    assert sorted(p.name for p in out.iterdir()) == ["channels.csv", "markers.csv", "pelvis.csv"]


def test_edf_header_numbers_and_record_layout():
    assert edf_number(2345.6789123, up=True) == 2345.679 and edf_number(-1234.56789, up=False) == -1234.57
    assert edf_number(-0.000123456, up=False) == -0.00013  # "-0.000124" would be 9 characters
    assert record_seconds([1000.0, 148.5]) == 2 and record_seconds([1000 / 7]) == 7
    assert record_seconds([1000 / 61]) is None


def test_edf_resamples_only_a_rate_it_cannot_hold_and_says_so(tmp_path, capsys):
    path = tmp_path / "odd.xdf"
    info = StreamInfo("emg", "EMG", ("glute_max_L",), ("V",), 1000 / 61, "t:0", "double64")  # no record fits it
    w = XdfWriter(path)
    w.write_chunk(Chunk(info, T0 + np.arange(200) * 61 / 1000, np.sin(np.arange(200) / 5.0)[:, None] * 1e-3))
    w.close()
    out = tmp_path / "odd.edf"
    assert main(["export", str(path), "--to", "edf", "-o", str(out), "-q"]) == 0
    assert "emg resampled from 16.3934 to 16 Hz" in capsys.readouterr().err
    with pyedflib.EdfReader(str(out)) as r:
        assert r.getSampleFrequency(0) == 16.0
        onsets, _, texts = r.readAnnotations()
    assert list(zip(onsets, texts, strict=True)) == [(0.0, "resampled 16.3934->16 Hz: emg")]


def test_every_note_an_edf_export_makes_is_in_the_file_whole(tmp_path, capsys):
    """What an EDF export changed is said in the file as annotations at 0 s, each within the 40
    characters pyedflib keeps of one (in the header's recording field, which keeps 24, the second
    of these notes was lost and the first cut); a marker longer than that is cut to 40 and the
    export says so; nothing makes pyedflib warn."""
    path = tmp_path / "odd.xdf"
    w = XdfWriter(path)
    odd = StreamInfo("emg", "EMG", ("glute_max_L",), ("V",), 1000 / 61, "t:0", "double64")
    w.write_chunk(Chunk(odd, T0 + np.arange(200) * 61 / 1000, np.sin(np.arange(200) / 5.0)[:, None] * 1e-3))
    force = StreamInfo("force", "Force", ("fz",), ("N",), 0.0, "t:9", "double64")
    w.write_chunk(Chunk(force, T0 + np.sort(np.random.default_rng(0).uniform(0, 2, 50)), np.ones((50, 1))))
    long = "note: the patient reported pain in the left hip after the third set"
    marks = StreamInfo("markers", "Markers", ("marker",), ("",), 0.0, "t:m", "string")
    w.write_chunk(Chunk(marks, np.array([T0 + 1.0, T0 + 2.0]), np.array([["calibration_start:standing"], [long]],
                                                                         dtype=object)))  # fmt: skip
    w.close()
    out = tmp_path / "odd.edf"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert main(["export", str(path), "--to", "edf", "-o", str(out), "-q"]) == 0
    err = capsys.readouterr().err
    assert "1 marker longer than 40 characters cut to 40" in err and "force: no nominal sample rate" in err
    with pyedflib.EdfReader(str(out)) as r:
        onsets, _, texts = r.readAnnotations()
    got = sorted(zip(np.round(onsets, 3), texts, strict=True))
    assert got == [(0.0, "not written (no rate): force"), (0.0, "resampled 16.3934->16 Hz: emg"),
                   (1.0, "calibration_start:standing"), (2.0, long[:40])]  # fmt: skip


def test_unknown_format_and_file_are_one_line(tmp_path, capsys):
    assert main(["export", str(tmp_path / "none.xdf"), "--to", "csv", "-o", str(tmp_path / "x")]) != 0
    err = capsys.readouterr().err
    assert "cannot read" in err and "Traceback" not in err
    json.dumps(err)


def test_a_stream_without_a_rate_is_said_to_be_left_out_of_edf_and_c3d(tmp_path, capsys):
    path = tmp_path / "irregular.xdf"
    w = XdfWriter(path)
    w.write_chunk(Chunk(EMG_INFO, T0 + np.arange(2000) / 1000.0, np.zeros((2000, 2))))
    force = StreamInfo("force", "Force", ("fz",), ("N",), 0.0, "t:9", "double64")  # irregular: no nominal rate
    w.write_chunk(Chunk(force, T0 + np.sort(np.random.default_rng(0).uniform(0, 2, 50)), np.ones((50, 1))))
    w.close()
    for fmt in ("edf", "c3d"):
        assert main(["export", str(path), "--to", fmt, "-o", str(tmp_path / f"x.{fmt}"), "-q"]) == 0
        assert "force: no nominal sample rate, not written" in capsys.readouterr().err
    assert main(["export", str(path), "--to", "csv", "-o", str(tmp_path / "t"), "-q"]) == 0
    assert len(pd.read_csv(tmp_path / "t" / "force.csv")) == 50  # the tables keep it


def test_a_long_csv_is_written_in_steps_with_progress_and_the_same_text(source, tmp_path, monkeypatch, capsys):
    import sensorkit.export.tables as tables

    one_go = tmp_path / "one"
    assert main(["export", str(source), "--to", "csv", "-o", str(one_go), "-q"]) == 0
    monkeypatch.setattr(tables, "CSV_ROWS_PER_STEP", 3000)
    steps = tmp_path / "steps"
    assert main(["export", str(source), "--to", "csv", "-o", str(steps)]) == 0
    err = capsys.readouterr().err
    assert "emg.csv: 30%" in err and "emg.csv: 100%" in err
    for name in ("emg.csv", "pelvis.csv", "markers.csv", "channels.csv"):
        assert (steps / name).read_text() == (one_go / name).read_text(), name
