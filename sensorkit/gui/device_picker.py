"""Picking the devices when `sensorkit monitor` is started without any: the serial ports
found (with the spec to try for boards sensorkit recognises), simulated patients, and a
field for any spec (`ble://name=Myo?protocol=myo`, `lsl://type=EMG`, ...)."""

from __future__ import annotations

from pyqtgraph.Qt import QtCore, QtWidgets


class DevicePicker(QtWidgets.QDialog):
    def __init__(self, candidates: list[tuple[str, str]]) -> None:
        super().__init__()
        self.setWindowTitle("sensorkit: choose the sensors")
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(QtWidgets.QLabel("Sensors found and simulated ones (select one or more):"))
        self.list = QtWidgets.QListWidget()
        self.list.setSelectionMode(QtWidgets.QAbstractItemView.ExtendedSelection)
        for text, spec in candidates:
            item = QtWidgets.QListWidgetItem(f"{text}\n    {spec}")
            item.setData(QtCore.Qt.UserRole, spec)
            self.list.addItem(item)
        layout.addWidget(self.list)
        layout.addWidget(QtWidgets.QLabel("or any device spec (see sensorkit devices --help):"))
        self.spec = QtWidgets.QLineEdit()
        self.spec.setPlaceholderText("serial:///dev/ttyACM0?protocol=sk1   ble://name=Myo?protocol=myo   lsl://type=EMG")
        layout.addWidget(self.spec)
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.Ok | QtWidgets.QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def specs(self) -> list[str]:
        chosen = [item.data(QtCore.Qt.UserRole) for item in self.list.selectedItems()]
        typed = self.spec.text().strip()
        return chosen + ([typed] if typed else [])
