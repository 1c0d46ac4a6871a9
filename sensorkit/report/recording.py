"""A recording described in words: streams, channels, rates, duration, losses, markers
(`sensorkit info`)."""

from __future__ import annotations

import os

import numpy as np

from sensorkit.recording.xdf_reader import Recording, header_field


def _fmt_rate(r: float) -> str:
    return f"{r:g}" if r else "-"


def describe(rec: Recording) -> str:
    """A readable summary of a recording: streams, channels, rates, duration, losses, markers."""
    lines = []
    size = os.path.getsize(rec.path) / 1e6

    def field(k: str) -> str:
        return header_field(rec, k) or "-"

    lines.append(f"{rec.path}: {size:.2f} MB, {len(rec.streams)} streams; software {field('software')}, "
                 f"patient {field('patient')}, session {field('session')}")  # fmt: skip
    if field("montage") != "-":
        lines.append(f"  montage: {field('montage')}")
    for note in rec.notes:
        lines.append(f"  salvaged: {note}")
    w = max([14] + [len(s.info.name) + 1 for s in rec.streams])  # a stream's whole name (another program's may be long)
    lines.append(f"  {'stream':<{w}}{'type':<9}{'ch':>3}{'rate Hz':>9}{'samples':>10}{'duration s':>12}"
                 f"{'lost':>7}  channels (unit)")  # fmt: skip
    for s in rec.streams:
        n = len(s.timestamps)
        dur = f"{s.timestamps[-1] - s.timestamps[0]:.2f}" if n > 1 else "-"
        chans = ", ".join(f"{c} ({u})" if u else c for c, u in zip(s.info.channels, s.info.units, strict=True))
        lost = "-" if s.info.is_string else str(s.lost_samples)
        lines.append(f"  {s.info.name:<{w}}{s.info.kind[:8]:<9}{s.info.n_channels:>3}"
                     f"{_fmt_rate(s.info.srate):>9}{n:>10}{dur:>12}{lost:>7}  {chans}")  # fmt: skip
    markers = rec.markers()
    if markers:
        t0 = min(float(s.timestamps[0]) for s in rec.streams if len(s.timestamps))
        lines.append(f"  markers ({len(markers)}; time s from the first sample):")
        lines += [f"  {t - t0:9.2f}  {text}" for t, text in markers]
    return "\n".join(lines)


def truth_summary(truth: dict) -> str:
    """A simulated patient's ground truth in a few lines: per block, the glutes' mean latency and
    the mean pelvic drop."""
    lines = ["ground truth of the simulated patient:"]
    for block in truth["exercises"]:
        side = block["side"] or "both"
        drops = [r.get("pelvic_drop_deg") for r in block["reps"]]
        lat = [v for r in block["reps"] for m, v in r["latency_ms"].items()
               if m.startswith("glute") and v is not None]  # fmt: skip
        text = f"  {block['exercise']:<21}{side:<5}{len(block['reps'])} reps, glute latency vs " \
               f"{block['reference']}: {np.mean(lat):+.0f} ms"
        if drops[0] is not None:
            text += f", pelvic drop {np.mean(drops):.1f} deg"
        lines.append(text)
    return "\n".join(lines)
