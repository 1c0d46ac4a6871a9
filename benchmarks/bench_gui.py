"""The monitor window's frame rate and CPU share while a session streams at real time.

A simulated patient streams through the sk1 device path at real time (16 EMG channels at
2 kHz and the pelvis IMU at 200 Hz, plus a second 200 Hz IMU), feeding the recorder-free
acquisition, the live pipeline and the display buffers; the window draws offscreen at its
30 Hz timer. Measured: frames drawn per second and the process's CPU share of one core
(acquisition, pipeline and drawing together), for 4, 8, 16 and 32 channels (32: two
16-channel units) and windows of 5, 10 and 30 s. Targets (16 ch, 10 s): >= 30 fps at
<= 60 % of one core.

Runnable alone: QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_gui.py
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

SECONDS = 8.0
MUSCLES = [f"{m}_{s}" for m in ("glute_max", "glute_med", "biceps_femoris", "semitendinosus", "erector_spinae",
                                "tfl", "rectus_femoris", "vastus_lateralis") for s in "LR"]  # fmt: skip


def run(channels: int, window_s: float) -> tuple[float, float]:
    """(frames per second, share of one core) over SECONDS s of wall time."""
    from pyqtgraph.Qt import QtCore

    from sensorkit.analysis.session import AnalysisOptions
    from sensorkit.gui.app import run_gui

    per_unit = min(channels, 16)
    spec = f"sim://single_leg_squat?speed=1&seed=2&muscles={','.join(MUSCLES[:per_unit])}"
    specs = [spec] * (channels // per_unit)
    stats = {}

    def setup(keep):
        window = keep["window"]

        def start_counting():  # after the start-up, count frames and CPU over SECONDS
            stats["f0"], stats["c0"], stats["w0"] = window.frames, time.process_time(), time.monotonic()

        def stop_counting():
            stats["f1"], stats["c1"], stats["w1"] = window.frames, time.process_time(), time.monotonic()
            window.close()

        QtCore.QTimer.singleShot(3000, start_counting)
        QtCore.QTimer.singleShot(int(3000 + SECONDS * 1000), stop_counting)

    from bench_live import SecondImu

    run_gui(specs, AnalysisOptions(), window_s=window_s, setup=setup, extra_sources=[SecondImu()])
    wall = stats["w1"] - stats["w0"]
    return (stats["f1"] - stats["f0"]) / wall, (stats["c1"] - stats["c0"]) / wall


def main() -> dict:
    try:
        import pyqtgraph  # noqa: F401
    except ImportError:
        print("GUI benchmark skipped: the GUI packages are not installed (pip install 'sensorkit[gui]')")
        return {}
    print(f"Monitor window, offscreen, {SECONDS:.0f} s of a simulated patient at real time per row "
          "(acquisition + live pipeline + drawing in one process)")
    print(f"  {'channels':>8} {'window s':>9} {'fps':>6} {'CPU % of one core':>18}")
    rows = {}
    for channels, window_s in ((4, 10), (8, 10), (16, 10), (32, 10), (16, 5), (16, 30)):
        fps, cpu = run(channels, window_s)
        rows[(channels, window_s)] = (fps, cpu)
        print(f"  {channels:>8} {window_s:>9} {fps:>6.1f} {100 * cpu:>18.0f}")
    fps, cpu = rows[(16, 10)]
    print(f"gui: {fps:.0f} fps at {100 * cpu:.0f}% of one core (16 EMG channels at 2 kHz + 2 IMUs at 200 Hz, "
          "10 s window; targets >= 30 fps, <= 60 %)")  # fmt: skip
    return {"rows": rows}


if __name__ == "__main__":
    sys.exit(0 if main() is not None else 1)
