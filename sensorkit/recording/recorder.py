"""Crash-safe recording: chunks go through a queue to a writer thread (DESIGN.md section 4).

Acquisition never waits for the disk: `push` only enqueues. The writer thread
writes whole chunks, flushes to the operating system at least every
`flush_interval` seconds (so `kill -9` loses at most that much), writes a boundary
chunk every `boundary_interval` seconds (so a damaged file can be resynchronised),
and footers on a clean `close`.
"""

from __future__ import annotations

import os
import queue
import threading
import time

from sensorkit.recording.xdf_writer import XdfWriter
from sensorkit.streams import Chunk, StreamInfo

_STOP = object()


class Recorder:
    def __init__(self, path: str | os.PathLike, file_meta: dict[str, str] | None = None,
                 flush_interval: float = 0.5, boundary_interval: float = 5.0,
                 hostname: bool = False) -> None:  # fmt: skip
        self.path = os.fspath(path)
        self._writer = XdfWriter(self.path, file_meta, hostname=hostname)
        self._queue: queue.Queue = queue.Queue()
        self._flush_interval = flush_interval
        self._boundary_interval = boundary_interval
        self._error: BaseException | None = None
        self.samples_written = 0
        self._streams: set[StreamInfo] = set()
        self._thread = threading.Thread(target=self._run, name="sensorkit-recorder", daemon=True)
        self._thread.start()

    def add_stream(self, info: StreamInfo) -> None:
        """Declare a stream before its data (optional: streams are added on first chunk)."""
        self._queue.put(info)

    def push(self, chunk: Chunk) -> None:
        """Queue a chunk for writing; never blocks."""
        if self._error is not None:
            raise OSError(f"recording to {self.path} failed: {self._error}") from self._error
        self._queue.put(chunk)

    @property
    def backlog(self) -> int:
        return self._queue.qsize()

    def close(self) -> None:
        """Write everything queued, then the footers; raises if writing failed."""
        self._queue.put(_STOP)
        self._thread.join()
        if self._error is not None:
            raise OSError(f"recording to {self.path} failed: {self._error}") from self._error

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _add_stream(self, info: StreamInfo) -> None:
        # Timestamps are already on this host's clock, so every clock offset is 0; writing
        # them (as LabRecorder does) lets readers synchronise without special cases.
        if info not in self._streams:
            self._streams.add(info)
            self._writer.add_stream(info)
            self._writer.write_clock_offset(info, time.monotonic(), 0.0)

    def _run(self) -> None:
        w = self._writer
        last_flush = last_sync = time.monotonic()
        # boundaries and clock offsets follow data time, so that files written faster than
        # real time (simulations, replays) are as resynchronisable as live ones
        data_now = last_boundary = None
        try:
            while True:
                try:
                    item = self._queue.get(timeout=self._flush_interval / 2)
                except queue.Empty:
                    item = None
                if item is _STOP:
                    break
                if isinstance(item, StreamInfo):
                    self._add_stream(item)
                elif item is not None:
                    self._add_stream(item.info)
                    w.write_chunk(item)
                    self.samples_written += len(item)
                    if len(item):
                        t = float(item.timestamps[-1])
                        data_now = t if data_now is None else max(data_now, t)
                        last_boundary = data_now if last_boundary is None else last_boundary
                if data_now is not None and data_now - last_boundary >= self._boundary_interval:
                    w.write_boundary()
                    for info in self._streams:
                        w.write_clock_offset(info, data_now, 0.0)
                    last_boundary = data_now
                now = time.monotonic()
                if now - last_flush >= self._flush_interval:
                    sync = now - last_sync >= 5.0  # survive power loss too, not only crashes
                    w.flush(sync=sync)
                    last_flush = now
                    last_sync = now if sync else last_sync
        except BaseException as exc:  # reported to the producer on its next push/close
            self._error = exc
        finally:
            try:
                w.close()
            except OSError as exc:
                self._error = self._error or exc
