"""The guided protocol in the window: the step to do and what to say to the patient, a
button (and the space bar) that starts or ends it, writing its markers into the session,
a skip button, and free notes (`annotation:TEXT`)."""

from __future__ import annotations

from pyqtgraph.Qt import QtCore, QtGui, QtWidgets

from sensorkit.recording.protocol import ProtocolRunner


class ProtocolPanel(QtWidgets.QGroupBox):
    def __init__(self, runner: ProtocolRunner) -> None:
        super().__init__(f"Protocol: {runner.protocol.name}")
        self.runner = runner
        layout = QtWidgets.QVBoxLayout(self)
        self.step = QtWidgets.QLabel("")
        self.step.setStyleSheet("font-size: 13pt; font-weight: bold")
        self.step.setWordWrap(True)
        self.say = QtWidgets.QLabel("")
        self.say.setWordWrap(True)
        self.log = QtWidgets.QLabel("")
        self.log.setStyleSheet("color: #555555")
        buttons = QtWidgets.QHBoxLayout()
        self.go = QtWidgets.QPushButton("")
        self.go.clicked.connect(self.advance)
        self.skip = QtWidgets.QPushButton("Skip step")
        self.skip.clicked.connect(self.skip_step)
        buttons.addWidget(self.go, 2)
        buttons.addWidget(self.skip, 1)
        notes = QtWidgets.QHBoxLayout()
        self.note = QtWidgets.QLineEdit()
        self.note.setPlaceholderText("a note for the recording (Enter adds it)")
        self.note.returnPressed.connect(self.add_note)
        notes.addWidget(self.note)
        for w in (self.step, self.say):
            layout.addWidget(w)
        layout.addLayout(buttons)
        layout.addLayout(notes)
        layout.addWidget(self.log)
        # the space bar steps through the protocol from anywhere in the window but the note field
        self.shortcut = QtGui.QShortcut(QtGui.QKeySequence(QtCore.Qt.Key_Space), self)
        self.shortcut.setContext(QtCore.Qt.WindowShortcut)
        self.shortcut.activated.connect(lambda: None if self.note.hasFocus() else self.advance())
        self.show_step()

    def show_step(self) -> None:
        step = self.runner.step
        if step is None:
            self.step.setText("protocol complete")
            self.say.setText("")
            self.go.setEnabled(False)
            self.skip.setEnabled(False)
            return
        self.step.setText(("now: " if self.runner.running else "next: ") + step.title())
        self.say.setText(step.say)
        self.go.setText(("End" if self.runner.running else "Start") + " step [space]")

    def advance(self) -> None:
        self.log.setText(self.runner.advance())
        self.show_step()

    def skip_step(self) -> None:
        self.log.setText(self.runner.skip())
        self.show_step()

    def add_note(self) -> None:
        self.runner.annotate(self.note.text())
        self.log.setText(f"note added: {self.note.text().strip()}")
        self.note.clear()
