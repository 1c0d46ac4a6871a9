"""What the traces draw: EMG band-passed and its envelope, in microvolts, kept in ring buffers.

A consumer (it takes `Chunk`s from the acquisition) that conditions each chunk with the
streaming filters, so a frame draws what is already filtered: filtering the whole
window at every frame would cost far more. It keeps the last `window_s` seconds only.
"""

from __future__ import annotations

import threading

import numpy as np

from sensorkit.dsp.filters import ENVELOPE_HZ, StreamingFilter, band_edges, condition_sos, lowpass_sos
from sensorkit.streams import Chunk, RingBuffer


class DisplayBuffers:
    """The EMG stream (the first with muscle-labelled channels) ready to draw."""

    def __init__(self, window_s: float = 30.0) -> None:
        self.window_s = window_s
        self.labels: list[str] = []
        self.fs = 0.0
        self.band: RingBuffer | None = None
        self.envelope: RingBuffer | None = None
        self._key: tuple[str, str] | None = None
        self._lock = threading.Lock()

    def push(self, chunk: Chunk) -> None:
        info = chunk.info
        if info.kind.upper() != "EMG" or info.is_string or not len(chunk) or info.srate <= 0:
            return
        key = (info.name, info.source_id)
        with self._lock:
            if self._key is None:
                self._key, self.fs, self.labels = key, float(info.srate), list(info.channels)
                cap = int(self.window_s * self.fs) + 1
                self.band = RingBuffer(cap, info.n_channels, np.float32)
                self.envelope = RingBuffer(cap, info.n_channels, np.float32)
                band = band_edges(self.fs)
                self._band_f = StreamingFilter(condition_sos(self.fs, band))
                self._env_f = StreamingFilter(lowpass_sos(self.fs, ENVELOPE_HZ))
            if key != self._key:
                return
            x = self._band_f.process(np.asarray(chunk.samples, dtype=np.float64)) * 1e6  # V -> uV
            env = self._env_f.process(np.abs(x))
        self.band.push(chunk.timestamps, x.astype(np.float32))
        self.envelope.push(chunk.timestamps, env.astype(np.float32))
