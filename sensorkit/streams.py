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


LOST_JUMP_PERIODS = 2.5  # a step this many sample periods long between timestamps: samples were lost
MAX_RESTORED_S = 600.0  # a longer break (a paused recording) stays a jump: NaN rows for hours would fill memory


def restore_lost_rows(timestamps: np.ndarray, samples: np.ndarray, srate: float
                      ) -> tuple[np.ndarray, np.ndarray, int]:  # fmt: skip
    """A regularly sampled stream whose lost samples are missing rows (the timestamps jump),
    in this model's form: a NaN row at each lost sample's expected time.

    Software that records what arrived (LabRecorder, CSV loggers) leaves a radio drop-out
    as a jump in the timestamps; processing that counts samples would then join the two
    sides, and an export placing samples by index would shift everything after it. The
    period is the stream's own (median step between timestamps; the nominal `srate`
    where the steps are degenerate), so a device running slightly off its nominal rate
    is not read as losing samples. A restored row's time lies evenly between the real
    samples either side. A single lost sample (a step of two periods) is not told from
    jitter and stays out. Returns (timestamps s, samples, rows restored), the inputs
    themselves where nothing was restored; breaks over `MAX_RESTORED_S` stay jumps.
    """
    t = np.asarray(timestamps, dtype=np.float64)
    if len(t) < 3 or not srate > 0 or samples.dtype.kind not in "fiu":
        return timestamps, samples, 0
    step = np.diff(t)
    period = float(np.median(step))
    if not period > 0:
        period = 1.0 / srate
    gaps = np.flatnonzero((step > LOST_JUMP_PERIODS * period) & (step <= MAX_RESTORED_S))
    if not len(gaps):
        return timestamps, samples, 0
    missing = np.rint(step[gaps] / period).astype(np.int64) - 1
    shift = np.zeros(len(t), dtype=np.int64)
    shift[gaps + 1] = missing
    pos = np.arange(len(t)) + np.cumsum(shift)
    n = len(t) + int(missing.sum())
    out = np.full((n, *samples.shape[1:]), np.nan, dtype=np.result_type(samples.dtype, np.float32))
    out[pos] = samples
    return np.interp(np.arange(n), pos, t), out, int(missing.sum())


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
