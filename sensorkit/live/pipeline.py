"""The live pipeline: chunks in, typed events out, and at the end an `analyze` result.

It is a consumer (DESIGN.md section 1): `push` only enqueues a chunk, and a worker
thread does the analysis, so acquisition and the recorder never wait for it. It runs
the streaming twins of the offline analysis:

- each labelled EMG channel through `LiveEmgChannel` (the causal conditioning of
  `ChannelOnsets`, chunk by chunk);
- the pelvis IMU through `LivePelvis` (calibration at the calibration markers,
  obliquity, repetitions and movement onsets from `LiveMovement`);
- exercise blocks from `exercise_start` / `exercise_end` markers as they arrive.

Per repetition it asks the offline questions (`rep_onsets`, `rep_drop`) of the data
kept, as soon as their answers can no longer change, and builds the result rows with
the offline code (`rep_json`, `block_json`). `LiveMovement` sees only the past, and
`movement_periods` a whole block (its range of motion, its rests): on some blocks the two
find repetitions differently (a held stance cut in two, a prone lift begun in postural
sway). So when a block is complete, its repetitions are found again as `analyze` finds
them, over the whole block (`reps_from_imu`), and measured on the same live-conditioned
EMG (kept from the block's start): the block's result (`BlockDone`, the result) is then
`analyze`'s, and a `Notice` says where it differs from the repetitions reported live.
Gait blocks are measured the same way: live, each step is reported once the walk around
it has been seen (`GAIT_SETTLE_S`), from `analyze`'s own functions over the last
`GAIT_LIVE_WINDOW_S`; at the block's end, over the whole block.
Subscribers get the events through callbacks
(run on the pipeline's thread: keep them short) or their own queue (`events()`); a
slow subscriber delays only itself and later events, never acquisition.
"""

from __future__ import annotations

import math
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from sensorkit.analysis.exercises import EXERCISES, MUSCLE_LABEL, REGISTRY, SINGLE_LEG, Block, block_reference
from sensorkit.analysis.mains import RecordingMains
from sensorkit.analysis.pelvic_drop import calibration_windows, drop_curve, rep_drop, track_pelvis
from sensorkit.analysis.session import (
    GAIT_WINDOW_S,
    NO_MOVEMENT,
    AnalysisOptions,
    block_json,
    gait_block,
    gait_contacts,
    not_analysed,
    pelvis_json,
    rep_json,
    reps_from_imu,
    reps_summary,
    result_base,
    with_drops,
)
from sensorkit.analysis.signal_quality import units_note
from sensorkit.analysis.timing import RepTiming, local_t0, rep_onsets, sample_clock
from sensorkit.dsp.onset import Onset, find_bursts
from sensorkit.live.emg import LOOKAHEAD_S, LiveEmg, LiveEmgChannel
from sensorkit.live.events import (
    BlockDone,
    BlockStarted,
    Calibrated,
    Event,
    Notice,
    RepetitionCancelled,
    RepetitionDone,
    RepetitionStarted,
)  # fmt: skip
from sensorkit.live.events import Onset as OnsetEvent
from sensorkit.live.pelvis import LivePelvis
from sensorkit.live.quality import LiveQuality
from sensorkit.streams import IMU_CHANNELS, Chunk, StreamInfo, concat_chunks
from sensorkit.units import in_volts

PELVIS_NAMES = ("pelvis", "sacrum", "pelvis_imu")
# A repetition is a movement, not the settling of a posture: offline, `movement_periods`
# keeps motions above 30 % of the block's range; live, the range is known only from the
# repetitions so far, so a motion must turn the pelvis faster than MIN_REP_RATE and than
# REP_RATE_FRACTION of the block's median repetition so far.
MIN_REP_RATE = 0.1  # rad/s (5.7 deg/s): sway and settling stay well below, the slowest standing lifts above
# Lying still, a slow and small prone lift turns the pelvis at 2-6 deg/s at its peak (simulated,
# 5th-95th percentile; slow or small 5-11 deg/s): in an exercise done lying a repetition must
# turn it LYING_REP_NOISE times faster than the lying pelvis's noise (`LivePelvis.rest_noise_gyr`)
# and than MIN_REP_RATE_LYING, never more than MIN_REP_RATE asks.
# Lying with standing's sway, a fixed 2.9 deg/s let the sway through as repetitions (slow, small
# lifts, ad hoc: 18 false of 60; 4 times the noise: 12; 6 times: 2, 3 before), while the lifts of
# a pelvis lying still are shown alike (docs/analysis.md, Known limits; bench_live_reps.py).
MIN_REP_RATE_LYING = 0.05  # rad/s (2.9 deg/s)
LYING_REP_NOISE = 6.0
REP_RATE_FRACTION = 0.3
# A start cancelled (too short or too weak) that a movement follows within this long was that
# movement's beginning: shifting the weight onto the stance leg moves the pelvis sideways, and its
# acceleration passes through the resting posture's while the gyroscope is quiet; live, that ended
# the repetition 0.5 s in, and the one that followed had its onset 1.0-1.3 s late (4 of the 6
# single-leg stance blocks still shown wrong live with `hold_fraction`, seeds 0-7 of
# benchmarks/bench_live_reps.py's stance sessions per movement shape: shown live 58 -> 62 of 64,
# false 6 -> 2). Offline, a block's motion never falls that far (`movement_periods`).
JOINED_START_S = 1.0
BLOCK_SETTLE_S = 0.5  # a block is done once the IMU is this far past its end marker
BATCH_S = 0.05  # the worker analyses what arrived in this long at once ...
SLICE_S = 0.5  # ... in time order, this much data time at a time
ONSET_EVERY_S = 0.1  # how often onsets of a repetition in progress are looked for (data time)
# An open block's EMG is kept from its start (about 0.4 MB/s for 8 channels at 2 kHz) so that
# it can be measured whole when it ends; a block longer than this keeps the repetitions found live.
MAX_BLOCK_KEEP_S = 300.0
# Gait live: contacts are found over the last GAIT_LIVE_WINDOW_S every GAIT_EVERY_S of data, and
# a step is reported once GAIT_SETTLE_S of walking follows its contact: a step counts by its
# prominence against the steps within 3 s (`GaitParams.neighbour_s`) and its side by the vote
# of its run, so until then it may still come or go.
GAIT_LIVE_WINDOW_S = 20.0
GAIT_EVERY_S = 1.0
GAIT_SETTLE_S = 3.5
_STOP = object()


@dataclass
class _Rep:
    index: int
    onset_s: float
    key_s: float  # the onset of `LiveMovement`'s event it began with (its end event carries it)
    end_s: float | None = None
    reported: set[str] = field(default_factory=set)  # channels whose Onset event went out


@dataclass
class _Block:
    block: Block
    reference: str
    timings: list[RepTiming] = field(default_factory=list)
    rows: list[dict] = field(default_factory=list)
    current: _Rep | None = None  # started, not ended
    pending: list[_Rep] = field(default_factory=list)  # ended, onsets not all final
    count: int = 0
    peaks: list[float] = field(default_factory=list)  # peak angular speed of each repetition, rad/s
    cancelled: tuple[float, float] | None = None  # (onset, end) of the last start cancelled, s
    done: bool = False
    shown_until: float = -math.inf  # gait: the last contact reported live (s)
    next_look: float = -math.inf  # gait: data time of the next live look for steps

    def contains(self, t: float) -> bool:
        return self.block.start_s <= t < self.block.end_s

    @property
    def gait(self) -> bool:
        """Its repetitions are steps between foot contacts (not movements of the pelvis)."""
        return REGISTRY[self.block.exercise].reps_from == "contacts"


class LivePipeline:
    """The live analysis of one session; `options` as for `analyze_session`.

    `recording_mains`: on a replay, `analyze`'s mains decisions for the whole recording
    (`sensorkit.analysis.mains`), used instead of deciding from its first seconds, so that
    the replay's result is `analyze`'s on every channel. Ignored unless it names exactly the
    EMG channels that arrive."""

    def __init__(self, options: AnalysisOptions = AnalysisOptions(), file: str = "live",
                 meta: dict[str, str | None] | None = None,
                 recording_mains: RecordingMains | None = None) -> None:  # fmt: skip
        self.opt = options
        self.file = file
        self.meta = meta or {}  # pseudonym, session, recorded: for the result
        self.recording_mains = recording_mains
        self._callbacks: list[Callable[[Event], None]] = []
        self._queues: list[queue.Queue] = []
        self._inbox: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._lock = threading.Lock()
        # analysis state
        self.emg: LiveEmg | None = None
        self.quality: LiveQuality | None = None
        self.channels: dict[str, LiveEmgChannel] = {}
        self._emg_stream: tuple[str, str] | None = None
        self._emg_cols: list[int] = []
        self._emg_t0: float | None = None
        self._emg_fs = 0.0
        self._imu_stream: tuple[str, str] | None = None
        self._imu_cols: list[int] = []
        self.pelvis: LivePelvis | None = None
        self.markers: list[tuple[float, str]] = []
        self.blocks: list[_Block] = []
        self._done: list[dict] = []  # finished blocks, in order
        self._pelvis_json: dict | None = None
        self._pelvis_reason = "no calibration was found during the session"
        self._notices: set[str] = set()
        self._next_look = -math.inf
        self._kinds: set[str] = set()  # stream types seen, to say what arrived when nothing could be used
        if options.exercise is not None:  # no markers: the whole session is that exercise
            self._open_block(options.exercise, options.side, -math.inf)

    # ---------------------------------------------------------------- subscribing

    def subscribe(self, callback: Callable[[Event], None]) -> None:
        """Call `callback(event)` for every event, on the pipeline's thread."""
        self._callbacks.append(callback)

    def events(self) -> queue.Queue:
        """A new queue that receives every event from now on (for a GUI or another thread)."""
        q: queue.Queue = queue.Queue()
        self._queues.append(q)
        return q

    def _emit(self, event: Event) -> None:
        for q in self._queues:
            q.put(event)
        for cb in self._callbacks:
            cb(event)

    # ---------------------------------------------------------------- threading

    def start(self) -> LivePipeline:
        """Run the analysis on its own thread; `push` then only enqueues."""
        self._thread = threading.Thread(target=self._run, name="sensorkit-live", daemon=True)
        self._thread.start()
        return self

    def push(self, chunk: Chunk) -> None:
        """The consumer: queue a chunk (never blocks). Without `start`, analyse it at once."""
        if self._thread is None:
            self.feed(chunk)
            return
        if self._error is not None:
            raise RuntimeError(f"the live pipeline failed: {self._error}") from self._error
        self._inbox.put(chunk)

    @property
    def backlog(self) -> int:
        return self._inbox.qsize()

    def _run(self) -> None:
        """Analyse in batches: what arrived during the last `BATCH_S` is joined per stream, so
        that the many small chunks of a live device cost one pass each, not one per chunk."""
        try:
            stop = False
            while not stop:
                items = [self._inbox.get()]
                time.sleep(BATCH_S)
                while True:
                    try:
                        items.append(self._inbox.get_nowait())
                    except queue.Empty:
                        break
                stop = any(i is _STOP for i in items)
                by_stream: dict[StreamInfo, list[Chunk]] = {}
                for c in items:
                    if c is not _STOP and len(c):
                        by_stream.setdefault(c.info, []).append(c)
                self._feed_interleaved([concat_chunks(cs) if len(cs) > 1 else cs[0] for cs in by_stream.values()])
        except BaseException as exc:  # handed to the producer on its next push or on close
            self._error = exc

    def _feed_interleaved(self, chunks: list[Chunk]) -> None:
        """Feed a batch of streams in time order, `SLICE_S` at a time, as they would have come
        live: a backlog (a replay pushed at full speed) must not run one stream minutes ahead
        of the others, beyond what the EMG buffers keep."""
        if not chunks:
            return
        t_lo = min(float(c.timestamps[0]) for c in chunks)
        t_hi = max(float(c.timestamps[-1]) for c in chunks)
        if t_hi - t_lo <= SLICE_S:
            for c in chunks:
                self.feed(c)
            return
        pos = [0] * len(chunks)
        edge = t_lo
        while any(p < len(c) for p, c in zip(pos, chunks, strict=True)):
            edge += SLICE_S
            for k, c in enumerate(chunks):
                stop = int(np.searchsorted(c.timestamps, edge, side="left"))
                if stop > pos[k]:
                    self.feed(Chunk(c.info, c.timestamps[pos[k] : stop], c.samples[pos[k] : stop]))
                    pos[k] = stop

    def close(self) -> dict:
        """Analyse what is queued, finish open repetitions and blocks; the result."""
        if self._thread is not None:
            self._inbox.put(_STOP)
            self._thread.join()
            self._thread = None
            if self._error is not None:
                raise self._error
        return self.finish()

    # ---------------------------------------------------------------- analysis

    def feed(self, chunk: Chunk) -> None:
        """Analyse one chunk now (the worker thread's step; call directly for tests)."""
        if not len(chunk):
            return
        info = chunk.info
        key = (info.name, info.source_id)
        self._kinds.add(info.kind or "untyped")
        if info.is_string:
            if info.kind.lower() in ("markers", "marker", "stringmarker"):
                self._markers(chunk)
        elif info.kind.upper() == "EMG":
            self._emg(key, chunk)
        elif info.kind.upper() == "IMU":
            self._imu(key, chunk)
        self._advance()

    @property
    def data_now(self) -> float | None:
        """The newest data time analysed (s, recording clock): how far the pipeline has got."""
        times = [t for t in (self._emg_now(), self.pelvis.t_last if self.pelvis is not None else None) if t is not None]
        return min(times) if times else None

    def _notice(self, text: str) -> None:
        if text not in self._notices:
            self._notices.add(text)
            self._emit(Notice(text))

    def _emg(self, key: tuple[str, str], chunk: Chunk) -> bool:
        info = chunk.info
        if self._emg_stream is None:
            cols = [i for i, c in enumerate(info.channels) if MUSCLE_LABEL.match(c)]
            if not cols or info.srate <= 0:
                self._notice(f"EMG stream {info.name!r}: no channel labelled with a muscle and side")
                return False
            self._emg_stream, self._emg_cols, self._emg_fs = key, cols, float(info.srate)
            self._emg_t0 = float(chunk.timestamps[0])
            names = [info.channels[i] for i in cols]
            given = self.recording_mains
            if given is not None and list(given.notch_hz) == names:  # a replay: the whole file's decisions
                notch, line = [given.notch_hz[m] for m in names], given.line_hz
            else:
                notch, line = self.opt.mains, self.opt.mains
            self.emg = LiveEmg(self._emg_fs, len(cols), self.opt.onset, notch)
            self.channels = {m: self.emg.channel(j) for j, m in enumerate(names)}
            units = [info.units[i] for i in cols]
            for note in units_note(units, list(self.channels)):
                self._notice(note)
            self.quality = LiveQuality(names, self._emg_fs, self._emg_t0, line, in_volts(units), self._t0_at)
        if key != self._emg_stream:
            return False
        x = np.asarray(chunk.samples, dtype=np.float64)[:, self._emg_cols]
        self.emg.push(x, chunk.timestamps)
        for event in self.quality.push(x, chunk.timestamps):
            self._emit(event)
        return True

    def _imu(self, key: tuple[str, str], chunk: Chunk) -> None:
        info = chunk.info
        if self._imu_stream is None:
            usable = set(IMU_CHANNELS) <= set(info.channels) and info.srate > 0
            where = info.metadata.get("location", "pelvis")
            if not usable or where not in PELVIS_NAMES or (info.name.lower() not in PELVIS_NAMES and where != "pelvis"):
                return
            self._imu_stream = key
            self._imu_cols = [info.channels.index(c) for c in IMU_CHANNELS]
            self.pelvis = LivePelvis(float(info.srate))
            for b in self.blocks:  # blocks whose marker came before the IMU's first chunk
                if not b.gait:
                    ex = REGISTRY[b.block.exercise]
                    self.pelvis.block_started(b.block.start_s, ex.hold_s, ex.lying)
        if key != self._imu_stream:
            return
        x = np.asarray(chunk.samples, dtype=np.float64)[:, self._imu_cols]
        for ev in self.pelvis.push(chunk.timestamps, x[:, :3], x[:, 3:]):
            self._movement(ev)
        self._calibrate()

    def _markers(self, chunk: Chunk) -> None:
        for t, row in zip(chunk.timestamps, chunk.samples, strict=True):
            text = str(row[0]).strip()
            self.markers.append((float(t), text))
            parts = text.split(":")
            if parts[0] == "exercise_start" and len(parts) > 1 and self.opt.exercise is None:
                side = parts[2] if len(parts) > 2 and parts[2] in ("L", "R") else None
                self._close_open_block(float(t))
                self._open_block(parts[1], side, float(t))
            elif parts[0] == "exercise_end" and len(parts) > 1 and self.opt.exercise is None:
                for b in self.blocks:
                    if b.block.exercise == parts[1] and b.block.end_s == math.inf and b.block.start_s <= t:
                        b.block = Block(b.block.exercise, b.block.side, b.block.start_s, float(t))
                        if self.pelvis is not None:
                            self.pelvis.block_ended(float(t))
        self._calibrate()

    def _close_open_block(self, t: float) -> None:
        for b in self.blocks:  # a block without its end marker runs to the next block's start
            if b.block.end_s == math.inf:
                b.block = Block(b.block.exercise, b.block.side, b.block.start_s, t)

    def _open_block(self, exercise: str, side: str | None, t: float) -> None:
        if exercise not in EXERCISES:
            self._notice(f"skipping exercise {exercise!r}: sensorkit does not know it")
            return
        muscles = list(self.channels) or []
        ex = REGISTRY[exercise]
        gait = ex.reps_from == "contacts"  # each step's latencies are to its foot contact
        reference = "initial_contact" if gait else block_reference(self.opt.reference, exercise, side, muscles)
        self.blocks.append(_Block(Block(exercise, side, t, math.inf), reference))
        if self.pelvis is not None and not gait:
            self.pelvis.block_started(t, ex.hold_s, ex.lying)
        self._emit(BlockStarted(exercise, side, t, reference))
        if self.pelvis is not None and self.pelvis.calibration is None and not self._calibration_pending():
            try:  # no calibration markers before the first block: find one in the data so far
                if self.pelvis.try_calibrate(self.markers, detect=True):
                    self._calibrated()
            except ValueError as exc:
                if not gait:  # the block's repetitions against its own rest, shown live; drops at the end
                    self.pelvis.start_without_calibration(t)
                self._notice(f"no pelvis calibration ({exc}): repetitions are found against each block's own "
                             "rest, and pelvic drops come at the end of the session, from a calibration found "
                             "in all of it")  # fmt: skip

    def _calibration_pending(self) -> bool:
        return any(m.startswith("calibration_start") for _, m in self.markers)

    def _calibrate(self) -> None:
        if self.pelvis is not None and self.pelvis.calibration is None and self.pelvis.try_calibrate(self.markers):
            self._calibrated()

    def _calibrated(self) -> None:
        self._pelvis_json = pelvis_json(self.pelvis.calibration, self.opt)
        self._emit(Calibrated(float(self.pelvis.t_last), self._pelvis_json))
        for ev in self.pelvis.take_events():
            self._movement(ev)

    def _movement(self, ev) -> None:
        if ev.kind == "onset":
            b = next((b for b in self.blocks if b.contains(ev.onset_s) and not b.done and not b.gait), None)
            last_end = b.timings[-1].end_s if b is not None and b.timings else None
            last_end = b.pending[-1].end_s if b is not None and b.pending else last_end
            if b is None or (last_end is not None and ev.onset_s < last_end):
                return  # outside every block, or the previous repetition going on (its onset traced back into it)
            onset = ev.onset_s
            if b.cancelled is not None and ev.onset_s - b.cancelled[1] <= JOINED_START_S:
                onset = b.cancelled[0]  # the cancelled start was this movement's beginning
            b.cancelled = None
            b.count += 1
            b.current = _Rep(b.count, onset, ev.onset_s)
            self._emit(RepetitionStarted(b.block.exercise, b.block.side, b.count, onset, ev.detected_s))
            return
        for b in self.blocks:
            rep = b.current
            if rep is not None and rep.key_s == ev.onset_s:
                b.current = None
                peak = self.pelvis.peak_rate(rep.onset_s, ev.t_s)
                floor = max(self._min_rep_rate(b), REP_RATE_FRACTION * float(np.median(b.peaks)) if b.peaks else 0.0)
                # a held exercise's weight shifted out and back is a repetition however little the
                # pelvis turned (a level single-leg stance: 2-3 deg/s; `LiveHeld`)
                weak = peak < floor and not ev.shifted
                if ev.new_posture:  # lying down or rolling over inside the block (its button pressed
                    # first): not a repetition, and its speed no measure of the lifts that follow
                    b.count -= 1
                    b.cancelled = None
                    self._emit(RepetitionCancelled(b.block.exercise, b.block.side, rep.index))
                elif ev.t_s - rep.onset_s < self.opt.movement.min_period_s or weak:
                    b.count -= 1  # a twitch or a settling posture, not a repetition
                    b.cancelled = (rep.onset_s, ev.t_s)
                    self._emit(RepetitionCancelled(b.block.exercise, b.block.side, rep.index))
                else:
                    b.peaks.append(peak)
                    rep.end_s = ev.t_s
                    b.pending.append(rep)

    def _min_rep_rate(self, b: _Block) -> float:
        """The least peak angular speed (rad/s) of a repetition of the block's exercise."""
        noise = self.pelvis.rest_noise_gyr if self.pelvis is not None else None
        if not REGISTRY[b.block.exercise].lying or noise is None:
            return MIN_REP_RATE
        return min(MIN_REP_RATE, max(MIN_REP_RATE_LYING, LYING_REP_NOISE * noise))

    # ------------------------------------------------ repetitions and blocks as they complete

    def _emg_now(self) -> float | None:
        """Data time up to which every EMG channel is conditioned."""
        if self.emg is None or self._emg_t0 is None:
            return None
        return self._t0_at(math.inf) + self.emg.covered / self._emg_fs

    def _t0_at(self, t: float) -> float:
        """The EMG's first sample on its nominal grid as its times read at recording time `t`
        (`local_t0`, the offset `analyze` uses for a repetition there); the first sample's
        own time before any is kept."""
        times = self.emg.times if self.emg is not None else None
        if times is None or times.n == 0:
            return float(self._emg_t0 or 0.0)
        return local_t0(times.column(0), self._emg_fs, t, times.start)

    def _onsets(self, b: _Block, rep: _Rep, end_s: float, floor: float,
                only: list[str] | None = None) -> tuple[dict[str, Onset], bool]:  # fmt: skip
        """The repetition's onsets (of the channels in `only`) with a search window to `end_s`,
        and whether all are final."""
        flag = self.quality.flag if self.quality is not None else None
        t0 = self._t0_at(rep.onset_s)
        onsets = rep_onsets(self.channels, t0, rep.onset_s, end_s, floor, self.opt.timing, only, flag)
        # final: the onset can no longer move, nor can the signal-quality events that flag it
        final = {m: self.channels[m].final(_relative(o, t0), end_s - t0)
                 and (self.quality is None or self.quality.settled(o.onset_s, end_s))
                 for m, o in onsets.items()}  # fmt: skip
        ref_s = _reference_s(b, rep, onsets)
        for m, o in onsets.items():
            if final[m] and m not in rep.reported and o.onset_s is not None:
                rep.reported.add(m)
                known = ref_s is not None and (b.reference == "movement" or final.get(b.reference, False))
                lat = (o.onset_s - ref_s) * 1000 if known else None
                self._emit(OnsetEvent(m, o.onset_s, o.sd_ms, o.quality, lat, rep.index))
        return onsets, all(final.values())

    def _floor(self, b: _Block, rep: _Rep) -> float:
        """Where the repetition's baseline may begin: the previous repetition's end, or the
        block's start (as `analyze` does)."""
        return b.timings[-1].end_s if b.timings else b.block.start_s

    def _advance(self) -> None:
        now = self._emg_now()
        for b in self.blocks:
            if b.done:
                continue
            while b.pending and now is not None:
                rep = b.pending[0]
                if not self._finish_rep(b, rep):
                    break
                b.pending.pop(0)
            if b.current is not None and now is not None and now >= self._next_look:
                waiting = [m for m in self.channels if m not in b.current.reported]
                if b.reference != "movement" and b.reference in self.channels and b.reference not in waiting:
                    waiting.append(b.reference)  # latencies need the reference's onset
                if waiting:
                    self._onsets(b, b.current, now, self._floor(b, b.current), waiting)
        if now is not None and now >= self._next_look:
            self._next_look = now + ONSET_EVERY_S
        for b in self.blocks:
            if b.gait and not b.done:
                self._gait_steps(b)
        imu_now = self.pelvis.t_last if self.pelvis is not None else None
        for b in self.blocks:
            if b.done or b.block.end_s == math.inf or b.pending or b.current is not None:
                continue
            settled = imu_now is None or imu_now >= b.block.end_s + BLOCK_SETTLE_S
            # the whole block's onsets need the signal after them (their quality checks)
            heard = now is None or now >= b.block.end_s + LOOKAHEAD_S + BLOCK_SETTLE_S
            if settled and heard:
                self._finish_block(b)
        self._keep_block_emg()

    def _keep_block_emg(self) -> None:
        """Keep the EMG from the start of the oldest open block (at most `MAX_BLOCK_KEEP_S`)."""
        if self.emg is None or self._emg_t0 is None:
            return
        open_ = [b.block.start_s for b in self.blocks if not b.done and math.isfinite(b.block.start_s)]
        if not open_:
            self.emg.keep_from(None)
            return
        # a second before the block: the baseline's filter settling (see `LiveEmgChannel.onset`)
        start = max(min(open_) - 1.0, self._emg_now() - MAX_BLOCK_KEEP_S)
        self.emg.keep_from(max(0, int((start - self._t0_at(start)) * self._emg_fs)))

    def _finish_rep(self, b: _Block, rep: _Rep, force: bool = False) -> bool:
        """Complete a repetition if its onsets are final (or `force`); whether it was."""
        onsets, final = self._onsets(b, rep, rep.end_s, self._floor(b, rep))
        if not (final or force):
            return False
        rt, row = self._rep_row(b, rep, onsets)
        b.timings.append(rt)
        b.rows.append(row)
        self._emit(RepetitionDone(b.block.exercise, b.block.side, row))
        return True

    def _rep_row(self, b: _Block, rep: _Rep, onsets: dict[str, Onset]) -> tuple[RepTiming, dict]:
        """A repetition's timing and result row (with its pelvic drop on a single-leg task)."""
        ref_s = _reference_s(b, rep, onsets)
        rt = RepTiming(rep.index, rep.onset_s, rep.end_s, rep.onset_s, ref_s, onsets)
        row = rep_json(rt, list(self.channels), self.opt.timing.delay_margin_ms)
        track = self.pelvis.track() if self.pelvis is not None else None
        if track is not None and b.block.exercise in SINGLE_LEG and b.block.side is not None:
            row.update(rep_drop(track, rep.onset_s, rep.end_s, b.block.side, self.opt.drop_threshold_deg))
            row["pelvic_drop_curve"] = drop_curve(track, row["start_s"], row["end_s"], b.block.side)
        return rt, row

    def _whole_block(self, b: _Block) -> None:
        """Measure the complete block as `analyze` does: its repetitions from the whole block's
        IMU, their onsets from the EMG kept since its start (the same live-conditioned signal
        the live rows used). Left as found live where the block is not marked, its repetitions
        do not come from the pelvis, or its EMG is no longer all kept."""
        block = b.block
        if self.pelvis is None or not math.isfinite(block.start_s) or REGISTRY[block.exercise].reps_from != "movement":
            return
        if self.emg is not None and self._emg_t0 is not None:
            kept = self._t0_at(block.start_s) + self.emg.oldest / self._emg_fs
            if kept > max(block.start_s - 1.0, self._emg_t0):
                self._notice(f"{self._block_name(block)}: longer than {MAX_BLOCK_KEEP_S:.0f} s, "
                             "its repetitions are those found live")  # fmt: skip
                return
        track = self.pelvis.track()
        found = reps_from_imu(self.pelvis.imu(), block, self.opt.movement, track.up if track is not None else None)
        live = [(rt.start_s, rt.end_s) for rt in b.timings]
        timings, rows, floor = [], [], block.start_s
        for k, (_, end, onset) in enumerate(found, 1):
            rep = _Rep(k, onset, onset, end)
            onsets = rep_onsets(self.channels, self._t0_at(onset), onset, end, floor, self.opt.timing,
                                flag=self.quality.flag if self.quality is not None else None)  # fmt: skip
            rt, row = self._rep_row(b, rep, onsets)
            timings.append(rt)
            rows.append(row)
            floor = end
        moved = [abs(a - f[0]) for (a, _), f in zip(live, found, strict=False)]
        if len(found) != len(live):
            self._notice(f"{self._block_name(block)}: the whole block holds {len(found)} "
                         f"repetitions (live: {len(live)}); its result has the block's")  # fmt: skip
        elif any(d > 0.03 for d in moved):
            n = sum(d > 0.03 for d in moved)
            self._notice(f"{self._block_name(block)}: {n} movement onset(s) placed more than "
                         "30 ms from the live ones by the whole block; its result has the block's")  # fmt: skip
        b.timings, b.rows = timings, rows

    @property
    def _first_sample_s(self) -> float | None:
        """The time of the session's first EMG or pelvis IMU sample (s, recording clock)."""
        starts = [t for t in (self._emg_t0, float(self.pelvis.timestamps[0]) if self.pelvis else None) if t is not None]
        return min(starts) if starts else None

    def _block_name(self, block: Block) -> str:
        """'single leg stance R (block at 1:25)': the block's start from the first sample, m:ss."""
        first = self._first_sample_s
        at = max(0, int(block.start_s - first)) if first is not None else 0
        side = f" {block.side}" if block.side else ""
        return f"{block.exercise.replace('_', ' ')}{side} (block at {at // 60}:{at % 60:02d})"

    def _finish_block(self, b: _Block) -> None:
        b.done = True
        block = b.block
        if block.start_s == -math.inf:  # --exercise without markers: the data's own span
            start = self._emg_t0 if self._emg_t0 is not None else (self.pelvis.timestamps[0] if self.pelvis else 0.0)
            block = Block(block.exercise, block.side, float(start), block.end_s)
        if b.gait:
            self._finish_gait(b, block)
            return
        self._whole_block(b)
        result = block_json(block, b.reference, b.timings, list(self.channels), self.opt, reps=b.rows)
        if self.pelvis is None and b.reference == "movement":
            result["not_analysed"] = NO_MOVEMENT  # as analyze says of an EMG-only recording
        self._done.append(result)
        self._emit(BlockDone(result))

    def _gait(self, block: Block, after_s: float = -math.inf) -> dict | None:
        """A gait block (or the part of one seen so far) measured as `analyze` measures it: its
        contacts from the markers or the pelvis IMU kept, each muscle's bursts in the EMG kept
        (None where that EMG is no longer all kept). Only the steps whose contact comes after
        `after_s` get their signal-quality flags (a look for new steps reports only those)."""
        pelvis = self.pelvis
        track = pelvis.track() if pelvis is not None else None
        found = gait_contacts(self.markers, pelvis.imu() if pelvis is not None else None, block, self.opt.gait, track)
        onsets: dict[str, list[float]] = {}
        if self.channels:
            fs, times = self._emg_fs, self.emg.times
            ts = times.column(0)
            # the samples `analyze` takes: the first at or after each end (its searchsorted)
            a, b = (times.start + int(np.searchsorted(ts, x)) for x in (block.start_s, block.end_s))
            cond, env = self.emg.cond, self.emg.env
            b = min(b, cond.end, env.end)
            if a < self.emg.oldest or (times.start > 0 and block.start_s < ts[0]):
                return None
            at = sample_clock(ts, fs, a - times.start)  # placed by the samples' own times, as `analyze` does
            for m, ch in self.channels.items():
                j = ch.j
                bursts = find_bursts(cond.column(j)[a - cond.start : b - cond.start], fs, self.opt.onset,
                                     env=env.column(j)[a - env.start : b - env.start])  # fmt: skip
                onsets[m] = [at(on) - ch.delay_s for on, _ in bursts]
        flag = None
        if self.quality is not None:
            judge, before = self.quality.flag, GAIT_WINDOW_S[0]  # each step's window starts this far from its contact

            def flag(m: str, onset: float | None, lo: float, hi: float) -> str | None:
                return judge(m, onset, lo, hi) if lo - before > after_s else None

        finish = gait_block(block, found, onsets, self.channels, list(self.channels), self.opt)
        return with_drops(finish(flag), block, track, self.opt)

    def _gait_now(self) -> float | None:
        """Data time up to which the pelvis IMU and the EMG (those the session has) have arrived."""
        ends = [t for t in (self.pelvis.t_last if self.pelvis is not None else None, self._emg_now()) if t is not None]
        return min(ends) if ends else None

    def _gait_steps(self, b: _Block) -> None:
        """Report the steps of an open gait block whose walk around them has been seen."""
        now = self._gait_now()
        if now is None or now < b.next_look or now <= b.block.start_s:
            return
        b.next_look = now + GAIT_EVERY_S
        lo = max(b.block.start_s, now - GAIT_LIVE_WINDOW_S)
        part = self._gait(Block(b.block.exercise, b.block.side, lo, min(now, b.block.end_s)), b.shown_until)
        if part is None:
            return
        self._show_steps(b, part["reps"][:-1], now - GAIT_SETTLE_S)  # the last one's end (its next contact) is to come

    def _shown(self, b: _Block, t: float) -> bool:
        """Whether the step whose contact is at `t` was reported live (a later look may move it a little)."""
        return t <= b.shown_until + self.opt.gait.min_step_s / 2

    def _show_steps(self, b: _Block, reps: list[dict], until: float = math.inf) -> None:
        """Report the steps of `reps` not reported yet whose contact is at `until` or before."""
        for rep in reps:
            if rep["start_s"] <= until and not self._shown(b, rep["start_s"]):
                b.shown_until = rep["start_s"]
                b.count += 1
                b.rows.append({**rep, "index": b.count})
                self._emit(RepetitionDone(b.block.exercise, b.block.side, b.rows[-1]))

    def _finish_gait(self, b: _Block, block: Block) -> None:
        """The gait block's result as `analyze`'s, measured over the whole block."""
        result = self._gait(block)
        if result is None:  # its EMG is no longer all kept: the steps reported live stand
            self._notice(f"{self._block_name(block)}: longer than {MAX_BLOCK_KEEP_S:.0f} s, "
                         "its steps are those reported live")  # fmt: skip
            # and the last ones, which the walk's end settles, from a last look at its end
            last = self._gait(Block(block.exercise, block.side, max(block.start_s, block.end_s - GAIT_LIVE_WINDOW_S),
                                    block.end_s), b.shown_until)  # fmt: skip
            self._show_steps(b, last["reps"] if last is not None else [])
            result = block_json(block, b.reference, [], list(self.channels), self.opt, reps=b.rows)
            result["summary"] = reps_summary(b.rows, list(self.channels), self.opt)
        else:
            # compared up to the last step reported live; the steps after it come out now
            seen = [r for r in result["reps"] if self._shown(b, r["start_s"])]
            moved = len(seen) != len(b.rows) or any(abs(x["start_s"] - y["start_s"]) > 0.03 or x["side"] != y["side"]
                                                    for x, y in zip(seen, b.rows, strict=False))  # fmt: skip
            if moved and b.rows:
                self._notice(f"{self._block_name(block)}: the whole block holds {len(seen)} steps where "
                             f"{len(b.rows)} were reported live; its result has the block's")  # fmt: skip
            for row in result["reps"][len(seen) :]:
                self._emit(RepetitionDone(block.exercise, block.side, row))
        self._done.append(result)
        self._emit(BlockDone(result))

    def finish(self) -> dict:
        """End of the stream: finish what is open, as `analyze` would at the end of the file."""
        if self.emg is None and self.pelvis is None:
            seen = ", ".join(sorted(self._kinds)) or "none"
            self._notice(f"nothing analysed: no EMG stream with a channel labelled with a muscle and side "
                         f"(e.g. glute_max_L) and no pelvis IMU arrived (stream types: {seen}); name the streams "
                         "to use with --stream NAME_OR_TYPE or a --montage-file")  # fmt: skip
        elif not self.blocks:
            self._notice("no exercise markers arrived: no repetitions were measured; name the exercise with "
                         "--exercise (and --side)")  # fmt: skip
        if self.emg is not None:
            self.emg.decide_mains()
        if self.quality is not None:
            for event in self.quality.flush():
                self._emit(event)
        if self.pelvis is not None:
            for ev in self.pelvis.flush():
                self._movement(ev)
        ends = [t for t in (self._emg_now(), self.pelvis.t_last if self.pelvis else None) if t is not None]
        end = max(ends) if ends else 0.0
        for b in self.blocks:
            if b.done:
                continue
            if b.block.end_s == math.inf:
                b.block = Block(b.block.exercise, b.block.side, b.block.start_s, end)
            if b.current is not None:  # moving when the data ended: the repetition ends there
                rep, b.current = b.current, None
                rep.end_s = end
                b.pending.append(rep)
            for rep in b.pending:
                self._finish_rep(b, rep, force=True)
            b.pending = []
            self._finish_block(b)
        self._calibrate_at_end()
        return self.result()

    def _calibrate_at_end(self) -> None:
        """A session without calibration markers is calibrated again over all of it, as `analyze`
        calibrates it, and every block's drops are read from that: a calibration found in the data
        so far, or none, may not be the one the whole recording gives (without a calibration at
        its start, its standing lies in a later rest)."""
        pelvis = self.pelvis
        if pelvis is None or not pelvis.timestamps.size or calibration_windows(pelvis.timestamps, self.markers):
            return
        imu = pelvis.imu()
        try:
            track = track_pelvis(imu.timestamps, imu.acc, imu.gyr, imu.fs, self.markers)
        except ValueError as exc:  # as `analyze` gives it
            self._pelvis_reason = str(exc)
            return
        before = self._pelvis_json
        self._pelvis_json = pelvis_json(track.calibration, self.opt)
        for result in self._done:
            with_drops(result, Block(result["exercise"], result["side"], result["start_s"], result["end_s"]), track,
                       self.opt)  # fmt: skip
        if before is None:
            self._notice("pelvis calibrated at the end of the session, from the data of all of it (no calibration "
                         "markers): the result's pelvic drops come from that")  # fmt: skip

    def result(self) -> dict:
        """The finished blocks in the `analyze` schema (DESIGN.md section 7)."""
        out = result_base(self.file, self.opt, {m: ch.mains_hz for m, ch in self.channels.items()}, self.meta)
        out["exercises"] = sorted(self._done, key=lambda blk: blk["start_s"])
        if self._first_sample_s is not None:
            out["recording_start_s"] = round(self._first_sample_s, 4)
        if self._pelvis_json is not None:
            out["pelvis"] = self._pelvis_json
        elif self.pelvis is not None:
            out["pelvis"] = {"calibration": None, "reason": self._pelvis_reason}
        missing = not_analysed(self.emg is not None, self.pelvis is not None)
        if missing:
            out["not_analysed"] = missing
        if self.quality is not None:
            out["signal_quality"] = self.quality.block()
        out["live"] = {"notices": sorted(self._notices)}
        return out


def _reference_s(b: _Block, rep: _Rep, onsets: dict[str, Onset]) -> float | None:
    """The repetition's reference time: its movement onset, or the reference muscle's onset."""
    if b.reference == "movement":
        return rep.onset_s
    ref = onsets.get(b.reference)
    return None if ref is None else ref.onset_s


def _relative(o: Onset, t0: float) -> Onset:
    """An onset on the file clock as s from the channel's first sample."""
    return Onset(None if o.onset_s is None else o.onset_s - t0, None, o.sd_ms, o.quality, o.snr_db)
