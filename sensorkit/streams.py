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


LOST_JUMP_PERIODS = 2.5  # a step this many sample periods long between timestamps may hide lost samples
JITTER_MADS = 6.0  # ... and must stand this many robust SDs of the steps above them (jitter is not loss)
SHORT_STEP = 0.75  # steps shorter than this many periods: the times jitter (a late chunk, then one on time)
# On a clock's times (steady, and every step within CLOCK_TOLERANCE periods of a whole number
# of periods but for CLOCK_OFF_GRID of them) a step of 2 periods is a single lost sample.
# Left out, each shifted every later row a period against its time, and pyxdf's dejittering
# (a line through time against row) then moved every time: an Xsens walk that lost 203
# single samples and 340 in runs came out 0.44 s early at its start and 0.83 s at its end,
# its foot contacts off the foot sensors' by as much (Voisard et al.'s set). Times that
# jitter by fractions of a period (clock_resets.xdf's BioSemi stream: steps of 9-26 ms at
# 100 Hz) keep LOST_JUMP_PERIODS: there a step of 1.6 periods is jitter.
STEADY_JUMP_PERIODS = 1.5
CLOCK_TOLERANCE = 0.1
CLOCK_OFF_GRID = 0.001
LEVEL_WINDOW_S = 2.0  # on jittering times, the level is fitted over this long before and after a step
LIFT_SDS = 3.0  # ... and a lift must stand this many residual SDs of that fit clear of zero
CHUNKS_A_SIDE = 40  # ... over at least this many of the stream's chunks either side
MAX_RESTORED_S = 600.0  # a longer break (a paused recording) stays a jump: NaN rows for hours would fill memory


def lost_sample_runs(timestamps: np.ndarray, srate: float, longest_s: float = MAX_RESTORED_S
                     ) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Where a regularly sampled stream's timestamps say samples were lost, and how many:
    (index of the last sample before each drop-out, samples missing there).

    A drop-out lifts every later time for good: its level (time minus index times the
    period) rises by the lost samples' duration. Only steps over `LOST_JUMP_PERIODS`
    periods (`STEADY_JUMP_PERIODS` on a clock's times), and `JITTER_MADS` robust SDs of the
    steps above the period, are judged.
    - Steady times (a device's clock, or times already dejittered: no step under
      `SHORT_STEP` periods): each such step is a drop-out of its length in periods, less
      one; a single lost sample too.
    - Jittering times (chunks stamped on arrival, so a late chunk is followed by a short
      step): a late chunk lifts nothing for good. Only steps that also stand
      `JITTER_MADS` robust SDs above the chunks' own steps are judged, and one counts
      where a line with a lift at it and at each other such step near it, fitted to the
      level `LEVEL_WINDOW_S` and `CHUNKS_A_SIDE` chunks (the median distance between
      irregular steps) either side (its slope takes a device running off its nominal
      rate), lifts there by at least `LOST_JUMP_PERIODS` - 1 periods and `LIFT_SDS`
      residual SDs; the drop-outs found are then measured again among themselves.
      Judged against the next step alone, chunks that came late were read as drop-outs
      all through a recording.
    The period is the stream's own median step (the nominal `srate` where that is
    degenerate). Written by hand: pyxdf's dejittering assumes no sample is missing, and
    no library finds them."""
    t = np.asarray(timestamps, dtype=np.float64)
    none = np.zeros(0, dtype=np.int64)
    if len(t) < 3 or not srate > 0:
        return none, none
    with np.errstate(invalid="ignore"):
        step = np.diff(t)
        if np.nanmax(step, initial=0.0) <= 2.0 / srate:  # no step long enough (a recording's usual case, fast)
            return none, none
        sent = _unclamped(t, step, 1.0 / srate)
        if sent is not t:  # the steps change only where times were clamped
            t, step = sent, np.diff(sent)
        ok = np.isfinite(step)
        if not ok.any():
            return none, none
        period = float(np.median(step[ok]))
        if not period > 0:
            period = 1.0 / srate
        jitter = 1.4826 * float(np.median(np.abs(step[ok] - period)))
        steady = not np.any(step[ok] < SHORT_STEP * period)
        # on a clock's times a step of two periods is one lost sample (see STEADY_JUMP_PERIODS)
        off_grid = np.abs(step[ok] / period - np.rint(step[ok] / period)) > CLOCK_TOLERANCE
        lowest = STEADY_JUMP_PERIODS if steady and off_grid.mean() <= CLOCK_OFF_GRID else LOST_JUMP_PERIODS
        big = np.flatnonzero(ok & (step > max(lowest * period, period + JITTER_MADS * jitter))
                             & (step <= longest_s))  # fmt: skip
    if not len(big):
        return none, none
    if steady:
        counts = np.rint(step[big] / period).astype(np.int64) - 1
        return big[counts >= 1], counts[counts >= 1]
    level = t - period * np.arange(len(t))
    # a late chunk moves its samples together: the fit needs many chunks a side, or a
    # candidate (picked for its late chunk) lifts the fit itself (0.5-s chunks in 2 s:
    # 10-19 false drop-outs a minute)
    irregular = np.flatnonzero(ok & (np.abs(step - period) > 0.25 * period))
    chunk = float(np.median(np.diff(irregular))) if len(irregular) > 1 else 1.0
    w = max(20, int(round(LEVEL_WINDOW_S / period)), int(round(CHUNKS_A_SIDE * chunk)))
    # only steps that stand out of the chunks' own jitter are fitted (at 2 kHz nearly every
    # chunk's step passes the sample-period test: 1.5 s a 10-min stream, fitting them all)
    at_chunks = step[irregular]
    spread = 1.4826 * float(np.median(np.abs(at_chunks - np.median(at_chunks))))
    big = big[step[big] > float(np.median(at_chunks)) + JITTER_MADS * spread]

    def lift(i: int, steps: np.ndarray) -> tuple[float, float]:
        """(lift at i, s; residual SD, s) of a line with a lift after sample i and after
        each of `steps` within `w` samples either side, fitted to the level there (thinned
        to 400 samples a side, keeping a sample each side of every step)."""
        before, after = np.arange(max(0, i - w + 1), i + 1), np.arange(i + 1, min(len(t) - 1, i + w) + 1)
        near = steps[(steps >= before[0]) & (steps < after[-1])]
        j = np.unique(np.concatenate([before[::-1][:: max(1, len(before) // 400)], after[:: max(1, len(after) // 400)],
                                      near, near + 1]))  # fmt: skip
        y = level[j]
        fin = np.isfinite(y)
        j, y = j[fin], y[fin]
        near = np.union1d(near, [i])
        x = np.column_stack([np.ones(len(j)), (j - i) * period, *(j > s_ for s_ in near)])
        if len(j) < x.shape[1] + 3:
            return 0.0, np.inf
        coef, *_ = np.linalg.lstsq(x, y, rcond=None)
        return float(coef[2 + int(np.searchsorted(near, i))]), float(np.std(y - x @ coef))

    def is_drop_out(c: float, sd: float) -> bool:
        return c >= (LOST_JUMP_PERIODS - 1) * period and c >= LIFT_SDS * sd

    # every step judged with the others near it fitted too (each alone, drop-outs every
    # second or so filled each other's windows: 20 % lost in 10-500 ms drop-outs, a tenth
    # to a half of them found); then measured again among those found
    at = np.array([i for i in big if is_drop_out(*lift(int(i), big))], dtype=np.int64)
    counts = np.array([int(np.rint(lift(int(i), at)[0] / period)) for i in at], dtype=np.int64)
    keep = counts >= 1
    return at[keep], counts[keep]


def _unclamped(t: np.ndarray, step: np.ndarray, period: float) -> np.ndarray:
    """Times as sent where a receiver clamped them to run forward (liblsl's
    `proc_monotonize`, loggers that never let time go back): a sample stamped with its
    predecessor's time (a chunk on time after a late one) is put a period before the next
    sample that moved on, as the sender back-dated it. Judged on these, a clamped run and
    the step after it are jitter; judged as clamped, the step after every late chunk looked
    like a lift (2-kHz chunks 10 ms late: 36,000 false rows in 2 minutes)."""
    clamped = np.flatnonzero(np.isfinite(step) & (step <= 0.01 * period)) + 1
    if not len(clamped):
        return t
    # each run of clamped samples is placed back from the sample after it, at the period
    ends = clamped[np.r_[np.diff(clamped) > 1, True]]  # last clamped sample of each run
    run_end = ends[np.searchsorted(ends, clamped)]
    anchor = run_end + 1
    ok = anchor < len(t)
    i, anchor = clamped[ok], anchor[ok]
    out = t.copy()
    out[i] = np.fmin(t[i], t[anchor] - (anchor - i) * period)
    return out


def restore_lost_rows(timestamps: np.ndarray, samples: np.ndarray, srate: float,
                      longest_s: float = MAX_RESTORED_S) -> tuple[np.ndarray, np.ndarray, int]:  # fmt: skip
    """A regularly sampled stream whose lost samples are missing rows (the timestamps jump),
    in this model's form: a NaN row at each lost sample's expected time (`lost_sample_runs`
    finds them).

    Software that records what arrived (LabRecorder, CSV loggers) leaves a radio drop-out
    as a jump in the timestamps; processing that counts samples would then join the two
    sides, and an export placing samples by index would shift everything after it. A
    restored row's time lies evenly between the real samples either side. On jittering
    times a single lost sample (a step of two periods) is not told from jitter and stays
    out; on a clock's times it is restored. Returns
    (timestamps s, samples, rows restored), the inputs themselves where nothing was
    restored; breaks over `longest_s` (default `MAX_RESTORED_S`) stay jumps.
    """
    if samples.dtype.kind not in "fiu":
        return timestamps, samples, 0
    after, missing = lost_sample_runs(timestamps, srate, longest_s)
    if not len(after):
        return timestamps, samples, 0
    t = np.asarray(timestamps, dtype=np.float64)
    shift = np.zeros(len(t), dtype=np.int64)
    shift[after + 1] = missing
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
