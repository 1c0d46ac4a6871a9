"""Shared test helpers: simulated recordings written through the real device path."""

import numpy as np

from sensorkit.acquisition import Acquisition
from sensorkit.devices.drivers.sk1 import Sk1Device
from sensorkit.devices.virtual.sk1 import SimFirmware
from sensorkit.recording.recorder import Recorder
from sensorkit.sim import Dosage, SimConfig, simulate
from sensorkit.streams import concat_chunks


def small_session(seed=0, reps=2, **cfg):
    return simulate(SimConfig(scenario="single_leg_squat", seed=seed, dose=Dosage(reps=reps), **cfg))


def drain(device, max_reads=100000):
    """Open a finite device, read it to the end, return {stream name: joined chunk}."""
    device.open()
    got = {}
    for _ in range(max_reads):
        if device.finished:
            break
        for c in device.read(0.05):
            got.setdefault(c.info.name, []).append(c)
    device.close()
    return {k: concat_chunks(v) for k, v in got.items()}


def record_sim(path, rec, meta=None):
    """Record a SimRecording through sk1 bytes into an XDF file; returns (device, chunks by stream)."""
    device = Sk1Device(SimFirmware(rec, speed=0), source_id="test")
    seen = {}
    recorder = Recorder(path, meta or {"patient": "P001", "session": "test"})
    acq = Acquisition([device], [recorder.push, lambda c: seen.setdefault(c.info.name, []).append(c)])
    acq.start()
    acq.wait()
    acq.stop()
    recorder.close()
    return device, {k: concat_chunks(v) for k, v in seen.items()}


def expected_emg(rec):
    from sensorkit.devices.virtual.sk1 import EMG_SCALE

    raw = np.clip(np.round(rec.emg / EMG_SCALE), -(2**23), 2**23 - 1)
    return (raw * float(np.float32(EMG_SCALE))).astype(np.float32)
