"""XDF write speed, as a real-time factor, against a naive per-sample struct.pack writer.

Workload: 16-ch 2 kHz EMG + two 6-axis 200 Hz IMUs in 50 ms chunks, written to a
temporary file with per-sample timestamps. Target: >= 200x real time.
"""

from __future__ import annotations

import os
import struct
import tempfile

from common import best_time, synthetic_chunks

from sensorkit.recording.xdf_writer import XdfWriter, _chunk, _varlen

SECONDS = 60.0


def _fresh(path: str) -> str:
    if os.path.exists(path):  # the writer never truncates an existing file
        os.remove(path)
    return path


def naive_write(path: str, chunks) -> None:
    w = XdfWriter(_fresh(path))
    ids = {}
    for c in chunks:
        sid = ids.setdefault(c.info, w.add_stream(c.info))
        body = bytearray()
        for t, row in zip(c.timestamps, c.samples, strict=True):  # one sample at a time
            body += b"\x08" + struct.pack("<d", t) + struct.pack(f"<{len(row)}f", *row)
        w._f.write(_chunk(3, struct.pack("<I", sid) + _varlen(len(c)) + bytes(body)))
    w.close()


def ours_write(path: str, chunks) -> None:
    w = XdfWriter(_fresh(path))
    for c in chunks:
        w.write_chunk(c)
    w.close()


def main() -> dict:
    chunks = list(synthetic_chunks(SECONDS))
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "bench.xdf")
        t_naive = best_time(lambda: naive_write(p, chunks), repeat=2)
        t_ours = best_time(lambda: ours_write(p, chunks), repeat=3)
        size = os.path.getsize(p) / 1e6
    print(f"XDF write, {SECONDS:.0f} s of 16ch x 2 kHz EMG + 2 IMUs ({size:.1f} MB, fsync on close)")
    for name, t in (("naive per-sample writer", t_naive), ("XdfWriter (numpy records)", t_ours)):
        print(f"  {name:<34} {SECONDS / t:9.0f}x real time   {t_naive / t:6.1f}x the naive baseline")
    return {"xdf_write_rtf": SECONDS / t_ours, "naive_rtf": SECONDS / t_naive}


if __name__ == "__main__":
    main()
