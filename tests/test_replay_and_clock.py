import numpy as np
import pytest
from helpers import record_sim, small_session

from sensorkit.devices.clock import ClockMap, DeviceClock
from sensorkit.devices.schemes.file import Replay, open_replay
from sensorkit.devices.spec import open_device, parse_spec
from sensorkit.errors import SensorkitError
from sensorkit.recording.xdf_reader import read_xdf
from sensorkit.streams import concat_chunks


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    path = tmp_path_factory.mktemp("replay") / "r.xdf"
    record_sim(path, small_session(seed=5, reps=1))
    return path


def test_fast_replay_yields_the_file_exactly_in_time_order(recording):
    src = open_device(f"file://{recording}?speed=0")
    src.open()
    got, last_t = {}, -np.inf
    while not src.finished:
        chunks = src.read()
        for c in chunks:
            got.setdefault(c.info.name, []).append(c)
        numeric = [c.timestamps[-1] for c in chunks if c.info.srate > 0]
        if numeric:
            assert min(numeric) >= last_t - 0.06  # one step of interleaving at most
            last_t = max(numeric)
    ref = read_xdf(recording)
    for s in ref.streams:
        c = concat_chunks(got[s.info.name])
        np.testing.assert_array_equal(c.timestamps, s.timestamps)
        np.testing.assert_array_equal(c.samples, s.samples)


def test_paced_replay_delivers_in_step_with_wall_time(recording):
    src = Replay(str(recording), speed=50)
    src.open()
    n = 0
    for _ in range(5):  # ~0.5 s of wall time is ~25 s of data at 50x: never all of it at once
        n += sum(len(c) for c in src.read(0.1) if c.info.name == "emg")
    assert 0 < n < len(read_xdf(recording).of_kind("EMG")[0].timestamps)


def test_a_replays_status_says_where_it_is_in_the_file_not_a_wires_figures(recording):
    """The GUI's status bar read 'connected, 0 frames/s, 0 CRC errors, 0 lost packets' for a file."""
    streams = read_xdf(recording).streams
    total = max(float(s.timestamps[-1]) for s in streams) - min(float(s.timestamps[0]) for s in streams)
    src = Replay(str(recording), speed=0)
    assert src.status().line().startswith("closed")
    src.open()
    assert src.status().line() == f"replaying, 0.0 of {total:.1f} s of the file, as fast as possible"
    src.pause()
    assert src.status().line().startswith("paused, 0.0 of")
    src.resume(4.0)
    assert src.status().line().endswith("s of the file, 4x")
    src.resume(0.0)
    while not src.finished:
        src.read(0.0)
    line = src.status().line()
    assert line == f"finished, {total:.1f} of {total:.1f} s of the file, as fast as possible"
    assert "frames/s" not in line and "CRC" not in line


def test_replay_parameters_are_checked():
    with pytest.raises(SensorkitError, match="unknown file:// parameter"):
        open_replay("x.xdf", {"sped": "2"})
    with pytest.raises(SensorkitError, match="not a number"):
        open_replay("x.xdf", {"speed": "fast"})


def test_spec_parsing():
    s = parse_spec("sim://single_leg_squat?glute_delay_ms=120&seed=3")
    assert (s.scheme, s.target, s.params) == ("sim", "single_leg_squat", {"glute_delay_ms": "120", "seed": "3"})
    assert parse_spec("file://recordings/before.xdf").target == "recordings/before.xdf"
    with pytest.raises(SensorkitError):
        parse_spec("before.xdf")
    with pytest.raises(SensorkitError, match="unknown device scheme"):
        open_device("ftp://x")


def test_device_clock_unwraps_32_bit_microseconds():
    c = DeviceClock()
    assert c.seconds(2**32 - 1000) == pytest.approx((2**32 - 1000) / 1e6)
    assert c.seconds(500) == pytest.approx((2**32 + 500) / 1e6)
    assert c.seconds(2**32 - 900) == pytest.approx((2**32 - 900) / 1e6)  # a late frame before the wrap


def test_clock_map_recovers_offset_and_drift_under_jittery_delivery():
    rng = np.random.default_rng(1)
    cm = ClockMap()
    offset, drift = 1234.5, 100e-6  # device runs 100 ppm fast
    dev = np.arange(0, 600, 0.01)
    host_true = offset + dev * (1 - drift)
    delay = rng.exponential(0.004, dev.size) + 0.0005  # USB/BLE delivery: >= 0.5 ms, bursty tail
    for d, h in zip(dev, host_true + delay, strict=True):
        cm.observe(d, h)
    probe = dev[-3000:]
    err = cm.to_host(probe) - (offset + probe * (1 - drift))
    assert np.max(np.abs(err - 0.0005)) < 0.001  # within 1 ms of truth (plus the constant min delay)
