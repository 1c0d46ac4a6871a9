"""`LiveHeld`, the streaming twin of `join_held`: a held exercise's pieces joined as they end."""

from __future__ import annotations

import numpy as np
import pytest

from sensorkit.dsp.held import join_held
from sensorkit.dsp.held_stream import LiveHeld
from sensorkit.dsp.movement import movement_periods
from sensorkit.dsp.movement_stream import MovementEvent
from sensorkit.sim import Dosage, SimConfig, simulate

HOLD_S = 30.0  # single-leg stance's `hold_s`


def _stream(acc, gyr, fs, pieces, blocks, chunk_s=0.1):
    """LiveHeld over the whole recording in `chunk_s` chunks, given each piece ((onset, detected,
    end) in s of the stream) as `LiveMovement` would report it: its onset when detected, its end
    0.5 s after it (settled); `blocks`: (start, end) samples of held blocks. Its events."""
    live = LiveHeld(fs)
    for a, b in blocks:
        live.block_starts(a, HOLD_S)
        live.block_ends(b)
    arrivals = sorted([(int(np.ceil(det * fs)), MovementEvent("onset", on, on, det)) for on, det, _ in pieces]
                      + [(int(np.ceil((end + 0.5) * fs)), MovementEvent("end", end, on, end + 0.5))
                         for on, _, end in pieces], key=lambda x: x[0])  # fmt: skip
    out, step = [], int(chunk_s * fs)
    for k in range(0, len(acc), step):
        due = [e for n, e in arrivals if k <= n < k + step]
        out += live.process(acc[k : k + step], gyr[k : k + step], due)
    return out + live.flush()


@pytest.mark.parametrize(("seed", "drop"), [(0, 0.0), (2, 0.0), (1, -2.0)])
def test_live_held_joins_the_pieces_join_held_joins(seed, drop):
    """Given the pieces `movement_periods` finds in each block of level or hiked stances, the live
    twin joins the same ones, into repetitions from the same onsets to the same ends, each decided
    without the data after its own put-down."""
    rec = simulate(SimConfig(scenario="single_leg_stance", seed=seed, dose=Dosage(pelvic_drop_deg=drop)))
    fs = rec.config.fs_imu
    acc, gyr = rec.imu[:, :3], rec.imu[:, 3:]
    pieces, blocks, want = [], [], []
    for block in rec.truth["exercises"]:
        a, b = int(block["start_s"] * fs), int(block["end_s"] * fs)
        moves = movement_periods(acc[a:b], gyr[a:b], fs)
        pieces += [(a / fs + m.onset_s, a / fs + m.detected_s, a / fs + m.end_s) for m in moves]
        blocks.append((a, b))
        # join_held's repetitions made of more than one piece (it also moves some onsets to the
        # weight shift's start and leaves out brief pieces that shift nothing: `LiveHeld` does not)
        for m in join_held(moves, acc[:b], gyr[:b], fs, HOLD_S, origin=a):
            first = max((p for p in moves if p.onset_s <= m.onset_s + 1e-9), key=lambda p: p.onset_s)
            if sum(first.onset_s <= p.onset_s and p.end_s <= m.end_s for p in moves) > 1:
                want.append((a / fs + first.onset_s, a / fs + m.end_s))
    assert want  # level and hiked stances hold still enough to be cut into pieces
    events = _stream(acc, gyr, fs, pieces, blocks)
    got = [(e.onset_s, e.t_s) for e in events if e.kind == "end" and e.shifted and
           any(abs(e.onset_s - p[0]) < 1e-9 and abs(e.t_s - p[2]) > 1e-9 for p in pieces)]  # fmt: skip
    assert np.array(got).round(6).tolist() == np.array(want).round(6).tolist()
    starts = [e.onset_s for e in events if e.kind == "onset"]
    ends = [e for e in events if e.kind == "end"]
    assert len(starts) == len(ends) == len(pieces) - sum(  # each piece joined to an earlier one is gone
        sum(1 for p in pieces if on < p[0] and p[2] <= end) for on, end in want)
    # each joined as soon as its put-down's end arrived (0.5 s after it, in a 0.1-s chunk)
    assert all(e.detected_s <= e.t_s + 0.6 + 1e-6 for e in ends if e.shifted)
