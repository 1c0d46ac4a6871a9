"""Running sources: one reader thread per source, chunks fanned out to consumers.

Consumers (the recorder's queue, a GUI's ring buffers, an LSL outlet) must return
at once; the recorder does its disk work in its own thread, so a slow consumer can
never stall a device.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable

from sensorkit.devices.base import Source
from sensorkit.errors import SensorkitError
from sensorkit.streams import Chunk, StreamInfo

Consumer = Callable[[Chunk], None]


class Acquisition:
    def __init__(self, sources: list[Source], consumers: list[Consumer]) -> None:
        self.sources = sources
        self.consumers = consumers
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._errors: list[BaseException] = []
        self._lock = threading.Lock()
        self.first_time: float | None = None
        self.last_time: float | None = None
        # stream identity (name, source id) -> index of the source that owns it, and each
        # source's renamed streams: two sources must never merge into one stream
        self._owners: dict[tuple[str, str], int] = {}
        self._renamed: dict[tuple[int, StreamInfo], StreamInfo] = {}

    def start(self) -> None:
        for src in self.sources:
            src.open()
        for i, src in enumerate(self.sources):
            t = threading.Thread(target=self._pump, args=(src,), name=f"sensorkit-source-{i}", daemon=True)
            t.start()
            self._threads.append(t)

    def distinct(self, index: int, chunk: Chunk) -> Chunk:
        """The chunk under a stream identity no other source uses.

        Two identical sources (the same simulator or file opened twice) would otherwise
        write their samples into one stream with timestamps running backwards; the
        second one's streams get a `_2` (`_3`, ...) suffix on name and source id.
        """
        key = (index, chunk.info)
        info = self._renamed.get(key)
        if info is None:
            with self._lock:
                info = chunk.info
                n = 1
                while self._owners.setdefault((info.name, info.source_id), index) != index:
                    n += 1
                    info = dataclasses.replace(chunk.info, name=f"{chunk.info.name}_{n}",
                                               source_id=f"{chunk.info.source_id}_{n}")  # fmt: skip
                self._renamed[key] = info
        return chunk if info is chunk.info else Chunk(info, chunk.timestamps, chunk.samples, chunk.lost)

    def _pump(self, src: Source) -> None:
        index = self.sources.index(src)
        try:
            while not self._stop.is_set() and not src.finished:
                for chunk in src.read(0.1):
                    chunk = self.distinct(index, chunk)
                    if len(chunk) and chunk.info.srate > 0:
                        with self._lock:
                            t0, t1 = chunk.timestamps[0], chunk.timestamps[-1]
                            self.first_time = t0 if self.first_time is None else min(self.first_time, t0)
                            self.last_time = t1 if self.last_time is None else max(self.last_time, t1)
                    for consume in self.consumers:
                        consume(chunk)
        except BaseException as exc:  # handed to the main thread by wait()
            self._errors.append(exc)
            self._stop.set()

    @property
    def elapsed(self) -> float:
        """Seconds of data acquired so far (data time, not wall time)."""
        with self._lock:
            if self.first_time is None:
                return 0.0
            return float(self.last_time - self.first_time)

    @property
    def finished(self) -> bool:
        return all(not t.is_alive() for t in self._threads)

    def wait(self, duration: float | None = None, on_tick: Callable[[], None] | None = None,
             tick: float = 1.0) -> None:  # fmt: skip
        """Until every source has finished, `duration` seconds of data, or an error."""
        next_tick = time.monotonic() + tick
        while not self.finished and not self._stop.is_set():
            if duration is not None and self.elapsed >= duration:
                break
            time.sleep(0.02)
            if on_tick is not None and time.monotonic() >= next_tick:
                on_tick()
                next_tick += tick
        self._raise()

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=5)
        for src in self.sources:
            try:
                src.close()
            except OSError:
                pass  # an unplugged device cannot be told to stop
        self._raise()

    def _raise(self) -> None:
        if self._errors:
            exc = self._errors[0]
            if isinstance(exc, SensorkitError | OSError):
                raise SensorkitError(str(exc)) from exc
            raise exc
