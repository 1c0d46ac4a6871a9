"""EDF+ (16-bit) and BDF+ (24-bit) via pyedflib, for EDF viewers and MNE/EEGLAB users.

Each numeric stream's channels become signals at the stream's own rate, EMG in uV (the
EDF convention), IMU and others in their SI units; the physical range of each signal is
its data's range, rounded outward to the 8 characters the header holds, so nothing clips
and the quantisation step is (max - min) / 65535 (EDF) or / 16777215 (BDF). Markers are
EDF+ annotations; lost samples are written as 0 and announced by a `lost samples: STREAM`
annotation per stretch (the time before a stream's first sample and after its last is
written as 0 unannounced). EDF needs every rate to fill whole data records; a rate that
cannot (no record of 1 to 60 s holds a whole number of its samples) is resampled to the
nearest whole rate, and an annotation at 0 s says so, as one does for a stream left out.

pyedflib's writer (edflib) cuts an annotation's text to 40 characters and the header's
recording field to what its 80 characters leave (24 characters after sensorkit's equipment
subfield), without a word: the notes on what an export changed are annotations worded to
fit, and the export says how many markers longer than 40 characters were cut (the tables
keep them whole). Until December 2026 the notes went into the header, where a file with
two kept 24 characters of the first ("force: no nominal sample") and nothing of the second.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

import numpy as np
import pyedflib

from sensorkit.errors import SensorkitError
from sensorkit.export.grid import data_streams, marker_rows, place, skipped_streams, start_time
from sensorkit.recording.xdf_reader import Recording, StreamData, header_field, header_meta
from sensorkit.streams import EMG

DIGITAL = {"edf": (-32768, 32767), "bdf": (-8388608, 8388607)}
# edflib, which pyedflib writes with, keeps this much of an annotation's text ...
ANNOTATION_CHARS = 40
# ... and this much for the header's equipment and additional recording subfields together
# (80 less "Startdate dd-MMM-yyyy X X ", a space and edflib's margin; read back, December 2026)
HEADER_ROOM = 39
FILETYPE = {"edf": pyedflib.FILETYPE_EDFPLUS, "bdf": pyedflib.FILETYPE_BDFPLUS}


def edf_number(v: float, up: bool) -> float:
    """`v` rounded outward (up for a maximum) to a number EDF's 8-character field holds."""
    for decimals in range(6, -1, -1):
        scale = 10**decimals
        r = (math.ceil(v * scale) if up else math.floor(v * scale)) / scale
        if len(f"{r:.{decimals}f}".rstrip("0").rstrip(".")) <= 8:
            return r
    raise SensorkitError(f"a value of {v:g} does not fit an EDF header (8 characters)")


def record_seconds(rates: list[float]) -> int | None:
    """The shortest data record (1-60 s) holding a whole number of samples of every rate."""
    for d in range(1, 61):
        if all(abs(r * d - round(r * d)) < 1e-6 for r in rates):
            return d
    return None


def _label(stream: StreamData, channel: str, used: set[str]) -> str:
    """A signal label of at most 16 characters: the channel, or stream and channel for
    anything but EMG, unique within the file."""
    text = channel if stream.info.kind.upper() == EMG else f"{stream.info.name} {channel}"
    base = re.sub(r"\s+", " ", text)[:16]
    label, k = base, 2
    while label in used:
        suffix = f"~{k}"
        label, k = base[: 16 - len(suffix)] + suffix, k + 1
    used.add(label)
    return label


def write(rec: Recording, out: str, progress: Callable[[str], None], fmt: str = "edf") -> list[str]:
    """Write `rec` as EDF+ or BDF+ (`fmt`) to the path `out`; returns notes on what changed."""
    streams = data_streams(rec)
    if not streams:
        raise SensorkitError(f"{rec.path} has no numeric stream with a sample rate to write as {fmt.upper()}")
    skipped = skipped_streams(rec)
    notes = [f"{name}: no nominal sample rate, not written (EDF needs one; csv, parquet and mat keep it)"
             for name in skipped]  # fmt: skip
    said = [f"not written (no rate): {name}" for name in skipped]  # the notes as annotations at 0 s
    rates = {}
    for s in streams:
        fs = float(s.info.srate)
        if record_seconds([fs]) is None:
            rates[id(s)] = float(round(fs))
            notes.append(f"{s.info.name} resampled from {fs:g} to {round(fs)} Hz (EDF needs whole data records)")
            said.append(f"resampled {fs:g}->{round(fs)} Hz: {s.info.name}")
        else:
            rates[id(s)] = fs
    t0 = start_time(rec)
    end = max(float(s.timestamps[-1]) + 1.0 / s.info.srate for s in streams) - t0
    dur = record_seconds(list(rates.values())) or 1
    n_records = max(1, math.ceil(end / dur - 1e-9))
    lo, hi = DIGITAL[fmt]
    headers, signals, annotations, used = [], [], [], set()
    for s in streams:
        fs = rates[id(s)]
        n = int(round(n_records * dur * fs))
        if fs == s.info.srate:
            placed = place(s, t0, fs, n)
        else:  # a rate EDF cannot hold: brought to the nearest whole rate (said in the header)
            placed = place(_as_rate(s, fs), t0, fs, n)
        emg = s.info.kind.upper() == EMG
        for c, (channel, unit) in enumerate(zip(s.info.channels, s.info.units, strict=True)):
            x = placed.values[:, c] * (1e6 if emg and unit == "V" else 1.0)
            real = x[~placed.missing]
            pmin, pmax = (float(real.min()), float(real.max())) if real.size else (-1.0, 1.0)
            if pmax - pmin < 1e-9:
                pmin, pmax = pmin - 1.0, pmax + 1.0
            headers.append({
                "label": _label(s, channel, used), "dimension": ("uV" if emg and unit == "V" else unit)[:8],
                "sample_frequency": fs, "physical_min": edf_number(pmin, False),
                "physical_max": edf_number(pmax, True), "digital_min": lo, "digital_max": hi,
                "transducer": s.info.kind[:80], "prefilter": "",
            })  # fmt: skip
            signals.append(x)
        annotations += [(a, d, f"lost samples: {s.info.name}") for a, d in placed.lost()]
    marks = [(t - t0, -1.0, text) for t, _, text in marker_rows(rec)]
    cut = sum(len(text) > ANNOTATION_CHARS for _, _, text in marks)
    if cut:
        notes.append(f"{cut} marker{'s' if cut > 1 else ''} longer than {ANNOTATION_CHARS} characters cut to "
                     f"{ANNOTATION_CHARS} (EDF+ annotations as pyedflib writes them; csv, parquet and mat keep them)")
    annotations += [(0.0, -1.0, text) for text in said] + marks
    progress(f"writing {len(signals)} signals, {n_records} records of {dur} s")
    writer = pyedflib.EdfWriter(out, len(signals), file_type=FILETYPE[fmt])
    try:
        writer.setSignalHeaders(headers)
        _header(writer, rec)
        writer.writeSamples(signals)
        for onset, duration, text in sorted(annotations):
            writer.writeAnnotation(max(onset, 0.0), duration, text[:ANNOTATION_CHARS])
    finally:
        writer.close()
    return notes


def _as_rate(s: StreamData, fs: float) -> StreamData:
    """A stream brought to `fs` Hz by linear interpolation over its own timestamps."""
    t = np.arange(s.timestamps[0], s.timestamps[-1] + 0.5 / fs, 1.0 / fs)
    x = np.column_stack([np.interp(t, s.timestamps, s.samples[:, c]) for c in range(s.samples.shape[1])])
    return StreamData(replace(s.info, srate=fs), t, x, s.raw_info)


def _header(writer, rec: Recording) -> None:
    whose = header_meta(rec)
    if whose["pseudonym"]:
        writer.setPatientCode(whose["pseudonym"].replace(" ", "_")[:60])  # EDF+: no spaces, 80 with the rest
    if whose["recorded"]:
        try:
            writer.setStartdatetime(datetime.fromisoformat(whose["recorded"]).replace(tzinfo=None))
        except ValueError:
            pass  # another writer's date format: EDF keeps its default
    software = (header_field(rec, "software") or "").replace(" ", "_")[:HEADER_ROOM]  # subfields have no spaces
    writer.setEquipment(software)
    if whose["session"]:
        writer.setRecordingAdditional(whose["session"].replace(" ", "_")[: HEADER_ROOM - len(software)])
