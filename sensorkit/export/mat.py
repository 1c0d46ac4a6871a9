"""MATLAB via scipy.io: one struct per stream and one for the markers.

A numeric stream `S` becomes `S.data` (samples x channels, SI units, NaN where lost),
`S.time_s` (the file clock), `S.time_from_start_s`, `S.labels`, `S.units` (cell arrays),
`S.srate`, `S.type`, `S.name`; `markers` has `time_s`, `time_from_start_s`, `text`,
`stream`; `info` the file header's pseudonym, session and recording date. Variable names are the
stream names made into MATLAB identifiers.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import scipy.io

from sensorkit.export.grid import marker_rows, start_time, unique_names
from sensorkit.recording.xdf_reader import Recording, header_meta

RESERVED = ("markers", "info")


def variable_names(rec: Recording) -> dict[int, str]:
    """A MATLAB identifier per numeric stream (by position), unique, never a reserved one."""

    def safe(name: str, i: int) -> str:
        base = re.sub(r"\W+", "_", name, flags=re.ASCII).strip("_") or f"stream{i + 1}"
        return ("s_" + base if not base[0].isalpha() else base)[:60]

    return unique_names(rec, safe, RESERVED)


def _cells(items) -> np.ndarray:
    cells = np.empty((len(items),), dtype=object)
    cells[:] = list(items)
    return cells


def write(rec: Recording, out: str, progress: Callable[[str], None], fmt: str = "mat") -> list[str]:
    """Write `rec` as a MATLAB (v5) .mat file to the path `out`."""
    t0 = start_time(rec)
    doc: dict[str, object] = {}
    for i, name in variable_names(rec).items():
        s = rec.streams[i]
        doc[name] = {
            "data": np.asarray(s.samples, dtype=np.float64), "time_s": s.timestamps,
            "time_from_start_s": s.timestamps - t0, "labels": _cells(s.info.channels),
            "units": _cells(s.info.units), "srate": float(s.info.srate), "type": s.info.kind, "name": s.info.name,
        }  # fmt: skip
    marks = marker_rows(rec)
    doc["markers"] = {
        "time_s": np.array([m[0] for m in marks]), "time_from_start_s": np.array([m[0] - t0 for m in marks]),
        "text": _cells([m[2] for m in marks]), "stream": _cells([m[1] for m in marks]),
    }  # fmt: skip
    doc["info"] = {k: v or "" for k, v in header_meta(rec).items()}
    progress(f"writing {len(doc) - 2} streams and {len(marks)} markers")
    scipy.io.savemat(out, doc, appendmat=False, do_compression=True, oned_as="column")
    return []
