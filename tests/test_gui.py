"""The monitor window, offscreen: it draws, a replay drives it to the pipeline's own result,
and recording through it loses nothing."""

import csv
import io
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pyqtgraph", reason="the GUI packages are not installed (pip install 'sensorkit[gui]')")

from pyqtgraph.Qt import QtCore  # noqa: E402

from sensorkit.analysis.mains import recording_mains  # noqa: E402
from sensorkit.analysis.session import AnalysisOptions, analyze_session  # noqa: E402
from sensorkit.cli import main  # noqa: E402
from sensorkit.gui.app import run_gui  # noqa: E402
from sensorkit.gui.panel import GREEN, RED, latency_color  # noqa: E402
from sensorkit.recording.session_input import session_data  # noqa: E402
from sensorkit.recording.xdf_reader import read_xdf  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def test_curves_are_drawn(qtbot):
    """PySide6 6.12 with pyqtgraph 0.14 crashes right here (pyproject pins a working range)."""
    import pyqtgraph as pg

    w = pg.PlotWidget()
    qtbot.addWidget(w)
    curve = pg.PlotCurveItem(np.sin(np.linspace(0, 20, 2000)), pen=pg.mkPen("#3a6ea5", width=1), skipFiniteCheck=True)
    w.addItem(curve)
    w.resize(400, 200)
    w.show()
    qtbot.wait(50)
    img = w.grab().toImage()
    colors = {img.pixelColor(x, y).name() for x in range(0, 400, 4) for y in range(0, 200, 4)}
    assert "#3a6ea5" in colors  # the curve's pixels are on the image


def test_a_replay_drives_the_window_to_the_pipelines_result(qtbot, tmp_path):
    keep = {}
    shot = tmp_path / "replay.png"

    def until_the_block_is_done(keep: dict) -> None:
        """Close the window once its panel has the last block's result (a loaded machine replays slower)."""
        window = keep["window"]

        def look() -> None:
            if "squat R done" in window.panel.verdict.text():  # the second and last block
                window.frame()
                window.grab().save(str(shot))
                window.close()
            else:
                QtCore.QTimer.singleShot(200, look)

        QtCore.QTimer.singleShot(200, look)

    result = run_gui([f"file://{ROOT / 'recordings' / 'before.xdf'}?speed=8"], AnalysisOptions(),
                     setup=until_the_block_is_done, quit_after=90, keep=keep)  # fmt: skip
    panel = keep["window"].panel
    rows = [r for b in result["exercises"] for r in b["reps"]]
    assert len(rows) == 8 and [r["index"] for r in panel.rows] == [r["index"] for r in rows]
    for shown, found in zip(panel.rows, rows, strict=True):
        assert shown["latency_ms"] == found["latency_ms"] and shown["pelvic_drop_deg"] == found["pelvic_drop_deg"]
    assert panel.table.rowCount() == 8
    table = list(csv.DictReader(io.StringIO(panel.table_csv())))
    assert len(table) == 8 * 8 and {r["exercise"] for r in table} == {"single_leg_squat"}
    assert "DELAYED" in panel.verdict.text()
    assert shot.exists() and shot.stat().st_size > 20000
    traces = keep["window"].traces
    assert len(traces.labels) == 8 and len(traces.obliquity.getData()[0]) > 100
    xb, yb = traces.band.getData()
    assert len(xb) > 8 * 200 and np.isfinite(yb).all()  # every lane drawn, within its lane
    lanes = np.round(yb).astype(int)
    assert set(lanes) <= set(range(8)) and len(set(lanes)) == 8
    onsets = traces.mark_curves[("emg", "onset")].getData()[0]
    assert any(kind == "onset" for _, kind, _ in traces.marks) and len(onsets)


def test_a_lost_sample_leaves_a_gap_in_its_lane_not_a_blank_lane():
    from sensorkit.gui.traces import LANE_HALF, lanes_path

    t = np.linspace(-1, 0, 6)
    y = np.array([[10.0, -20], [np.nan, 5], [30, 5], [40, 5], [50, 5], [60, 5]])
    xs, ys, connect = lanes_path(t, y, centres=np.array([1.0, 0.0]), scales=np.array([40.0, 10.0]))
    assert np.isfinite(ys).all()  # Qt drops a whole path that holds a NaN
    np.testing.assert_array_equal(xs, np.tile(t, 2))
    # lane 1: 10 uV of 40 is a quarter of the lane's half height above its centre; 50 and 60 clip
    np.testing.assert_allclose(ys[[0, 2, 4, 5]], 1 + LANE_HALF * np.array([0.25, 0.75, 1, 1]))
    np.testing.assert_allclose(ys[6:], [-LANE_HALF] + [LANE_HALF * 0.5] * 5)
    # the lost sample connects to nothing, and a lane's last point not to the next lane
    np.testing.assert_array_equal(connect, [0, 0, 1, 1, 1, 0, 1, 1, 1, 1, 1, 0])


def _row(index: int, latency: float) -> dict:
    m = "glute_max_L"
    return {"index": index, "start_s": float(index), "end_s": index + 1.0, "movement_onset_s": float(index),
            "onsets_s": {m: index + 0.1}, "latency_ms": {m: latency}, "onset_sd_ms": {m: 5.0},
            "quality": {m: "ok"}, "pelvic_drop_deg": 2.0, "delayed": {m: False}}  # fmt: skip


def test_a_finished_block_replaces_its_live_rows_in_the_table(qtbot):
    """The pipeline measures a finished block over the whole block (`analyze`'s repetitions); the
    table must then show and export those rows, not the ones found live, and leave the rows of a
    block that started meanwhile where they are."""
    from sensorkit.gui.panel import ClinicalPanel
    from sensorkit.live.events import BlockDone, BlockStarted, RepetitionDone

    panel = ClinicalPanel()
    qtbot.addWidget(panel)
    panel.on_event(BlockStarted("single_leg_stance", "L", 0.0, "movement"))
    for k in (1, 2, 3):  # live: a held stance cut in two
        panel.on_event(RepetitionDone("single_leg_stance", "L", _row(k, 10.0 * k)))
    panel.on_event(BlockStarted("single_leg_squat", "L", 20.0, "movement"))
    panel.on_event(RepetitionDone("single_leg_squat", "L", _row(1, 99.0)))
    block = {"exercise": "single_leg_stance", "side": "L", "reference": "movement",
             "reps": [_row(1, 11.0), _row(2, 22.0)], "glutes": [], "summary": {}}  # fmt: skip
    panel.on_event(BlockDone(block))
    assert [(r["exercise"], r["latency_ms"]["glute_max_L"]) for r in panel.rows] == [
        ("single_leg_stance", 11.0), ("single_leg_stance", 22.0), ("single_leg_squat", 99.0)]  # fmt: skip
    assert panel.table.rowCount() == 3 and "+22" in panel.table.item(1, 2).text()
    assert "+99" in panel.table.item(2, 2).text()
    table = list(csv.DictReader(io.StringIO(panel.table_csv())))
    assert [r["exercise"] for r in table] == ["single_leg_stance", "single_leg_stance", "single_leg_squat"]


def test_gait_steps_keep_their_stance_side_in_the_table_and_its_csv(qtbot):
    """A gait block has no side; each step has its stance leg, which the table shows and the CSV
    keeps (as `analyze`'s CSV), before and after the block's rows replace the live ones."""
    from sensorkit.gui.panel import ClinicalPanel
    from sensorkit.live.events import BlockDone, BlockStarted, RepetitionDone

    panel = ClinicalPanel()
    qtbot.addWidget(panel)
    panel.on_event(BlockStarted("gait", None, 0.0, "initial_contact"))
    steps = [{**_row(k, 10.0 * k), "side": "LR"[k % 2], "movement_onset_s": None} for k in (1, 2, 3)]
    for row in steps[:2]:
        panel.on_event(RepetitionDone("gait", None, row))
    assert [panel.table.item(r, 0).text() for r in range(2)] == ["gait R", "gait L"]
    panel.on_event(BlockDone({"exercise": "gait", "side": None, "reference": "initial_contact", "reps": steps,
                              "glutes": [], "summary": {}}))  # fmt: skip
    assert [panel.table.item(r, 0).text() for r in range(3)] == ["gait R", "gait L", "gait R"]
    table = list(csv.DictReader(io.StringIO(panel.table_csv())))
    assert [(r["exercise"], r["side"], r["rep"]) for r in table] == [("gait", "R", "1"), ("gait", "L", "2"),
                                                                     ("gait", "R", "3")]  # fmt: skip


def test_latency_colours_respect_the_margin_and_the_uncertainty():
    assert latency_color(20, 5, 50) == GREEN and latency_color(90, 5, 50) == RED
    assert latency_color(45, 5, 50) not in (GREEN, RED)  # 45 +- 10 straddles the margin: amber


def test_monitor_records_a_session_from_a_simulated_device(tmp_path, capsys, qtbot):
    out = tmp_path / "monitor.xdf"
    assert main(["monitor", "sim://single_leg_squat?speed=4&reps=2", "--record", str(out), "--patient", "P001",
                 "--quit-after", "8"]) == 0  # fmt: skip
    rec = read_xdf(out)
    kinds = {s.info.kind for s in rec.streams}
    assert {"EMG", "IMU", "Markers"} <= kinds and rec.closed_cleanly
    emg = rec.of_kind("EMG")[0]
    assert len(emg.timestamps) > 8 * 2000 and emg.lost_samples == 0
    assert "wrote" in capsys.readouterr().out


def test_replay_and_monitor_hand_a_recordings_mains_decisions_to_its_analysis(monkeypatch):
    """`replay FILE` and `monitor file://FILE` give the window's analysis `analyze`'s mains decisions
    for the whole recording (so that it shows `analyze`'s onsets on every channel); a device gets none."""
    seen = []
    monkeypatch.setattr("sensorkit.gui.app.run_gui", lambda *a, **kw: seen.append(kw) or {"exercises": []})
    path = ROOT / "recordings" / "before.xdf"
    decided = analyze_session(session_data(read_xdf(path)))["parameters"]["mains_detected_hz"]
    assert main(["replay", str(path)]) == 0
    assert main(["monitor", f"file://{path}?speed=4"]) == 0
    assert main(["monitor", "sim://single_leg_squat?speed=1"]) == 0
    assert [kw["recording_mains"] and kw["recording_mains"].notch_hz for kw in seen] == [decided, decided, None]


def test_replay_command_screenshot_and_its_errors(tmp_path, capsys, qtbot):
    shot = tmp_path / "x.png"
    assert main(["replay", str(ROOT / "recordings" / "after.xdf"), "--speed", "8", "--quit-after", "3",
                 "--screenshot", str(shot)]) == 0  # fmt: skip
    assert shot.exists()
    assert main(["replay", str(tmp_path / "missing.xdf")]) == 1
    assert "no such file" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["replay", str(ROOT / "recordings" / "after.xdf"), "--speed", "100"])


def test_the_monitor_guides_a_session_whose_markers_analyse_by_block(qtbot, tmp_path):
    """Recording through the window with the protocol: its buttons write the markers that make
    `analyze` find every block (the simulated patient sends none of its own)."""
    from pyqtgraph.Qt import QtCore, QtWidgets

    from sensorkit.analysis.session import analyze_session
    from sensorkit.recording.protocol import load_protocol
    from sensorkit.recording.session_input import session_data
    from sensorkit.sim import Dosage, SimConfig, simulate

    plan = simulate(SimConfig(scenario="single_leg_squat", seed=4, dose=Dosage(reps=3)))
    due = [t for t, _ in plan.markers]  # when the clinician presses, s from the session's start
    protocol = tmp_path / "p.toml"
    protocol.write_text('[[step]]\ncalibration = "standing"\n[[step]]\ncalibration = "forward_bend"\n'
                        '[[step]]\nexercise = "single_leg_squat"\nside = "L"\n'
                        '[[step]]\nexercise = "single_leg_squat"\nside = "R"\n')  # fmt: skip
    out = tmp_path / "guided.xdf"

    def clinician(keep):
        acq, window = keep["acquisition"], keep["window"]
        panel = next(w for w in window.findChildren(QtWidgets.QGroupBox) if w.title().startswith("Protocol"))

        def tick():
            if due and acq.first_time is not None and acq.last_time - acq.first_time >= due[0]:
                due.pop(0)
                panel.go.click()
            if not due and acq.finished:
                window.close()

        timer = QtCore.QTimer(window)
        timer.timeout.connect(tick)
        timer.start(5)

    run_gui(["sim://single_leg_squat?speed=8&seed=4&reps=3&markers=false"], AnalysisOptions(), str(out),
            {"patient": "P001"}, protocol=load_protocol(protocol), setup=clinician, quit_after=60)  # fmt: skip
    rec = read_xdf(out)
    assert [m for _, m in rec.markers() if not m.startswith("quality:")] == [m for _, m in plan.markers]
    result = analyze_session(session_data(rec))
    # every block is found with its repetitions (a click the busy event loop delays can let a
    # block's end take in the patient's change of leg: a repetition more, never one fewer)
    assert [(b["exercise"], b["side"]) for b in result["exercises"]] == [("single_leg_squat", "L"),
                                                                        ("single_leg_squat", "R")]  # fmt: skip
    assert all(3 <= len(b["reps"]) <= 4 for b in result["exercises"])


def test_a_sensor_dropout_shows_the_banner_and_the_recording_the_gap(qtbot, tmp_path):
    import threading

    from sensorkit.devices.virtual.pty import VirtualPort
    from sensorkit.devices.virtual.sk1 import SimFirmware
    from sensorkit.sim import Dosage, SimConfig, simulate

    rec = simulate(SimConfig(scenario="single_leg_squat", seed=2, dose=Dosage(reps=1), muscles=("glute_med_L",)))
    link = str(tmp_path / "ttySK1")
    out = tmp_path / "dropout.xdf"
    keep = {}
    with VirtualPort(SimFirmware(rec, speed=1.0), link=link) as port:
        threading.Timer(2.5, port.unplug, args=(1.5,)).start()
        run_gui([f"serial://{link}?protocol=sk1"], AnalysisOptions(), str(out), {"patient": "P001"},
                quit_after=8, keep=keep)  # fmt: skip
    banners = keep["window"].banners
    assert any(b.startswith("Sensor lost") for b in banners) and banners[-1].startswith("Sensor back")
    f = read_xdf(out)
    emg = f.of_kind("EMG")[0]
    assert 1.0 * emg.info.srate < emg.lost_samples < 4 * emg.info.srate  # the silence, as NaN rows
    labels = [m for _, m in f.markers()]
    assert any(m.startswith("device_disconnected") for m in labels)
    assert any(m.startswith("device_reconnected") for m in labels)


def test_the_compare_view_shows_the_verdicts_and_the_figures(qtbot):
    from PySide6 import QtSvgWidgets

    from sensorkit.analysis.compare import compare_results
    from sensorkit.analysis.session import analyze_session
    from sensorkit.gui.compare_view import CompareWindow
    from sensorkit.recording.session_input import session_data

    results = [analyze_session(session_data(read_xdf(ROOT / "recordings" / f"{n}.xdf"))) for n in ("before", "after")]
    comparison = compare_results(results, ["before", "after"])
    said = []
    old = QtCore.qInstallMessageHandler(lambda kind, where, text: said.append((where.category, text)))
    try:
        w = CompareWindow(results, comparison)
    finally:
        QtCore.qInstallMessageHandler(old)
    assert not [t for category, t in said if category == "qt.svg"]  # the figures load without Qt's SVG warnings
    qtbot.addWidget(w)
    judged = [e for e in comparison["entries"] if e["judged"]]
    assert w.table.rowCount() == len(judged) == 6
    assert {w.table.item(r, 0).text() for r in range(6)} == {"improved"}
    assert len(w.findChildren(QtSvgWidgets.QSvgWidget)) == 6  # the report's figures, two blocks x three
    assert w.report().count("<svg") == 6


def test_glyphs_that_draw_nothing_are_left_out_of_the_views_figures_and_the_rest_kept():
    from sensorkit.gui.compare_view import without_empty_glyphs

    svg = ('<svg><defs><path id="DejaVuSans-33" d="M 0 0 L 1 1 z" transform="scale(0.015625)"/>'
           '<path id="DejaVuSans-3" transform="scale(0.015625)"/></defs>'
           '<use xlink:href="#DejaVuSans-33"/><use xlink:href="#DejaVuSans-3" transform="translate(38 0)"/>'
           '<use xlink:href="#DejaVuSans-33" transform="translate(70 0)"/></svg>')  # "3 3"
    out = without_empty_glyphs(svg)
    assert 'id="DejaVuSans-3"' not in out and '#DejaVuSans-3"' not in out
    assert out.count('xlink:href="#DejaVuSans-33"') == 2 and 'id="DejaVuSans-33"' in out


def test_biofeedback_cues_each_repetition(qtbot):
    keep = {}
    run_gui([f"file://{ROOT / 'recordings' / 'after.xdf'}?speed=8"], AnalysisOptions(), quit_after=11, keep=keep,
            biofeedback="glute_med_L")  # fmt: skip
    cues = keep["window"].cues
    assert len(cues) >= 3 and all(c.startswith("glute_med_L") for c in cues)
    assert any("after the movement" in c for c in cues)  # the example patient's glute fires 10-30 ms after


def test_recording_starts_and_stops_from_the_window(qtbot, tmp_path):
    from pyqtgraph.Qt import QtCore, QtWidgets

    out = tmp_path / "from_window.xdf"
    (tmp_path / "taken.xdf").write_bytes(b"precious")
    said = []

    def clinician(keep):
        panel = next(w for w in keep["window"].findChildren(QtWidgets.QGroupBox) if w.title() == "Session")

        def try_bad():  # a name, then a file that exists: refused with the reason, nothing written
            panel.patient.setText("Jane Doe")
            panel.session.setText("before")
            panel.file.setText(str(out))
            panel.button.click()
            said.append(panel.state.text())
            panel.patient.setText("P017")
            panel.file.setText(str(tmp_path / "taken.xdf"))
            panel.button.click()
            said.append(panel.state.text())
            panel.file.setText(str(out))
            panel.button.click()  # starts
            said.append(panel.state.text())

        QtCore.QTimer.singleShot(500, try_bad)
        QtCore.QTimer.singleShot(4500, lambda: (panel.button.click(), said.append(panel.state.text())))

    run_gui(["sim://single_leg_squat?speed=1&reps=1"], AnalysisOptions(), setup=clinician, quit_after=5.5)
    assert "never a name" in said[0] and "exists" in said[1] and said[2].startswith("recording to")
    assert said[3].startswith("wrote") and (tmp_path / "taken.xdf").read_bytes() == b"precious"
    rec = read_xdf(out)
    assert rec.closed_cleanly and rec.file_header["info"]["patient"] == ["P017"]
    emg = rec.of_kind("EMG")[0]
    assert 3 * 2000 < len(emg.timestamps) < 5 * 2000 and emg.lost_samples == 0


def test_the_device_picker_offers_ports_and_simulated_patients(qtbot, monkeypatch):
    from sensorkit.devices.transports.serial import PortInfo
    from sensorkit.gui import app
    from sensorkit.gui.device_picker import DevicePicker

    monkeypatch.setattr("sensorkit.devices.transports.serial.list_serial_ports",
                        lambda: [PortInfo("/dev/ttyUSB0", "FT231X", 0x0403, 0x6015, "D1"),
                                 PortInfo("/dev/ttyACM0", "sk1 unit", 0x1234, 0x0001, "S7")])  # fmt: skip
    candidates = app.device_candidates()
    specs = [spec for _, spec in candidates]
    assert "serial:///dev/ttyUSB0?protocol=openbci" in specs and "serial:///dev/ttyACM0?protocol=sk1" in specs
    assert "sim://session?speed=1" in specs
    picker = DevicePicker(candidates)
    qtbot.addWidget(picker)
    picker.list.item(0).setSelected(True)
    picker.spec.setText("lsl://type=EMG")
    assert picker.specs() == ["serial:///dev/ttyUSB0?protocol=openbci", "lsl://type=EMG"]


def test_seeking_a_replay_brings_a_fresh_analysis_there(qtbot):
    from pyqtgraph.Qt import QtCore

    keep = {}

    def setup(k):
        start, _ = k["window"].replay.span
        QtCore.QTimer.singleShot(1500, lambda: k["seek"](start + 55.0))  # into the right-leg block

        def done():  # the replay has reached its end: close (a fixed wait failed on a busy machine)
            if k["acquisition"].finished:
                k["window"].close()

        timer = QtCore.QTimer(k["window"])
        timer.timeout.connect(done)
        timer.start(50)

    path = ROOT / "recordings" / "before.xdf"
    data = session_data(read_xdf(path))
    result = run_gui([f"file://{path}?speed=8"], AnalysisOptions(), keep=keep, setup=setup, quit_after=60,
                     recording_mains=recording_mains(data.emg))  # fmt: skip
    # the fresh analysis after the jump was handed the recording's mains decisions too
    decided = analyze_session(data)["parameters"]["mains_detected_hz"]
    assert result["parameters"]["mains_detected_hz"] == decided
    window = keep["window"]
    blocks = [(b["exercise"], b["side"], len(b["reps"])) for b in result["exercises"]]
    assert blocks == [("single_leg_squat", "L", 4), ("single_leg_squat", "R", 4)]  # nothing lost by the jump
    shown = [(r["side"], r["index"]) for r in window.panel.rows]
    assert shown[:4] == [("L", 1), ("L", 2), ("L", 3), ("L", 4)] and ("R", 4) in shown  # caught up, then on
    assert window.replay.position > window.replay.span[0] + 55.0


def test_a_frozen_window_loses_no_sample_from_the_recording(qtbot, tmp_path):
    """The window's thread stops for 2 s (a slow machine, a modal dialog): acquisition, the
    recorder and the pipeline run on their own threads, so the file has every sample."""
    from pyqtgraph.Qt import QtCore

    out = tmp_path / "frozen.xdf"

    def setup(keep):
        QtCore.QTimer.singleShot(1500, lambda: time.sleep(2.0))  # the GUI thread frozen

    result = run_gui(["sim://single_leg_squat?speed=1&reps=1"], AnalysisOptions(), str(out), {"patient": "P001"},
                     setup=setup, quit_after=6)  # fmt: skip
    rec = read_xdf(out)
    emg = rec.of_kind("EMG")[0]
    assert len(emg.timestamps) > 5 * 2000 and emg.lost_samples == 0
    assert np.all(np.diff(emg.timestamps) < 2 / 2000)  # no hole anywhere, the frozen 2 s included
    assert result["file"] == "frozen.xdf"


def test_a_channel_whose_signal_goes_bad_gets_a_badge_on_its_lane(qtbot):
    from sensorkit.gui.traces import TracesView

    traces = TracesView(window_s=10.0)
    qtbot.addWidget(traces)
    traces.set_quality("glute_med_L", "lift_off")  # before the lanes exist: kept for them
    traces._build(["glute_max_L", "glute_med_L"])
    badge = traces.badges["glute_med_L"]
    assert badge.isVisible() and "electrode off?" in badge.textItem.toHtml()
    assert badge.pos().y() == 0.0  # the second lane from the top: centre 0
    traces.resize(600, 300)
    traces.show()
    qtbot.wait(50)
    img = traces.grab().toImage()
    colors = {img.pixelColor(x, y).name() for x in range(0, 600, 2) for y in range(0, 300, 2)}
    assert "#c62828" in colors  # the red badge is drawn
    traces.set_quality("glute_med_L", "ok")
    assert not badge.isVisible()
    traces.set_quality("glute_max_L", "motion_artefact")  # comes with every movement: no badge
    assert "glute_max_L" not in traces.badges


def test_the_monitor_marks_signal_faults_in_its_recording(tmp_path, qtbot):
    out = tmp_path / "faults.xdf"
    assert main(["monitor", "sim://single_leg_squat?speed=8&reps=2&seed=3&faults=1", "--record", str(out),
                 "--quit-after", "12"]) == 0  # fmt: skip
    quality = [m for _, m in read_xdf(out).markers() if m.startswith("quality:")]
    assert any(m.endswith(":lift_off") for m in quality), quality
    assert not any(m.endswith(":motion_artefact") for m in quality)


def test_traces_draw_when_a_chunk_reached_the_band_and_not_yet_the_envelope(qtbot):
    """The acquisition thread fills the band-passed and the envelope buffers one after the other;
    a frame drawn between the two has more band samples than envelope samples (it raised
    "X and Y arrays must be the same shape" in the Qt event loop under load)."""
    from sensorkit.gui.display import DisplayBuffers
    from sensorkit.gui.traces import TracesView
    from sensorkit.streams import Chunk, StreamInfo

    fs = 1000.0
    info = StreamInfo("emg", "EMG", ("glute_med_L", "glute_med_R"), ("V", "V"), fs, "t:0")
    display = DisplayBuffers(window_s=10.0)
    rng = np.random.default_rng(0)
    display.push(Chunk(info, np.arange(2000) / fs, rng.normal(0, 1e-5, (2000, 2))))
    display.band.push(2.0 + np.arange(50) / fs, np.zeros((50, 2), np.float32))  # the envelope's turn still to come
    view = TracesView(window_s=10.0)
    qtbot.addWidget(view)
    view.refresh(display)
    xe, _ = view.envelope.getData()
    assert xe is not None and len(xe) > 0 and view._now == 2.049
