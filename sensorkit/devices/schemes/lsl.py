"""Lab Streaming Layer: `lsl://PROPERTY=VALUE` as a source, and an outlet for live chunks.

- Source: any LSL stream found by one of its properties (`lsl://type=EMG`,
  `lsl://name=Delsys EMG`, `lsl://source_id=...`), which is how commercial systems
  (Delsys, OpenSignals, ...) reach sensorkit. liblsl maps the sender's clock onto
  ours (LSL's local clock is the same monotonic clock sensorkit stamps with) and
  smooths the delivery jitter of regular streams; channel labels and units come from
  the stream's description and are converted to SI (uV -> V, g -> m/s^2, ...).
- Outlet: `LslPublisher` republishes every chunk of every source as an LSL stream
  with the same name, type, channels, units and timestamps, so that LabRecorder and
  other LSL tools receive sensorkit's streams.
"""

from __future__ import annotations

import time

import numpy as np

from sensorkit.devices.base import Source, SourceStatus
from sensorkit.devices.params import pop_number
from sensorkit.errors import SensorkitError
from sensorkit.lsl_runtime import load_pylsl
from sensorkit.streams import Chunk, StreamInfo
from sensorkit.units import to_si

RESOLVE_S = 5.0


def _channels(info) -> tuple[list[str], list[str]]:
    n = info.channel_count()
    labels, units = [f"ch{i + 1}" for i in range(n)], [""] * n
    ch = info.desc().child("channels").child("channel")
    for i in range(n):
        if ch.empty():
            break
        labels[i] = ch.child_value("label") or labels[i]
        units[i] = ch.child_value("unit") or ""
        ch = ch.next_sibling()
    return labels, units


class LslSource(Source):
    def __init__(self, prop: str, value: str, resolve_s: float = RESOLVE_S) -> None:
        self.prop, self.value, self.resolve_s = prop, value, resolve_s
        self.source_id = f"lsl:{prop}={value}"
        self.info: StreamInfo | None = None
        self._inlet = None
        self._factors = np.ones(0)
        self._samples = 0
        self._started = 0.0

    def open(self) -> None:
        pylsl = load_pylsl()
        found = pylsl.resolve_byprop(self.prop, self.value, timeout=self.resolve_s)
        if not found:
            raise SensorkitError(f"no LSL stream with {self.prop}={self.value!r} found within {self.resolve_s:g} s "
                                 "(is the sending program running, on this network?)")  # fmt: skip
        ids = {(s.name(), s.source_id()) for s in found}
        if len(ids) > 1:
            names = ", ".join(sorted(n for n, _ in ids))
            raise SensorkitError(f"{len(ids)} LSL streams have {self.prop}={self.value!r} ({names}); "
                                 "name one with lsl://name=... or lsl://source_id=...")  # fmt: skip
        flags = pylsl.proc_clocksync | pylsl.proc_monotonize
        if found[0].nominal_srate() > 0:
            flags |= pylsl.proc_dejitter
        self._inlet = pylsl.StreamInlet(found[0], max_buflen=60, processing_flags=flags)
        self._inlet.open_stream(timeout=self.resolve_s)  # connected now: nothing sent from here on is missed
        info = self._inlet.info(timeout=self.resolve_s)
        labels, units = _channels(info)
        si = [to_si(u) for u in units]
        self._factors = np.array([f for _, f in si])
        fmt = "string" if info.channel_format() == pylsl.cf_string else "float32"
        self.info = StreamInfo(info.name(), info.type(), tuple(labels), tuple(u for u, _ in si),
                               info.nominal_srate(), source_id=f"{self.source_id}:{info.source_id()}",
                               channel_format=fmt, metadata={"lsl_source_id": info.source_id()})  # fmt: skip
        self._started = time.monotonic()

    def read(self, timeout: float = 0.1) -> list[Chunk]:
        samples, stamps = self._inlet.pull_chunk(timeout=timeout, max_samples=4096)
        if not stamps:
            return []
        self._samples += len(stamps)
        if self.info.is_string:
            return [Chunk(self.info, stamps, np.array(samples, dtype=object).reshape(len(stamps), -1))]
        x = np.asarray(samples, dtype=np.float64) * self._factors
        return [Chunk(self.info, stamps, x.astype(np.float32))]

    def close(self) -> None:
        if self._inlet is not None:
            self._inlet.close_stream()
            self._inlet = None

    def streams(self) -> list[StreamInfo]:
        return [self.info] if self.info else []

    def status(self) -> SourceStatus:
        rate = self._samples / max(time.monotonic() - self._started, 1e-6) if self._started else 0.0
        return SourceStatus("connected" if self._inlet else "closed", self._samples, rate)


def open_lsl(target: str, params: dict[str, str]) -> LslSource:
    """The Source for `lsl://PROPERTY=VALUE` (type, name, source_id, hostname, ...)."""
    params = dict(params)
    prop, sep, value = target.partition("=")
    if not sep or not prop or not value:
        raise SensorkitError("lsl:// needs a stream property, e.g. lsl://type=EMG or lsl://name=MyStream")
    resolve = pop_number(params, "timeout", RESOLVE_S, "lsl", positive=True)
    if params:
        raise SensorkitError(f"unknown lsl parameter(s): {', '.join(sorted(params))}")
    return LslSource(prop, value, resolve)
