"""Session control in the window: the patient's pseudonym, the session label and the file,
and a button that starts and stops recording while the sensors keep streaming. The panel
only asks; `gui.app` checks the names (never a patient's name, never over a file) and runs
the recorder."""

from __future__ import annotations

from collections.abc import Callable

from pyqtgraph.Qt import QtWidgets


class SessionPanel(QtWidgets.QGroupBox):
    def __init__(self, start: Callable[[str, str, str], str], stop: Callable[[], str],
                 recording_to: str | None = None) -> None:  # fmt: skip
        super().__init__("Session")
        self._start, self._stop = start, stop
        form = QtWidgets.QFormLayout(self)
        self.patient = QtWidgets.QLineEdit()
        self.patient.setPlaceholderText("pseudonym with a digit, e.g. P017")
        self.session = QtWidgets.QLineEdit()
        self.session.setPlaceholderText("before, after, 2026-11-29, week6 ...")
        self.file = QtWidgets.QLineEdit()
        self.file.setPlaceholderText("FILE.xdf")
        self.button = QtWidgets.QPushButton("Start recording")
        self.button.clicked.connect(self.toggle)
        self.state = QtWidgets.QLabel("not recording")
        for label, w in (("patient", self.patient), ("session", self.session), ("file", self.file)):
            form.addRow(label, w)
        form.addRow(self.button)
        form.addRow(self.state)
        self.recording = recording_to is not None
        if self.recording:
            self.file.setText(recording_to)
            self._recording_view(recording_to)

    def _recording_view(self, path: str) -> None:
        self.button.setText("Stop recording")
        self.state.setText(f"recording to {path}")
        self.state.setStyleSheet("color: #b3261e; font-weight: bold")
        for w in (self.patient, self.session, self.file):
            w.setEnabled(False)

    def toggle(self) -> None:
        if not self.recording:
            error = self._start(self.file.text().strip(), self.patient.text().strip() or "unspecified",
                                self.session.text().strip() or "unspecified")  # fmt: skip
            if error:
                self.state.setText(error)
                self.state.setStyleSheet("color: #b3261e")
                return
            self.recording = True
            self._recording_view(self.file.text().strip())
        else:
            self.state.setText(self._stop())
            self.state.setStyleSheet("")
            self.recording = False
            self.button.setText("Start recording")
            for w in (self.patient, self.session, self.file):
                w.setEnabled(True)
