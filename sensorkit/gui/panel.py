"""The clinical panel: the exercise under way, the repetition count, the last repetition's
glute latencies (green / amber / red against the delayed margin, with their uncertainty)
and pelvic drop (against its threshold), the running table of repetitions (exportable to
CSV) and the block's verdict when it ends. A view of the pipeline's events only: when a
block ends, its rows become the block's result (`BlockDone`), which the pipeline measures
over the whole block as `analyze` does, so the table exported is `analyze`'s."""

from __future__ import annotations

from pyqtgraph.Qt import QtCore, QtWidgets

from sensorkit.analysis.exercises import glutes_of_interest
from sensorkit.live.events import BlockDone, BlockStarted, Calibrated, Notice, RepetitionDone, RepetitionStarted
from sensorkit.report.table import block_summary

GREEN, AMBER, RED, GREY = "#1b7a2f", "#b26a00", "#b3261e", "#555555"


def latency_color(latency_ms: float | None, sd_ms: float | None, margin_ms: float) -> str:
    """Green when clearly within the margin, red when clearly beyond it, amber when its
    uncertainty straddles it."""
    if latency_ms is None:
        return GREY
    sd = 1.96 * (sd_ms or 0.0)
    if latency_ms - sd > margin_ms:
        return RED
    if latency_ms + sd <= margin_ms:
        return GREEN
    return AMBER


def _latency_text(row: dict, muscle: str) -> str:
    """A row's latency of `muscle` with its 95 % interval ('+38 ± 12 ms'), or its quality flag."""
    lat, sd = row["latency_ms"][muscle], row["onset_sd_ms"][muscle]
    return row["quality"][muscle] if lat is None else f"{lat:+.0f} ± {1.96 * (sd or 0):.0f} ms"


class ClinicalPanel(QtWidgets.QWidget):
    COLUMNS = ("block", "rep", "glute latencies (ms)", "drop (deg)")

    def __init__(self, margin_ms: float = 50.0, threshold_deg: float = 5.0) -> None:
        super().__init__()
        self.margin_ms, self.threshold_deg = margin_ms, threshold_deg
        self.rows: list[dict] = []  # RepetitionDone rows, in order; a finished block's from its BlockDone
        self._groups: list[int] = []  # the block each row belongs to (a number per BlockStarted)
        self._open: list[tuple[int, tuple[str, str | None]]] = []  # blocks started, not done: (number, key)
        self._started = 0
        layout = QtWidgets.QVBoxLayout(self)
        self.exercise = QtWidgets.QLabel("waiting for the calibration and the first exercise")
        self.exercise.setStyleSheet("font-size: 15pt; font-weight: bold")
        self.exercise.setWordWrap(True)
        self.count = QtWidgets.QLabel("")
        self.count.setStyleSheet("font-size: 12pt")
        self.last = QtWidgets.QLabel("")
        self.last.setTextFormat(QtCore.Qt.RichText)
        self.last.setStyleSheet("font-size: 13pt")
        self.last.setWordWrap(True)
        self.table = QtWidgets.QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels(self.COLUMNS)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.NoEditTriggers)
        self.verdict = QtWidgets.QLabel("")
        self.verdict.setWordWrap(True)
        self.verdict.setTextFormat(QtCore.Qt.PlainText)
        self.notes = QtWidgets.QLabel("")
        self.notes.setWordWrap(True)
        self.notes.setStyleSheet(f"color: {GREY}")
        self.export = QtWidgets.QPushButton("Export table to CSV...")
        self.export.clicked.connect(self._export_dialog)
        for w in (self.exercise, self.count, self.last, self.table, self.verdict, self.notes, self.export):
            layout.addWidget(w)
        self._reps_in_block = 0

    def clear_all(self) -> None:
        """Forget the repetitions shown (a new analysis follows)."""
        self.rows, self._groups, self._open = [], [], []
        self.table.setRowCount(0)
        for label in (self.count, self.last, self.verdict):
            label.setText("")

    def on_event(self, event) -> None:
        if isinstance(event, Calibrated):
            self.notes.setText(f"pelvis sensor calibrated ({event.pelvis['calibration']}), mounted "
                               f"{event.pelvis['mounting_deg']:.0f} deg from upright")  # fmt: skip
        elif isinstance(event, BlockStarted):
            side = {"L": " - left", "R": " - right"}.get(event.side or "", "")
            self.exercise.setText(event.exercise.replace("_", " ") + side)
            self._reps_in_block = 0
            self.count.setText("repetition 0")
            self.verdict.setText("")
            self._started += 1
            self._open.append((self._started, (event.exercise, event.side)))
        elif isinstance(event, RepetitionStarted):
            self.count.setText(f"repetition {event.index} under way")
        elif isinstance(event, RepetitionDone):
            self._rep_done(event)
        elif isinstance(event, BlockDone):
            b = event.block
            self._block_done(b)
            lines = block_summary(b, self.margin_ms, self.threshold_deg)
            self.verdict.setText(f"{b['exercise'].replace('_', ' ')} {b['side'] or ''} done:\n" + "\n".join(
                line.strip() for line in lines))  # fmt: skip
        elif isinstance(event, Notice):
            self.notes.setText(event.text)

    def _rep_done(self, event: RepetitionDone) -> None:
        row = event.row
        self.rows.append(_placed(row, event.exercise, event.side))
        key = (event.exercise, event.side)
        self._groups.append(next((g for g, k in reversed(self._open) if k == key), 0))
        self._reps_in_block += 1
        stance = row.get("side") if event.side is None else None  # a gait step's stance leg
        self.count.setText(f"step {row['index']} ({stance}) done" if stance else f"repetition {row['index']} done")
        glutes = glutes_of_interest(event.exercise, event.side or stance, list(row["latency_ms"]))
        parts = []
        for m in glutes:
            color = latency_color(row["latency_ms"][m], row["onset_sd_ms"][m], self.margin_ms)
            parts.append(f"<span style='color:{color}'>{m}: {_latency_text(row, m)}</span>")
        drop = row.get("pelvic_drop_deg")
        if drop is not None:
            color = RED if row.get("pelvic_drop_flag") else GREEN
            parts.append(f"<span style='color:{color}'>pelvic drop {drop:+.1f} deg</span>")
        self.last.setText("<br>".join(parts) or "no glute channel")
        self._table_row(self.rows[-1])
        self.table.resizeColumnsToContents()
        self.table.scrollToBottom()

    def _cells(self, row: dict) -> tuple[str, str, str, str]:
        glutes = glutes_of_interest(row["exercise"], row["side"], list(row["latency_ms"]))
        cells = [f"{m} {_latency_text(row, m)}" for m in glutes]
        drop = row.get("pelvic_drop_deg")
        block = row["exercise"].replace("_", " ") + (f" {row['side']}" if row["side"] else "")
        return block, str(row["index"]), "; ".join(cells), "-" if drop is None else f"{drop:+.1f}"

    def _table_row(self, row: dict) -> None:
        r = self.table.rowCount()
        self.table.insertRow(r)
        for c, value in enumerate(self._cells(row)):
            self.table.setItem(r, c, QtWidgets.QTableWidgetItem(value))

    def _block_done(self, block: dict) -> None:
        """The block's rows as measured over the whole block replace those shown live, in place."""
        key = (block["exercise"], block["side"])
        number = next((g for g, k in self._open if k == key), None)
        if number is None:
            return
        self._open = [(g, k) for g, k in self._open if g != number]
        mine = [i for i, g in enumerate(self._groups) if g == number]
        at = mine[0] if mine else len(self.rows)
        keep = [i for i in range(len(self.rows)) if self._groups[i] != number]
        before, after = [i for i in keep if i < at], [i for i in keep if i >= at]
        new = [_placed(row, *key) for row in block["reps"]]
        self.rows = [self.rows[i] for i in before] + new + [self.rows[i] for i in after]
        self._groups = [self._groups[i] for i in before] + [number] * len(new) + [self._groups[i] for i in after]
        self.table.setRowCount(0)
        for row in self.rows:
            self._table_row(row)
        self.table.resizeColumnsToContents()

    def table_csv(self) -> str:
        """The repetition table as CSV: one row per repetition and muscle (the analyze CSV's rows)."""
        from sensorkit.report.table import result_csv

        blocks: dict[tuple, dict] = {}
        for row in self.rows:
            key = (row["exercise"], row["block_side"])
            block = blocks.setdefault(key, {"exercise": key[0], "side": key[1], "reference": "", "reps": []})
            block["reps"].append(row)
        return result_csv({"exercises": list(blocks.values())})

    def _export_dialog(self) -> None:
        from sensorkit.recording.outputs import write_text

        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Export repetitions", "repetitions.csv", "CSV (*.csv)")
        if path:
            write_text(path, self.table_csv())  # the dialog itself asks before replacing a file


def _placed(row: dict, exercise: str, side: str | None) -> dict:
    """A result row with its block's exercise and side (`block_side`); `side` is the block's, or
    in gait the step's stance leg."""
    return {**row, "exercise": exercise, "side": side or row.get("side"), "block_side": side}
