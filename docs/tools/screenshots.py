"""Renders the README's window screenshots offscreen from the real widgets.

    QT_QPA_PLATFORM=offscreen .venv/bin/python docs/tools/screenshots.py

docs/monitor.png: the example recording replayed, mid-way through the right-side block;
docs/protocol.png: a simulated patient under the default protocol, at the calibration's
forward bends. (docs/compare_view.png comes from `sensorkit compare ... --view --screenshot`.)
"""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from sensorkit.analysis.mains import recording_mains  # noqa: E402
from sensorkit.analysis.session import AnalysisOptions  # noqa: E402
from sensorkit.gui.app import run_gui  # noqa: E402
from sensorkit.recording.protocol import load_protocol  # noqa: E402
from sensorkit.recording.session_input import session_data  # noqa: E402
from sensorkit.recording.xdf_reader import read_xdf  # noqa: E402

DOCS = Path(__file__).resolve().parents[1]
ROOT = DOCS.parent


def main() -> None:
    before = ROOT / "recordings" / "before.xdf"
    mains = recording_mains(session_data(read_xdf(before)).emg)  # as `sensorkit replay` hands them on
    run_gui([f"file://{before}?speed=8"], AnalysisOptions(), screenshot=str(DOCS / "monitor.png"), quit_after=8.2,
            recording_mains=mains)  # fmt: skip

    def to_the_bends(keep: dict) -> None:
        from pyqtgraph.Qt import QtCore, QtWidgets

        window = keep["window"]
        panel = next(w for w in window.findChildren(QtWidgets.QGroupBox) if w.title().startswith("Protocol"))
        QtCore.QTimer.singleShot(500, panel.go.click)  # quiet standing starts
        QtCore.QTimer.singleShot(6000, panel.go.click)  # and ends
        QtCore.QTimer.singleShot(6200, panel.go.click)  # the forward bends start

    run_gui(["sim://single_leg_squat?speed=1&seed=3&markers=false"], AnalysisOptions(),
            screenshot=str(DOCS / "protocol.png"), quit_after=12, protocol=load_protocol(),
            setup=to_the_bends)  # fmt: skip


if __name__ == "__main__":
    main()
