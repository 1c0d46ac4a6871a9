"""The data model every source yields and every consumer takes (DESIGN.md section 2).

A `StreamInfo` describes one stream; a `Chunk` is a block of its samples with one
host-clock timestamp per sample. Samples lost in transit are NaN rows at their
expected times, counted in `Chunk.lost`; they are never interpolated.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np

EMG = "EMG"
IMU = "IMU"
MARKERS = "Markers"

IMU_CHANNELS = ("acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z")  # DESIGN.md section 4


@dataclass(frozen=True)
class StreamInfo:
    """Description of one stream.

    `srate` is the nominal sample rate in Hz (0 for irregular streams such as
    markers). `channel_format` is the XDF value type: float32, double64 or string.
    """

    name: str
    kind: str
    channels: tuple[str, ...]
    units: tuple[str, ...]
    srate: float
    source_id: str = ""
    channel_format: str = "float32"
    metadata: dict[str, str] = field(default_factory=dict, hash=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.channels) != len(self.units):
            raise ValueError(
                f"stream {self.name!r}: {len(self.channels)} channel labels "
                f"but {len(self.units)} units"
            )
        if self.srate < 0:
            raise ValueError(f"stream {self.name!r}: negative sample rate {self.srate}")

    @property
    def n_channels(self) -> int:
        return len(self.channels)

    @property
    def is_string(self) -> bool:
        return self.channel_format == "string"


@dataclass
class Chunk:
    """A block of samples of one stream.

    `timestamps`: float64 seconds on the host clock, shape (n,).
    `samples`: shape (n, channels); float for numeric streams, object (str) for markers.
    `lost`: how many of these rows are NaN rows standing for samples lost in transit.
    """

    info: StreamInfo
    timestamps: np.ndarray
    samples: np.ndarray
    lost: int = 0

    def __post_init__(self) -> None:
        self.timestamps = np.asarray(self.timestamps, dtype=np.float64).reshape(-1)
        if self.info.is_string:
            self.samples = np.asarray(self.samples, dtype=object).reshape(
                len(self.timestamps), self.info.n_channels
            )
        else:
            self.samples = np.asarray(self.samples)
            if self.samples.ndim == 1:
                self.samples = self.samples.reshape(-1, 1)
        if self.samples.shape != (len(self.timestamps), self.info.n_channels):
            raise ValueError(
                f"stream {self.info.name!r}: samples shape {self.samples.shape} does not "
                f"match {len(self.timestamps)} timestamps x {self.info.n_channels} channels"
            )

    def __len__(self) -> int:
        return len(self.timestamps)


def concat_chunks(chunks: list[Chunk]) -> Chunk:
    """Join consecutive chunks of one stream into one."""
    if not chunks:
        raise ValueError("no chunks to join")
    info = chunks[0].info
    return Chunk(
        info,
        np.concatenate([c.timestamps for c in chunks]),
        np.concatenate([c.samples for c in chunks]),
        lost=sum(c.lost for c in chunks),
    )


class RingBuffer:
    """Fixed-capacity, thread-safe buffer of the latest samples of one numeric stream.

    A producer thread calls `push`; a GUI pulls `latest(n)` at its own pace. Old
    samples are overwritten, so a slow reader can never hold acquisition back.
    """

    def __init__(self, capacity: int, n_channels: int, dtype: type = np.float64) -> None:
        if capacity <= 0:
            raise ValueError("capacity must be positive")
        self._t = np.full(capacity, np.nan)
        self._x = np.full((capacity, n_channels), np.nan, dtype=dtype)
        self._write = 0  # total samples ever written
        self._lock = threading.Lock()

    @property
    def capacity(self) -> int:
        return len(self._t)

    @property
    def total(self) -> int:
        """Samples pushed since creation (including overwritten ones)."""
        return self._write

    def push(self, timestamps: np.ndarray, samples: np.ndarray) -> None:
        n = len(timestamps)
        if n == 0:
            return
        cap = self.capacity
        if n > cap:  # only the newest `cap` samples can survive
            timestamps, samples = timestamps[-cap:], samples[-cap:]
            skipped, n = n - cap, cap
        else:
            skipped = 0
        with self._lock:
            start = (self._write + skipped) % cap
            first = min(n, cap - start)
            self._t[start : start + first] = timestamps[:first]
            self._x[start : start + first] = samples[:first]
            self._t[: n - first] = timestamps[first:]
            self._x[: n - first] = samples[first:]
            self._write += skipped + n

    def latest(self, n: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Copies of the newest `n` samples (all held if None), oldest first."""
        with self._lock:
            held = min(self._write, self.capacity)
            n = held if n is None else min(n, held)
            end = self._write % self.capacity
            if n <= end:  # one piece: slices copy far faster than an index array
                return self._t[end - n : end].copy(), self._x[end - n : end].copy()
            a = self.capacity - (n - end)  # two pieces: the buffer's tail, then its head
            return np.concatenate([self._t[a:], self._t[:end]]), np.concatenate([self._x[a:], self._x[:end]])
