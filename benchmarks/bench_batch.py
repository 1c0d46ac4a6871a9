"""`sensorkit batch` throughput and the study table's size.

Throughput: 24 copies of a short simulated session (43 s, 2 EMG channels at 1 kHz and the
pelvis IMU), analysed into a fresh results folder by a local process pool of 1 and 2
workers and by a Dask LocalCluster of 2 workers (its start-up included), as sessions per
minute; the baseline is the pool of 1 in the same run. Memory: the study table of 10,000
sessions made from one real result's rows (the example recording's, renamed per
session), in memory and as CSV and Parquet.

    .venv/bin/python benchmarks/bench_batch.py
"""

from __future__ import annotations

import io
import shutil
import tempfile
import time
from pathlib import Path

from sensorkit.analysis.session import analyze_session
from sensorkit.cli import main as cli
from sensorkit.recording.session_input import session_data
from sensorkit.recording.xdf_reader import read_xdf
from sensorkit.study.rows import study_rows, study_table
from sensorkit.study.run import run_batch

ROOT = Path(__file__).resolve().parents[1]
SESSIONS = 24


def throughput(d: Path) -> dict[str, float]:
    src = d / "one.xdf"
    cli(["simulate", "single_leg_squat", "-o", str(src), "--param", "reps=1", "--param",
         "muscles=glute_med_L,glute_med_R", "--param", "fs_emg=1000"])  # fmt: skip
    study = d / "study"
    for k in range(SESSIONS):
        (study / f"P{k:03d}").mkdir(parents=True)
        shutil.copyfile(src, study / f"P{k:03d}" / "before.xdf")
    out = {}
    for label, workers, scheduler in (("pool, 1 worker", 1, None), ("pool, 2 workers", 2, None),
                                      ("Dask LocalCluster, 2 workers", 2, "local-cluster")):  # fmt: skip
        t0 = time.perf_counter()
        s = run_batch(str(study), str(d / label.replace(" ", "_").replace(",", "")), workers=workers,
                      scheduler=scheduler)  # fmt: skip
        wall = time.perf_counter() - t0
        assert s.analysed == SESSIONS and s.failed == 0
        out[label] = SESSIONS / wall * 60
    return out


def table_memory() -> tuple[int, float, float, float]:
    result = analyze_session(session_data(read_xdf(ROOT / "recordings" / "before.xdf")))
    one = study_rows(result, "P000/before.xdf")
    rows = [{**r, "file": f"P{k:05d}/before.xdf"} for k in range(10_000) for r in one]
    table = study_table(rows)
    mem = table.memory_usage(deep=True).sum() / 1e6
    csv = len(table.to_csv(index=False).encode()) / 1e6
    buf = io.BytesIO()
    table.to_parquet(buf, index=False)
    return len(table), mem, csv, buf.tell() / 1e6


def main() -> dict:
    with tempfile.TemporaryDirectory() as d:
        rates = throughput(Path(d))
    base = rates["pool, 1 worker"]
    print(f"sensorkit batch, {SESSIONS} sessions of 43 s (2 EMG channels at 1 kHz + pelvis IMU):")
    for label, r in rates.items():
        print(f"  {label:<30} {r:7.0f} sessions/min   {r / base:4.2f}x the 1-worker pool")
    n, mem, csv, pq = table_memory()
    print(f"  study table of 10,000 sessions: {n:,} rows, {mem:.0f} MB in memory, CSV {csv:.0f} MB, "
          f"Parquet {pq:.1f} MB")  # fmt: skip
    return {"rates": rates, "table_mb": mem}


if __name__ == "__main__":
    main()
