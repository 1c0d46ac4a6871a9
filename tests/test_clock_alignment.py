"""Two devices, an hour apart from their own clocks: EMG from one and IMU from another line up.

Each device's clock drifts (+100 ppm and -100 ppm against the host), one wraps its
32-bit microsecond counter during the hour, and delivery is bursty: a random USB
or radio delay per frame, now and then a stall that releases many frames at once,
and a host that polls every 20 ms. Sample times come out of the same assembler the
drivers use; what is checked is how far the two devices' timestamps of samples
taken at the same true instant are apart after an hour.
"""

import numpy as np

from sensorkit.devices.drivers.sk1 import Sk1Assembler
from sensorkit.protocols import sk1

HOUR = 3600.0


def frames_of(kind, rate, block, drift_ppm, boot_s, seconds):
    """(true send time, frame) of one device's stream info and sample blocks; sample values are 0."""
    desc = sk1.StreamDesc(0, kind, sk1.FMT_INT16, 1, rate, "emg" if kind == sk1.KIND_EMG else "pelvis")
    desc.channels[0] = sk1.ChannelDesc("x", "V", 1.0)
    ptype = sk1.EMG_BLOCK if kind == sk1.KIND_EMG else sk1.IMU_BLOCK
    info = [(0.0, sk1.Frame(sk1.STREAM_INFO, 0, 0, b)) for b in sk1.stream_info_bodies(desc)]
    zeros = np.zeros((block, 1), dtype=np.int16)
    out = []
    speed = 1 + drift_ppm * 1e-6  # the device's crystal clocks both its counter and its ADC
    for seq, first in enumerate(range(0, int(seconds * rate), block)):
        dev_us = int(round((boot_s + first / rate) * 1e6)) & 0xFFFFFFFF
        body = sk1.sample_block_body(0, first, zeros, sk1.FMT_INT16)
        out.append(((first + block - 1) / rate / speed, sk1.Frame(ptype, seq & 0xFFFF, dev_us, body)))
    return info + out


def deliver(frames, rng, poll_s=0.02):
    """Group frames into host reads: (host time of the read, frames)."""
    sent = np.array([t for t, _ in frames])
    delay = 0.0005 + rng.exponential(0.002, len(sent))
    stalls = rng.random(len(sent)) < 0.01  # a stall holds this and the next frames
    for i in np.flatnonzero(stalls):
        hold = rng.uniform(0.05, 0.15)
        j = np.searchsorted(sent, sent[i] + hold)
        delay[i:j] = np.maximum(delay[i:j], sent[i] + hold - sent[i:j])
    arrive = np.maximum.accumulate(sent + delay)  # a serial line / BLE link keeps order
    polls = np.ceil(arrive / poll_s) * poll_s
    reads, start = [], 0
    for end in np.flatnonzero(np.diff(polls)) + 1:
        reads.append((polls[start], [f for _, f in frames[start:end]]))
        start = end
    reads.append((polls[start], [f for _, f in frames[start:]]))
    return reads


def timestamps_after_an_hour(kind, rate, block, drift_ppm, boot_s, rng, seconds):
    asm = Sk1Assembler("dev")
    stamps = []
    for host_s, frames in deliver(frames_of(kind, rate, block, drift_ppm, boot_s, seconds), rng):
        for c in asm.process(frames, host_s):
            if c.info.srate:
                stamps.append(c.timestamps)
    return np.concatenate(stamps)


def test_emg_and_imu_of_two_drifting_devices_line_up_within_1_ms_after_an_hour():
    rng = np.random.default_rng(7)
    # 40-ms frames (the simulated firmware sends 20-ms ones; half as many frames keep the test fast)
    emg = timestamps_after_an_hour(sk1.KIND_EMG, 2000.0, 80, +100, 4290.0, rng, HOUR)  # wraps at 4294.97 s
    imu = timestamps_after_an_hour(sk1.KIND_IMU, 200.0, 8, -100, 12.5, rng, HOUR)
    assert len(emg) == 2000 * 3600 and len(imu) == 200 * 3600  # nothing lost or doubled across the wrap
    # each sample's error against its true time on the host clock, in the last minute of the hour
    true_emg = np.arange(len(emg)) / 2000.0 / (1 + 100e-6)
    true_imu = np.arange(len(imu)) / 200.0 / (1 - 100e-6)
    last = slice(int(3540 * 200), None)
    err_imu = imu[last] - true_imu[last]
    err_emg_then = np.interp(true_imu[last], true_emg, emg - true_emg)
    assert np.max(np.abs(err_emg_then - err_imu)) < 0.001  # the two devices line up
    assert np.max(np.abs(err_imu)) < 0.005  # and sit within the minimum delivery delay of the truth
