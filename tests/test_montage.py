"""Other software's files: `--stream` picks streams, a montage file names kinds, units and
channels, and such a file analyses exactly as sensorkit's own recording of the same data."""

import json
from pathlib import Path

import numpy as np
import pytest

from sensorkit.cli import main
from sensorkit.errors import SensorkitError
from sensorkit.montage import Montage, load_montage
from sensorkit.recording.xdf_reader import apply_montage, read_xdf
from sensorkit.recording.xdf_writer import XdfWriter
from sensorkit.streams import Chunk, StreamInfo
from tests.conftest import shared_file

ROOT = Path(__file__).resolve().parents[1]
BEFORE = ROOT / "recordings" / "before.xdf"
IMU_LABELS = ("AccX", "AccY", "AccZ", "GyrX", "GyrY", "GyrZ")

MONTAGE = """
[streams]
BioSemi = "EMG"
Sacrum = "IMU"

[units]
BioSemi = "uV"

[channels]
{emg}

[channels.Sacrum]
AccX = "acc_x"
AccY = "acc_y"
AccZ = "acc_z"
GyrX = "gyr_x"
GyrY = "gyr_y"
GyrZ = "gyr_z"
"""


def as_other_software(src: Path, out: Path) -> list[str]:
    """`src` rewritten as another lab's LabRecorder file: EMG typed EEG named BioSemi with
    channels EXG1.. in microvolts and no unit, the IMU typed Accelerometer named Sacrum with
    channels AccX.. in g and deg/s. Returns the EMG's sensorkit labels in EXG order."""
    rec = read_xdf(src)
    w = XdfWriter(out, {"patient": "P001", "session": "before"})
    labels = []
    for s in rec.streams:
        if s.info.kind == "EMG":
            labels = list(s.info.channels)
            n = len(labels)
            info = StreamInfo("BioSemi", "EEG", tuple(f"EXG{i + 1}" for i in range(n)), ("",) * n,
                              s.info.srate, "biosemi-1", "double64")  # fmt: skip
            samples = s.samples * 1e6
        elif s.info.kind == "IMU":
            info = StreamInfo("Sacrum", "Accelerometer", IMU_LABELS, ("g",) * 3 + ("deg/s",) * 3, s.info.srate,
                              "sacrum-1", "double64")  # fmt: skip
            samples = np.hstack([s.samples[:, :3] / 9.80665, np.degrees(s.samples[:, 3:])])
        else:
            info, samples = s.info, s.samples
        w.write_chunk(Chunk(info, s.timestamps, samples))
    w.close()
    return labels


@pytest.fixture(scope="module")
def other(tmp_path_factory):
    d = tmp_path_factory.mktemp("other")
    labels = as_other_software(BEFORE, d / "labrecorder.xdf")
    emg = "\n".join(f'EXG{i + 1} = "{lab}"' for i, lab in enumerate(labels))
    (d / "montage.toml").write_text(MONTAGE.format(emg=emg))
    return d


def reps(result):
    return [(b["exercise"], b["side"], r["movement_onset_s"], r.get("pelvic_drop_deg"), r["onsets_s"])
            for b in result["exercises"] for r in b["reps"]]  # fmt: skip


def test_another_labs_file_with_a_montage_analyses_as_our_own_recording(other, capsys):
    ours, theirs = other / "ours.json", other / "theirs.json"
    assert main(["analyze", str(BEFORE), "--json", str(ours), "-q"]) == 0
    assert main(["analyze", str(other / "labrecorder.xdf"), "--montage-file", str(other / "montage.toml"),
                 "--json", str(theirs), "-q"]) == 0  # fmt: skip
    err = capsys.readouterr().err
    assert "stream 'BioSemi' (type EEG) read as EMG" in err
    assert "stream 'Sacrum' (type Accelerometer) read as IMU" in err
    a, b = json.loads(ours.read_text()), json.loads(theirs.read_text())
    ra, rb = reps(a), reps(b)
    assert len(ra) == 8 and len(rb) == len(ra)
    for x, y in zip(ra, rb, strict=True):
        assert x[:2] == y[:2]
        assert y[2] == pytest.approx(x[2], abs=1e-6)
        assert (x[3] is None and y[3] is None) or y[3] == pytest.approx(x[3], abs=1e-6)
        assert y[4].keys() == x[4].keys()
        for m, t in x[4].items():
            assert (t is None and y[4][m] is None) or y[4][m] == pytest.approx(t, abs=1e-6), m


def test_without_the_montage_the_file_is_refused_with_a_way_out(other, capsys):
    assert main(["analyze", str(other / "labrecorder.xdf")]) != 0
    err = capsys.readouterr().err
    assert "no EMG stream" in err and "--stream" in err and "Traceback" not in err


def test_stream_picks_a_stream_by_type_and_reads_it_as_emg(other, capsys):
    rec, notes = apply_montage(read_xdf(other / "labrecorder.xdf"), load_montage(None, ["EEG"]))
    assert notes == ["stream 'BioSemi' (type EEG) read as EMG"]
    assert [(s.info.name, s.info.kind) for s in rec.streams] == [("BioSemi", "EMG"), ("markers", "Markers")]
    assert main(["info", str(other / "labrecorder.xdf"), "--stream", "biosemi"]) == 0
    out = capsys.readouterr().out
    assert "BioSemi       EMG" in out and "Sacrum" not in out and "calibration_start:standing" in out


def test_a_picked_stream_with_the_six_imu_channels_is_an_imu():
    info = StreamInfo("dot", "MoCap", ("acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z"), ("",) * 6, 60.0)
    assert Montage(picks=("dot",)).map_info(info).info.kind == "IMU"
    assert Montage(picks=("other",)).map_info(info) is None
    assert Montage(kinds={"MoCap": None}).map_info(info) is None  # "ignore"


def test_stream_naming_nothing_is_refused_listing_the_streams(other, capsys):
    assert main(["analyze", str(other / "labrecorder.xdf"), "--stream", "Biosemi2"]) != 0
    err = capsys.readouterr().err
    assert "--stream 'Biosemi2' names no stream" in err and "'BioSemi' (type EEG, 8 ch)" in err


@pytest.mark.parametrize("text, says", [
    ("[streams]\nBioSemi = 'brain'\n", "use EMG, IMU, Markers or ignore"),
    ("[units]\nBioSemi = 'furlongs'\n", "not a unit sensorkit knows"),
    ("[channels]\nEXG1 = 3\n", "a channel's new name is text"),
    ("[stream]\nBioSemi = 'EMG'\n", "unknown table(s) stream"),
    ("[streams\n", "is not valid TOML"),
])  # fmt: skip
def test_a_bad_montage_file_gets_one_clear_line(tmp_path, capsys, text, says):
    path = tmp_path / "m.toml"
    path.write_text(text)
    with pytest.raises(SensorkitError, match="montage"):
        load_montage(str(path))
    assert main(["info", str(BEFORE), "--montage-file", str(path)]) != 0
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err


def test_montage_entries_for_other_files_only_warn(other):
    m = Montage(kinds={"Delsys": "EMG"})
    rec, notes = apply_montage(read_xdf(BEFORE), m)
    assert notes == [f"montage [streams] 'Delsys' names no stream of {BEFORE}"]
    assert [s.info.kind for s in rec.streams] == ["EMG", "IMU", "Markers"]


def test_live_reads_a_replay_through_the_montage_as_analyze_does(other, tmp_path, capsys):
    path, montage = other / "labrecorder.xdf", str(other / "montage.toml")
    live, offline = tmp_path / "live.json", tmp_path / "offline.json"
    assert main(["live", f"file://{path}?speed=0", "--montage-file", montage, "--json", str(live), "-q"]) == 0
    assert main(["analyze", str(path), "--montage-file", montage, "--json", str(offline), "-q"]) == 0
    capsys.readouterr()
    a, b = json.loads(live.read_text()), json.loads(offline.read_text())
    assert [(x[0], x[1]) for x in reps(a)] == [(x[0], x[1]) for x in reps(b)]
    assert len(reps(a)) == 8


def test_a_real_labrecorder_file_with_eeg_typed_biosemi(capsys):
    path = shared_file("xdf_example_files", "clock_resets.xdf")
    assert main(["analyze", str(path)]) != 0
    assert "--stream" in capsys.readouterr().err
    assert main(["analyze", str(path), "--stream", "BioSemi"]) != 0  # picked, read as EMG: then its rate refuses it
    err = capsys.readouterr().err
    assert "stream 'BioSemi' (type EEG) read as EMG" in err and "100 Hz is too slow" in err


def test_live_refuses_a_stream_pick_that_names_no_stream_of_the_devices(other, tmp_path, capsys):
    path = other / "labrecorder.xdf"
    assert main(["live", f"file://{path}?speed=0", "--stream", "Delsys", "-q"]) != 0
    err = capsys.readouterr().err
    assert "--stream 'Delsys' names no stream or stream type of the devices" in err
    assert "'BioSemi' (type EEG, 8 ch)" in err
