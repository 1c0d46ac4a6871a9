"""A picture of the foot contacts found in a walk (`sensorkit contacts --plot`): what the
detector saw, where it placed each contact and on which foot, and where samples were lost.

A reader checking a walk would rather look than read a list of times: the pelvis's vertical
acceleration with each contact on it (left and right in two colours, contacts placed from the
cadence inside a drop-out hollow), the lost samples shaded, and the step times below, which
show at a glance a missed step (a doubled interval), an extra one, or a turn.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from sensorkit.dsp.filters import apply_sos, lowpass_sos, true_runs
from sensorkit.dsp.gait import GaitParams
from sensorkit.recording.outputs import atomic_output

SIDE_COLORS = {"L": "#4C72B0", "R": "#DD8452"}
SHOWN_LOWPASS_HZ = 8.0  # the vertical acceleration as the contact instants are timed on it (`GaitParams`)
SHADED_GAP_S = GaitParams().seen_gap_s  # shorter drop-outs count as seen by the detector: not shaded
LONGEST_STEP_S = 2 * GaitParams().max_step_s  # longer intervals lie between walks: not a step time


def contacts_figure(t: np.ndarray, vertical: np.ndarray, lost: np.ndarray, fs: float, contacts_s: list[float],
                    sides: list[str], inferred: list[bool], title: str = "") -> Figure:  # fmt: skip
    """The figure: `t` (s) and `vertical` (the pelvis's vertical acceleration without gravity,
    m/s^2, as `gait.walk_vertical` gives it: bridged across short gaps, NaN in long ones) per
    sample at `fs` Hz, `lost` the samples lost; the contacts' times (s, on `t`'s clock), sides
    ('L' / 'R') and whether each was placed from the cadence inside a drop-out."""
    t, vertical = np.asarray(t, dtype=np.float64), np.asarray(vertical, dtype=np.float64)
    contacts_s = np.asarray(contacts_s, dtype=np.float64)
    shown = apply_sos(lowpass_sos(fs, min(SHOWN_LOWPASS_HZ, 0.4 * fs), order=4), vertical)
    fig = Figure(figsize=(11, 5.5))
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [2.2, 1]})
    top.plot(t, shown, color="#444", lw=0.7)
    finite = shown[np.isfinite(shown)]
    if finite.size:  # the orientation filter's first second (it finds the vertical) would set the scale
        lo, hi = np.percentile(finite, [0.5, 99.5])
        pad = 0.15 * (hi - lo) + 0.1
        top.set_ylim(lo - pad, hi + pad)
    shaded = False
    for a, b in true_runs(np.asarray(lost, dtype=bool)):
        if b - a >= SHADED_GAP_S * fs:
            for ax in (top, bottom):
                ax.axvspan(t[a], t[min(b, len(t) - 1)], color="#bbb", alpha=0.5, lw=0)
            shaded = True
    at = np.interp(contacts_s, t, np.nan_to_num(shown)) if contacts_s.size else contacts_s
    for side in ("L", "R"):
        for placed in (False, True):
            k = [i for i, (s, p) in enumerate(zip(sides, inferred, strict=True)) if s == side and p == placed]
            if not k:
                continue
            face = "none" if placed else SIDE_COLORS[side]
            label = f"{'left' if side == 'L' else 'right'} contact{' (placed from the cadence)' if placed else ''}"
            top.scatter(contacts_s[k], at[k], s=28, facecolors=face, edgecolors=SIDE_COLORS[side], zorder=3,
                        label=label)  # fmt: skip
    if shaded:
        top.axvspan(np.nan, np.nan, color="#bbb", alpha=0.5, lw=0, label="samples lost")
    if contacts_s.size or shaded:
        top.legend(loc="upper right", fontsize=8, ncol=2)
    top.set_ylabel("vertical acceleration (m/s²)")
    step = np.diff(contacts_s)
    for side in ("L", "R"):
        k = np.array([i for i in range(1, len(contacts_s)) if sides[i] == side and step[i - 1] <= LONGEST_STEP_S], int)
        if k.size:
            bottom.plot(contacts_s[k], step[k - 1], "o", ms=4, color=SIDE_COLORS[side])
    bottom.set_ylabel("step time (s)\nending on that foot")
    bottom.set_xlabel("time (s)")
    top.set_title(title or f"{len(contacts_s)} initial contacts")
    fig.tight_layout()
    return fig


def save_figure(fig: Figure, path: str) -> None:
    """Write the figure whole or not at all; the format from the name (.png, .svg, .pdf)."""
    suffix = Path(path).suffix.lower()
    with atomic_output(path, suffix) as tmp:
        fig.savefig(tmp, format=suffix[1:], dpi=120)
