"""C3D via ezc3d, for Visual3D, OpenSim and motion-capture tools.

C3D has one analog rate for every analog channel, so EMG and IMU channels are analog
channels at the fastest stream's rate; a slower stream (the IMU) is brought to it by
linear interpolation between its own samples, which sit unchanged on their grid points,
and its channel description says so. Analog data are floats (no quantisation); labels are
`channel` for EMG and `stream:channel` otherwise, units in SI. Markers are C3D events
(context General) at their time from the start. There are no 3-D points.
"""

from __future__ import annotations

from collections.abc import Callable

import ezc3d
import numpy as np

from sensorkit.errors import SensorkitError
from sensorkit.export.grid import data_streams, marker_rows, place, skipped_streams, start_time
from sensorkit.recording.xdf_reader import Recording
from sensorkit.streams import EMG

POINT_RATE_HZ = 100.0  # the (empty) point rate, when the analog rate is a multiple of it


def write(rec: Recording, out: str, progress: Callable[[str], None], fmt: str = "c3d") -> list[str]:
    """Write `rec` as C3D to the path `out`; returns notes on what changed."""
    streams = data_streams(rec)
    if not streams:
        raise SensorkitError(f"{rec.path} has no numeric stream with a sample rate to write as C3D")
    rate = max(float(s.info.srate) for s in streams)
    point_rate = POINT_RATE_HZ if (rate / POINT_RATE_HZ).is_integer() else rate
    per_frame = int(round(rate / point_rate))
    t0 = start_time(rec)
    end = max(float(s.timestamps[-1]) + 1.0 / s.info.srate for s in streams) - t0
    frames = max(1, int(np.ceil(end * point_rate - 1e-9)))
    n = frames * per_frame
    labels, units, descriptions, columns = [], [], [], []
    notes = [f"{name}: no nominal sample rate, not written (C3D needs one; csv, parquet and mat keep it)"
             for name in skipped_streams(rec)]  # fmt: skip
    for s in streams:
        placed = place(s, t0, rate, n)
        how = (f"{s.info.name}, {s.info.kind}, {s.info.srate:g} Hz"
               + (f" linearly interpolated to {rate:g} Hz" if placed.interpolated else ""))  # fmt: skip
        if placed.interpolated:
            notes.append(f"{s.info.name} ({s.info.srate:g} Hz) interpolated to C3D's single analog rate {rate:g} Hz")
        lost = placed.lost()
        if lost:
            notes.append(f"{s.info.name}: {len(lost)} stretches of lost samples written as 0")
        for c, (channel, unit) in enumerate(zip(s.info.channels, s.info.units, strict=True)):
            labels.append(channel if s.info.kind.upper() == EMG else f"{s.info.name}:{channel}")
            units.append(unit)
            descriptions.append(how)
            columns.append(placed.values[:, c])
    progress(f"writing {len(columns)} analog channels, {n} samples at {rate:g} Hz")
    c = ezc3d.c3d()
    c["parameters"]["POINT"]["RATE"]["value"] = [point_rate]
    c["parameters"]["POINT"]["LABELS"]["value"] = ()
    c["data"]["points"] = np.zeros((4, 0, frames))
    c["parameters"]["ANALOG"]["RATE"]["value"] = [rate]
    c["parameters"]["ANALOG"]["LABELS"]["value"] = tuple(labels)
    c["parameters"]["ANALOG"]["UNITS"]["value"] = tuple(units)
    c["parameters"]["ANALOG"]["DESCRIPTIONS"]["value"] = tuple(descriptions)
    c["data"]["analogs"] = np.asarray(columns)[np.newaxis, :, :]
    for t, _, text in marker_rows(rec):
        since = max(t - t0, 0.0)
        minutes = int(since // 60)  # C3D keeps event times as (minutes, seconds): float32 seconds stay exact
        c.add_event([minutes, since - 60 * minutes], context="General", label=text)
    c.write(out)
    return notes
