"""The Myo armband on Bluetooth LE (firmware_protocols/myo/PROTOCOL.md): sleep off and raw
EMG + IMU on at every connection; the four EMG characteristics take turns, so a
notification that arrives out of turn is held until its predecessors come (or are
given up as lost: NaN rows)."""

from __future__ import annotations

import numpy as np

from sensorkit.devices.base import Source, SourceStatus
from sensorkit.devices.clock import ClockMap
from sensorkit.devices.drivers.sk1 import markers_info
from sensorkit.devices.link import LinkWatch, RateMeter
from sensorkit.devices.transports.ble import BleBackend, BleLink
from sensorkit.protocols import myo
from sensorkit.streams import EMG, IMU, IMU_CHANNELS, Chunk, StreamInfo

G = 9.80665


class MyoDevice(Source):
    def __init__(self, target: str, source_id: str, backend: BleBackend | None = None,
                 silence_s: float = 5.0) -> None:  # fmt: skip
        self.link = BleLink(target, [*myo.EMG_DATA, myo.IMU_DATA], backend, on_connect=self._start)
        self.source_id = source_id
        meta = {"protocol": "myo", "location": "forearm"}
        self.emg = StreamInfo("myo_emg", EMG, tuple(f"emg{i + 1}" for i in range(myo.N_EMG)), ("au",) * myo.N_EMG,
                              myo.EMG_RATE_HZ, source_id=f"{source_id}:emg", metadata=meta)  # fmt: skip
        self.imu = StreamInfo("myo_imu", IMU, IMU_CHANNELS, ("m/s^2",) * 3 + ("rad/s",) * 3, myo.IMU_RATE_HZ,
                              source_id=f"{source_id}:imu", metadata=meta)  # fmt: skip
        self.markers = markers_info(source_id)
        self.watch = LinkWatch(self.link, source_id, self.markers, silence_s)
        self.emg_clock, self.imu_clock = ClockMap(), ClockMap()
        self.notifications = self.lost_samples = self.received = 0
        self._expect: int | None = None  # EMG characteristic whose turn it is
        self._held: dict[int, tuple[bytes, float]] = {}
        self._n_emg = self._n_imu = 0
        self.meter = RateMeter()

    @staticmethod
    def _start(link: BleLink) -> None:
        for command in myo.START:
            link.write(myo.COMMAND, command)

    def open(self) -> None:
        self.watch.state = "connecting"
        self.link.open()
        self.watch.opened()

    def _emg_rows(self, k: int, payload: bytes, host_s: float) -> list[tuple[np.ndarray, float]]:
        """Take notification k (0-3); give the sample pairs now in turn, NaN pairs for turns given up."""
        self._held[k] = (payload, host_s)
        if self._expect is None:
            self._expect = k
        out = []
        while True:
            if self._expect in self._held:
                data, t = self._held.pop(self._expect)
                out.append((myo.emg_samples(data), t))
            elif len(self._held) >= 3:  # the others came: this turn's notification was lost
                out.append((np.full((2, myo.N_EMG), np.nan, np.float32), np.nan))
            else:
                return out
            self._expect = (self._expect + 1) % 4

    def _emg_chunk(self, rows: list[tuple[np.ndarray, float]]) -> Chunk:
        x = np.vstack([r for r, _ in rows])
        n0 = self._n_emg
        self._n_emg += len(x)
        for j, (_, host_s) in enumerate(rows):
            if np.isfinite(host_s):  # the second sample of a pair left the armband when it was sent
                self.emg_clock.observe((n0 + 2 * j + 1) / myo.EMG_RATE_HZ, host_s)
        lost = int(np.isnan(x[:, 0]).sum())
        self.lost_samples += lost
        t = self.emg_clock.to_host((n0 + np.arange(len(x))) / myo.EMG_RATE_HZ)
        return Chunk(self.emg, t, x, lost=lost)

    def _imu_chunk(self, items: list[tuple[bytes, float]]) -> Chunk:
        values = []
        for payload, host_s in items:
            _, acc_g, gyr_dps = myo.imu_sample(payload)
            values.append(np.concatenate([acc_g * G, np.radians(gyr_dps)]))
            self.imu_clock.observe(self._n_imu / myo.IMU_RATE_HZ, host_s)
            self._n_imu += 1
        n0 = self._n_imu - len(items)
        t = self.imu_clock.to_host((n0 + np.arange(len(items))) / myo.IMU_RATE_HZ)
        return Chunk(self.imu, t, np.array(values, dtype=np.float32))

    def read(self, timeout: float = 0.1) -> list[Chunk]:
        items = self.link.read(timeout)
        self.received += len(items)
        out, back = self.watch.events()
        if back:
            self._expect, self._held = None, {}
            self.emg_clock, self.imu_clock = ClockMap(), ClockMap()
        emg_rows, imu_items = [], []
        for uuid, payload, host_s in items:
            try:
                if uuid == myo.IMU_DATA:
                    myo.imu_sample(payload)  # validate before use
                    imu_items.append((payload, host_s))
                else:
                    myo.emg_samples(payload)
                    emg_rows += self._emg_rows(myo.EMG_DATA.index(uuid), payload, host_s)
            except ValueError:
                continue  # a malformed notification: skipped
            self.notifications += 1
        chunks = ([self._emg_chunk(emg_rows)] if emg_rows else []) + ([self._imu_chunk(imu_items)] if imu_items else [])
        if items:
            self.meter.count(self.notifications)
        out += self.watch.gaps.fill(chunks)
        self.watch.check_alive(self.notifications, self.received, self.received - self.notifications, "Myo")
        return out

    def _stop(self) -> None:
        for command in myo.STOP:
            self.link.write(myo.COMMAND, command)

    def close(self) -> None:
        self.watch.close(self._stop)

    def streams(self) -> list[StreamInfo]:
        return [self.emg, self.imu, self.markers]

    def status(self) -> SourceStatus:
        return SourceStatus(self.watch.state, self.notifications, self.meter.per_s, 0, 0, self.lost_samples)
