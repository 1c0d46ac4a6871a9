"""`sim://SCENARIO?...`: a simulated patient wired to a simulated sk1 unit.

`SimFirmware` plays the part of the unit's firmware: it quantises the simulated
signals like the real front ends (ADS1299-style 24-bit EMG, 16-bit IMU), frames
them in sk1 and releases the bytes at real-time pace (or faster, or as fast as
possible on a virtual clock). The host side is the ordinary `Sk1Device`, so the
whole path from bytes to chunks is exercised.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Iterator

import numpy as np

from sensorkit.protocols import sk1
from sensorkit.sim import SimRecording
from sensorkit.streams import IMU_CHANNELS

EMG_SCALE = 4.5 / 24 / 2**23  # V per LSB: ADS1299, 4.5 V reference, gain 24
ACC_SCALE = 16 * 9.80665 / 32768  # m/s^2 per LSB at +-16 g
GYR_SCALE = np.radians(2000) / 32768  # rad/s per LSB at +-2000 deg/s
BLOCK_S = 0.02  # target duration of one sample block
INFO_PERIOD_S = 5.0
STATUS_PERIOD_S = 1.0


def _quantise(x: np.ndarray, scale: np.ndarray | float, bits: int) -> np.ndarray:
    lim = 2 ** (bits - 1)
    return np.clip(np.round(x / scale), -lim, lim - 1).astype(np.int32)


class SimFirmware:
    """Byte transport backed by a simulated sk1 unit.

    speed: 1 = real time, N = N times faster, 0 = as fast as possible. The host clock
    it reports runs at the simulated world's pace (N times the wall clock; at speed 0 it
    advances with the data), starting at the host time streaming started, so that
    timestamps always span the simulated duration.
    """

    def __init__(self, rec: SimRecording, speed: float = 1.0, serial: int = 0x5140001,
                 drift_ppm: float = 0.0, boot_s: float = 12.5) -> None:  # fmt: skip
        if speed < 0:
            raise ValueError("speed must be >= 0")
        self.rec = rec
        self.speed = speed
        self.serial = serial
        self.drift = 1 + drift_ppm * 1e-6
        self.boot_s = boot_s  # device clock when streaming starts
        self.finished = False
        self.host_start: float | None = None  # host time of simulated t = 0
        self._frames: Iterator[tuple[float, bytes]] | None = None
        self._next: tuple[float, bytes] | None = None
        self._virtual_now = 0.0
        self._commands = sk1.Decoder()
        self._streaming = False

    # ------------------------------------------------------------ transport API
    def open(self) -> None:
        self.finished = False

    def write(self, data: bytes) -> None:
        for f in self._commands.feed(data):
            if f.type == sk1.COMMAND and f.body[:1] == bytes([sk1.CMD_START]) and not self._streaming:
                self._streaming = True
                self.host_start = time.monotonic()
                self._virtual_now = self.host_start
                self._frames = self._wire_frames()
                self._next = next(self._frames, None)
            elif f.type == sk1.COMMAND and f.body[:1] == bytes([sk1.CMD_STOP]):
                self._streaming = False

    def close(self) -> None:
        self._streaming = False

    def clock(self) -> float:
        if self.speed == 0:
            return self._virtual_now
        return self.host_start + (time.monotonic() - self.host_start) * self.speed

    def read(self, timeout: float) -> bytes:
        if not self._streaming or self._next is None:
            self.finished = self._streaming and self._next is None
            time.sleep(min(timeout, 0.01) if self.speed else 0)
            return b""
        if self.speed == 0:
            horizon = self._next[0] + 0.25
        else:
            horizon = (time.monotonic() - self.host_start) * self.speed
            wait = (self._next[0] - horizon) / self.speed
            if wait > 0:
                time.sleep(min(wait, timeout))
                horizon = (time.monotonic() - self.host_start) * self.speed
        out = []
        while self._next is not None and self._next[0] <= horizon:
            out.append(self._next[1])
            if self.speed == 0:
                self._virtual_now = self.host_start + self._next[0]
            self._next = next(self._frames, None)
        return b"".join(out)

    # ------------------------------------------------------------ firmware
    def _device_us(self, t: float) -> int:
        return int(round((self.boot_s + t * self.drift) * 1e6)) & 0xFFFFFFFF

    def _descs(self) -> list[sk1.StreamDesc]:
        cfg = self.rec.config
        emg = sk1.StreamDesc(0, sk1.KIND_EMG, sk1.FMT_INT24, len(cfg.muscles), cfg.fs_emg, "emg")
        for i, m in enumerate(cfg.muscles):
            emg.channels[i] = sk1.ChannelDesc(m, "V", float(np.float32(EMG_SCALE)))
        imu = sk1.StreamDesc(1, sk1.KIND_IMU, sk1.FMT_INT16, 6, cfg.fs_imu, "pelvis")
        for i, label in enumerate(IMU_CHANNELS):
            scale, unit = (ACC_SCALE, "m/s^2") if i < 3 else (GYR_SCALE, "rad/s")
            imu.channels[i] = sk1.ChannelDesc(label, unit, float(np.float32(scale)))
        return [emg, imu]

    def _blocks(self, desc: sk1.StreamDesc, raw: np.ndarray, lost: np.ndarray | None = None) -> Iterator[tuple]:
        width = sk1.FORMAT_BYTES[desc.fmt] * desc.n_channels
        per = max(1, min((sk1.MAX_BODY - sk1.BLOCK_HEADER.size) // width, round(desc.rate * BLOCK_S)))
        ptype = sk1.EMG_BLOCK if desc.kind == sk1.KIND_EMG else sk1.IMU_BLOCK
        for first in range(0, len(raw), per):
            values = raw[first : first + per]
            if lost is not None and lost[first : first + per].any():
                continue  # the host sees the sample index jump and fills NaN rows
            t_first = first / desc.rate
            body = sk1.sample_block_body(desc.stream_id, first, values, desc.fmt)
            yield (t_first + (len(values) - 1) / desc.rate, ptype, t_first, body)

    def _info_frames(self, descs: list[sk1.StreamDesc], end: float) -> Iterator[tuple]:
        """Device and stream info at start (just before the first block) and every 5 s."""
        info = sk1.DeviceInfo(len(descs), self.serial, (0, 1, 0), "sensorkit-sim")
        bodies = [(sk1.DEVICE_INFO, sk1.device_info_body(info))]
        for d in descs:
            bodies += [(sk1.STREAM_INFO, b) for b in sk1.stream_info_bodies(d)]
        for t in np.arange(-1e-6, end, INFO_PERIOD_S):
            for ptype, body in bodies:
                yield (float(t), ptype, float(t), body)

    def _status_frames(self, end: float) -> Iterator[tuple]:
        for t in np.arange(STATUS_PERIOD_S / 2, end, STATUS_PERIOD_S):
            battery = sk1.Status(max(0, 95 - int(t / 120)), 3900, 0b10, 0, 0)
            yield (float(t), sk1.STATUS, float(t), sk1.status_body(battery))

    def _marker_frames(self) -> Iterator[tuple]:
        for t, text in self.rec.markers:
            yield (t, sk1.MARKER, t, sk1.marker_body(sk1.Marker(1, 0, text)))

    def _wire_frames(self) -> Iterator[tuple[float, bytes]]:
        descs = self._descs()
        lost = np.isnan(self.rec.emg).any(axis=1)  # a simulated gap: its blocks are never sent
        emg_raw = _quantise(np.nan_to_num(self.rec.emg), EMG_SCALE, 24)
        imu_raw = _quantise(self.rec.imu, np.array([ACC_SCALE] * 3 + [GYR_SCALE] * 3), 16)
        merged = heapq.merge(
            self._info_frames(descs, self.rec.duration),
            self._status_frames(self.rec.duration),
            self._blocks(descs[0], emg_raw, lost),
            self._blocks(descs[1], imu_raw),
            self._marker_frames(),
            key=lambda item: item[0],
        )
        for seq, (send_t, ptype, t_first, body) in enumerate(merged):
            yield send_t, sk1.encode_frame(ptype, seq, self._device_us(max(t_first, 0.0)), body)

    def truth_on_host_clock(self) -> dict:
        """The ground truth with every time shifted onto the host clock of the recording."""
        if self.host_start is None:
            raise RuntimeError("the simulated unit never started streaming")
        return shift_times(self.rec.truth, self.host_start)


def shift_times(obj, offset: float):
    """Copy of a truth structure with every `*_s` value (and marker time) moved by `offset`."""
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            if k.endswith("_s") and k != "duration_s" or k in ("calibration", "onsets_s"):
                out[k] = _add(v, offset)
            elif k == "markers" and isinstance(v, list):
                out[k] = [[t + offset, text] for t, text in v]
            else:
                out[k] = shift_times(v, offset)
        return out
    if isinstance(obj, list):
        return [shift_times(v, offset) for v in obj]
    return obj


def _add(v, offset: float):
    if v is None:
        return None
    if isinstance(v, dict):
        return {k: _add(x, offset) for k, x in v.items()}
    if isinstance(v, list):
        return [_add(x, offset) for x in v]
    return v + offset
