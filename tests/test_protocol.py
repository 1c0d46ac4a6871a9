"""The session protocol: TOML in, markers out, and a real session that analyses by block
because of them (the simulated patient here sends no markers of its own)."""

import subprocess
import sys
import threading
import time

import pytest

from sensorkit.analysis.session import analyze_session
from sensorkit.errors import SensorkitError
from sensorkit.recording.protocol import ProtocolRunner, load_protocol
from sensorkit.recording.record import MarkerStream, record
from sensorkit.recording.session_input import session_data
from sensorkit.recording.xdf_reader import read_xdf
from sensorkit.sim import Dosage, SimConfig, simulate


def test_the_default_protocol_and_its_markers():
    p = load_protocol()
    assert [s.kind for s in p.steps[:3]] == ["calibration", "calibration", "exercise"]
    sent = []
    runner = ProtocolRunner(p, sent.append)
    for _ in range(2 * len(p.steps)):
        runner.advance()
    assert runner.done and runner.advance() == "the protocol is complete"
    assert sent[:4] == ["calibration_start:standing", "calibration_end:standing",
                        "calibration_start:forward_bend", "calibration_end:forward_bend"]  # fmt: skip
    assert "exercise_start:single_leg_squat:L" in sent and "exercise_end:glute_bridge" in sent
    runner.annotate("  left knee  valgus ")
    assert sent[-1] == "annotation:left knee valgus"


@pytest.mark.parametrize("text, message", [
    ('[[step]]\nexercise = "tango"', "unknown exercise"),
    ('[[step]]\nexercise = "single_leg_squat"', "needs side"),
    ('[[step]]\nexercise = "glute_bridge"\nside = "L"', "bilateral"),
    ('[[step]]\ncalibration = "sitting"', "calibration must be"),
    ("name = 'x'", "no [[step]]"),
    ("[[step]\n", "not valid TOML"),
])  # fmt: skip
def test_bad_protocols_are_one_clear_message(text, message, tmp_path):
    p = tmp_path / "p.toml"
    p.write_text(text)
    with pytest.raises(SensorkitError, match=message.replace("[", r"\[")):
        load_protocol(p)


def _walk_through(protocol, spec: str, due: list[tuple[float, str]], out) -> list[ProtocolRunner]:
    """Record `spec` while a clinician steps through `protocol` at the `due` data times."""
    streams = []

    def clinician(acq):
        runner = ProtocolRunner(protocol, MarkerStream(acq))
        streams.append(runner)

        def press():  # presses at the data times the simulated patient does each step
            for t, _ in due:
                while acq.first_time is None or acq.last_time - acq.first_time < t:
                    time.sleep(0.005)
                runner.advance()

        threading.Thread(target=press, daemon=True).start()

    record([spec], str(out), {"patient": "P001"}, None, quiet=True, on_start=clinician)
    return streams


def test_a_session_marked_by_the_protocol_analyses_by_block(tmp_path):
    plan = simulate(SimConfig(scenario="single_leg_squat", seed=4, dose=Dosage(reps=3)))
    due = [(t, text) for t, text in plan.markers]  # when a clinician would press, s from the start
    protocol = tmp_path / "p.toml"
    protocol.write_text('[[step]]\ncalibration = "standing"\n[[step]]\ncalibration = "forward_bend"\n'
                        '[[step]]\nexercise = "single_leg_squat"\nside = "L"\n'
                        '[[step]]\nexercise = "single_leg_squat"\nside = "R"\n')  # fmt: skip
    out = tmp_path / "marked.xdf"
    streams = _walk_through(load_protocol(protocol), "sim://single_leg_squat?speed=8&seed=4&reps=3&markers=false",
                            due, out)  # fmt: skip
    assert streams[0].done
    rec = read_xdf(out)
    texts = [m for _, m in rec.markers()]
    assert texts == [text for _, text in due]  # the protocol wrote exactly the session's markers
    result = analyze_session(session_data(rec))
    assert [(b["exercise"], b["side"], len(b["reps"])) for b in result["exercises"]] == \
        [("single_leg_squat", "L", 3), ("single_leg_squat", "R", 3)]  # fmt: skip
    assert result["pelvis"]["calibration"] == "markers"


def test_record_walks_a_protocol_in_the_terminal(tmp_path):
    out = tmp_path / "t.xdf"
    argv = ["record", "sim://calibration?speed=4&markers=false", "-o", str(out), "--protocol", "default",
            "--duration", "6"]  # fmt: skip
    p = subprocess.run([sys.executable, "-m", "sensorkit", *argv], input="\nnote patient wore shoes\n\nskip\n",
                       capture_output=True, text=True, timeout=120)  # fmt: skip
    assert p.returncode == 0, p.stderr
    assert "protocol: glute timing and pelvic drop" in p.stdout and "started calibration: standing" in p.stdout
    texts = [m for _, m in read_xdf(out).markers()]
    assert texts[:3] == ["calibration_start:standing", "annotation:patient wore shoes", "calibration_end:standing"]


def test_the_shipped_gait_protocol_marks_a_walk_that_analyses_step_by_step(tmp_path, capsys):
    """`--protocol gait`: calibration, then a walk; its markers make the walk a gait block whose
    steps (contacts from the pelvis IMU) carry their stance side."""
    from sensorkit.cli import _protocol
    from sensorkit.recording.protocol import shipped_protocols

    assert {"default", "gait"} <= set(shipped_protocols())
    protocol = _protocol("gait")
    assert [s.markers()[0] for s in protocol.steps] == [
        "calibration_start:standing", "calibration_start:forward_bend", "exercise_start:gait"]  # fmt: skip
    plan = simulate(SimConfig(scenario="gait", seed=4))
    out = tmp_path / "walk.xdf"
    streams = _walk_through(protocol, "sim://gait?speed=8&seed=4&markers=false", list(plan.markers), out)
    assert streams[0].done
    rec = read_xdf(out)
    assert [m for _, m in rec.markers()] == [text for _, text in plan.markers]
    result = analyze_session(session_data(rec))
    (block,) = result["exercises"]
    assert block["exercise"] == "gait" and block["contacts_from"] == "imu" and len(block["reps"]) >= 30
    assert {r["side"] for r in block["reps"]} == {"L", "R"}
    with pytest.raises(SensorkitError, match="no shipped protocol 'tango'"):
        load_protocol(shipped="tango")
