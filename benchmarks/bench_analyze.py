"""`sensorkit analyze` end to end on a 1-hour session: reading the XDF, signal quality,
conditioning, onsets, calibration, pelvic drop, as a real-time factor.

Workload: a simulated session (8 EMG channels at 2 kHz, the pelvis IMU at 200 Hz,
calibration then exercise blocks) whose exercise blocks are repeated, with their
markers, to fill 1 hour, written as the recorder writes (50 ms chunks). Target: >= 300x
real time.

    .venv/bin/python benchmarks/bench_analyze.py [SECONDS]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time

import numpy as np

from sensorkit.analysis.session import analyze_session
from sensorkit.recording.session_input import session_data
from sensorkit.recording.xdf_reader import read_xdf
from sensorkit.recording.xdf_writer import XdfWriter
from sensorkit.sim import SimConfig, simulate
from sensorkit.streams import IMU_CHANNELS, Chunk, StreamInfo

SECONDS = 3600.0
T0 = 1000.0  # the file clock at the first sample


def write_session(path: str, seconds: float) -> int:
    """The session, exercise blocks repeated to `seconds`; returns the number of blocks."""
    rec = simulate(SimConfig(scenario="session", seed=1))
    fe, fi = rec.config.fs_emg, rec.config.fs_imu
    cal_end = max(t for t, m in rec.markers if m.startswith("calibration_end")) + 1.0
    emg = StreamInfo("emg", "EMG", tuple(rec.config.muscles), ("V",) * rec.emg.shape[1], fe, "b:0")
    imu = StreamInfo("pelvis", "IMU", IMU_CHANNELS, ("m/s^2",) * 3 + ("rad/s",) * 3, fi, "b:1")
    marks = StreamInfo("markers", "Markers", ("marker",), ("",), 0.0, "b:2", "string")
    w = XdfWriter(path)
    t, blocks, first = 0.0, 0, True
    while t < seconds:
        a = 0.0 if first else cal_end
        span = min(rec.duration - a, seconds - t)
        for info, x, fs in ((emg, rec.emg, fe), (imu, rec.imu, fi)):
            i0, n = int(round(a * fs)), int(round(span * fs))
            step = int(round(0.05 * fs))
            for k in range(i0, i0 + n, step):
                rows = x[k : min(k + step, i0 + n)]
                w.write_chunk(Chunk(info, T0 + t + (np.arange(len(rows)) + k - i0) / fs, rows))
        for tm, m in rec.markers:
            if a <= tm < a + span and (first or not m.startswith("calibration")):
                w.write_chunk(Chunk(marks, [T0 + t + tm - a], [[m]]))
                blocks += m.startswith("exercise_start")
        t += span
        first = False
    w.close()
    return blocks


def main(seconds: float = SECONDS) -> dict:
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "hour.xdf")
        blocks = write_session(path, seconds)
        t0 = time.perf_counter()
        rec = read_xdf(path)
        t_read = time.perf_counter() - t0
        result = analyze_session(session_data(rec))
        wall = time.perf_counter() - t0
    reps = sum(len(b["reps"]) for b in result["exercises"])
    print(f"analyze end to end, {seconds / 60:.0f} min of 8-ch 2 kHz EMG + pelvis IMU ({blocks} blocks, "
          f"{reps} repetitions found)")  # fmt: skip
    print(f"  reading {t_read:.1f} s, analysis {wall - t_read:.1f} s")
    print(f"analyze: {seconds / wall:.0f}x real time ({wall:.1f} s for {seconds / 60:.0f} min; target >= 300)")
    return {"analyze_rtf": seconds / wall}


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else SECONDS)
