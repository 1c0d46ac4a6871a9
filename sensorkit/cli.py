"""The `sensorkit` command: simulate, record, info, demo.

User errors (bad arguments, files, devices) print one line and exit non-zero.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from sensorkit import __version__
from sensorkit.analysis.exercises import EXERCISES
from sensorkit.cli_devices import register as register_device_commands
from sensorkit.defaults import DEFAULT_DETECTOR, DELAY_MARGIN_MS, DETECTORS, DROP_THRESHOLD_DEG
from sensorkit.errors import SensorkitError
from sensorkit.recording.identity import check_identity
from sensorkit.recording.outputs import check_outputs, write_text

if TYPE_CHECKING:  # for annotations only: the CLI imports the analysis lazily
    from sensorkit.analysis.mains import RecordingMains

# Everything heavier (numpy's users scipy and pandas, pyxdf, the devices) is imported inside
# the command that needs it: `sensorkit --help` and `--version` start at once.

SIM_MONTAGE = "simulated: bipolar surface EMG at SENIAM sites; IMU over S2, x anterior y left z superior"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, not usage + error
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def number(lo: float = -math.inf, hi: float = math.inf, above: bool = False):
    """An argparse type: a finite number in [lo, hi] (in (lo, hi] with `above`).

    nan and inf are refused: a NaN margin or threshold would silently clear every verdict.
    """

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        low_ok = value > lo if above else value >= lo
        if not (math.isfinite(value) and low_ok and value <= hi):
            bounds = f"{'above' if above else 'at least'} {lo:g}" if math.isfinite(lo) else ""
            if math.isfinite(hi):
                bounds += (" and " if bounds else "") + f"at most {hi:g}"
            raise argparse.ArgumentTypeError(f"{text!r} must be a finite number {bounds}".rstrip())
        return value

    return parse


POSITIVE = number(0.0, above=True)


def truth_path(xdf: str | os.PathLike) -> Path:
    """Where a simulated recording's ground truth lives: beside it, `NAME.truth.json`."""
    p = Path(xdf)
    return p.with_name(p.stem + ".truth.json")


# ---------------------------------------------------------------- record


def _spec_files(specs: list[str]) -> list[str]:
    """The files that `file://` device specs read."""
    return [s.split("://", 1)[1].split("?", 1)[0] for s in specs if s.lower().startswith("file://")]


def _check_output(path: str, overwrite: bool, inputs: list[str] | None = None,
                  extra: list[str] | None = None) -> None:  # fmt: skip
    """An .xdf output (and its `extra` companions) that destroys nothing; see `check_outputs`."""
    if Path(path).suffix.lower() != ".xdf":
        raise SensorkitError(f"output {path} must end in .xdf")
    check_outputs([path, *(extra or [])], inputs or [], overwrite)


def _source_names(specs: list[str], keep: bool) -> str:
    """The device specs for the file header, without paths: a file name can carry a
    patient's name, a path a user's; the file name only when the user asks (`keep`)."""
    out = []
    for s in specs:
        if "://" in s and s.split("://", 1)[0].lower() in ("file", "import"):
            scheme, rest = s.split("://", 1)
            name = Path(rest.split("?", 1)[0]).name if keep else "(file name not stored)"
            out.append(f"{scheme}://{name}")
        else:
            out.append(s)
    return " ".join(out)


def _file_meta(args, specs: list[str]) -> dict[str, str]:
    check_identity(args.patient, args.session)
    return {"patient": args.patient, "session": args.session, "montage": args.montage,
            "devices": _source_names(specs, getattr(args, "store_source_names", False))}  # fmt: skip


def _protocol(name: str):
    """The protocol `--protocol` names: a TOML file, or the name of a shipped one ("default", "gait")."""
    from sensorkit.recording.protocol import load_protocol, shipped_protocols

    if name in shipped_protocols():  # a file of that bare name is named as ./gait
        return load_protocol(shipped=name)
    return load_protocol(name)


def _gui_missing(exc: ImportError, what: str = "the window") -> SensorkitError:
    """The one message for a GUI command run without the GUI extra installed."""
    return SensorkitError(f"{what} needs the GUI packages ({exc.name}): pip install 'sensorkit[gui]'")


def cmd_record(args) -> int:
    from sensorkit.recording.record import protocol_in_terminal, record

    sims = any(d.lower().startswith("sim://") for d in args.devices)
    _check_output(args.output, args.overwrite, _spec_files(args.devices), [truth_path(args.output)] if sims else [])
    meta = _file_meta(args, args.devices)
    on_start = None
    if args.protocol:
        on_start = protocol_in_terminal(_protocol(args.protocol))
    sources = record(args.devices, args.output, meta, args.duration, hostname=args.store_hostname, on_start=on_start)
    _write_truths(sources, args.output)
    print(f"wrote {args.output}")
    return 0


def _write_truths(sources, output: str) -> None:
    from sensorkit.recording.record import write_truths

    path = write_truths(sources, truth_path(output))
    if path is not None:
        print(f"wrote {path} (ground truth of the simulated patient)")


# ---------------------------------------------------------------- simulate


def cmd_simulate(args) -> int:
    from sensorkit.recording.record import record

    _check_output(args.output, args.overwrite, extra=[truth_path(args.output)])
    params = dict(p.split("=", 1) for p in args.param if "=" in p)
    bad = [p for p in args.param if "=" not in p]
    if bad:
        raise SensorkitError(f"--param {bad[0]!r} is not KEY=VALUE")
    params |= {"speed": "0", "seed": str(args.seed)}
    if args.montage == "unspecified":
        args.montage = SIM_MONTAGE
    spec = f"sim://{args.scenario}?" + "&".join(f"{k}={v}" for k, v in params.items())
    meta = _file_meta(args, [spec])
    sources = record([spec], args.output, meta, None, quiet=True, hostname=args.store_hostname)
    _write_truths(sources, args.output)
    print(f"wrote {args.output}")
    return 0


# ---------------------------------------------------------------- info


def _montage(args):
    """--stream picks and --montage-file as one `Montage` (empty when neither is given)."""
    from sensorkit.montage import load_montage

    return load_montage(getattr(args, "montage_file", None), getattr(args, "stream", None))


def _read(path: str, args):
    """A recording as --stream and --montage-file read it; their notes printed as warnings."""
    from sensorkit.recording.xdf_reader import read_xdf

    return _picked(read_xdf(path), args)


def _picked(rec, args):
    """A recording read, as --stream and --montage-file pick and name its streams; their notes
    printed as warnings."""
    from sensorkit.recording.xdf_reader import apply_montage

    rec, notes = apply_montage(rec, _montage(args))
    for note in notes:
        print(f"warning: {note}", file=sys.stderr)
    return rec


def cmd_info(args) -> int:
    from sensorkit.report.recording import describe

    rec = _read(args.file, args)
    print(describe(rec))
    if not any(len(s.timestamps) for s in rec.streams):
        raise SensorkitError(f"{args.file} holds no samples")
    return 0


def cmd_export(args) -> int:
    from sensorkit.export import export

    rec = _read(args.file, args)

    def progress(msg: str) -> None:
        if not args.quiet:
            print(f"  {msg}...", file=sys.stderr, flush=True)

    paths, notes = export(rec, args.to, args.output, args.overwrite, progress)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    print(f"wrote {args.output}" + (f" ({len(paths)} tables)" if len(paths) > 1 else ""))
    return 0


def _count(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= n <= 1024:
        raise argparse.ArgumentTypeError(f"{n} workers: give 1 to 1024")
    return n


def cmd_batch(args) -> int:
    from sensorkit.study.run import run_batch

    if args.scheduler and args.scheduler != "local-cluster" and "://" not in args.scheduler:
        raise SensorkitError(f"--scheduler {args.scheduler!r}: use local-cluster or a scheduler address such as "
                             "tcp://10.0.0.5:8786")  # fmt: skip
    bar = None
    if not args.quiet:
        from tqdm import tqdm

        bar = tqdm(total=0, unit="session", desc="analysing", file=sys.stderr, dynamic_ncols=True)

    def progress(done: int, failed: int, total: int) -> None:
        if bar is not None:
            bar.total = total
            bar.set_postfix(failed=failed, refresh=False)
            bar.update(done - bar.n)

    workers = args.workers or os.cpu_count() or 1
    try:
        s = run_batch(args.where, args.out, _analysis_options(args), _montage(args), workers, args.scheduler,
                      args.force, progress)  # fmt: skip
    finally:
        if bar is not None:
            bar.close()
    print(f"{s.total} recordings: {s.analysed - s.failed} analysed, {s.failed} failed, {s.skipped} unchanged "
          f"since the last run; {len(s.errors)} not analysed in all")  # fmt: skip
    for name, reason in s.errors[:10]:
        print(f"  {name}: {reason}")
    if len(s.errors) > 10:
        print(f"  ... and {len(s.errors) - 10} more (errors.csv)")
    print(f"wrote {Path(s.out) / 'study.csv'}, study.parquet, errors.csv and sessions/")
    return 0


# ---------------------------------------------------------------- analyze


def _channel_map(text: str | None) -> dict[str, str]:
    if not text:
        return {}
    pairs = [p.split("=", 1) for p in text.split(",") if p.strip()]
    if any(len(p) != 2 or not p[0].strip() or not p[1].strip() for p in pairs):
        raise SensorkitError("--channel-map wants OLD=NEW pairs separated by commas, e.g. ME=glute_med_R")
    return {a.strip(): b.strip() for a, b in pairs}


def cmd_analyze(args) -> int:
    from sensorkit.analysis.session import analyze_session
    from sensorkit.recording.session_input import session_data
    from sensorkit.report.table import format_result, result_csv, result_rows

    check_outputs([args.json, args.csv, args.parquet, args.report, args.pdf], [args.file], args.overwrite)
    rec = _read(args.file, args)
    data = session_data(rec, _channel_map(args.channel_map))
    for note in data.warnings:
        print(f"warning: {note}", file=sys.stderr)
    opt = _analysis_options(args)
    quiet = args.quiet

    def progress(msg: str) -> None:
        if not quiet:
            print(f"  {msg}...", file=sys.stderr, flush=True)

    result = analyze_session(data, opt, progress)
    for note in result.get("warnings", [])[len(data.warnings) :]:  # what the analysis itself had to say
        print(f"warning: {note}", file=sys.stderr)
    print(format_result(result))
    _write_outputs(args, result, result_csv, result_rows)
    _write_report(args, [result], None)
    return 0


def _write_outputs(args, result: dict, to_csv, to_rows=None) -> None:
    """--json, --csv and --parquet (the caller has checked them with check_outputs)."""
    if args.json:
        write_text(args.json, json.dumps(result, indent=1))
        print(f"wrote {args.json}")
    if args.csv:
        write_text(args.csv, to_csv(result))
        print(f"wrote {args.csv}")
    if getattr(args, "parquet", None) and to_rows is not None:
        import pandas as pd

        from sensorkit.recording.outputs import atomic_output
        from sensorkit.report.table import CSV_FIELDS

        with atomic_output(args.parquet) as tmp:
            pd.DataFrame(to_rows(result), columns=list(CSV_FIELDS)).to_parquet(tmp, index=False)
        print(f"wrote {args.parquet}")


# ---------------------------------------------------------------- live


def _analysis_options(args):
    from sensorkit.analysis.session import AnalysisOptions
    from sensorkit.analysis.timing import TimingParams
    from sensorkit.dsp.onset import OnsetParams

    mains = {"auto": "auto", "none": None}[args.mains] if args.mains in ("auto", "none") else float(args.mains)
    return AnalysisOptions(exercise=args.exercise, side=args.side, reference=args.reference, mains=mains,
                           reference_channel=getattr(args, "reference_channel", None),
                           onset=OnsetParams(detector=args.detector),
                           timing=TimingParams(delay_margin_ms=args.margin_ms),
                           drop_threshold_deg=args.drop_threshold_deg)  # fmt: skip


def _replay(specs: list[str], args, opt) -> tuple[dict | None, RecordingMains | None]:
    """For the replay of one recording, read once: whose it is (its header) and what `analyze`
    decides of its mains hum (`RecordingMains`, so that the replay's analysis is `analyze`'s on
    every channel; None where it has no EMG channel named for a muscle). (None, None) unless
    `specs` is one recording's replay."""
    files = _spec_files(specs)
    if len(specs) != 1 or len(files) != 1:
        return None, None
    from sensorkit.analysis.mains import recording_mains
    from sensorkit.recording.session_input import session_data
    from sensorkit.recording.xdf_reader import header_meta, read_xdf

    rec = read_xdf(files[0])
    try:  # the streams as the replay's montage picks them
        emg = session_data(_picked(rec, args)).emg
        mains = None if emg is None else recording_mains(emg, opt.mains)
    except SensorkitError:  # nothing to decide for (a pick that names no stream, no EMG): the replay says why
        mains = None
    return header_meta(rec), mains


def _live_pipeline(opt, name: str, meta: dict | None = None, mains=None):
    """A started live pipeline whose events are printed as lines (the terminal view); `mains`:
    a replay's, from `_replay`."""
    from sensorkit.live.pipeline import LivePipeline
    from sensorkit.live.terminal import TerminalView

    pipeline = LivePipeline(opt, file=name, meta=meta, recording_mains=mains)
    view = TerminalView(opt.timing.delay_margin_ms, opt.drop_threshold_deg)

    def show(event) -> None:
        line = view.line(event)
        if line:
            print(("\n" if sys.stdout.isatty() else "") + line, flush=True)

    pipeline.subscribe(show)
    return pipeline.start()


def _quality_markers(pipeline):
    """An `on_start` that records a channel's signal quality going bad or recovering as a
    marker `quality:CHANNEL:STATE` at the time of the window that changed it."""
    from sensorkit.live.events import Quality
    from sensorkit.live.quality import QualityMarkers
    from sensorkit.recording.record import MarkerStream

    def start(acq) -> None:
        mark, text = MarkerStream(acq), QualityMarkers()

        def write(event) -> None:
            if isinstance(event, Quality) and (marker := text(event)):
                mark(marker, event.t_s)

        pipeline.subscribe(write)

    return start


def cmd_live(args) -> int:
    from sensorkit.recording.record import record
    from sensorkit.report.table import result_csv

    if args.record:
        _check_output(args.record, args.overwrite, _spec_files(args.devices))
    check_outputs([args.json, args.csv], _spec_files(args.devices) + ([args.record] if args.record else []),
                  args.overwrite)  # fmt: skip
    meta = _file_meta(args, args.devices)
    opt = _analysis_options(args)
    names = _spec_files(args.devices)
    whose = {"pseudonym": None if args.patient == "unspecified" else args.patient,
             "session": None if args.session == "unspecified" else args.session, "recorded": None}  # fmt: skip
    header, mains = _replay(args.devices, args, opt)
    if header is not None and whose["pseudonym"] is None:  # a replay: the file says whose
        whose = header
    if args.record:
        from datetime import UTC, datetime

        whose["recorded"] = datetime.now(UTC).isoformat(timespec="seconds")
    pipeline = _live_pipeline(opt, Path(args.record or (names[0] if len(names) == 1 else "live")).name, whose, mains)
    closed: dict = {}

    def catch_up() -> None:  # the analysis finishes before the file closes: its last markers go in
        closed["result"] = pipeline.close()

    montage = _montage(args)
    quality = _quality_markers(pipeline) if args.record else None

    def start(acq) -> None:
        infos = [src.streams() for src in acq.sources]
        if not montage.empty and all(infos):  # a source that names its streams only later is not checked
            for note in montage.check([i for found in infos for i in found], "the devices"):
                print(f"warning: {note}", file=sys.stderr)
        if quality is not None:
            quality(acq)

    try:
        record(args.devices, args.record, meta, args.duration, quiet=args.quiet, hostname=args.store_hostname,
               consumers=[montage.chunk_mapper(pipeline.push)], on_start=start,
               on_stop=catch_up if args.record else None)  # fmt: skip
    finally:
        result = closed["result"] if "result" in closed else pipeline.close()
    _write_outputs(args, result, result_csv)
    if args.record:
        print(f"wrote {args.record}")
    return 0


# ---------------------------------------------------------------- monitor and replay (GUI)


def _gui(args, specs: list[str], title: str) -> int:
    try:
        from sensorkit.gui.app import run_gui
    except ImportError as exc:
        raise _gui_missing(exc) from None
    record_to = getattr(args, "record", None)
    if record_to:
        _check_output(record_to, args.overwrite, _spec_files(specs))
    check_outputs([args.screenshot], _spec_files(specs) + ([record_to] if record_to else []), args.overwrite)
    meta = _file_meta(args, specs) if record_to else None
    protocol = _protocol(args.protocol) if getattr(args, "protocol", None) else None
    opt = _analysis_options(args)
    result = run_gui(specs, opt, record_to, meta, args.screenshot, args.quit_after, args.window, title,
                     protocol=protocol, biofeedback=args.biofeedback,
                     recording_mains=_replay(specs, args, opt)[1])  # fmt: skip
    reps = sum(len(b["reps"]) for b in result["exercises"])
    print(f"{len(result['exercises'])} blocks, {reps} repetitions analysed")
    for path in (record_to, args.screenshot):
        if path:
            print(f"wrote {path}")
    return 0


def cmd_monitor(args) -> int:
    devices = args.devices
    if not devices:  # no device named: the window asks
        try:
            from sensorkit.gui.app import pick_devices
        except ImportError as exc:
            raise _gui_missing(exc) from None
        devices = pick_devices()
        if not devices:
            raise SensorkitError("no device chosen")
    return _gui(args, devices, "sensorkit monitor: " + " + ".join(devices))


def cmd_replay(args) -> int:
    if not Path(args.file).is_file():
        raise SensorkitError(f"cannot read {args.file}: no such file")
    return _gui(args, [f"file://{args.file}?speed={args.speed:g}"], f"sensorkit replay: {args.file}")


# ---------------------------------------------------------------- compare


def _session_result(path: str, args) -> dict:
    """An `analyze` result: read from a saved JSON, or analysed now from a recording."""
    if path.lower().endswith(".json"):
        try:
            result = json.loads(Path(path).read_text())
        except OSError as exc:
            raise SensorkitError(f"cannot read {path}: {exc.strerror or exc}") from None
        except ValueError:
            raise SensorkitError(f"{path} is not a JSON result of sensorkit analyze") from None
        if not isinstance(result, dict) or not isinstance(result.get("exercises"), list):
            raise SensorkitError(f"{path} is not a result of sensorkit analyze (no exercises)")
        return result
    from sensorkit.analysis.session import analyze_session
    from sensorkit.recording.session_input import session_data

    if not args.quiet:
        print(f"  analysing {path}...", file=sys.stderr, flush=True)
    return analyze_session(session_data(_read(path, args)), _analysis_options(args))


def cmd_compare(args) -> int:
    from sensorkit.analysis.compare import compare_results
    from sensorkit.report.compare import comparison_csv, format_comparison

    check_outputs([args.json, args.csv, args.report, args.pdf, args.screenshot], args.sessions, args.overwrite)
    results = [_session_result(p, args) for p in args.sessions]
    labels = [r.get("session") or Path(p).stem for r, p in zip(results, args.sessions, strict=True)]
    if len(set(labels)) < len(labels):  # two sessions with one label: tell them apart by file
        labels = [f"{lab} ({Path(p).name})" for lab, p in zip(labels, args.sessions, strict=True)]
    try:
        comparison = compare_results(results, labels)
    except ValueError as exc:
        raise SensorkitError(str(exc)) from None
    print(format_comparison(comparison))
    _write_outputs(args, comparison, comparison_csv)
    _write_report(args, results, comparison)
    if args.view:
        try:
            from sensorkit.gui.compare_view import show_comparison
        except ImportError as exc:
            raise _gui_missing(exc, "the compare view") from None
        show_comparison(results, comparison, args.screenshot, args.quit_after)
        if args.screenshot:
            print(f"wrote {args.screenshot}")
    return 0


def _write_report(args, results: list[dict], comparison: dict | None) -> None:
    """--report OUT.html (and --pdf OUT.pdf, printed by headless Chromium)."""
    if not (args.report or args.pdf):
        return
    from sensorkit.report.html import report_html
    from sensorkit.report.pdf import print_pdf

    page = report_html(results, comparison)
    if args.report:
        write_text(args.report, page)
        print(f"wrote {args.report}")
    if args.pdf:
        print_pdf(page, args.pdf)
        print(f"wrote {args.pdf}")


# ---------------------------------------------------------------- contacts


def _walking_imu(args) -> tuple:
    """(timestamps, acc m/s^2, gyr rad/s, rate) of the lower-back IMU in an XDF or text file."""
    from sensorkit.recording.session_input import walking_imu

    columns = [c.strip() for c in args.columns.split(",")] if args.columns else None
    warnings: list[str] = []
    imu = walking_imu(args.file, warnings, args.rate, args.time_column, columns, args.acc_unit, args.gyr_unit)
    for note in warnings:
        print(note if note.startswith(args.file) else f"warning: {note}", file=sys.stderr)
    return imu.timestamps, imu.acc, imu.gyr, imu.fs


def cmd_contacts(args) -> int:
    from sensorkit.analysis.timing import sample_clock
    from sensorkit.dsp.gait import initial_contacts
    from sensorkit.report.table import contacts_summary

    if args.plot and Path(args.plot).suffix.lower() not in PLOT_FORMATS:
        raise SensorkitError(f"--plot {args.plot}: name a {', '.join(PLOT_FORMATS)} file")
    check_outputs([args.csv, args.plot], [args.file], args.overwrite)
    t, acc, gyr, fs = _walking_imu(args)
    if len(t) < 2 * fs:
        raise SensorkitError(f"{args.file}: less than 2 s of IMU data")
    found = initial_contacts(acc, gyr, fs)
    at = sample_clock(t, fs, 0)
    times = [at(c.t_s) for c in found]
    summary = contacts_summary(times, [c.side for c in found], float(t[-1] - t[0]))
    print(summary)
    if args.csv:
        rows = ["t_s,side,side_confidence,inferred"] + [
            f"{tt:.4f},{c.side},{c.side_confidence:.2f},{int(c.inferred)}" for tt, c in zip(times, found, strict=True)]
        write_text(args.csv, "\n".join(rows) + "\n")
        print(f"wrote {args.csv}")
    if args.plot:
        from sensorkit.dsp.gait import walk_vertical
        from sensorkit.report.contacts_figure import contacts_figure, save_figure

        vertical, lost = walk_vertical(acc, gyr, fs)
        title = f"{Path(args.file).name}: {summary.splitlines()[0]}"
        t0 = float(t[0])  # drawn from the first sample: an XDF file's clock reads hours
        fig = contacts_figure(t - t0, vertical, lost, fs, [x - t0 for x in times], [c.side for c in found],
                              [c.inferred for c in found], title)  # fmt: skip
        if t0:
            fig.axes[-1].set_xlabel(f"time (s) from the first sample, at {t0:.3f} s on the file's clock")
        save_figure(fig, args.plot)
        print(f"wrote {args.plot}")
    return 0


PLOT_FORMATS = (".png", ".svg", ".pdf")


# ---------------------------------------------------------------- import


LARGE_IMPORT_BYTES = 100e6  # about 2 s of parsing (a Delsys export of 24 MB took 0.5 s)


def cmd_import(args) -> int:
    from sensorkit.recording.text_import import TextImport, read_gait_events, read_text_export, write_xdf

    _check_output(args.output, args.overwrite, [args.file, args.events])
    columns = [c.strip() for c in args.columns.split(",")] if args.columns else None
    spec = TextImport(args.file, rate_hz=args.rate, unit=args.unit, scale=args.scale, offset=args.offset,
                      time_column=args.time_column, channel_map=_channel_map(args.channel_map),
                      columns=columns, pelvis=args.pelvis)  # fmt: skip
    size = Path(args.file).stat().st_size if Path(args.file).is_file() else 0
    if size > LARGE_IMPORT_BYTES:  # a long session's export takes a while to parse: say what is going on
        print(f"reading {args.file} ({size / 1e6:.0f} MB)...", file=sys.stderr, flush=True)
    found: list[tuple[float, str]] = []
    if Path(args.file).suffix.lower() == ".c3d":  # a motion-capture lab's file: EMG analogs and gait events
        from sensorkit.recording.c3d_import import read_c3d_export

        data, found = read_c3d_export(spec)
    else:
        data = read_text_export(spec)
    for note in data.notes:
        print(f"note: {note}", file=sys.stderr)
    markers = sorted(found + (read_gait_events(args.events, args.events_side) if args.events else []))
    meta = _file_meta(args, [f"import://{args.file}"])
    write_xdf(args.output, data, markers, meta)
    others = "".join(f", {len(o.labels)} {o.kind.lower()} channel(s)" for o in data.others)
    others += "".join(f", IMU {i.name!r} at {i.rate_hz:g} Hz" for i in data.imus)
    emg = "no EMG" if not data.labels else f"{len(data.emg)} samples x {len(data.labels)} EMG channels at " \
        f"{data.rate_hz:g} Hz"
    print(f"wrote {args.output}: {emg}{others}{f', {len(markers)} events' if markers else ''}")
    return 0


# ---------------------------------------------------------------- demo


def cmd_demo(args) -> int:
    from sensorkit.recording.record import record
    from sensorkit.recording.xdf_reader import read_xdf
    from sensorkit.report.recording import describe, truth_summary

    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "demo.xdf"
    spec = f"sim://session?speed={args.speed:g}&seed={args.seed}"
    print(f"sensorkit {__version__} demo: a simulated patient ({spec}) streams sk1 frames into {path}, "
          "analysed live as it comes (a line per repetition)")  # fmt: skip
    meta = {"patient": "P000", "session": "demo", "montage": SIM_MONTAGE, "devices": spec}
    demo_args = build_parser().parse_args(["live", spec])  # the live command's own defaults
    pipeline = _live_pipeline(_analysis_options(demo_args), path.name)
    try:
        sources = record([spec], str(path), meta, args.duration, consumers=[pipeline.push])
    finally:
        pipeline.close()
    _write_truths(sources, str(path))
    print()
    print(describe(read_xdf(path)))
    truth = sources[0].transport.truth_on_host_clock()
    print()
    print(truth_summary(truth))
    print()
    print("sensorkit analyze", path, "(the same analysis of the finished file)")
    # the analyze command itself, with its own defaults
    analyze = build_parser().parse_args(["analyze", str(path), "--json", str(out / "demo.json"),
                                         "--csv", str(out / "demo.csv"), "--quiet", "--overwrite"])  # fmt: skip
    cmd_analyze(analyze)
    # the example patient of recordings/: glutes late and the pelvis dropping before a rehab
    # programme, better after; the comparison and its report
    examples = next((d for d in (Path("recordings"), Path(__file__).resolve().parents[1] / "recordings")
                     if (d / "before.xdf").exists() and (d / "after.xdf").exists()), None)  # fmt: skip
    if examples is None:
        return 0
    report = out / "report.html"
    print()
    print(f"sensorkit compare {examples / 'before.xdf'} {examples / 'after.xdf'} --report {report}")
    compare = build_parser().parse_args(["compare", str(examples / "before.xdf"), str(examples / "after.xdf"),
                                         "--report", str(report), "--quiet", "--overwrite"])  # fmt: skip
    cmd_compare(compare)
    print(f"open {report.resolve()} in a browser to see the report")
    return 0


# ---------------------------------------------------------------- main


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="sensorkit", description="Wearable IMU + EMG: glute activation timing and "
                "pelvic drop.")  # fmt: skip
    p.add_argument("--version", action="version", version=f"sensorkit {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def analysis_args(sp):
        sp.add_argument("--exercise", choices=EXERCISES, help="analyse this exercise (needed without markers)")
        sp.add_argument("--side", choices=("L", "R"), help="stance or working leg")
        sp.add_argument("--reference", help="'movement' or a muscle label such as biceps_femoris_L "
                        "(without the side, e.g. biceps_femoris: the working side's)")
        sp.add_argument("--detector", choices=DETECTORS, default=DEFAULT_DETECTOR)
        sp.add_argument("--margin-ms", type=number(0, 500), default=DELAY_MARGIN_MS,
                        help="latency above which a glute is delayed, 0-500 ms (default 50 ms, see docs)")
        sp.add_argument("--drop-threshold-deg", type=number(0, 45), default=DROP_THRESHOLD_DEG,
                        help="pelvic drop above which a repetition is flagged, 0-45 deg (default 5 deg, see docs)")
        sp.add_argument("--mains", default="auto", choices=("auto", "none", "50", "60"),
                        help="mains notch: auto (found in the data), none, 50 or 60 Hz")

    def read_args(sp):
        sp.add_argument("--stream", action="append", metavar="NAME_OR_TYPE",
                        help="use this stream (name or type; repeatable): e.g. an EMG stream typed EEG by other "
                        "software. Marker streams are always read")  # fmt: skip
        sp.add_argument("--montage-file", metavar="FILE.toml", help="stream kinds, units and channel names "
                        "for other software's files (see docs/formats.md)")  # fmt: skip

    def result_args(sp, json_help: str, csv_help: str, report_help: str):
        sp.add_argument("--json", help=json_help)
        sp.add_argument("--csv", help=csv_help)
        sp.add_argument("--report", metavar="OUT.html", help=report_help)
        sp.add_argument("--pdf", metavar="OUT.pdf", help="print the report to PDF (needs Chromium)")
        sp.add_argument("--overwrite", action="store_true", help="replace existing output files")
        sp.add_argument("-q", "--quiet", action="store_true", help="no progress messages")

    def session_args(sp):
        sp.add_argument("-o", "--output", required=True, help="output file, .xdf")
        sp.add_argument("--patient", default="unspecified", help="pseudonymous patient code (P017)")
        sp.add_argument("--session", default="unspecified",
                        help="session label: before, after, baseline, follow-up, a date (2026-11-29) "
                        "or a short code with a digit (week6)")  # fmt: skip
        sp.add_argument("--montage", default="unspecified",
                        help="electrode and sensor placement, e.g. 'SENIAM, 20 mm bipolar; IMU on S2'")
        sp.add_argument("--overwrite", action="store_true", help="replace an existing output file")
        sp.add_argument("--store-hostname", action="store_true",
                        help="write this computer's name into the stream headers (off: it can identify a clinic)")
        sp.add_argument("--store-source-names", action="store_true",
                        help="write the names (never the paths) of replayed or imported files into the header")

    sp = sub.add_parser("simulate", help="write a simulated session and its ground truth",
                        description="Simulate a patient session as fast as possible into an XDF "
                        "file, with the ground truth in NAME.truth.json beside it.")  # fmt: skip
    sp.add_argument("scenario", help="session, single_leg_squat, step_down, single_leg_stance, "
                    "prone_hip_extension, glute_bridge, gait, calibration")  # fmt: skip
    sp.add_argument("--seed", type=int, default=0)
    sp.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                    help="simulator parameter, e.g. glute_delay_ms=120 or pelvic_drop_deg=8")
    session_args(sp)
    sp.set_defaults(func=cmd_simulate)

    sp = sub.add_parser("record", help="record devices into one XDF file",
                        description="Record one or more devices (sim://..., file://...) into one "
                        "XDF file until they end, --duration passes, or Ctrl-C.")  # fmt: skip
    sp.add_argument("devices", nargs="+", metavar="DEVICE", help="device spec, e.g. sim://session?speed=1")
    sp.add_argument("--duration", type=POSITIVE, help="seconds of data to record")
    sp.add_argument("--protocol", metavar="FILE.toml", help="walk a session protocol in the terminal (Enter starts "
                    "and ends each step, writing its markers); 'default' or 'gait' for a shipped one")  # fmt: skip
    session_args(sp)
    sp.set_defaults(func=cmd_record)

    register_device_commands(sub)

    sp = sub.add_parser("info", help="describe a recording", description="Streams, channels, "
                        "rates, duration, lost samples and markers of an XDF file; damaged files "
                        "are salvaged.")  # fmt: skip
    sp.add_argument("file")
    read_args(sp)
    sp.set_defaults(func=cmd_info)

    from sensorkit.export import FORMATS

    sp = sub.add_parser("export", help="write a recording as CSV, Parquet, EDF+, BDF+, C3D or MATLAB",
                        description="The recording's streams (SI units; EMG in uV in EDF/BDF) and markers in the "
                        "format other tools open. " + "; ".join(f"{k}: {v[2]}" for k, v in FORMATS.items()) + ".")
    sp.add_argument("file", help="FILE.xdf")
    sp.add_argument("--to", required=True, choices=list(FORMATS), help="the format")
    sp.add_argument("-o", "--output", required=True, help="the output file (a folder for csv and parquet)")
    read_args(sp)
    sp.add_argument("--overwrite", action="store_true", help="replace existing output files")
    sp.add_argument("-q", "--quiet", action="store_true", help="no progress messages")
    sp.set_defaults(func=cmd_export)

    sp = sub.add_parser("analyze", help="glute activation timing per repetition",
                        description="Find every labelled muscle's EMG onset in each repetition and its "
                        "latency to the exercise's reference (movement onset from the IMU, or a reference "
                        "muscle), with uncertainty, quality flags and a delayed verdict per glute.",
                        )  # fmt: skip
    sp.add_argument("file")
    analysis_args(sp)
    read_args(sp)
    sp.add_argument("--channel-map", help="relabel EMG channels: OLD=NEW,... e.g. ME=glute_med_R")
    result_args(sp, "write the full result as JSON", "write one row per repetition and muscle",
                "write the session's report: one self-contained HTML file")  # fmt: skip
    sp.add_argument("--parquet", metavar="OUT.parquet", help="write the --csv rows as a Parquet table")
    sp.add_argument("--reference-channel", metavar="LABEL", help="repetitions and movement onset from this "
                    "channel (a goniometer's angle, a force) instead of the pelvis IMU, e.g. knee_angle_R")
    sp.set_defaults(func=cmd_analyze)

    sp = sub.add_parser("batch", help="analyse every recording of a study into one table",
                        description="Every .xdf below a folder (or matching a glob) analysed into RESULTS/sessions/ "
                        "(JSON and CSV per recording), one study table RESULTS/study.csv and .parquet (a row per "
                        "session, exercise, side, muscle and metric) and RESULTS/errors.csv (the files that failed, "
                        "with why). A second run analyses only what is new or changed. The exit code is 0 when the "
                        "batch ran, whatever files failed.")  # fmt: skip
    sp.add_argument("where", metavar="DIR_OR_GLOB",
                    help="a folder (searched below) or a pattern such as 'study/*/*.xdf'")
    sp.add_argument("--out", required=True, metavar="RESULTS", help="the results folder")
    sp.add_argument("--workers", type=_count, help="processes (default: one per CPU)")
    sp.add_argument("--scheduler", metavar="local-cluster|tcp://HOST:PORT",
                    help="run on Dask: 'local-cluster' starts one on this machine, or a scheduler's address")
    sp.add_argument("--force", action="store_true", help="analyse every recording again")
    sp.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    analysis_args(sp)
    read_args(sp)
    sp.set_defaults(func=cmd_batch)

    sp = sub.add_parser("live", help="analyse devices live: a line per repetition, the result at the end",
                        description="Run the live pipeline on devices (or a replay, file://F.xdf?speed=0): a "
                        "line per repetition as it ends (each glute's latency with its uncertainty, the pelvic "
                        "drop), the block's verdict when it ends, and at the end a result in exactly the "
                        "analyze schema. With --record the session is recorded at the same time.")  # fmt: skip
    sp.add_argument("devices", nargs="+", metavar="DEVICE", help="device spec, e.g. sim://session?speed=1")
    analysis_args(sp)
    read_args(sp)
    sp.add_argument("--json", help="write the result (analyze schema) as JSON at the end")
    sp.add_argument("--csv", help="write one row per repetition and muscle at the end")
    sp.add_argument("--record", metavar="FILE.xdf", help="record the session into this file as well")
    sp.add_argument("--duration", type=POSITIVE, help="seconds of data")
    sp.add_argument("--patient", default="unspecified", help="pseudonymous patient code (P017), with --record")
    sp.add_argument("--session", default="unspecified", help="session label (before, after, a date), with --record")
    sp.add_argument("--montage", default="unspecified", help="electrode and sensor placement, with --record")
    sp.add_argument("--overwrite", action="store_true", help="replace existing output files")
    sp.add_argument("--store-hostname", action="store_true", help="with --record: write this computer's name")
    sp.add_argument("--store-source-names", action="store_true", help="with --record: write replayed file names")
    sp.add_argument("-q", "--quiet", action="store_true", help="no acquisition progress lines")
    sp.set_defaults(func=cmd_live)

    def window_args(sp):
        sp.add_argument("--window", type=number(2, 30), default=10.0, help="seconds of traces shown (2-30)")
        sp.add_argument("--screenshot", metavar="FILE.png", help="save the window as a PNG (with --quit-after)")
        sp.add_argument("--quit-after", type=POSITIVE, metavar="S", help="close the window after S seconds")
        sp.add_argument("--biofeedback", metavar="MUSCLE",
                        help="cue (colour and a beep) in each repetition whether this glute, e.g. glute_med_L, "
                        "fired before the movement: for retraining its timing")  # fmt: skip

    sp = sub.add_parser("monitor", help="watch a session live: traces, onsets, pelvic drop, the clinical panel",
                        description="Open the monitor window on devices: EMG traces with their envelopes, the "
                        "pelvic obliquity, onsets and repetitions as the live pipeline finds them, and the "
                        "clinical panel; with --record the session is recorded at the same time.")  # fmt: skip
    sp.add_argument("devices", nargs="*", metavar="DEVICE",
                    help="device spec, e.g. sim://session?speed=1 (none: choose them in a dialog)")
    sp.add_argument("--record", metavar="FILE.xdf", help="record the session into this file")
    sp.add_argument("--protocol", metavar="FILE.toml", help="guide the session through a protocol, writing its "
                    "markers ('default', the clinic exercises, or 'gait', walking: shipped ones)")  # fmt: skip
    sp.add_argument("--patient", default="unspecified", help="pseudonymous patient code (P017)")
    sp.add_argument("--session", default="unspecified", help="session label: before, after, a date")
    sp.add_argument("--montage", default="unspecified", help="electrode and sensor placement")
    sp.add_argument("--overwrite", action="store_true", help="replace existing output files")
    analysis_args(sp)
    window_args(sp)
    sp.set_defaults(func=cmd_monitor)

    sp = sub.add_parser("replay", help="replay a recording in the monitor window",
                        description="Play a recording through the live pipeline into the monitor window, with "
                        "play/pause and 0.25x-8x speed.")  # fmt: skip
    sp.add_argument("file", help="FILE.xdf")
    sp.add_argument("--speed", type=number(0.25, 8), default=1.0, help="times real time, 0.25-8")
    sp.add_argument("--overwrite", action="store_true", help="replace an existing --screenshot file")
    analysis_args(sp)
    window_args(sp)
    sp.set_defaults(func=cmd_replay)

    sp = sub.add_parser("compare", help="compare sessions of one patient: before/after, or a trend",
                        description="Compare two or more sessions of one patient (recordings, analysed now, or "
                        "saved analyze JSON results), in time order: per exercise, side, muscle and metric, "
                        "n and mean +- SD per session, the change with its 95 % interval, Hedges' g, the "
                        "minimal detectable change, and a verdict (improved / worse / no clear change) for "
                        "glute latencies and the pelvic drop.")  # fmt: skip
    sp.add_argument("sessions", nargs="+", metavar="SESSION", help="FILE.xdf or FILE.json, oldest first")
    analysis_args(sp)
    read_args(sp)
    result_args(sp, "write the comparison as JSON", "write one row per exercise, side, muscle and metric",
                "write the clinic report: one self-contained HTML file")  # fmt: skip
    sp.add_argument("--view", action="store_true", help="open the compare view (verdicts, figures, a button that "
                    "writes the report)")  # fmt: skip
    sp.add_argument("--screenshot", metavar="FILE.png", help="with --view: save the window (with --quit-after)")
    sp.add_argument("--quit-after", type=POSITIVE, metavar="S", help="with --view: close it after S seconds")
    sp.set_defaults(func=cmd_compare)

    sp = sub.add_parser("import", help="convert a text/CSV EMG or IMU export to XDF",
                        description="Convert EMG exported as text columns by another system into a "
                        "sensorkit XDF file: state the rate (or time column), the unit (V, mV, uV, or ADC "
                        "counts with --scale), and name the muscles with --channel-map. An IMU's columns (acc_x "
                        "... gyr_z, Acc_X ... Gyr_Z) become the pelvis IMU. A Delsys Trigno export "
                        "(EMGworks, Trigno Discover) is read whole: its EMG, and each sensor's IMU, the one "
                        "--pelvis names as the pelvis.")  # fmt: skip
    sp.add_argument("file")
    sp.add_argument("--rate", type=POSITIVE, help="sample rate, Hz (unless --time-column or the file's header "
                    "gives it)")
    sp.add_argument("--time-column", help="column holding time in seconds")
    sp.add_argument("--unit", help="of the EMG columns: V, mV, uV or counts (default: as the file's header says, "
                    "else V)")
    sp.add_argument("--scale", type=POSITIVE, help="volts per ADC count (with --unit counts)")
    sp.add_argument("--offset", type=number(), default=0.0, help="ADC counts at 0 V (e.g. 2048 for 12 bit)")
    sp.add_argument("--channel-map", help="name columns: OLD=NEW,... e.g. ME=glute_med_R")
    sp.add_argument("--columns", help="keep only these columns (after renaming), comma-separated")
    sp.add_argument("--pelvis", metavar="SENSOR", help="a Delsys export: the sensor on the sacrum, whose "
                    "accelerometer and gyroscope become the pelvis IMU (its name as exported, e.g. 'Avanti sensor "
                    "3', or its number)")
    sp.add_argument("--events", help="CSV of foot contacts (touchdown_s, liftoff_s columns)")
    sp.add_argument("--events-side", choices=("L", "R"), default="R", help="the foot of --events")
    session_args(sp)
    sp.set_defaults(func=cmd_import)

    sp = sub.add_parser("contacts", help="foot contacts in walking from a lower-back IMU",
                        description="Find the initial contacts of both feet, with their side, in walking "
                        "recorded by one IMU on the lower back (sacrum or L5), mounted any way round: from "
                        "a recording's pelvis IMU stream, or from a text/CSV export with accelerometer and "
                        "gyroscope columns.")  # fmt: skip
    sp.add_argument("file", help="FILE.xdf, or a text/CSV export")
    sp.add_argument("--csv", help="write the contacts (t_s, side, side_confidence) here")
    sp.add_argument("--plot", metavar="OUT.png", help="draw the walk's vertical acceleration with its contacts (left, "
                    "right, placed from the cadence), the lost samples and the step times (.png, .svg or .pdf)")
    sp.add_argument("--overwrite", action="store_true", help="replace an existing --csv file")
    sp.add_argument("--rate", type=POSITIVE, help="text files: sample rate, Hz (unless --time-column or the "
                    "file's header gives it)")  # fmt: skip
    sp.add_argument("--time-column", help="text files: column holding time in seconds (without it, a "
                    "PacketCounter/SampleCounter/Counter column places the rows, lost packets as lost samples)")
    sp.add_argument("--columns", help="text files: the accelerometer x,y,z and gyroscope x,y,z columns, "
                    "if not named acc_x ... gyr_z")  # fmt: skip
    sp.add_argument("--acc-unit", help="text files: m/s^2 or g (default: recognised from the data)")
    sp.add_argument("--gyr-unit", help="text files: rad/s or deg/s (default: recognised from the data)")
    sp.set_defaults(func=cmd_contacts)

    sp = sub.add_parser("demo", help="the built-in demonstration (no hardware)",
                        description="Stream a simulated patient through the pipeline into a "
                        "recording, then summarise it.")  # fmt: skip
    sp.add_argument("--output-dir", default="demo")
    sp.add_argument("--speed", type=number(0, 1000), default=8.0, help="times real time (0: as fast as possible)")
    sp.add_argument("--duration", type=POSITIVE, help="seconds of data (default: the whole session)")
    sp.add_argument("--seed", type=int, default=0)
    sp.set_defaults(func=cmd_demo)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        with warnings.catch_warnings():
            # numpy's RuntimeWarnings (mean of an empty slice, NaN compared) arise on data with
            # gaps, which the code handles explicitly; they would only alarm a user
            warnings.simplefilter("ignore", RuntimeWarning)
            return args.func(args)
    except SensorkitError as exc:
        print(f"sensorkit: error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # output piped into `head` and the like: not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:
        print(f"sensorkit: error: {exc.strerror or exc}"
              f"{': ' + exc.filename if getattr(exc, 'filename', None) else ''}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("sensorkit: interrupted", file=sys.stderr)
        return 130
