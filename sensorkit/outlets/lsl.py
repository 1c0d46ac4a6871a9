"""`LslPublisher`: a consumer that republishes every chunk of every source as an LSL stream
with the same name, type, channels, units and timestamps, so that LabRecorder and other
LSL tools receive sensorkit's streams."""

from __future__ import annotations

import numpy as np

from sensorkit.lsl_runtime import load_pylsl
from sensorkit.streams import Chunk, StreamInfo


class LslPublisher:
    """A consumer that republishes chunks as LSL outlets, one per stream (made on its first chunk)."""

    def __init__(self, source_prefix: str = "sensorkit") -> None:
        self._pylsl = load_pylsl()
        self.prefix = source_prefix
        self._outlets: dict[str, object] = {}

    def _outlet(self, info: StreamInfo):
        pylsl = self._pylsl
        fmt = pylsl.cf_string if info.is_string else pylsl.cf_float32
        lsl_info = pylsl.StreamInfo(info.name, info.kind, info.n_channels, info.srate, fmt,
                                    f"{self.prefix}:{info.source_id or info.name}")  # fmt: skip
        channels = lsl_info.desc().append_child("channels")
        for label, unit in zip(info.channels, info.units, strict=True):
            ch = channels.append_child("channel")
            ch.append_child_value("label", label)
            ch.append_child_value("unit", unit)
            ch.append_child_value("type", info.kind)
        lsl_info.desc().append_child("acquisition").append_child_value("software", "sensorkit")
        return pylsl.StreamOutlet(lsl_info, chunk_size=0, max_buffered=60)

    def __call__(self, chunk: Chunk) -> None:
        key = chunk.info.source_id or chunk.info.name
        outlet = self._outlets.get(key)
        if outlet is None:
            outlet = self._outlets[key] = self._outlet(chunk.info)
        if chunk.info.is_string:
            for t, row in zip(chunk.timestamps, chunk.samples, strict=True):
                outlet.push_sample([str(v) for v in row], float(t))
        else:
            outlet.push_chunk(np.ascontiguousarray(chunk.samples, dtype=np.float32), chunk.timestamps.tolist())

    def close(self) -> None:
        self._outlets.clear()
