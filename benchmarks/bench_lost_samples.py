"""Lost samples in other programs' files: sensorkit's reader against pyxdf.load_xdf.

LabRecorder and loggers write only the samples that arrived, so a radio drop-out is a
jump in a regular stream's times. pyxdf removes jitter by one line per stretch through
the sample count, which spreads any drop-out shorter than its break (1 s or 500
samples) over the stretch. sensorkit finds drop-outs by the lasting lift they give the
times (`streams.lost_sample_runs`) and puts NaN rows there before that fit.

Each scenario is a 2-min stream written as it arrived, in chunks, and read back by both:
- times: a device's clock (steady), or LSL's way (each chunk stamped on arrival, 0-J ms
  late, its samples back-dated at the nominal rate), chunks of 1-100 samples, and those
  times clamped to run forward as a receiver with liblsl's proc_monotonize writes them;
- the device on its nominal rate or 1 % off;
- no loss, one 0.3-s drop-out, or 20 % lost in drop-outs of 10-500 ms.
Scores: rows restored where nothing was lost (false), lost samples counted (restored /
true), and the error of the real samples' times against the truth (median and max, ms).

    .venv/bin/python benchmarks/bench_lost_samples.py
"""

from __future__ import annotations

import logging
import os
import tempfile

import numpy as np
import pyxdf

from sensorkit.recording.xdf_reader import read_xdf
from sensorkit.recording.xdf_writer import XdfWriter
from sensorkit.streams import Chunk, StreamInfo

SECONDS = 120.0
# (rate Hz, samples per chunk, lateness ms or None for a device clock, clamped to run forward)
STAMPING = ((100.0, 10, None, False), (100.0, 10, 30.0, False), (100.0, 50, 30.0, False), (100.0, 1, 20.0, False),
            (250.0, 25, 50.0, False), (2000.0, 32, 20.0, False), (2000.0, 100, 50.0, False),
            (100.0, 10, 30.0, True), (2000.0, 32, 20.0, True))  # fmt: skip
DRIFTS = (1.0, 1.01)
LOSSES = ("none", "one 0.3-s drop-out", "20 % lost")


def kept_mask(n: int, fs: float, loss: str, rng) -> np.ndarray:
    keep = np.ones(n, dtype=bool)
    if loss == "one 0.3-s drop-out":
        keep[n // 2 : n // 2 + int(0.3 * fs)] = False
    elif loss == "20 % lost":
        while (~keep).mean() < 0.2:
            g = int(rng.uniform(0.01, 0.5) * fs)
            a = int(rng.uniform(0.05, 0.95) * (n - g))
            keep[a : a + g] = False
    return keep


def scenario(fs: float, chunk: int, late_ms: float | None, drift: float, loss: str, seed: int, folder: str,
             clamp: bool = False):  # fmt: skip
    rng = np.random.default_rng(seed)
    n = int(SECONDS * fs)
    truth = 1000.0 + np.arange(n) / (fs * drift)  # the device's true sample times
    keep = kept_mask(n, fs, loss, rng)
    info = StreamInfo("pelvis", "IMU", ("acc_x",), ("m/s^2",), fs)
    path = os.path.join(folder, f"s{seed}.xdf")
    w = XdfWriter(path)
    last = -np.inf
    for a in range(0, n, chunk):
        k = np.flatnonzero(keep[a : a + chunk]) + a
        if not len(k):
            continue
        if late_ms is None:
            stamps = truth[k]
        else:  # stamped on arrival (the last sample's time plus lateness), back-dated at the nominal rate
            arrival = truth[k[-1]] + rng.uniform(0, late_ms / 1000)
            stamps = arrival - (len(k) - 1 - np.arange(len(k))) / fs
        if clamp:  # never before the previous sample's time
            stamps = np.maximum(stamps, last)
            last = stamps[-1]
        w.write_chunk(Chunk(info, stamps, np.ones((len(k), 1))))
    w.close()
    ours = read_xdf(path).streams[0]
    ref = pyxdf.load_xdf(path)[0][0]["time_stamps"]
    real = np.isfinite(ours.samples[:, 0])
    os.remove(path)
    err_ours = np.abs(ours.timestamps[real] - truth[keep]) * 1000
    err_pyxdf = np.abs(ref - truth[keep]) * 1000
    lost_true = int((~keep).sum())
    return ours.lost_samples, lost_true, err_ours, err_pyxdf


def main() -> None:
    logging.getLogger("pyxdf.pyxdf").setLevel(logging.CRITICAL)
    print(f"Lost samples in other programs' files ({SECONDS:.0f}-s streams written as they arrived)")
    print("  times                                   rate   loss                 restored/lost  "
          "sensorkit ms med/max   pyxdf ms med/max")  # fmt: skip
    false_rows = 0
    with tempfile.TemporaryDirectory() as folder:
        seed = 0
        for fs, chunk, late, clamp in STAMPING:
            for drift in DRIFTS:
                for loss in LOSSES:
                    seed += 1
                    got, lost, e_ours, e_ref = scenario(fs, chunk, late, drift, loss, seed, folder, clamp)
                    if loss == "none":
                        false_rows += got
                    times = (f"{fs:.0f} Hz, device clock" if late is None
                             else f"{fs:.0f} Hz, {chunk}/chunk, 0-{late:.0f} ms late{', clamped' * clamp}")  # fmt: skip
                    rate = "nominal" if drift == 1.0 else f"{100 * (drift - 1):+.0f} %"
                    print(f"  {times:39s} {rate:7s} {loss:20s} {got:6d}/{lost:<6d}   "
                          f"{np.median(e_ours):7.1f} /{e_ours.max():7.1f}   "
                          f"{np.median(e_ref):7.1f} /{e_ref.max():7.1f}")  # fmt: skip
    print(f"lost samples: {false_rows} rows restored where none was lost")


if __name__ == "__main__":
    main()
