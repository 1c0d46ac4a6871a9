"""`serial://PORT?protocol=openbci`: an OpenBCI Cyton board through its USB dongle.

Start sequence as the Cyton SDK documents it: stop any stream left running (`s`),
soft reset (`v`) and wait for the banner that ends in `$$$`, then start streaming
(`b`); on close, stop (`s`). Counts become volts with the ADS1299 factor for the
configured gain (`gain=24` by default, as the board's firmware sets it); the
accelerometer (25 Hz, in the packets' auxiliary bytes) becomes m/s^2. The board
stamps no time, so the sample number, unwrapped, is its clock; packets lost on the
radio link (sample-number gaps) become NaN rows.
"""

from __future__ import annotations

import time

import numpy as np

from sensorkit.devices.base import Source, SourceStatus
from sensorkit.devices.clock import ClockMap
from sensorkit.devices.drivers.sk1 import markers_info
from sensorkit.devices.link import LinkWatch, RateMeter
from sensorkit.devices.transports.base import Transport
from sensorkit.errors import SensorkitError
from sensorkit.protocols import openbci as ob
from sensorkit.streams import EMG, IMU, Chunk, StreamInfo

G = 9.80665


class CytonDevice(Source):
    def __init__(self, transport: Transport, source_id: str, labels: tuple[str, ...] | None = None,
                 gain: int = ob.DEFAULT_GAIN, silence_s: float = 5.0, banner_s: float = 5.0) -> None:  # fmt: skip
        labels = labels or tuple(f"ch{i + 1}" for i in range(ob.N_CHANNELS))
        if len(labels) != ob.N_CHANNELS:
            raise SensorkitError(f"openbci channels: name all {ob.N_CHANNELS} (got {len(labels)})")
        self.transport, self.source_id, self.banner_s = transport, source_id, banner_s
        self.scale = ob.volts_per_count(gain)
        meta = {"protocol": "openbci-cyton", "gain": str(gain)}
        self.emg = StreamInfo("emg", EMG, labels, ("V",) * ob.N_CHANNELS, ob.RATE_HZ,
                              source_id=f"{source_id}:emg", metadata=meta)  # fmt: skip
        self.accel = StreamInfo("accel", IMU, ("acc_x", "acc_y", "acc_z"), ("m/s^2",) * 3, ob.ACCEL_RATE_HZ,
                                source_id=f"{source_id}:accel", metadata=meta)  # fmt: skip
        self.markers = markers_info(source_id)
        self.link = LinkWatch(transport, source_id, self.markers, silence_s)
        self.decoder = ob.CytonDecoder()
        self.banner = ""
        self.lost_samples = 0
        self._index = -1  # unwrapped sample number of the last packet
        self._last_sn: int | None = None
        self.clock = ClockMap()
        self._prev_end: int | None = None  # sample index after the last one delivered
        self._pending = b""
        self.meter = RateMeter()

    # ------------------------------------------------------------ start sequence
    def _handshake(self) -> None:
        """Stop, soft-reset, wait for the banner's `$$$`, start streaming."""
        self.transport.write(ob.CMD_STOP)
        self.transport.write(ob.CMD_SOFT_RESET)
        text = b""
        deadline = time.monotonic() + self.banner_s
        while ob.BANNER_END not in text:
            if time.monotonic() > deadline:
                raise SensorkitError(f"{self.source_id}: no OpenBCI reply ($$$) to a soft reset within "
                                     f"{self.banner_s:g} s: is the board on and its dongle paired?")  # fmt: skip
            text += self.transport.read(0.05)
            if not getattr(self.transport, "connected", True):
                return  # lost during the handshake: it runs again when the link is back
        before, _, after = text.partition(ob.BANNER_END)
        self.banner = before.decode("ascii", "replace").strip().splitlines()[-1:][0] if before.strip() else ""
        self.decoder.reset()
        self._last_sn = None
        self.transport.write(ob.CMD_START)
        self._pending = after

    def open(self) -> None:
        self.link.state = "connecting"
        self.transport.open()
        self._handshake()
        self.link.opened()

    # ------------------------------------------------------------ packets -> chunks
    def _chunks(self, packets: list[ob.Packet], host_s: float) -> list[Chunk]:
        idx = np.empty(len(packets), dtype=np.int64)
        for k, p in enumerate(packets):
            step = 1 if self._last_sn is None else (p.sample_number - self._last_sn - 1) % 256 + 1
            self._index += step
            self._last_sn = p.sample_number
            idx[k] = self._index
        self.clock.observe(idx[-1] / ob.RATE_HZ, host_s)
        rows = idx - idx[0]
        n = int(rows[-1]) + 1
        x = np.full((n, ob.N_CHANNELS), np.nan, dtype=np.float32)
        x[rows] = np.array([p.counts for p in packets]) * self.scale
        first = idx[0]
        if self._prev_end is not None and first > self._prev_end:  # a gap across reads
            missing = int(first - self._prev_end)
            x = np.vstack([np.full((missing, ob.N_CHANNELS), np.nan, np.float32), x])
            first = self._prev_end
        self._prev_end = int(idx[-1]) + 1
        lost = int(np.isnan(x[:, 0]).sum())
        self.lost_samples += lost
        times = self.clock.to_host(np.arange(first, first + len(x)) / ob.RATE_HZ)
        out = [Chunk(self.emg, times, x, lost=lost)]
        acc = [(i, p.accel_counts()) for i, p in zip(idx, packets, strict=True) if p.accel_counts() is not None]
        if acc:
            t = self.clock.to_host(np.array([i for i, _ in acc]) / ob.RATE_HZ)
            values = (np.array([a for _, a in acc]) * ob.ACCEL_G_PER_COUNT * G).astype(np.float32)
            out.append(Chunk(self.accel, t, values))
        return out

    def read(self, timeout: float = 0.1) -> list[Chunk]:
        data = self._pending + self.transport.read(timeout)
        self._pending = b""
        out, back = self.link.events()
        if back:  # the dongle came back: the board may be streaming or reset; start it afresh
            self.clock = ClockMap()
            self._handshake()
            self.link.gaps.expect_gap()  # the sample count restarts with the stream
            self._prev_end = None
            data = self._pending
            self._pending = b""
        if data:
            packets = self.decoder.feed(data)
            if packets:
                self.meter.count(self.decoder.stats.packets)
                out += self.link.gaps.fill(self._chunks(packets, self.transport.clock()))
        st = self.decoder.stats
        self.link.check_alive(st.packets, st.bytes, st.garbage_bytes, "OpenBCI")
        return out

    def close(self) -> None:
        self.link.close(lambda: self.transport.write(ob.CMD_STOP))

    def streams(self) -> list[StreamInfo]:
        return [self.emg, self.accel, self.markers]

    def status(self) -> SourceStatus:
        st = self.decoder.stats
        return SourceStatus(self.link.state, st.packets, self.meter.per_s, 0, st.lost_packets, self.lost_samples)


def open_cyton(transport: Transport, source_id: str, params: dict[str, str], silence_s: float) -> CytonDevice:
    """A Cyton from `serial://` parameters: `channels=label,...` (8) and `gain=` (1-24)."""
    labels = tuple(c.strip() for c in params.pop("channels").split(",")) if "channels" in params else None
    text = params.pop("gain", str(ob.DEFAULT_GAIN))
    try:
        gain = int(text)
        ob.volts_per_count(gain)
    except ValueError:
        raise SensorkitError(f"openbci gain={text!r}: choose one of {', '.join(map(str, ob.GAINS))}") from None
    return CytonDevice(transport, source_id, labels, gain, silence_s)
