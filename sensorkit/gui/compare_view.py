"""The compare view: sessions of one patient side by side, the verdicts in plain words and
the report's figures, with a button that writes the HTML report (`sensorkit compare
... --view`). It shows what `compare` computed and draws the report's own figures."""

from __future__ import annotations

import re

from pyqtgraph.Qt import QtCore, QtGui, QtWidgets
from PySide6 import QtSvgWidgets  # the report's SVG figures, drawn as SVG (the binding pinned in pyproject)

from sensorkit.gui.screen import ensure_screen
from sensorkit.report.html import _blocks, _title, drop_figure, latency_figure, order_figure, report_html

VERDICT_COLOURS = {"improved": "#1b7a2f", "worse": "#b3261e", "no clear change": "#555555"}


# a glyph defined as a path with no data: matplotlib (3.11) writes the space so
_EMPTY_GLYPH = re.compile(r'<path id="([^"]+)"(?: transform="[^"]*")?\s*/>')


def without_empty_glyphs(svg: str) -> str:
    """`svg` without its glyphs that draw nothing and their uses. Qt's SVG renderer reports
    each ("Invalid path data", "link #DejaVuSans-3 is undefined"): a screenful of warnings on
    the terminal for one comparison, where browsers draw the same file silently."""
    for glyph in set(_EMPTY_GLYPH.findall(svg)):
        svg = re.sub(rf'<path id="{re.escape(glyph)}"[^>]*/>|<use xlink:href="#{re.escape(glyph)}"[^>]*/>', "", svg)
    return svg


def _svg_widget(markup: str | None) -> QtWidgets.QWidget | None:
    """A report figure (inline SVG in a div) as a widget that keeps its aspect."""
    if not markup:
        return None
    svg = without_empty_glyphs(markup[markup.index("<svg") : markup.rindex("</svg>") + len("</svg>")])
    w = QtSvgWidgets.QSvgWidget()
    w.load(QtCore.QByteArray(svg.encode()))
    size = w.renderer().defaultSize()
    w.setFixedSize(size.scaled(900, 600, QtCore.Qt.KeepAspectRatio))
    return w


class CompareWindow(QtWidgets.QMainWindow):
    def __init__(self, results: list[dict], comparison: dict) -> None:
        super().__init__()
        self.results, self.comparison = results, comparison
        who = comparison.get("pseudonym") or "unknown patient"
        self.setWindowTitle(f"sensorkit compare: {who}")
        central = QtWidgets.QWidget()
        layout = QtWidgets.QVBoxLayout(central)
        head = QtWidgets.QLabel(f"{who}: " + ", ".join(s["label"] for s in comparison["sessions"]))
        head.setStyleSheet("font-size: 14pt; font-weight: bold")
        layout.addWidget(head)
        self.table = QtWidgets.QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels(("verdict", "change"))
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.NoEditTriggers)
        for e in sorted((e for e in comparison["entries"] if e["judged"]),
                        key=lambda e: ({"improved": 0, "worse": 1}.get(e["verdict"], 2), e["text"])):  # fmt: skip
            r = self.table.rowCount()
            self.table.insertRow(r)
            verdict = QtWidgets.QTableWidgetItem(e["verdict"])
            verdict.setForeground(QtGui.QBrush(QtGui.QColor(VERDICT_COLOURS.get(e["verdict"], "#555555"))))
            self.table.setItem(r, 0, verdict)
            self.table.setItem(r, 1, QtWidgets.QTableWidgetItem(e["text"]))
        self.table.resizeColumnToContents(0)
        self.table.setMaximumHeight(32 + 30 * max(self.table.rowCount(), 1))
        layout.addWidget(self.table)
        figures = QtWidgets.QWidget()
        fig_layout = QtWidgets.QVBoxLayout(figures)
        margin = results[0].get("parameters", {}).get("timing", {}).get("delay_margin_ms", 50.0)
        threshold = (results[0].get("pelvis") or {}).get("drop_threshold_deg", 5.0)
        for exercise, side in _blocks(results):
            title = QtWidgets.QLabel(_title(exercise, side))
            title.setStyleSheet("font-size: 12pt; font-weight: bold")
            fig_layout.addWidget(title)
            for fig in (latency_figure(results, exercise, side, margin), order_figure(results, exercise, side),
                        drop_figure(results, exercise, side, threshold)):  # fmt: skip
                w = _svg_widget(fig)
                if w is not None:
                    fig_layout.addWidget(w)
        scroll = QtWidgets.QScrollArea()
        scroll.setWidget(figures)
        layout.addWidget(scroll, 1)
        self.write = QtWidgets.QPushButton("Write the report (HTML)...")
        self.write.clicked.connect(self._write_dialog)
        layout.addWidget(self.write)
        self.setCentralWidget(central)

    def report(self) -> str:
        return report_html(self.results, self.comparison)

    def _write_dialog(self) -> None:
        from sensorkit.recording.outputs import write_text

        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Write the report", "report.html", "HTML (*.html)")
        if path:
            write_text(path, self.report())  # the dialog itself asks before replacing a file
            self.statusBar().showMessage(f"wrote {path}")


def show_comparison(results: list[dict], comparison: dict, screenshot: str | None = None,
                    quit_after: float | None = None) -> None:  # fmt: skip
    """Open the compare view until it is closed (or `quit_after` s, saving `screenshot`)."""
    import pyqtgraph as pg

    ensure_screen(headless=screenshot is not None and quit_after is not None)
    app = pg.mkQApp("sensorkit")
    window = CompareWindow(results, comparison)
    window.resize(1100, 900)
    window.show()
    if quit_after is not None:
        def finish() -> None:
            if screenshot:
                window.grab().save(screenshot)
            window.close()

        QtCore.QTimer.singleShot(int(quit_after * 1000), finish)
    app.exec()
