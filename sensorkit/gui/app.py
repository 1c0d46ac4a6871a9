"""`sensorkit monitor` and `sensorkit replay`: the window wired to a session.

Sources feed, through one `Acquisition`, the recorder (optional), the live pipeline and
the display buffers; the window pulls from the pipeline's event queue and the buffers.
`--screenshot FILE.png --quit-after S` saves the window and exits (documentation,
headless checks).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from sensorkit.acquisition import Acquisition
from sensorkit.analysis.mains import RecordingMains
from sensorkit.analysis.session import AnalysisOptions
from sensorkit.devices.spec import open_device
from sensorkit.errors import SensorkitError
from sensorkit.gui.display import DisplayBuffers
from sensorkit.gui.protocol_panel import ProtocolPanel
from sensorkit.gui.screen import ensure_screen
from sensorkit.gui.session_panel import SessionPanel
from sensorkit.gui.window import MonitorWindow
from sensorkit.live.events import Quality
from sensorkit.live.pipeline import LivePipeline
from sensorkit.live.quality import QualityMarkers
from sensorkit.recording.identity import check_identity
from sensorkit.recording.outputs import check_outputs
from sensorkit.recording.protocol import Protocol, ProtocolRunner
from sensorkit.recording.record import MarkerStream, replacing
from sensorkit.recording.recorder import Recorder

SIMULATED = [("Simulated patient: a whole clinic session", "sim://session?speed=1"),
             ("Simulated patient: single-leg squats", "sim://single_leg_squat?speed=1")]


def device_candidates() -> list[tuple[str, str]]:
    """(description, spec) of the serial ports found and of the simulated patients."""
    from sensorkit.devices.identify import guess
    from sensorkit.devices.transports.serial import list_serial_ports

    out = []
    for port in list_serial_ports():
        hint = guess(port)  # "what it is: the spec", or ""
        at = hint.find("serial://")
        spec = hint[at:] if at >= 0 else f"serial://{port.device}?protocol=sk1"
        what = hint[:at].strip(" :") if at > 0 else ""
        out.append((port.line() + (f" ({what})" if what else ""), spec))
    return out + SIMULATED


def pick_devices() -> list[str]:
    """The devices the user picks in a dialog ([] when cancelled)."""
    import pyqtgraph as pg

    from sensorkit.gui.device_picker import DevicePicker

    ensure_screen()
    pg.mkQApp("sensorkit")
    dialog = DevicePicker(device_candidates())
    return dialog.specs() if dialog.exec() else []


def run_gui(specs: list[str], options: AnalysisOptions, record_to: str | None = None,
            meta: dict[str, str] | None = None, screenshot: str | None = None, quit_after: float | None = None,
            window_s: float = 10.0, title: str = "sensorkit", keep: dict | None = None,
            protocol: Protocol | None = None, setup: Callable[[dict], None] | None = None,
            extra_sources: list | None = None, biofeedback: str | None = None,
            recording_mains: RecordingMains | None = None) -> dict:  # fmt: skip
    """Open the window on the devices of `specs` until it is closed (or `quit_after` s);
    returns the live pipeline's result. With a `protocol`, the window guides the session and
    writes its markers. `keep` receives the window, acquisition and protocol runner, and
    `setup(keep)` runs before the window's event loop starts (tests drive the window so);
    `extra_sources` are opened Sources added to those of `specs` (benchmarks);
    `recording_mains`: a replay's, as `LivePipeline` takes it."""
    import pyqtgraph as pg
    from pyqtgraph.Qt import QtCore

    ensure_screen(headless=screenshot is not None and quit_after is not None)
    pg.setConfigOptions(antialias=False, useOpenGL=False)
    app = pg.mkQApp("sensorkit")
    sources = [open_device(s) for s in specs]
    replay = sources[0] if len(sources) == 1 and hasattr(sources[0], "pause") else None
    sources += list(extra_sources or [])
    names = list(specs) + [type(s).__name__ for s in extra_sources or []]
    pipeline = LivePipeline(options, file=os.path.basename(record_to or specs[0]), recording_mains=recording_mains)
    events = pipeline.events()
    display = DisplayBuffers(max(window_s, 30.0))
    live = {"pipeline": pipeline}  # the analysis in use (a seek replaces it)
    with replacing(record_to):
        recorder = Recorder(record_to, meta or {}) if record_to else None
        consumers = ([recorder.push] if recorder else []) + [pipeline.push, display.push]
        acq = Acquisition(sources, consumers)
        recorders: list[Recorder] = [recorder] if recorder else []

        def start_recording(path: str, patient: str, session: str) -> str:
            """Start recording into `path` while the sensors stream; '' or what is wrong."""
            try:
                if Path(path).suffix.lower() != ".xdf":
                    raise SensorkitError("name a file ending in .xdf")
                check_identity(patient, session, ("pseudonym", "session label"))
                check_outputs([path], [], overwrite=False)
                rec = Recorder(path, {"patient": patient, "session": session, "devices": " ".join(names)})
            except (SensorkitError, OSError) as exc:
                return str(exc)
            recorders.append(rec)
            acq.consumers = [*acq.consumers, rec.push]  # a new list: the reader threads go on with theirs
            return ""

        def stop_recording() -> str:
            rec = recorders.pop()
            acq.consumers = [c for c in acq.consumers if c != rec.push]
            rec.close()
            return f"wrote {rec.path} ({rec.samples_written} samples)"

        runner = ProtocolRunner(protocol, MarkerStream(acq)) if protocol is not None else None
        mark, quality_text = MarkerStream(acq), QualityMarkers()

        def quality_marker(event) -> None:
            """A channel's signal going bad or recovering is a marker in the file being recorded."""
            if isinstance(event, Quality) and (text := quality_text(event)) and recorders:
                mark(text, event.t_s)

        pipeline.subscribe(quality_marker)

        def seek(t: float) -> None:
            """Bring a fresh analysis to data time `t` (fed from the file's start at once, so the
            calibration and earlier repetitions are known) and go on replaying from there."""
            if recorders or replay is None:
                return  # never while recording: the file would jump
            was_paused = replay.paused
            replay.pause()
            fresh = LivePipeline(options, file=live["pipeline"].file, recording_mains=recording_mains)
            fresh_events = fresh.events()
            fresh_display = DisplayBuffers(display.window_s)
            for chunk in replay.chunks_until(t):
                fresh.push(chunk)  # not started: analysed now
                if chunk.timestamps[-1] >= t - fresh_display.window_s:
                    fresh_display.push(chunk)
            fresh.start()
            old, live["pipeline"] = live["pipeline"], fresh
            acq.consumers = [r.push for r in recorders] + [fresh.push, fresh_display.push]
            old.close()
            window.reset(fresh_display, fresh_events)
            replay.seek(t)
            if not was_paused:
                replay.resume()

        window = MonitorWindow(title, display, events, lambda: live["pipeline"].pelvis,
                               lambda: " | ".join(s.status().line() for s in sources), options.timing.delay_margin_ms,
                               options.drop_threshold_deg, window_s, replay,
                               ProtocolPanel(runner) if runner is not None else None,
                               lambda: [(name, src.status().state) for name, src in zip(names, sources, strict=True)],
                               biofeedback, SessionPanel(start_recording, stop_recording, record_to),
                               seek if replay is not None else None)  # fmt: skip
        window.resize(1400, 850)
        keep = keep if keep is not None else {}
        keep.update(window=window, acquisition=acq, runner=runner, recorders=recorders, seek=seek, live=live)
        try:
            live["pipeline"].start()
            acq.start()
            window.show()
            if setup is not None:
                setup(keep)
            if quit_after is not None:
                def finish() -> None:
                    window.frame()
                    if screenshot:
                        window.grab().save(screenshot)
                    window.close()

                QtCore.QTimer.singleShot(int(quit_after * 1000), finish)
            app.exec()
        finally:
            acq.stop()
            for rec in recorders:  # still recording when the window closed
                rec.close()
    return live["pipeline"].close()
