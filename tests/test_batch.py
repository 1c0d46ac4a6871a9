"""`sensorkit batch`: a study of 100 recordings with corrupt ones among them is analysed
whole (the corrupt ones listed with why), a second run does nothing, a changed recording
is analysed again, and a local process pool and a Dask LocalCluster give the same study
table."""

import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

from sensorkit.analysis.session import analyze_session
from sensorkit.cli import main
from sensorkit.recording.session_input import session_data
from sensorkit.recording.xdf_reader import read_xdf
from sensorkit.study.rows import COLUMNS, study_rows

SMALL = ["--param", "reps=1", "--param", "muscles=glute_med_L,glute_med_R", "--param", "fs_emg=1000"]
CORRUPT = {"P007/after.xdf": "cut", "P019/before.xdf": "garbage", "P033/after.xdf": "empty"}


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    """100 recordings (4 simulated patients copied under 50 pseudonymous folders, before
    and after; `benchmarks/bench_batch.py` times larger studies), 3 of them corrupt, and a
    text file that is not a recording."""
    base = tmp_path_factory.mktemp("batch")
    made = []
    for seed in range(4):
        path = base / f"seed{seed}.xdf"
        assert main(["simulate", "single_leg_squat", "-o", str(path), "--seed", str(seed), *SMALL]) == 0
        made.append(path.read_bytes())
    root = base / "study"
    for k in range(50):
        for j, label in enumerate(("before", "after")):
            p = root / f"P{k:03d}" / f"{label}.xdf"
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(made[(k + j) % 4])
    for name, how in CORRUPT.items():
        p = root / name
        data = p.read_bytes()
        p.write_bytes({"cut": data[: len(data) // 50], "garbage": os.urandom(4000), "empty": b""}[how])
    (root / "P000" / "notes.txt").write_text("not a recording")
    return root


def run(study, out, *extra):
    assert main(["batch", str(study), "--out", str(out), "--workers", "2", "-q", *extra]) == 0


def test_a_study_is_analysed_whole_resumably_and_the_same_on_a_dask_cluster(study, tmp_path, capsys):
    out = tmp_path / "results"
    run(study, out)
    text = capsys.readouterr().out
    assert "100 recordings: 97 analysed, 3 failed, 0 unchanged" in text
    errors = pd.read_csv(out / "errors.csv")
    assert sorted(errors["file"]) == sorted(CORRUPT) and errors["reason"].str.len().min() > 10
    table = pd.read_csv(out / "study.csv", keep_default_na=False)
    assert list(table.columns) == list(COLUMNS)
    assert table["file"].nunique() == 97 and not set(CORRUPT) & set(table["file"])
    drops = table[(table["metric"] == "pelvic_drop_deg")]
    assert len(drops) == 97 * 2 and (drops["n"] == 1).all()  # one repetition per side per session
    assert (out / "sessions" / "P042" / "before.json").exists() and (out / "sessions" / "P042" / "before.csv").exists()
    parquet = pd.read_parquet(out / "study.parquet")
    assert len(parquet) == len(table) and list(parquet["file"]) == list(table["file"])

    before = (out / "study.csv").read_text()
    run(study, out)  # nothing new: nothing analysed, the same table
    assert "0 analysed, 0 failed, 100 unchanged" in capsys.readouterr().out
    assert (out / "study.csv").read_text() == before

    changed = study / "P042" / "before.xdf"
    shutil.copyfile(study / "P043" / "before.xdf", changed)  # another recording under that name
    os.utime(changed, ns=(changed.stat().st_atime_ns, changed.stat().st_mtime_ns + 10**9))
    run(study, out)
    assert "1 analysed, 0 failed, 99 unchanged" in capsys.readouterr().out

    cluster = tmp_path / "cluster"
    run(study, cluster, "--scheduler", "local-cluster")
    assert "100 recordings: 97 analysed, 3 failed" in capsys.readouterr().out
    assert (cluster / "study.csv").read_text() == (out / "study.csv").read_text()
    assert (cluster / "errors.csv").read_text() == (out / "errors.csv").read_text()


def test_study_rows_carry_whose_session_it_is():
    result = analyze_session(session_data(read_xdf(Path(__file__).resolve().parents[1] / "recordings" / "before.xdf")))
    rows = study_rows(result, "P001/before.xdf")
    assert {r["pseudonym"] for r in rows} == {"P001"} and {r["session"] for r in rows} == {"before"}
    glute = [r for r in rows if r["muscle"] == "glute_med_L" and r["side"] == "L"][0]
    assert glute["judged"] and glute["n"] == 4 and glute["mean"] > 50  # the simulated patient's late glute
    assert {r["metric"] for r in rows} == {"latency_ms", "pelvic_drop_deg"}


def test_bad_arguments_are_one_line(tmp_path, capsys):
    assert main(["batch", str(tmp_path / "none"), "--out", str(tmp_path / "r")]) != 0
    assert "no such folder" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["batch", str(tmp_path / "empty"), "--out", str(tmp_path / "r")]) != 0
    assert "holds no .xdf recording" in capsys.readouterr().err
    assert main(["batch", str(tmp_path), "--out", str(tmp_path / "r"), "--scheduler", "somewhere"]) != 0
    assert "--scheduler 'somewhere'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["batch", str(tmp_path), "--out", str(tmp_path / "r"), "--workers", "0"])
    assert "give 1 to 1024" in capsys.readouterr().err


def test_the_state_is_a_journal_a_torn_last_line_costs_only_that_recording(tmp_path):
    from sensorkit.study.run import STATE, _read_state

    path = tmp_path / STATE
    path.write_text('{"file": "P1/a.xdf", "fingerprint": "x", "status": "ok"}\n'
                    '{"file": "P1/a.xdf", "fingerprint": "y", "status": "failed", "reason": "r"}\n'
                    '{"file": "P2/b.xdf", "fingerp')  # fmt: skip
    assert _read_state(path) == {"P1/a.xdf": {"fingerprint": "y", "status": "failed", "reason": "r"}}
    assert _read_state(tmp_path / "none") == {}
