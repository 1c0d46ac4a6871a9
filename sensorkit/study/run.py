"""`sensorkit batch`: every recording of a study analysed on a local process pool or a
Dask cluster, resumably.

Each recording is analysed in a worker (`analyse_one`: read, montage, analyse; a
failure comes back as one line, never stops the batch). The main process writes, as
each finishes, `RESULTS/sessions/<name>.json` and `.csv` and a line of the batch's state
(`RESULTS/batch_state.jsonl`: per recording its size, modification time and the options,
and whether it failed and why; appended, so a study of thousands of recordings does not
rewrite it whole after each), so an interrupted batch loses nothing done, and a second
run analyses only what is new or changed (or all, with `force`). At the end:
`RESULTS/study.csv` and `study.parquet` (every current recording's rows, see `rows.py`)
and `RESULTS/errors.csv` (file, reason).

On a Dask cluster (`tcp://HOST:PORT`) the workers need sensorkit installed and the
recordings at the same paths (a shared file system); `local-cluster` starts a
`dask.distributed.LocalCluster` on this machine for the run.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

from sensorkit import __version__
from sensorkit.analysis.session import AnalysisOptions, analyze_session
from sensorkit.errors import SensorkitError
from sensorkit.montage import Montage
from sensorkit.recording.outputs import atomic_output, write_text
from sensorkit.recording.session_input import session_data
from sensorkit.recording.xdf_reader import apply_montage, read_xdf
from sensorkit.report.table import result_csv
from sensorkit.study.rows import study_rows, study_table
from sensorkit.study.sources import find_recordings, study_name

STATE = "batch_state.jsonl"


@dataclass(frozen=True)
class Job:
    """One recording to analyse (sent to a worker: everything in it pickles)."""

    path: str
    name: str  # its name in the study
    options: AnalysisOptions
    montage: Montage


@dataclass
class BatchSummary:
    total: int = 0
    analysed: int = 0
    failed: int = 0  # of those analysed in this run
    skipped: int = 0  # unchanged since the last run
    errors: list[tuple[str, str]] = field(default_factory=list)  # every current failure: (file, reason)
    out: str = ""


def analyse_one(job: Job) -> tuple[str, dict | None, str | None]:
    """(name, result, None) or (name, None, the reason in one line)."""
    try:
        rec, _ = apply_montage(read_xdf(job.path), job.montage)
        return job.name, analyze_session(session_data(rec), job.options), None
    except SensorkitError as exc:
        return job.name, None, " ".join(str(exc).split())
    except Exception as exc:  # a worker never takes the batch down: the file is listed with why
        return job.name, None, " ".join(f"{type(exc).__name__}: {exc}".split())


def fingerprint(path: Path, options: AnalysisOptions, montage: Montage) -> str:
    """What decides whether a recording must be analysed again: its size and modification
    time, the analysis options, the montage and sensorkit's version."""
    st = path.stat()
    what = json.dumps([st.st_size, st.st_mtime_ns, asdict(options), repr(montage), __version__],
                      sort_keys=True, default=str)  # fmt: skip
    return hashlib.sha256(what.encode()).hexdigest()[:32]


def _outputs(out: Path, name: str) -> tuple[Path, Path]:
    stem = out / "sessions" / name
    return stem.with_suffix(".json"), stem.with_suffix(".csv")


def _completed(jobs: list[Job], workers: int, scheduler: str | None) -> Iterator[tuple[str, dict | None, str | None]]:
    """Results as the workers finish them: a local process pool, or a Dask cluster."""
    if not jobs:
        return
    if scheduler is None:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(analyse_one, j) for j in jobs]
            for f in as_completed(futures):
                yield f.result()
        return
    try:
        from dask.distributed import Client, LocalCluster
        from dask.distributed import as_completed as dask_completed
    except ImportError:
        raise SensorkitError("--scheduler needs Dask: pip install 'sensorkit[dask]'") from None
    if scheduler == "local-cluster":
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    else:
        try:
            client, cluster = Client(scheduler, timeout="10s"), None
        except OSError as exc:
            raise SensorkitError(f"cannot reach the Dask scheduler {scheduler}: {exc}") from None
    try:
        futures = client.map(analyse_one, jobs, pure=False)
        for f in dask_completed(futures):
            yield f.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def run_batch(where: str, out: str, options: AnalysisOptions = AnalysisOptions(), montage: Montage = Montage(),
              workers: int = 1, scheduler: str | None = None, force: bool = False,
              progress: Callable[[int, int, int], None] | None = None) -> BatchSummary:  # fmt: skip
    """Analyse every recording of `where` (a folder or a glob) into the folder `out`.

    `progress(done, failed, total)` is called as each recording finishes."""
    root, files = find_recordings(where)
    base = Path(out)
    if base.exists() and not base.is_dir():
        raise SensorkitError(f"{out} is a file; --out names a folder for the results")
    if not base.parent.exists():
        raise SensorkitError(f"folder {base.parent} does not exist")
    files = [f for f in files if base.resolve() not in f.parents]  # results inside the study are not recordings
    base.mkdir(exist_ok=True)
    state_path = base / STATE
    state = _read_state(state_path)
    names = {study_name(root, f): f for f in files}
    prints = {n: fingerprint(f, options, montage) for n, f in names.items()}
    todo = [Job(str(f), n, options, montage) for n, f in names.items()
            if force or state.get(n, {}).get("fingerprint") != prints[n]
            or (state[n].get("status") == "ok" and not _outputs(base, n)[0].exists())]  # fmt: skip
    summary = BatchSummary(total=len(names), skipped=len(names) - len(todo), out=str(base))
    if progress:
        progress(0, 0, len(todo))
    rows_of: dict[str, list[dict]] = {}  # this run's results' rows (the others are read back from their JSON)
    for name, result, reason in _completed(todo, workers, scheduler):
        if result is not None:
            rows_of[name] = study_rows(result, name)
            json_path, csv_path = _outputs(base, name)
            json_path.parent.mkdir(parents=True, exist_ok=True)
            write_text(json_path, json.dumps(result, indent=1))
            write_text(csv_path, result_csv(result))
            state[name] = {"fingerprint": prints[name], "status": "ok"}
        else:
            summary.failed += 1
            state[name] = {"fingerprint": prints[name], "status": "failed", "reason": reason}
        summary.analysed += 1
        with open(state_path, "a") as f:  # after each: an interrupt loses nothing
            f.write(json.dumps({"file": name, **state[name]}, sort_keys=True) + "\n")
        if progress:
            progress(summary.analysed, summary.failed, len(todo))
    state = {n: v for n, v in state.items() if n in names}  # recordings gone from the study leave its table
    lines = [json.dumps({"file": n, **v}, sort_keys=True) + "\n" for n, v in sorted(state.items())]
    write_text(state_path, "".join(lines))
    rows, errors = [], []
    for name in sorted(names):
        entry = state.get(name, {})
        if entry.get("status") == "ok":
            if name not in rows_of:
                rows_of[name] = study_rows(json.loads(_outputs(base, name)[0].read_text()), name)
            rows += rows_of[name]
        else:
            errors.append((name, entry.get("reason", "not analysed")))
    table = study_table(rows)
    write_text(base / "study.csv", table.to_csv(index=False))
    with atomic_output(base / "study.parquet") as tmp:
        table.to_parquet(tmp, index=False)
    write_text(base / "errors.csv", pd.DataFrame(errors, columns=["file", "reason"]).to_csv(index=False))
    summary.errors = errors
    return summary


def _read_state(path: Path) -> dict:
    """Each recording's last state line (a later line replaces an earlier one); a torn last
    line (the batch was killed while writing it) or no file means: analyse again."""
    state: dict = {}
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return state
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and isinstance(entry.get("file"), str):
            state[entry.pop("file")] = entry
    return state
