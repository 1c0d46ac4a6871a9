"""The terminal view of the live pipeline (`sensorkit live`): one line per event worth a line.

Usable over SSH at a clinic bench: a line when a block starts, when the pelvis sensor
is calibrated, one per repetition as it ends (each glute's latency with its
uncertainty, the pelvic drop), and the block's verdict when it ends.
"""

from __future__ import annotations

from sensorkit.analysis.exercises import glutes_of_interest
from sensorkit.live.events import BlockDone, BlockStarted, Calibrated, Event, Notice, RepetitionDone
from sensorkit.report.table import block_summary, rep_line


class TerminalView:
    """Formats events as lines of text; `margin_ms` and `threshold_deg` as the analysis's."""

    def __init__(self, margin_ms: float, threshold_deg: float) -> None:
        self.margin_ms, self.threshold_deg = margin_ms, threshold_deg

    def line(self, event: Event) -> str | None:
        """The event's line, or None for events that get none (onsets, repetition starts)."""
        if isinstance(event, BlockStarted):
            side = f" {event.side}" if event.side else ""
            ref = "movement onset" if event.reference == "movement" else f"{event.reference} onset"
            return f"{event.exercise}{side}: started (latencies to {ref})"
        if isinstance(event, Calibrated):
            p = event.pelvis
            return f"pelvis sensor calibrated ({p['calibration']}): mounted {p['mounting_deg']:.0f} deg from upright"
        if isinstance(event, RepetitionDone):
            muscles = list(event.row["latency_ms"])
            return rep_line(event.row, glutes_of_interest(event.exercise, event.side, muscles))
        if isinstance(event, BlockDone):
            b = event.block
            side = f" {b['side']}" if b["side"] else ""
            head = f"{b['exercise']}{side}: done, {len(b['reps'])} reps"
            return "\n".join([head, *block_summary(b, self.margin_ms, self.threshold_deg)])
        if isinstance(event, Notice):
            return f"note: {event.text}"
        return None
