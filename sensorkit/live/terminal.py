"""The terminal view of the live pipeline (`sensorkit live`): one line per event worth a line.

Usable over SSH at a clinic bench: a line when a block starts, when the pelvis sensor
is calibrated, one per repetition as it ends (each glute's latency with its
uncertainty, the pelvic drop), the block's verdict when it ends (with its repetitions
again where the whole block holds others than those shown), and a line when a
channel's signal goes bad (lift-off, flat, saturation, lost samples, hum, a pop) or
recovers, so the electrode can be fixed before the next exercise.
"""

from __future__ import annotations

from sensorkit.analysis.exercises import glutes_of_interest
from sensorkit.live.events import BlockDone, BlockStarted, Calibrated, Event, Notice, Quality, RepetitionDone
from sensorkit.report.table import block_summary, rep_line

QUALITY_SAYS = {
    "lift_off": "electrode off the skin? (hum {mains_uv:.0f} uV)",
    "flat": "flat line: lead or channel dead",
    "saturation": "saturated: the amplifier is at its limit",
    "hum": "mains hum {mains_uv:.0f} uV: check the cable and the reference electrode",
    "pop": "electrode pop",
}


class TerminalView:
    """Formats events as lines of text; `margin_ms` and `threshold_deg` as the analysis's."""

    def __init__(self, margin_ms: float, threshold_deg: float) -> None:
        self.margin_ms, self.threshold_deg = margin_ms, threshold_deg
        self._bad: set[str] = set()  # channels last reported bad
        self._gap_at: float | None = None  # lost samples hit every channel: one line per window
        self._shown: dict[tuple[str, str | None], list[float]] = {}  # movement onsets shown per block

    def line(self, event: Event) -> str | None:
        """The event's line, or None for events that get none (onsets, repetition starts)."""
        if isinstance(event, BlockStarted):
            side = f" {event.side}" if event.side else ""
            ref = {"movement": "movement onset", "initial_contact": "each foot contact"}.get(
                event.reference, f"{event.reference} onset")
            return f"{event.exercise}{side}: started (latencies to {ref})"
        if isinstance(event, Calibrated):
            p = event.pelvis
            return f"pelvis sensor calibrated ({p['calibration']}): mounted {p['mounting_deg']:.0f} deg from upright"
        if isinstance(event, RepetitionDone):
            muscles = list(event.row["latency_ms"])
            self._shown.setdefault((event.exercise, event.side), []).append(_when(event.row))
            # a gait step: the glutes of its stance leg
            return rep_line(event.row, glutes_of_interest(event.exercise, event.side or event.row.get("side"), muscles))
        if isinstance(event, BlockDone):
            b = event.block
            side = f" {b['side']}" if b["side"] else ""
            unit = "steps" if b["reference"] == "initial_contact" else "reps"
            head = f"{b['exercise']}{side}: done, {len(b['reps'])} {unit}"
            shown = self._shown.pop((b["exercise"], b["side"]), [])
            kept = [_when(r) for r in b["reps"]]
            again = []
            if len(shown) != len(kept) or any(abs(x - y) > 0.03 for x, y in zip(shown, kept, strict=True)):
                again = ["  measured over the whole block:",  # a gait step: its stance leg's glutes
                         *(rep_line(r, glutes_of_interest(b["exercise"], b["side"] or r.get("side"), list(b["glutes"])))
                           for r in b["reps"])]  # fmt: skip
            return "\n".join([head, *again, *block_summary(b, self.margin_ms, self.threshold_deg)])
        if isinstance(event, Notice):
            return f"note: {event.text}"
        if isinstance(event, Quality):
            return self._quality(event)
        return None

    def _quality(self, event: Quality) -> str | None:
        """A line when a channel goes bad or recovers; motion artefacts come with every
        movement and get none."""
        if event.state == "gap":
            if event.t_s == self._gap_at:
                return None
            self._gap_at = event.t_s
            return "signal: samples lost (radio or cable drop-out)"
        if event.state in QUALITY_SAYS:
            if event.state != "pop":
                self._bad.add(event.channel)
            says = QUALITY_SAYS[event.state].format(**{"mains_uv": 0.0, **event.measures})
            return f"signal {event.channel}: {says}"
        if event.state == "ok" and event.channel in self._bad:
            self._bad.discard(event.channel)
            return f"signal {event.channel}: ok again"
        return None


def _when(row: dict) -> float | None:
    """When a repetition began: its movement onset, or a gait step's initial contact."""
    return row["movement_onset_s"] if row["movement_onset_s"] is not None else row["start_s"]
