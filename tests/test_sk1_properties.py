"""Property tests of the sk1 decoder: splits, garbage, bit flips, truncation."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sensorkit.protocols import sk1


def stream_of_frames(n, seed=0, start_seq=0):
    rng = np.random.default_rng(seed)
    frames = []
    for k in range(n):
        ch = int(rng.integers(1, 17))
        per = max(1, (sk1.MAX_BODY - 8) // (3 * ch))
        values = rng.integers(-(2**23), 2**23, (per, ch))
        body = sk1.sample_block_body(0, k * per, values, sk1.FMT_INT24)
        frames.append(sk1.encode_frame(sk1.EMG_BLOCK, start_seq + k, 1000 * k, body))
    return frames


FRAMES = stream_of_frames(12)
DATA = b"".join(FRAMES)
REFERENCE = sk1.Decoder().feed(DATA)


def test_frames_fit_one_ble_notification():
    assert max(len(f) for f in FRAMES) <= 244
    assert len(REFERENCE) == 12


@given(st.lists(st.integers(0, len(DATA)), max_size=40))
def test_any_split_decodes_identically(cuts):
    cuts = sorted(set(cuts))
    dec = sk1.Decoder()
    got = []
    for a, b in zip([0, *cuts], [*cuts, len(DATA)], strict=True):
        got += dec.feed(DATA[a:b])
    assert got == REFERENCE
    assert dec.stats.crc_errors == 0 and dec.stats.lost_packets == 0


@settings(max_examples=200)
@given(st.binary(max_size=2000))
def test_garbage_never_raises_and_resync_within_one_frame(garbage):
    dec = sk1.Decoder()
    frames = dec.feed(garbage) + dec.feed(DATA)
    # at most the first frame after the garbage can be lost (it may be glued to the garbage)
    assert frames[-11:] == REFERENCE[-11:]


@settings(max_examples=200)
@given(st.data())
def test_corrupted_frames_are_counted_exactly(data):
    bad = data.draw(st.sets(st.integers(0, len(FRAMES) - 1), max_size=6))
    wire = []
    for k, f in enumerate(FRAMES):
        if k in bad:
            pos = data.draw(st.integers(0, len(f) - 2))  # never the delimiter
            flip = data.draw(st.integers(1, 255))
            b = bytearray(f)
            b[pos] ^= flip
            if b[pos] == 0:  # a new delimiter would split the frame: keep it one frame
                b[pos] = f[pos] ^ 0xFF or 0x01
            f = bytes(b)
        wire.append(f)
    dec = sk1.Decoder()
    got = dec.feed(b"".join(wire))
    assert dec.stats.crc_errors == len(bad)
    assert [f.seq for f in got] == [k for k in range(len(FRAMES)) if k not in bad]
    # lost packets: gaps in sequence between frames that did arrive (a bad last frame is not seen)
    kept = [k for k in range(len(FRAMES)) if k not in bad]
    assert dec.stats.lost_packets == (kept[-1] - kept[0] + 1 - len(kept) if kept else 0)


@given(st.integers(1, len(DATA) - 1))
def test_truncation_loses_only_the_cut_frame(cut):
    dec = sk1.Decoder()
    got = dec.feed(DATA[:cut])
    complete = DATA[:cut].count(b"\x00")
    assert got == REFERENCE[:complete]
    # the stream resumes cleanly with the next whole frame after a resynchronising delimiter
    more = dec.feed(b"\x00" + FRAMES[-1])
    assert more[-1] == REFERENCE[-1]


@given(st.lists(st.integers(0, 65535), min_size=2, max_size=50))
def test_sequence_gaps_count_lost_packets_across_wrap(seqs):
    dec = sk1.Decoder()
    lost = 0
    for prev, cur in zip(seqs, seqs[1:], strict=False):
        gap = (cur - prev - 1) % 65536
        lost += gap if gap < 32768 else 0
    for s in seqs:
        dec.feed(sk1.encode_frame(sk1.STATUS, s, 0, sk1.status_body(sk1.Status(50, 3800, 0, 0, 0))))
    assert dec.stats.lost_packets == lost
