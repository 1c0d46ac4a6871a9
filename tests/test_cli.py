"""The sensorkit command: happy paths and one-line errors."""

import json
import subprocess
import sys

import pytest

from sensorkit.cli import main, truth_path


def _commands() -> list[str]:
    import argparse

    from sensorkit.cli import build_parser

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return sorted(sub.choices)


@pytest.mark.parametrize("command", _commands())
def test_help_on_every_command(command, capsys):
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "usage: sensorkit " + command in out
    assert "%%" not in out  # a description is printed as written (compare's once read "95%% interval")


def test_simulate_then_info(tmp_path, capsys):
    out = tmp_path / "s.xdf"
    assert main(["simulate", "single_leg_squat", "-o", str(out), "--param", "reps=2",
                 "--param", "glute_delay_ms=100", "--patient", "P003", "--session", "before"]) == 0
    truth = json.loads(truth_path(out).read_text())
    assert truth["config"]["dose"]["glute_delay_ms"] == 100
    assert len(truth["exercises"]) == 2
    capsys.readouterr()
    assert main(["info", str(out)]) == 0
    text = capsys.readouterr().out
    assert "patient P003, session before" in text and "montage: simulated" in text
    assert "glute_med_L (V)" in text and "acc_x (m/s^2)" in text
    assert "exercise_start:single_leg_squat:L" in text
    emg_line = next(line.split() for line in text.splitlines() if line.strip().startswith("emg "))
    assert emg_line[1:5] == ["EMG", "8", "2000", str(int(truth["duration_s"] * 2000))]


def test_record_with_duration_and_replay_into_a_new_file(tmp_path, capsys):
    first = tmp_path / "a.xdf"
    assert main(["record", "sim://single_leg_squat?speed=0&reps=1", "-o", str(first),
                 "--duration", "10"]) == 0
    second = tmp_path / "b.xdf"
    assert main(["record", f"file://{first}?speed=0", "-o", str(second)]) == 0
    capsys.readouterr()
    main(["info", str(second)])
    text = capsys.readouterr().out
    assert "emg" in text and "pelvis" in text


@pytest.mark.parametrize("argv, message", [
    (["info", "/nonexistent/x.xdf"], "cannot read"),
    (["record", "tcp://host", "-o", "{tmp}/x.xdf"], "unknown device scheme"),
    (["record", "ble://name=Myo?protocol=myo&timeout=soon", "-o", "{tmp}/x.xdf"], "timeout='soon' is not a number"),
    (["record", "lsl://type=EMG?timeout=-1", "-o", "{tmp}/x.xdf"], "timeout='-1' must be positive"),
    (["record", "serial:///dev/ttyUSB9", "-o", "{tmp}/x.xdf"], "does not exist"),
    (["record", "nonsense", "-o", "{tmp}/x.xdf"], "is not a spec"),
    (["simulate", "tango", "-o", "{tmp}/x.xdf"], "unknown sim scenario"),
    (["simulate", "session", "-o", "{tmp}/x.xdf", "--param", "reps=lots"], "not a valid"),
    (["simulate", "session", "-o", "{tmp}/x.xdf", "--param", "onset_ramps=steep"], "must be 'exp' or 'varied'"),
    (["simulate", "session", "-o", "{tmp}/x.txt"], "must end in .xdf"),
    (["simulate", "session", "-o", "{tmp}/x.xdf", "--patient", "Jane Doe"], "never a name"),
])
def test_user_errors_are_one_line_and_non_zero(argv, message, tmp_path, capsys):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    assert main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


def test_existing_output_is_not_overwritten(tmp_path, capsys):
    out = tmp_path / "keep.xdf"
    out.write_bytes(b"precious")
    assert main(["simulate", "calibration", "-o", str(out)]) == 1
    assert "exists" in capsys.readouterr().err and out.read_bytes() == b"precious"


def test_bad_file_and_bad_arguments_in_a_real_process_print_no_traceback(tmp_path):
    bad = tmp_path / "bad.xdf"
    bad.write_bytes(b"XDF:\x09garbage")
    for argv in (["info", str(bad)], ["record"], ["info", str(tmp_path / "none.xdf")]):
        p = subprocess.run([sys.executable, "-m", "sensorkit", *argv], capture_output=True, text=True)
        assert p.returncode != 0
        assert "Traceback" not in p.stderr and len(p.stderr.strip().splitlines()) == 1, p.stderr


def test_truncated_file_info_salvages(tmp_path, capsys):
    out = tmp_path / "t.xdf"
    assert main(["simulate", "calibration", "-o", str(out)]) == 0
    data = out.read_bytes()
    out.write_bytes(data[: len(data) // 2 + 7])
    capsys.readouterr()
    assert main(["info", str(out)]) == 0
    text = capsys.readouterr().out
    assert "salvaged" in text and "emg" in text


def test_help_and_version_start_without_the_heavy_packages():
    code = ("import sys\nfrom sensorkit.cli import main\n"
            "for argv in (['--version'], ['--help'], ['analyze', '--help'], ['live', '--help']):\n"
            "    try:\n        main(argv)\n    except SystemExit:\n        pass\n"
            "print(sorted(m for m in ('scipy', 'pandas', 'pyxdf', 'PySide6', 'pyqtgraph') if m in sys.modules))")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip().splitlines()[-1] == "[]"
