"""C3D files of motion-capture labs (Vicon, Qualisys, BTS, ...): EMG analog channels and gait events.

A gait lab records EMG through its motion-capture system, which stores it as analog
channels of the C3D beside the force plates, and marks each foot's strikes and offs as
events. Here the EMG channels become the EMG stream (V) and the events markers:
`Foot Strike` / `Foot Off` in context `Left` / `Right` (Vicon), `LHS` / `RTO` (Qualisys),
`Left Foot Strike` ... become `initial_contact:SIDE` / `final_contact:SIDE`, so that gait
EMG is timed against the lab's own foot contacts; events of context `General` (a sensorkit
export's markers) come back as they were written; others become `annotation:` markers.
Which analog channels are EMG: those in volts whose label says so (a muscle's name, `EMG`,
a sensorkit label such as `glute_med_L`) or that --channel-map names; force plates and other
analog inputs are left out and counted. Read with ezc3d (scales and offsets applied).
"""

from __future__ import annotations

import re

import numpy as np

from sensorkit.analysis.exercises import MUSCLE_LABEL
from sensorkit.errors import SensorkitError
from sensorkit.recording.muscle_names import EMG_WORDS, renamed
from sensorkit.recording.text_import import TextData, TextImport, emg_volts
from sensorkit.units import to_si

_STRIKE = re.compile(r"(foot\s*strike|heel\s*strike|strike|contact|\bic\b|hs$|fs$)", re.I)
_OFF = re.compile(r"(foot\s*off|toe\s*off|\boff\b|\bfc\b|to$|fo$)", re.I)


def _c3d(path: str):
    import ezc3d

    try:
        return ezc3d.c3d(path)
    except Exception as exc:  # ezc3d raises plain RuntimeError/IOError on any malformed file
        raise SensorkitError(f"{path}: not a C3D file ezc3d can read ({exc})") from None


def _param(c, group: str, name: str, default=None):
    p = c["parameters"].get(group, {})
    return p[name]["value"] if name in p else default


def is_emg_label(label: str, unit: str) -> bool:
    """An analog channel that holds EMG: in volts, and named for a muscle or an EMG electrode."""
    if unit and to_si(unit)[0] != "V":
        return False
    low = label.lower()
    return bool(MUSCLE_LABEL.match(label)) or any(w in low for w in EMG_WORDS)


def gait_event(label: str, context: str) -> str | None:
    """`initial_contact:L` ... of a foot event (by its label and context), None for other events."""
    side = {"left": "L", "right": "R", "l": "L", "r": "R"}.get(context.strip().lower())
    text = label.strip()
    if side is None:  # the side in the label: "LHS", "Left Foot Strike", "R_TO"
        m = re.match(r"^(left|right|l|r)[\s_.-]*(.+)$", text, re.I)
        if not m:
            return None
        side, text = m.group(1)[0].upper(), m.group(2)
    if _STRIKE.search(text):
        return f"initial_contact:{side}"
    if _OFF.search(text):
        return f"final_contact:{side}"
    return None


def c3d_events(c) -> list[tuple[float, str]]:
    """The file's events as (time s, marker), gait events as `initial_contact:SIDE` /
    `final_contact:SIDE`, a General event's label as it is, others as `annotation:CONTEXT LABEL`."""
    labels = list(_param(c, "EVENT", "LABELS", []) or [])
    if not labels:
        return []
    contexts = list(_param(c, "EVENT", "CONTEXTS", []) or []) + [""] * len(labels)
    times = np.asarray(_param(c, "EVENT", "TIMES"), dtype=np.float64).reshape(2, -1)
    out = []
    for k, label in enumerate(labels):
        t = 60.0 * times[0, k] + times[1, k]  # minutes, seconds
        context = str(contexts[k]).strip()
        gait = gait_event(str(label), context)
        if gait is not None:
            out.append((t, gait))
        elif context.lower() == "general":
            out.append((t, str(label).strip()))
        else:
            out.append((t, f"annotation:{context} {label}".replace(": ", ":", 1).strip()))
    return sorted(out)


def read_c3d_export(spec: TextImport) -> tuple[TextData, list[tuple[float, str]]]:
    """A C3D file's EMG channels (V, on the file's time from its first frame) and its events as
    markers (`c3d_events`)."""
    c = _c3d(spec.path)
    analogs = np.asarray(c["data"]["analogs"], dtype=np.float64)
    rate = float(np.ravel(_param(c, "ANALOG", "RATE", [0.0]))[0] or 0.0)
    labels = [str(x).strip() for x in _param(c, "ANALOG", "LABELS", [])]
    if analogs.size == 0 or not labels or not rate > 0:
        raise SensorkitError(f"{spec.path}: the C3D file holds no analog channels (EMG is stored as analog data)")
    x = analogs[0]
    units = [str(u).strip() for u in _param(c, "ANALOG", "UNITS", [])] + [""] * len(labels)
    mapped = {k: v for k, v in spec.channel_map.items() if k in labels}
    unknown = set(spec.channel_map) - set(mapped)
    if unknown:
        raise SensorkitError(f"--channel-map names analog channels the file lacks: {', '.join(sorted(unknown))} "
                             f"(analog channels: {', '.join(labels)})")  # fmt: skip
    chosen = [j for j, lab in enumerate(labels) if lab in mapped or is_emg_label(lab, units[j])]
    if spec.columns:
        chosen = [j for j in chosen if mapped.get(labels[j], labels[j]) in spec.columns]
    if not chosen:
        volts = [lab for j, lab in enumerate(labels) if not units[j] or to_si(units[j])[0] == "V"]
        raise SensorkitError(f"{spec.path}: no analog channel is named as EMG; name them with --channel-map "
                             f"LABEL=glute_med_R (channels in volts: {', '.join(volts) or 'none'})")  # fmt: skip
    notes = []
    emg = np.column_stack([emg_volts(x[j], units[j], spec, labels[j], notes) for j in chosen])
    left = len(labels) - len(chosen)
    if left:
        notes.append(f"{left} other analog channel(s) left out (force plates and other inputs)")
    first = int(c["header"]["analogs"]["first_frame"])  # the file's time starts at its first frame
    t = (first + np.arange(emg.shape[0])) / rate
    markers = c3d_events(c)
    notes.insert(0, f"C3D: {len(chosen)} EMG channel(s) at {rate:g} Hz, {len(markers)} event(s)")
    names, said = renamed([mapped.get(labels[j], labels[j]) for j in chosen], set(mapped.values()))
    return TextData(t, emg, names, rate, notes=notes + said), markers


__all__ = ["c3d_events", "gait_event", "is_emg_label", "read_c3d_export"]
