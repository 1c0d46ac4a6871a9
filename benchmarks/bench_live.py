"""The live pipeline: CPU share at real time, speed on a replay, and latency of its results.

1. CPU share of acquisition plus the live pipeline at real time: a simulated patient
   (16 EMG channels at 2 kHz through the sk1 device path, the pelvis IMU at 200 Hz)
   plus a second 200 Hz IMU, for `SECONDS` s of wall time, with the pipeline fed and
   without it (the baseline: acquisition alone). Target: <= 20 % of one core.
2. Real-time factor of the pipeline on a replay of the same session (as fast as possible).
3. Latency from a repetition's end (its `end_s`) to its `RepetitionDone` event, in data
   time (the pipeline's `data_now` when the event is emitted). Target: <= 0.5 s.
4. The same for a walk (the gait scenario: calibration, then walking to and fro), where
   each step is looked for every second over the last 20 s and reported once 3.5 s of
   walking follows its contact: CPU share at real time over `GAIT_SECONDS` (the walk
   starts about 23 s in), and the delay from each contact to its step's `RepetitionDone`.

Runnable alone: .venv/bin/python benchmarks/bench_live.py
"""

from __future__ import annotations

import os
import sys
import tempfile
import time

import numpy as np

from sensorkit.acquisition import Acquisition
from sensorkit.devices.base import Source, SourceStatus
from sensorkit.devices.schemes.file import Replay
from sensorkit.devices.spec import open_device
from sensorkit.live.events import RepetitionDone
from sensorkit.live.pipeline import LivePipeline
from sensorkit.recording.record import record
from sensorkit.streams import IMU_CHANNELS, Chunk, StreamInfo

SECONDS = 40.0
MUSCLES = ",".join(f"{m}_{s}" for m in ("glute_max", "glute_med", "biceps_femoris", "semitendinosus",
                                          "erector_spinae", "tfl", "rectus_femoris", "vastus_lateralis")
                   for s in "LR")  # fmt: skip
SPEC = f"sim://single_leg_squat?speed=1&reps=6&seed=2&muscles={MUSCLES}"
GAIT_SPEC = f"sim://gait?speed=1&seed=2&muscles={MUSCLES}"
GAIT_SECONDS = 60.0


class SecondImu(Source):
    """A thigh IMU at 200 Hz in real time (gravity plus noise), standing in for a second sensor."""

    def __init__(self) -> None:
        self.info = StreamInfo("thigh_L", "IMU", IMU_CHANNELS, ("m/s^2",) * 3 + ("rad/s",) * 3, 200.0, "bench-thigh")
        self.finished = False
        self._n = 0
        self._rng = np.random.default_rng(0)

    def open(self) -> None:
        self._t0 = time.monotonic()

    def read(self, timeout: float = 0.1) -> list[Chunk]:
        time.sleep(0.05)
        due = int((time.monotonic() - self._t0) * 200)
        n, self._n = due - self._n, due
        x = self._rng.normal(0, 0.05, (n, 6))
        x[:, 2] += 9.81
        return [Chunk(self.info, self._t0 + (due - n + np.arange(n)) / 200, x)]

    def close(self) -> None:
        self.finished = True

    def streams(self) -> list[StreamInfo]:
        return [self.info]

    def status(self) -> SourceStatus:
        return SourceStatus("connected", frames=self._n)


def cpu_share(with_pipeline: bool, spec: str = SPEC, seconds: float = SECONDS) -> tuple[float, int]:
    """Share of one core used by this process over `seconds` of real-time acquisition."""
    sources = [open_device(spec), SecondImu()]
    pipeline = LivePipeline().start() if with_pipeline else None
    acq = Acquisition(sources, [pipeline.push] if pipeline else [lambda c: None])
    c0, w0 = time.process_time(), time.monotonic()
    acq.start()
    acq.wait(seconds)
    acq.stop()
    reps = 0
    if pipeline is not None:
        reps = sum(len(b["reps"]) for b in pipeline.close()["exercises"])
    return (time.process_time() - c0) / (time.monotonic() - w0), reps


def replay_and_latency(path: str) -> tuple[float, float, list[float]]:
    """(real-time factor, data seconds, latencies s) of the pipeline on a speed-0 replay."""
    src = Replay(path, speed=0)
    src.open()
    chunks = []
    while not src.finished:
        chunks += src.read()
    span = max(c.timestamps[-1] for c in chunks) - min(c.timestamps[0] for c in chunks)
    pipeline = LivePipeline()
    latencies = []

    def on_event(e) -> None:
        if isinstance(e, RepetitionDone):  # a gait step: from its contact (the step's start)
            latencies.append(pipeline.data_now - e.row["end_s" if e.row["movement_onset_s"] is not None else "start_s"])

    pipeline.subscribe(on_event)
    t0 = time.perf_counter()
    for c in chunks:
        pipeline.push(c)
    pipeline.finish()
    return span / (time.perf_counter() - t0), span, latencies


def main() -> dict:
    print(f"Live pipeline ({SECONDS:.0f} s of a simulated patient at real time: 16 EMG channels at 2 kHz through "
          "the sk1 device path, pelvis IMU and a second IMU at 200 Hz)")  # fmt: skip
    base, _ = cpu_share(False)
    live, reps = cpu_share(True)
    print(f"  acquisition alone (baseline):          {100 * base:5.1f} % of one core")
    print(f"  acquisition + live pipeline:           {100 * live:5.1f} % of one core  ({reps} repetitions analysed; "
          "target <= 20 %)")  # fmt: skip
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "s.xdf")
        record([SPEC.replace("speed=1", "speed=0")], path, {"patient": "P999"}, None, quiet=True)
        rtf, span, lat = replay_and_latency(path)
    print(f"  replay through the pipeline:           {rtf:5.0f} x real time ({span:.0f} s of data)")
    if lat:
        print(f"  repetition end -> RepetitionDone:      median {np.median(lat):.2f} s, max {np.max(lat):.2f} s "
              f"over {len(lat)} reps (data time; target <= 0.5 s)")  # fmt: skip
    gait_base, _ = cpu_share(False, GAIT_SPEC, GAIT_SECONDS)
    gait_live, steps = cpu_share(True, GAIT_SPEC, GAIT_SECONDS)
    print(f"  walking ({GAIT_SECONDS:.0f} s, the walk from about 23 s): acquisition alone {100 * gait_base:5.1f} %, "
          f"with the live pipeline {100 * gait_live:5.1f} % of one core ({steps} steps)")  # fmt: skip
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "g.xdf")
        record([GAIT_SPEC.replace("speed=1", "speed=0")], path, {"patient": "P999"}, None, quiet=True)
        _, _, gait_lat = replay_and_latency(path)
    if gait_lat:
        print(f"  contact -> step's RepetitionDone:      median {np.median(gait_lat):.2f} s, max "
              f"{np.max(gait_lat):.2f} s over {len(gait_lat)} steps (the last ones at the block's end)")  # fmt: skip
    print(f"live: {100 * live:.1f}% of one core at real time (acquisition alone {100 * base:.1f}%), "
          f"{rtf:.0f}x real time on a replay; walking {100 * gait_live:.1f}%")  # fmt: skip
    return {"cpu_live": live, "cpu_base": base, "rtf": rtf, "latency": lat, "cpu_gait": gait_live}


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
