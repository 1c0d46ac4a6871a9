"""BLE drivers with an injected fake client that plays back notification payloads.

The fake keeps bleak's client surface (connect, start_notify, write_gatt_char,
disconnect, a disconnected callback); the production code path is the same.
"""

import asyncio
import time

import numpy as np
import pytest

from sensorkit.acquisition import Acquisition
from sensorkit.devices.schemes.ble import open_ble
from sensorkit.devices.virtual.sk1 import EMG_SCALE, SimFirmware, _quantise
from sensorkit.errors import SensorkitError
from sensorkit.protocols import myo, sk1
from sensorkit.sim import Dosage, SimConfig, SimRecording, simulate
from sensorkit.streams import concat_chunks


class FakeBackend:
    """A peripheral that sends `script` [(t_s, uuid, payload)] in real time from the first connection;
    the link drops at `drop_at` for `outage_s` (what is sent meanwhile is lost)."""

    def __init__(self, name, script, drop_at=None, outage_s=1.0):
        self.name, self.script, self.drop_at, self.outage_s = name, script, drop_at, outage_s
        self.writes, self.connections, self.t0, self.cursor = [], 0, None, 0

    async def find(self, target, timeout):
        if self.drop_at is not None and self.t0 and self.drop_at <= self.now() < self.drop_at + self.outage_s:
            return None  # out of range
        return "fake-device" if target in (f"name={self.name}", "AA:BB:CC:DD:EE:FF") else None

    def now(self):
        return time.monotonic() - self.t0

    def client(self, device, on_disconnect):
        return FakeClient(self, on_disconnect)


class FakeClient:
    def __init__(self, backend, on_disconnect):
        self.b, self.on_disconnect, self.callbacks, self.is_connected = backend, on_disconnect, {}, False

    async def connect(self):
        b = self.b
        if b.drop_at is not None and b.t0 and b.drop_at <= b.now() < b.drop_at + b.outage_s:
            raise OSError("out of range")
        self.is_connected = True
        b.connections += 1
        b.t0 = b.t0 or time.monotonic()
        self.task = asyncio.ensure_future(self.play())

    async def start_notify(self, uuid, callback):
        self.callbacks[uuid] = callback

    async def write_gatt_char(self, uuid, data, response=None):
        self.b.writes.append((uuid, bytes(data)))

    async def disconnect(self):
        self.is_connected = False
        self.task.cancel()

    async def play(self):
        b = self.b
        await asyncio.sleep(0.01)  # subscriptions come right after connect()
        while b.cursor < len(b.script) and b.script[b.cursor][0] < b.now() - 0.05:
            b.cursor += 1  # sent while out of range: lost
        while b.cursor < len(b.script):
            t, uuid, payload = b.script[b.cursor]
            wait = t - b.now()
            if wait > 0:
                await asyncio.sleep(wait)
            if b.drop_at is not None and b.drop_at <= b.now() < b.drop_at + b.outage_s:
                self.is_connected = False
                self.on_disconnect(self)  # out of range: bleak calls back, the link reconnects
                return
            b.cursor += 1
            if uuid in self.callbacks:
                self.callbacks[uuid](None, bytearray(payload))


def run(source, seconds):
    got = {}
    acq = Acquisition([source], [lambda c: got.setdefault(c.info.name, []).append(c)])
    acq.start()
    time.sleep(seconds)
    acq.stop()
    return {k: concat_chunks(v) for k, v in got.items()}


def short_recording(seconds):
    rec = simulate(SimConfig(scenario="calibration", seed=6, muscles=("glute_med_L", "glute_med_R"),
                             dose=Dosage(reps=1)))  # fmt: skip
    n_e, n_i = int(seconds * rec.config.fs_emg), int(seconds * rec.config.fs_imu)
    return SimRecording(rec.config, rec.emg[:n_e], rec.imu[:n_i], [], rec.truth)


def test_sk1_over_ble_reordered_dropped_and_out_of_range():
    rec = short_recording(6.0)
    frames = list(SimFirmware(rec, speed=0)._wire_frames())
    script = [(t, sk1.BLE_DATA_UUID, f) for t, f in frames]
    script[60], script[61] = (script[60][0], *script[61][1:]), (script[61][0], *script[60][1:])  # swapped
    blocks = [i for i, (_, _, f) in enumerate(script) if sk1.Decoder().feed(f)[0].type == sk1.EMG_BLOCK]
    dropped = blocks[100]
    block_len = sk1.BLOCK_HEADER.unpack_from(sk1.Decoder().feed(script[dropped][2])[0].body)[3]
    del script[dropped]
    backend = FakeBackend("sk1-unit", script, drop_at=3.0, outage_s=1.0)
    device = open_ble("name=sk1-unit", {"protocol": "sk1"}, backend=backend)
    got = run(device, 5.5)
    commands = [sk1.Decoder().feed(d)[0].body[0] for u, d in backend.writes if u == sk1.BLE_CONTROL_UUID]
    assert commands.count(sk1.CMD_START) >= 2  # started at connection and again after coming back in range
    x = got["emg"].samples
    want = (_quantise(rec.emg, EMG_SCALE, 24) * np.float32(EMG_SCALE)).astype(np.float32)[: len(x)]
    missing = np.isnan(x).any(axis=1)
    assert np.array_equal(x[~missing], want[~missing])  # row k is sample k; swapped frames back in place
    runs = np.flatnonzero(np.diff(np.concatenate([[0], missing.astype(int), [0]])))
    lengths = runs[1::2] - runs[::2]
    assert lengths[0] == block_len  # the one dropped notification: its block of samples
    assert np.all(np.diff(got["emg"].timestamps) > 0)  # time never runs backwards
    assert 2000 <= lengths[1] <= 5000  # the outage (1 s at 2 kHz) and the reconnection (back-off 0.5, 1 s)
    labels = [m[0] for m in got["markers"].samples]
    assert "device_disconnected:ble:name=sk1-unit" in labels and "device_reconnected:ble:name=sk1-unit" in labels
    status = device.status()
    assert status.lost_samples >= block_len + 2000 and 50 < status.frames_per_s < 200  # ~110 frames/s sent


def myo_script(seconds, rng):
    emg = rng.integers(-128, 128, size=(int(seconds * 200), 8)).astype(np.int8)
    script = []
    for k in range(len(emg) // 2):
        script.append(((2 * k + 1) / 200, myo.EMG_DATA[k % 4], myo.emg_payload(emg[2 * k : 2 * k + 2])))
    imu = []
    for k in range(int(seconds * 50)):
        acc, gyr = np.array([0.1, -0.2, 1.0]), np.array([10.0, -5.0, 2.5]) * np.sin(k / 10)
        script.append((k / 50, myo.IMU_DATA, myo.imu_payload(np.array([1.0, 0, 0, 0]), acc, gyr)))
        imu.append(np.concatenate([acc * 9.80665, np.radians(gyr)]))
    return emg, np.array(imu), sorted(script, key=lambda s: s[0])


def test_myo_emg_and_imu_with_swapped_and_lost_notifications():
    emg, imu, script = myo_script(5.5, np.random.default_rng(1))
    emg_idx = [i for i, s in enumerate(script) if s[1] != myo.IMU_DATA]
    a, b = emg_idx[100], emg_idx[101]
    script[a], script[b] = (script[a][0], *script[b][1:]), (script[b][0], *script[a][1:])  # out of turn
    lost = emg_idx[200]
    del script[lost]
    backend = FakeBackend("Myo", script, drop_at=2.5, outage_s=0.8)
    device = open_ble("name=Myo", {"protocol": "myo"}, backend=backend)
    got = run(device, 6.0)
    starts = [d for u, d in backend.writes if u == myo.COMMAND]
    assert starts[:2] == list(myo.START) and starts.count(myo.set_mode(myo.EMG_MODE_RAW, myo.IMU_MODE_DATA)) >= 2
    x = got["myo_emg"].samples
    assert got["myo_emg"].info.units[0] == "au"
    # before the outage (2.5 s = 500 samples): the swapped pair back in turn, the lost pair NaN
    assert np.flatnonzero(np.isnan(x[:480]).any(axis=1)).tolist() == [400, 401]
    assert np.array_equal(x[:400], emg[:400].astype(np.float32))
    assert np.array_equal(x[402:480], emg[402:480].astype(np.float32))
    y = got["myo_imu"].samples
    assert np.allclose(y[:100], imu[:100], atol=0.5 / 2048 * 9.81)  # to the armband's quantisation
    labels = [m[0] for m in got["markers"].samples]
    assert "device_reconnected:ble:name=Myo" in labels
    assert 10 < device.status().frames_per_s < 220  # at most 100 EMG + 50 IMU notifications per second


def test_ble_errors_are_clear():
    backend = FakeBackend("Myo", [])
    with pytest.raises(SensorkitError, match="no BLE device named 'Nobody' found"):
        open_ble("name=Nobody", {"protocol": "myo"}, backend=backend).open()
    with pytest.raises(SensorkitError, match="ble protocol 'polar' is unknown"):
        open_ble("name=Myo", {"protocol": "polar"}, backend=backend)
    with pytest.raises(SensorkitError, match="needs an address"):
        open_ble("", {"protocol": "myo"}, backend=backend)


def test_production_backend_is_bleaks_own_client():
    import bleak

    from sensorkit.devices.transports.ble import BleakBackend

    client = BleakBackend().client("AA:BB:CC:DD:EE:FF", lambda c: None)
    assert isinstance(client, bleak.BleakClient)  # constructed only: no radio needed
