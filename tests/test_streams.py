import threading

import numpy as np
import pytest

from sensorkit.streams import MAX_RESTORED_S, Chunk, RingBuffer, StreamInfo, concat_chunks, restore_lost_rows

EMG_INFO = StreamInfo("emg", "EMG", ("glute_med_L", "glute_max_L"), ("V", "V"), 2000.0)


def test_stream_info_rejects_mismatched_units_and_negative_rate():
    with pytest.raises(ValueError, match="units"):
        StreamInfo("x", "EMG", ("a", "b"), ("V",), 100.0)
    with pytest.raises(ValueError, match="negative"):
        StreamInfo("x", "EMG", ("a",), ("V",), -1.0)


def test_chunk_checks_shape_and_keeps_nan_rows():
    t = np.arange(4) / 2000
    x = np.ones((4, 2))
    x[1:3] = np.nan
    c = Chunk(EMG_INFO, t, x, lost=2)
    assert len(c) == 4 and c.lost == 2 and np.isnan(c.samples[1:3]).all()
    with pytest.raises(ValueError, match="does not match"):
        Chunk(EMG_INFO, t, np.ones((4, 3)))


def test_marker_chunk_holds_strings():
    info = StreamInfo("markers", "Markers", ("marker",), ("",), 0.0, channel_format="string")
    c = Chunk(info, [1.0, 2.0], ["exercise_start:glute_bridge", "annotation:ok"])
    assert c.samples.shape == (2, 1) and c.samples[1, 0] == "annotation:ok"


def test_concat_chunks_sums_lost():
    a = Chunk(EMG_INFO, [0.0], [[1.0, 2.0]], lost=0)
    b = Chunk(EMG_INFO, [0.0005], [[np.nan, np.nan]], lost=1)
    c = concat_chunks([a, b])
    assert len(c) == 2 and c.lost == 1


def test_ring_buffer_keeps_the_newest_in_order():
    rb = RingBuffer(5, 1)
    for start in range(0, 12, 3):
        t = np.arange(start, start + 3, dtype=float)
        rb.push(t, t[:, None] * 10)
    t, x = rb.latest()
    np.testing.assert_array_equal(t, [7, 8, 9, 10, 11])
    np.testing.assert_array_equal(x[:, 0], t * 10)
    t, _ = rb.latest(2)
    np.testing.assert_array_equal(t, [10, 11])
    assert rb.total == 12


def test_ring_buffer_push_larger_than_capacity():
    rb = RingBuffer(4, 2)
    t = np.arange(10, dtype=float)
    rb.push(t, np.column_stack([t, -t]))
    got_t, got_x = rb.latest()
    np.testing.assert_array_equal(got_t, [6, 7, 8, 9])
    np.testing.assert_array_equal(got_x[:, 1], -got_t)


def test_ring_buffer_concurrent_reader_sees_consistent_rows():
    rb = RingBuffer(1000, 1)
    stop = threading.Event()
    bad = []

    def reader():
        while not stop.is_set():
            t, x = rb.latest(500)
            if len(t) and not (np.array_equal(x[:, 0], t) and np.all(np.diff(t) == 1)):
                bad.append(t)

    th = threading.Thread(target=reader)
    th.start()
    for k in range(2000):
        t = np.arange(k * 7, k * 7 + 7, dtype=float)
        rb.push(t, t[:, None])
    stop.set()
    th.join()
    assert not bad


def test_rows_left_out_by_a_drop_out_come_back_as_nan_rows_at_their_times():
    fs = 100.0
    t = 50.0 + np.arange(1000) / fs
    x = np.arange(3000, dtype=np.int16).reshape(1000, 3)
    keep = np.ones(1000, dtype=bool)
    keep[200:230] = keep[600:601] = keep[601:650] = False  # 0.3 s and 0.5 s gone
    got_t, got_x, restored = restore_lost_rows(t[keep], x[keep], fs)
    assert restored == 80 and got_x.dtype.kind == "f"
    np.testing.assert_allclose(got_t, t, atol=1e-9)
    assert np.isnan(got_x[~keep]).all() and (got_x[keep] == x[keep]).all()


def test_a_stream_off_its_nominal_rate_or_paused_for_long_keeps_its_rows():
    t = np.arange(1000) / 102.0  # a device running 2 % fast: no jump, nothing lost
    x = np.ones((1000, 2))
    assert restore_lost_rows(t, x, 100.0)[2] == 0
    t[500:] += MAX_RESTORED_S + 1  # a pause longer than any drop-out: stays a jump, no hours of NaN rows
    got_t, got_x, restored = restore_lost_rows(t, x, 100.0)
    assert restored == 0 and got_t is t and got_x is x
    t[500:] -= MAX_RESTORED_S - 1  # 2 s more than one step: 204 samples of the device's own rate missing
    assert restore_lost_rows(t, x, 100.0)[2] == 204


def test_chunks_stamped_on_arrival_are_jitter_not_loss():
    """LSL stamps a chunk when it arrives and back-dates its samples at the nominal rate:
    chunks come 0-30 ms late (3 periods at 100 Hz), every one, and nothing is lost. A real
    0.3-s drop-out among them lifts every later time for good, and is found."""
    rng = np.random.default_rng(4)
    fs, n = 100.0, 6000
    late = np.repeat(rng.uniform(0, 0.03, n // 10), 10)  # per chunk of 10
    t = np.arange(n) / fs + late
    x = np.zeros((n, 1))
    assert restore_lost_rows(t, x, fs)[2] == 0
    keep = np.ones(n, dtype=bool)
    keep[3000:3030] = False
    got_t, got_x, restored = restore_lost_rows(t[keep], x[keep], fs)
    assert abs(restored - 30) <= 1 and np.isnan(got_x[2990:3040]).sum() >= 29


@pytest.mark.parametrize(("fs", "chunk", "late_s"), [(2000.0, 50, 0.002), (2000.0, 50, 0.01), (100.0, 5, 0.03)])
def test_times_clamped_to_run_forward_are_jitter_not_loss(fs, chunk, late_s):
    """A receiver that never lets time go back (liblsl's proc_monotonize) stamps the first
    samples of a chunk on time after a late one with the late one's last time. Chunks of
    `chunk` samples, late by an exponential `late_s` on average, nothing lost: no rows
    (were 830-36,500 in 2 minutes at 2 kHz); a 0.3-s drop-out among them is still found."""
    rng = np.random.default_rng(11)
    n = int(fs * 120)
    arrival = np.repeat(np.arange(chunk, n + 1, chunk) / fs + rng.exponential(late_s, n // chunk), chunk)
    sent = arrival - np.tile(np.arange(chunk)[::-1], n // chunk) / fs  # back-dated from arrival
    t = np.maximum.accumulate(sent)
    assert (np.diff(t) == 0).sum() > 0  # some were clamped
    x = np.zeros((n, 1))
    assert restore_lost_rows(t, x, fs)[2] == 0
    keep = np.ones(n, dtype=bool)
    gone = slice(n // 2 // chunk * chunk, (n // 2 + int(0.3 * fs)) // chunk * chunk)  # whole chunks, as packets go
    keep[gone] = False
    t = np.maximum.accumulate(sent[keep])
    restored = restore_lost_rows(t, x[keep], fs)[2]
    assert abs(restored - (~keep).sum()) <= max(2, 0.05 * (~keep).sum())


def test_frequent_drop_outs_among_late_chunks_are_found_together():
    """20 % lost in drop-outs of 10-500 ms, a second or so apart, among chunks 0-30 ms
    late: judged each alone, their windows held each other's lifts and a tenth to a half
    of them were found; fitted together, nearly all are, and none where nothing was lost."""
    rng = np.random.default_rng(7)
    fs, n = 100.0, 12000
    t = np.arange(n) / fs + np.repeat(rng.uniform(0, 0.03, n // 10), 10)
    keep = np.ones(n, dtype=bool)
    while (~keep).mean() < 0.2:
        g = int(rng.uniform(0.01, 0.5) * fs)
        a = int(rng.uniform(0.05, 0.95) * (n - g))
        keep[a : a + g] = False
    x = np.zeros((n, 1))
    assert restore_lost_rows(t, x, fs)[2] == 0
    got_t, _, restored = restore_lost_rows(t[keep], x[keep], fs)
    assert 0.9 * (~keep).sum() <= restored <= (~keep).sum()
