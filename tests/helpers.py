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


def write_delsys_csv(path, rec, pelvis_sensor: int = 9, labels: bool = True) -> list[str]:
    """A simulated recording written as a Delsys Trigno export (EMGworks' CSV): sensor k (from 1)
    holds muscle k's EMG in V, sensor `pelvis_sensor` the pelvis IMU in g and deg/s (and an EMG of
    noise), every channel its own `X[s]` time column, the IMU's columns ending before the EMG's.
    With `labels`, the 'Label: ... Sampling frequency: ... Unit: ...' header lines too. Returns
    the sensors' names, muscle order first."""
    fs_e, fs_i = rec.config.fs_emg, rec.config.fs_imu
    rng = np.random.default_rng(0)
    cols = []  # (label, unit, rate, values)
    names = [f"Avanti sensor {k}" for k in range(1, len(rec.config.muscles) + 1)] + [f"Avanti sensor {pelvis_sensor}"]
    for k, name in enumerate(names):
        emg = rec.emg[:, k] if k < len(rec.config.muscles) else 2e-6 * rng.standard_normal(len(rec.emg))
        cols.append((f"{name}: EMG {name.split()[-1]}", "V", fs_e, emg))
    imu = np.column_stack([rec.imu[:, :3] / 9.80665, np.degrees(rec.imu[:, 3:])])
    for j, axis in enumerate(("ACC.X", "ACC.Y", "ACC.Z", "GYRO.X", "GYRO.Y", "GYRO.Z")):
        cols.append((f"{names[-1]}: {axis} {pelvis_sensor}", "g" if j < 3 else "\u00b0/s", fs_i, imu[:, j]))
    rows = max(len(c[3]) for c in cols)
    with open(path, "w", encoding="utf-8") as f:
        if labels:
            for label, unit, fs, x in cols:
                f.write(f"Label: {label} Sampling frequency: {fs:.6e} Number of points: {len(x)} start: "
                        f"0.000000e+000 Unit: {unit} Domain Unit: s\n")  # fmt: skip
        f.write("Start Trigger Method: None\nStop Trigger Method: None\n\n")
        f.write(",".join(f'X[s],"{label}"' for label, *_ in cols) + "\n")
        table = np.full((rows, 2 * len(cols)), np.nan)
        for k, (_, _, fs, x) in enumerate(cols):
            table[: len(x), 2 * k] = np.arange(len(x)) / fs
            table[: len(x), 2 * k + 1] = x
        for row in table:
            f.write(",".join("" if np.isnan(v) else f"{v:.7g}" for v in row) + "\n")
    return names
