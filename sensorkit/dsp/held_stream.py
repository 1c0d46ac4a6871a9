"""Held exercises live: `join_held`'s repetitions, joined as their pieces end.

A single-leg stance held with the pelvis level leaves the pelvis, during the hold, where it
was at rest, so `LiveMovement` ends the repetition half a second into the hold and takes the
put-down for a movement of its own. The live pipeline then cancelled both as too weak (a
level stance turns the pelvis at 2-3 deg/s), and 13 of 32 simulated level stances were not
shown at all until their block ended (docs/analysis.md, Known limits).

`LiveHeld` sits after `LiveMovement`: in a block whose exercise holds a posture, a movement
that shifts the weight out without shifting it back is held open, and joined with the
movements after it up to the one that shifts back, by `join_held`'s own measurements and
rules (`piece_shifts`, `holds`, `next_shift_out`, `puts_down`, within `hold_s` +
`TRANSITIONS_S`), each decided as soon as its piece has ended. The repetition's onset is
passed on when it starts; its end when it is decided. Elsewhere events pass unchanged.

Where offline reads every shift along the axis all the block's clear shifts share, live has
only those so far (the first shift out alone, at first: its own direction). The block's
result is measured whole when it ends, as `analyze` measures it.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, replace

import numpy as np

from sensorkit.dsp.held import LEAD_S, PUT_DOWN_S, TRANSITIONS_S, holds, next_shift_out, puts_down
from sensorkit.dsp.held_shift import END_S, along, horizontal_acc, is_clear, piece_shifts, shift_axis, shift_velocities
from sensorkit.dsp.movement_stream import LiveMovementParams, MovementEvent

LOOKBACK_S = LiveMovementParams.lookback_s + 1.0
# the vertical is tracked over at most this long before a piece (the whole block, offline): the
# data kept for it (200 Hz x 6 x 8 bytes: 0.6 MB)
TRACK_S = 60.0


@dataclass
class _Piece:
    """A movement of `LiveMovement` (its onset event, and its end event once it has ended), with
    its shifts out and back (3-D velocities, m/s) once measured."""

    onset: MovementEvent
    end: MovementEvent | None = None
    measured: bool = False
    out: np.ndarray | None = None
    back: np.ndarray | None = None


class LiveHeld:
    """`LiveMovement`'s events (times in s of its stream) with a held exercise's pieces joined;
    `process` is given each chunk of the same stream (acc m/s^2, gyr rad/s, (n, 3) at `fs` Hz)
    with the events `LiveMovement` found in it."""

    def __init__(self, fs: float) -> None:
        self.fs = fs
        self._chunks: list[np.ndarray] = []  # the stream's (acc, gyr) rows, chunk by chunk, from ...
        self._first = 0  # ... this stream sample
        self._n = 0  # samples received
        self._starts: list[int] = []  # blocks' first samples, in order ...
        self._holds: list[float | None] = []  # ... and their exercises' hold_s (None: not held)
        self._ends: list[int] = []  # blocks' ends (samples), in order
        self._pieces: list[_Piece] = []  # of the repetition not yet decided, in time order
        self._clear: list[np.ndarray] = []  # the block's clear shifts so far (3-D)
        self._block = -1  # index into `_starts` of the block the shifts belong to

    def block_starts(self, sample: int, hold_s: float | None) -> None:
        """A block starts at stream sample `sample`; its exercise holds up to `hold_s` s (None: it
        does not hold, and its events pass unchanged)."""
        k = bisect.bisect_right(self._starts, sample)
        self._starts.insert(k, sample)
        self._holds.insert(k, hold_s)

    def block_ends(self, sample: int) -> None:
        """The block under way ends at stream sample `sample`: nothing after it joins its repetitions."""
        bisect.insort(self._ends, sample)

    def process(self, acc: np.ndarray, gyr: np.ndarray, events: list[MovementEvent]) -> list[MovementEvent]:
        """The events to pass on after this chunk, in time order."""
        self._keep(acc, gyr)
        out: list[MovementEvent] = []
        for e in events:
            if e.kind == "onset":
                self._pieces.append(_Piece(e))
                if len(self._pieces) == 1:
                    out.append(e)  # a repetition starts: shown now, whatever it joins later
            else:
                piece = next((p for p in self._pieces if p.onset.onset_s == e.onset_s and p.end is None), None)
                if piece is None:
                    out.append(e)
                    continue
                piece.end = e
            out += self._decide()
        out += self._decide()
        self._trim()
        return out

    def flush(self) -> list[MovementEvent]:
        """The end of the stream: every piece decided with the data there are (a piece still
        moving has had its onset passed on; the pipeline ends it where the data end)."""
        out = self._decide(final=True)
        self._pieces = []
        return out

    # ------------------------------------------------------------------ decisions

    def _decide(self, final: bool = False) -> list[MovementEvent]:
        """Decide what can be decided about the pieces, first first (`final`: no more data come)."""
        out: list[MovementEvent] = []
        while self._pieces:
            first = self._pieces[0]
            if first.end is None:
                break  # moving still (at the stream's end, the pipeline ends it there)
            hold_s = self._hold_s(first)
            if hold_s is None:  # not a held exercise: as it came
                out += self._alone()
                continue
            if not self._measure(first, final):
                break
            axis = self._axis()
            o, b = (None, None) if axis is None else (along(first.out, axis), along(first.back, axis))
            if not holds(o, b):  # a whole repetition (its shift back found), or no shift out
                out += self._alone(shifted=is_clear(b) and not (is_clear(o) and o * b > 0))
                continue
            joined, undecided = None, False
            limit = self._sample(first.onset.onset_s) + (hold_s + TRANSITIONS_S) * self.fs
            for j, p in enumerate(self._pieces[1:], 1):
                if p.end is None or not self._measure(p, final):
                    undecided = not final
                    break
                if self._sample(p.end.t_s) > limit or self._ended_block(first, p):
                    break
                oj, bj = along(p.out, axis), along(p.back, axis)
                if next_shift_out(o, oj):
                    break
                if puts_down(o, oj, bj, p.end.t_s - p.onset.onset_s):
                    joined = j
                    break
            else:  # every piece after the first looked at: more may follow, in time and in the block
                undecided = not final and self._n <= limit and not self._past_end(first)
            if joined is not None:
                out += self._join(joined)
            elif undecided:
                break
            else:  # no shift back in time: a whole stance whose shift back was missed, if it lasted
                out += self._alone(shifted=first.end.t_s - first.onset.onset_s > PUT_DOWN_S)
        return out

    def _alone(self, shifted: bool = False) -> list[MovementEvent]:
        """The first piece is a repetition by itself (`shifted`: its weight shifted clearly, a
        repetition however little the pelvis turned); the next, if any, starts one."""
        first = self._pieces.pop(0)
        self._remember(first)
        return [replace(first.end, shifted=shifted), *([self._pieces[0].onset] if self._pieces else [])]

    def _join(self, j: int) -> list[MovementEvent]:
        """Pieces 0..j are one repetition, ending with j's end."""
        joined, self._pieces = self._pieces[: j + 1], self._pieces[j + 1 :]
        for p in joined:
            self._remember(p)
        first, last = joined[0], joined[-1]
        end = replace(last.end, onset_s=first.onset.onset_s, detected_s=self._n / self.fs, shifted=True)
        return [end, *([self._pieces[0].onset] if self._pieces else [])]

    def _remember(self, p: _Piece) -> None:
        self._clear += [v for v in (p.out, p.back) if v is not None]

    def _axis(self) -> np.ndarray | None:
        """The shifts' axis from the block's clear shifts so far; the first clear one alone (a
        shift out) gives its own direction."""
        shifts = [*self._clear, *(v for p in self._pieces if p.measured for v in (p.out, p.back) if v is not None)]
        return shift_axis(shifts, least=1)

    def _measure(self, p: _Piece, final: bool = False) -> bool:
        """Measure a piece's shifts once the data reach past its end (`final`: with what there
        is); whether it is measured."""
        if p.measured:
            return True
        on, end = self._sample(p.onset.onset_s), self._sample(p.end.t_s)
        if self._n < end + int(round(END_S[1] * self.fs)) + 1 and not final:
            return False
        self._enter_block(on)
        lo = max(self._first, self._track_from(on))
        x = np.concatenate(self._chunks)[lo - self._first :]
        velocity = shift_velocities(horizontal_acc(x[:, :3], x[:, 3:], self.fs), self.fs)
        p.out, p.back = piece_shifts(velocity, self.fs, on - lo, end - lo)
        p.measured = True
        return True

    # ------------------------------------------------------------------ blocks and data

    def _block_of(self, sample: int) -> int:
        return bisect.bisect_right(self._starts, sample) - 1

    def _hold_s(self, p: _Piece) -> float | None:
        k = self._block_of(self._sample(p.onset.onset_s))
        return self._holds[k] if k >= 0 else None

    def _enter_block(self, sample: int) -> None:
        """A new block's shifts are its own."""
        k = self._block_of(sample)
        if k != self._block:
            self._block, self._clear = k, []

    def _track_from(self, on: int) -> int:
        """Where the vertical is tracked from to measure a piece starting at sample `on`: from
        `LEAD_S` before its block, as `join_held` tracks it (from 5.5 s before each piece, the
        filter's start-up still tilted it: one correction's shift came out 0.12 m/s instead of
        0.05 along the shifts' axis, and was taken for the next stance's shift out), and at most
        `TRACK_S` before the piece."""
        k = self._block_of(on)
        block = self._starts[k] if k >= 0 else 0
        return max(block - int(round(LEAD_S * self.fs)), on - int(round(TRACK_S * self.fs)))

    def _block_end(self, p: _Piece) -> int | None:
        """The end (sample) of the block `p` started in, where known."""
        on = self._sample(p.onset.onset_s)
        k = self._block_of(on)
        nxt = self._starts[k + 1] if k + 1 < len(self._starts) else None
        ends = [e for e in self._ends if e > on]
        cands = [x for x in (nxt, ends[0] if ends else None) if x is not None]
        return min(cands) if cands else None

    def _ended_block(self, first: _Piece, p: _Piece) -> bool:
        """`p` starts after the block of `first` has ended."""
        end = self._block_end(first)
        return end is not None and self._sample(p.onset.onset_s) >= end

    def _past_end(self, first: _Piece) -> bool:
        """The data have passed the end of `first`'s block."""
        end = self._block_end(first)
        return end is not None and self._n >= end

    def _sample(self, t_s: float) -> int:
        return int(round(t_s * self.fs))

    def _keep(self, acc: np.ndarray, gyr: np.ndarray) -> None:
        if len(acc):
            self._chunks.append(np.column_stack([acc, gyr]).astype(float))
        self._n += len(acc)

    def _trim(self) -> None:
        """Keep what a piece not yet decided may measure, and what the next one may: from where
        the vertical is tracked for the oldest such piece (`_track_from`), or for the earliest
        onset `LiveMovement` may yet report (its fit looks back up to `lookback_s`)."""
        oldest = self._sample(self._pieces[0].onset.onset_s) if self._pieces else self._n
        keep_from = self._track_from(oldest - int(round(LOOKBACK_S * self.fs)))
        while self._chunks and self._first + len(self._chunks[0]) <= keep_from:
            self._first += len(self._chunks.pop(0))
