"""sim:// streams real sk1 bytes; the host side turns them back into the exact samples."""

import numpy as np
import pytest
from helpers import drain, expected_emg, small_session

from sensorkit.devices.drivers.sk1 import Sk1Device
from sensorkit.devices.schemes.sim import open_sim
from sensorkit.devices.virtual.sk1 import SimFirmware, shift_times
from sensorkit.errors import SensorkitError


@pytest.fixture(scope="module")
def rec():
    return small_session(seed=7)


def test_samples_arrive_bit_exact_with_exact_timestamps(rec):
    fw = SimFirmware(rec, speed=0)
    got = drain(Sk1Device(fw, "t"))
    emg = got["emg"]
    np.testing.assert_array_equal(emg.samples, expected_emg(rec))
    assert emg.lost == 0
    k = np.arange(len(emg))
    np.testing.assert_allclose(emg.timestamps - fw.host_start, k / rec.config.fs_emg, atol=1e-9)
    assert len(got["pelvis"]) == len(rec.imu)
    assert emg.info.channels == rec.config.muscles and set(emg.info.units) == {"V"}
    marker_t = got["markers"].timestamps - fw.host_start
    np.testing.assert_allclose(marker_t, [t for t, _ in rec.markers], atol=1e-6)
    assert list(got["markers"].samples[:, 0]) == [m for _, m in rec.markers]


class LossyTransport:
    """Drops every `every`-th frame and corrupts every `corrupt`-th, as a bad radio link would."""

    def __init__(self, inner, every=37, corrupt=0):
        self.inner, self.every, self.corrupt = inner, every, corrupt
        self.count = self.dropped_samples = self.corrupted = 0
        self.finished = False

    def open(self):
        self.inner.open()

    def write(self, data):
        self.inner.write(data)

    def close(self):
        self.inner.close()

    def clock(self):
        return self.inner.clock()

    def read(self, timeout):
        data = self.inner.read(timeout)
        self.finished = self.inner.finished
        out = []
        for frame in data.split(b"\x00")[:-1]:
            self.count += 1
            if self.count % self.every == 0 and len(frame) > 150:  # an EMG block
                self.dropped_samples += 1
                continue
            if self.corrupt and self.count % self.corrupt == 0:
                frame = frame[:20] + bytes([frame[20] ^ 0x55 or 1]) + frame[21:]
                self.corrupted += 1
            out.append(frame + b"\x00")
        return b"".join(out)


def test_lost_frames_become_nan_rows_at_their_times(rec):
    fw = SimFirmware(rec, speed=0)
    lossy = LossyTransport(fw, every=37)
    dev = Sk1Device(lossy, "t")
    emg = drain(dev)["emg"]
    n = len(rec.emg)
    assert len(emg) == n  # every sample has a row, lost ones included
    nan_rows = np.isnan(emg.samples).all(axis=1)
    assert lossy.dropped_samples > 10
    assert emg.lost == nan_rows.sum() == lossy.dropped_samples * 9  # 9 samples per 8-ch block
    np.testing.assert_array_equal(emg.samples[~nan_rows], expected_emg(rec)[~nan_rows])
    # receive times jitter with the losses; the clock map keeps samples well inside 1 ms
    np.testing.assert_allclose(emg.timestamps - fw.host_start, np.arange(n) / 2000, atol=1e-4)
    assert dev.status().lost_samples == emg.lost
    assert dev.status().lost_packets >= lossy.dropped_samples


def test_corrupted_frames_are_counted_not_crashing(rec):
    lossy = LossyTransport(SimFirmware(rec, speed=0), every=10**9, corrupt=101)
    dev = Sk1Device(lossy, "t")
    got = drain(dev)
    assert dev.status().crc_errors == lossy.corrupted > 5
    assert np.isnan(got["emg"].samples).all(axis=1).sum() == got["emg"].lost


def test_paced_stream_is_real_time_ish(rec):
    """At speed 20, 2 s of wall time deliver data; the device reports its health."""
    dev = Sk1Device(SimFirmware(rec, speed=20), "t")
    dev.open()
    n = 0
    for _ in range(20):
        n += sum(len(c) for c in dev.read(0.1) if c.info.name == "emg")
    status = dev.status()
    dev.close()
    assert n > 0 and status.state == "connected" and status.frames > 0


def test_timestamps_span_the_simulated_time_at_any_speed(rec):
    """At 40x, ~1 s of wall time carries ~40 s of data, and the timestamps must say 40 s."""
    fw = SimFirmware(rec, speed=40)
    dev = Sk1Device(fw, "t")
    dev.open()
    chunks, n = [], 0
    while n < 40 * rec.config.fs_emg and not dev.finished:
        new = [c for c in dev.read(0.1) if c.info.name == "emg"]
        chunks += new
        n += sum(len(c) for c in new)
    dev.close()
    t = np.concatenate([c.timestamps for c in chunks])
    span = t[-1] - t[0]
    assert span == pytest.approx((len(t) - 1) / rec.config.fs_emg, rel=0.01)
    assert span > 20


def test_spec_parameters_are_checked():
    with pytest.raises(SensorkitError, match="unknown sim parameter"):
        open_sim("session", {"glute_delay": "3"})
    with pytest.raises(SensorkitError, match="not a valid"):
        open_sim("session", {"reps": "many"})
    with pytest.raises(SensorkitError, match="unknown sim scenario"):
        open_sim("tango", {})


def test_shift_times_moves_only_times():
    truth = {"duration_s": 10.0, "markers": [[1.0, "a"]],
             "exercises": [{"start_s": 1.0, "reps": [{"onsets_s": {"m": 2.0, "q": None},
                                                      "latency_ms": {"m": 5.0}}]}],
             "config": {"markers": True}}
    s = shift_times(truth, 100.0)
    assert s["duration_s"] == 10.0 and s["markers"] == [[101.0, "a"]]
    rep = s["exercises"][0]["reps"][0]
    assert s["exercises"][0]["start_s"] == 101.0 and rep["onsets_s"] == {"m": 102.0, "q": None}
    assert rep["latency_ms"] == {"m": 5.0} and s["config"] == {"markers": True}


def test_the_units_battery_is_in_its_status():
    from sensorkit.devices.spec import open_device

    dev = open_device("sim://calibration?speed=0")
    dev.open()
    while dev.status().battery_percent is None and not dev.finished:
        dev.read(0.05)
    status = dev.status()
    dev.close()
    assert 0 <= status.battery_percent <= 100 and f"battery {status.battery_percent}%" in status.line()
