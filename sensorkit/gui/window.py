"""The monitor window: traces on the left, the clinical panel on the right, device status
below; replays get play/pause and a speed choice. Drawing runs on a Qt timer at 30 Hz
and only reads what the acquisition and the pipeline left behind: a slow or frozen
window never holds back a sample (the recorder and the pipeline have their own threads).
"""

from __future__ import annotations

import queue
from collections.abc import Callable

from pyqtgraph.Qt import QtCore, QtWidgets

from sensorkit.gui.display import DisplayBuffers
from sensorkit.gui.panel import ClinicalPanel
from sensorkit.gui.traces import TracesView
from sensorkit.live.events import BlockStarted, Onset, Quality, RepetitionDone, RepetitionStarted

FRAME_MS = 33  # ~30 frames a second
SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0)


class MonitorWindow(QtWidgets.QMainWindow):
    def __init__(self, title: str, display: DisplayBuffers, events: queue.Queue, pelvis_of: Callable[[], object],
                 status: Callable[[], str], margin_ms: float = 50.0, threshold_deg: float = 5.0,
                 window_s: float = 10.0, replay=None, protocol: QtWidgets.QWidget | None = None,
                 links: Callable[[], list[tuple[str, str]]] | None = None,
                 biofeedback: str | None = None, session: QtWidgets.QWidget | None = None,
                 on_seek: Callable[[float], None] | None = None) -> None:  # fmt: skip
        super().__init__()
        self.setWindowTitle(title)
        self.display, self.events, self.pelvis_of, self.status_of = display, events, pelvis_of, status
        self.replay, self.on_seek = replay, on_seek
        self.traces = TracesView(window_s, threshold_deg)
        self.panel = ClinicalPanel(margin_ms, threshold_deg)
        split = QtWidgets.QSplitter()
        split.addWidget(self.traces)
        side = QtWidgets.QWidget()
        side_layout = QtWidgets.QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        if session is not None:
            side_layout.addWidget(session)
        if protocol is not None:
            side_layout.addWidget(protocol)
        side_layout.addWidget(self.panel, 1)
        split.addWidget(side)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        central = QtWidgets.QWidget()
        layout = QtWidgets.QVBoxLayout(central)
        # a banner when a sensor drops out, and when it comes back
        self.links_of = links or (lambda: [])
        self.banner = QtWidgets.QLabel("")
        self.banner.setWordWrap(True)
        self.banner.hide()
        self.banners: list[str] = []  # every banner shown, in order
        self._lost: set[str] = set()
        self._back_until = 0
        layout.addWidget(self.banner)
        # biofeedback: a cue in each repetition on whether the chosen glute fired before the movement
        self.biofeedback = biofeedback
        self.cue = QtWidgets.QLabel("")
        self.cue.setAlignment(QtCore.Qt.AlignCenter)
        self.cue.hide()
        self.cues: list[str] = []
        self._cue_until = 0
        layout.addWidget(self.cue)
        if replay is not None:
            layout.addLayout(self._replay_controls(replay))
        layout.addWidget(split, 1)  # the traces take the height; the bars above only what they need
        self.setCentralWidget(central)
        self.status = QtWidgets.QLabel("")
        self.statusBar().addWidget(self.status)
        self.frames = 0
        self.timer = QtCore.QTimer(self)
        self.timer.timeout.connect(self.frame)
        self.timer.start(FRAME_MS)

    def _replay_controls(self, replay) -> QtWidgets.QHBoxLayout:
        row = QtWidgets.QHBoxLayout()
        self.play = QtWidgets.QPushButton("Pause")
        self.speed = QtWidgets.QComboBox()
        self.speed.addItems([f"{s:g}x" for s in SPEEDS])
        self.speed.setCurrentIndex(min(range(len(SPEEDS)), key=lambda i: abs(SPEEDS[i] - (replay.speed or 8.0))))

        def toggle() -> None:
            if replay.paused:
                replay.resume(SPEEDS[self.speed.currentIndex()])
                self.play.setText("Pause")
            else:
                replay.pause()
                self.play.setText("Play")

        def speed_changed(i: int) -> None:
            if not replay.paused:
                replay.resume(SPEEDS[i])

        self.play.clicked.connect(toggle)
        self.speed.currentIndexChanged.connect(speed_changed)
        # seek: where the replay is, and dragging it elsewhere (the analysis is brought there afresh)
        self.seek = QtWidgets.QSlider(QtCore.Qt.Horizontal)
        self.seek.setRange(0, 1000)
        self.seek.sliderReleased.connect(self._seek_released)
        self.where = QtWidgets.QLabel("")
        row.addWidget(QtWidgets.QLabel("replay"))
        row.addWidget(self.play)
        row.addWidget(QtWidgets.QLabel("speed"))
        row.addWidget(self.speed)
        row.addWidget(self.seek, 1)
        row.addWidget(self.where)
        return row

    def _seek_released(self) -> None:
        if self.on_seek is None:
            return
        start, end = self.replay.span
        self.on_seek(start + self.seek.value() / 1000 * (end - start))

    def reset(self, display: DisplayBuffers, events: queue.Queue) -> None:
        """Start drawing afresh from new buffers and a new analysis (after a seek)."""
        self.display, self.events = display, events
        self.traces.clear_all()
        self.panel.clear_all()

    def frame(self) -> None:
        """One frame: the pipeline's new events, then the traces."""
        while True:
            try:
                event = self.events.get_nowait()
            except queue.Empty:
                break
            self.panel.on_event(event)
            if isinstance(event, BlockStarted):
                self.traces.set_stance(event.side)
            elif isinstance(event, Onset):
                self.traces.add_mark(event.t_s, "onset", event.channel)
                if event.channel == self.biofeedback and event.latency_ms is not None:
                    self._cue(event)
            elif isinstance(event, RepetitionStarted):
                self.traces.add_mark(event.movement_onset_s, "movement")
            elif isinstance(event, RepetitionDone):
                self.traces.add_mark(event.row["end_s"], "rep_end", "__pelvis__")
            elif isinstance(event, Quality):
                self.traces.set_quality(event.channel, event.state)
        self.traces.refresh(self.display, self.pelvis_of())
        self.frames += 1
        if self.frames % 15 == 0:
            self.status.setText(self.status_of())
            if self.replay is not None and not self.seek.isSliderDown():
                start, end = self.replay.span
                pos = self.replay.position
                self.seek.setValue(int(1000 * (pos - start) / max(end - start, 1e-9)))
                self.where.setText(f"{pos - start:6.1f} / {end - start:.1f} s")
        self._check_links()
        if self.cue.isVisible() and self.frames > self._cue_until:
            self.cue.hide()

    def _cue(self, event: Onset) -> None:
        """Green, with a beep, when the glute switched on before the movement began; amber when
        after (with by how much). Shown for two seconds."""
        if event.latency_ms < 0:
            text = f"{event.channel} fired first ({event.latency_ms:+.0f} ms)"
            style = "background: #1b7a2f; color: white; font-size: 22pt; font-weight: bold; padding: 8px"
            QtWidgets.QApplication.beep()
        else:
            text = f"{event.channel} after the movement ({event.latency_ms:+.0f} ms)"
            style = "background: #b26a00; color: white; font-size: 22pt; font-weight: bold; padding: 8px"
        self.cue.setText(text)
        self.cue.setStyleSheet(style)
        self.cue.show()
        self.cues.append(text)
        self._cue_until = self.frames + int(2000 / FRAME_MS)

    def _check_links(self) -> None:
        """Red while a sensor is lost (the recording goes on, marking the gap), green for a few
        seconds when it is back."""
        lost = {name for name, state in self.links_of() if state in ("reconnecting", "disconnected")}
        if lost:
            text = f"Sensor lost: {', '.join(sorted(lost))}, reconnecting. The recording goes on and marks the gap."
            style = "background: #b3261e; color: white; font-weight: bold; padding: 6px"
        elif self._lost:
            text = f"Sensor back: {', '.join(sorted(self._lost))}. The gap is marked in the recording."
            style = "background: #1b7a2f; color: white; font-weight: bold; padding: 6px"
            self._back_until = self.frames + int(5000 / FRAME_MS)
        elif self.frames > self._back_until:
            self.banner.hide()
            self._lost = lost
            return
        else:
            return
        self._lost = lost
        if text != self.banner.text():
            self.banner.setText(text)
            self.banner.setStyleSheet(style)
            self.banners.append(text)
        self.banner.show()
