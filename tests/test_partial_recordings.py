"""Recordings with only some of the sensors: a sacral IMU alone, EMG alone, or neither.

Each is made from the example recording by keeping some of its streams, so the full
recording's analysis is the yardstick: what the partial one reports must equal it, and
what it cannot report it must say, offline and live alike.
"""

import csv
import io
import json

import jsonschema
import pytest
from conftest import ROOT

from sensorkit.analysis.session import analyze_session
from sensorkit.cli import main
from sensorkit.recording.session_input import session_data
from sensorkit.recording.xdf_reader import read_xdf
from sensorkit.recording.xdf_writer import XdfWriter
from sensorkit.streams import Chunk

EXAMPLE = ROOT / "recordings" / "before.xdf"
SCHEMA = json.loads((ROOT / "sensorkit" / "analysis" / "result.schema.json").read_text())


def keep_streams(path, kinds: set[str]) -> None:
    rec = read_xdf(EXAMPLE)
    w = XdfWriter(path, {"patient": "P001", "session": "before"})
    for s in rec.streams:
        if s.info.kind in kinds:
            w.write_chunk(Chunk(s.info, s.timestamps, s.samples))
    w.close()


@pytest.fixture(scope="module")
def full():
    return analyze_session(session_data(read_xdf(EXAMPLE)))


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("partial")
    out = {}
    for name, kinds in (("imu", {"IMU", "Markers"}), ("emg", {"EMG", "Markers"}), ("markers", {"Markers"})):
        out[name] = d / f"{name}_only.xdf"
        keep_streams(out[name], kinds)
    return out


def reps(result):
    return [r for b in result["exercises"] for r in b["reps"]]


def test_an_imu_only_recording_gives_the_pelvic_drops_of_the_full_one(files, full, capsys):
    result = analyze_session(session_data(read_xdf(files["imu"])))
    jsonschema.validate(result, SCHEMA)
    assert [(b["exercise"], b["side"]) for b in result["exercises"]] == \
        [(b["exercise"], b["side"]) for b in full["exercises"]]  # fmt: skip
    assert [r["pelvic_drop_deg"] for r in reps(result)] == [r["pelvic_drop_deg"] for r in reps(full)]
    assert [r["movement_onset_s"] for r in reps(result)] == [r["movement_onset_s"] for r in reps(full)]
    assert all(r["latency_ms"] == {} for r in reps(result)) and len(reps(result)) == 8
    assert [g["what"] for g in result["not_analysed"]] == ["muscle onsets and latencies"]
    report, table = files["imu"].parent / "imu.html", files["imu"].parent / "imu.csv"
    assert main(["analyze", str(files["imu"]), "-q", "--report", str(report), "--csv", str(table)]) == 0
    assert "not analysed: muscle onsets and latencies" in report.read_text()
    rows = list(csv.DictReader(io.StringIO(table.read_text())))  # one row per repetition, no muscle
    assert [float(r["pelvic_drop_deg"]) for r in rows] == [r["pelvic_drop_deg"] for r in reps(full)]
    assert {r["muscle"] for r in rows} == {""} and all(float(r["pelvic_drop_sd_deg"]) > 0 for r in rows)
    text = capsys.readouterr().out
    assert "not analysed: muscle onsets and latencies (the recording has no EMG stream)" in text
    assert "pelvic drop: mean +7.0 deg over 4 reps" in text


def test_an_emg_only_recording_says_which_blocks_need_a_reference_muscle(files, full, capsys):
    result = analyze_session(session_data(read_xdf(files["emg"])))
    assert [g["what"] for g in result["not_analysed"]] == ["pelvic drop and movement onsets"]
    assert all("--reference" in b["not_analysed"] and b["reps"] == [] for b in result["exercises"])
    assert main(["analyze", str(files["emg"]), "-q", "--reference", "biceps_femoris"]) == 0
    text = capsys.readouterr().out
    assert "latency (ms) to biceps_femoris_L onset" in text and "latency (ms) to biceps_femoris_R onset" in text
    assert "glute_med_R: mean" in text and "pelvic_drop_deg" not in text


@pytest.mark.parametrize("kind", ["imu", "emg"])
def test_live_replay_of_a_partial_recording_equals_analyze(files, kind, tmp_path):
    out = tmp_path / "live.json"
    assert main(["live", f"file://{files[kind]}?speed=0", "--json", str(out), "-q"]) == 0
    live = json.loads(out.read_text())
    offline = analyze_session(session_data(read_xdf(files[kind])))
    assert live["not_analysed"] == offline["not_analysed"]
    assert [(b["exercise"], b["side"], b.get("not_analysed")) for b in live["exercises"]] == \
        [(b["exercise"], b["side"], b.get("not_analysed")) for b in offline["exercises"]]  # fmt: skip
    for rl, ro in zip(reps(live), reps(offline), strict=True):
        assert rl.get("pelvic_drop_deg") == pytest.approx(ro.get("pelvic_drop_deg"), abs=1.0)


def test_a_recording_with_neither_emg_nor_a_pelvis_imu_is_refused_in_one_line(files, capsys):
    assert main(["analyze", str(files["markers"]), "-q"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no EMG stream with samples and no pelvis IMU" in err[0]


def test_a_gait_block_without_contacts_is_reported_not_analysed_and_the_rest_still_counts(tmp_path, capsys):
    walk = tmp_path / "walk.xdf"
    assert main(["simulate", "gait", "-o", str(walk), "--seed", "2"]) == 0
    rec = read_xdf(walk)
    emg_only = tmp_path / "walk_emg.xdf"
    w = XdfWriter(emg_only, {"patient": "P001", "session": "before"})
    for s in rec.streams:
        if s.info.kind in ("EMG", "Markers"):
            w.write_chunk(Chunk(s.info, s.timestamps, s.samples))
    w.close()
    capsys.readouterr()
    assert main(["analyze", str(emg_only), "-q"]) == 0  # no contacts, no IMU: said, not a failure
    assert "gait: not analysed: no foot contacts" in capsys.readouterr().out
