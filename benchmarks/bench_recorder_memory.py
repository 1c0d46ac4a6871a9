"""Recorder memory over a long recording: peak RSS for 1 hour against 1 minute.

Each length runs in a fresh process that pushes synthetic 16-ch 2 kHz EMG + two IMU
chunks into the real threaded Recorder, faster than real time (paced at PACE x so the
writer, not the producer, sets the speed) and reports its peak RSS. Flat memory means
the 1-hour peak is close to the 1-minute peak.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time

PACE = 100.0  # times real time


def child(seconds: float, path: str) -> None:
    sys.path.insert(0, os.path.dirname(__file__))
    from common import synthetic_chunks

    from sensorkit.recording.recorder import Recorder

    rec = Recorder(path, {"patient": "P999", "session": "bench"})
    start = time.monotonic()
    max_backlog = 0
    for c in synthetic_chunks(seconds, chunk_s=0.05):
        rec.push(c)
        max_backlog = max(max_backlog, rec.backlog)
        ahead = c.timestamps[-1] / PACE - (time.monotonic() - start)
        if ahead > 0:
            time.sleep(ahead)
    rec.close()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"peak_rss_mb": peak_mb, "max_backlog": max_backlog,
                      "file_mb": os.path.getsize(path) / 1e6, "wall_s": time.monotonic() - start}))


def run(seconds: float) -> dict:
    with tempfile.TemporaryDirectory() as d:
        out = subprocess.run([sys.executable, __file__, "--child", str(seconds), os.path.join(d, "m.xdf")],
                             capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def main() -> dict:
    short, long = run(60.0), run(3600.0)
    print(f"Recorder memory, 16ch x 2 kHz EMG + 2 IMUs pushed at {PACE:.0f}x real time")
    for name, r in (("1 minute", short), ("1 hour", long)):
        print(f"  {name:<10} peak RSS {r['peak_rss_mb']:7.1f} MB   file {r['file_mb']:7.1f} MB   "
              f"max queue {r['max_backlog']:4d} chunks   {r['wall_s']:.1f} s")
    print(f"  1 hour / 1 minute peak RSS: {long['peak_rss_mb'] / short['peak_rss_mb']:.2f}")
    return {"rss_ratio": long["peak_rss_mb"] / short["peak_rss_mb"]}


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(float(sys.argv[2]), sys.argv[3])
    else:
        main()
