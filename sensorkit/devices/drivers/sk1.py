"""An sk1 unit on any byte transport: bytes -> frames (protocol) -> chunks (data model).

The same class serves the simulated unit now and serial/BLE units later; only the
transport differs.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import numpy as np

from sensorkit.devices.base import Source, SourceStatus
from sensorkit.devices.clock import ClockMap, DeviceClock
from sensorkit.devices.link import LinkWatch, RateMeter
from sensorkit.devices.transports.base import Transport
from sensorkit.protocols import sk1
from sensorkit.streams import EMG, IMU, MARKERS, Chunk, StreamInfo

KIND_NAMES = {sk1.KIND_EMG: EMG, sk1.KIND_IMU: IMU}
_BLOCK_HEADER = sk1.BLOCK_HEADER.unpack_from
_BLOCK_SIZE = sk1.BLOCK_HEADER.size
MAX_GAP_S = 3600.0  # index jumps longer than this are restarts, not losses
REBOOT_S = 1.0  # a device clock this far behind its latest time has restarted (frames arrive in order)


@dataclass
class _Stream:
    desc: sk1.StreamDesc
    info: StreamInfo | None = None
    scales: np.ndarray | None = None
    next_index: int | None = None
    blocks: list[tuple[float, int, int, bytes]] = field(default_factory=list)  # time, first, n, raw

    @property
    def layout(self) -> tuple[int, int]:
        return self.desc.fmt, self.desc.n_channels

    @property
    def sample_bytes(self) -> int:
        return sk1.FORMAT_BYTES[self.desc.fmt] * self.desc.n_channels


def markers_info(source_id: str) -> StreamInfo:
    return StreamInfo("markers", MARKERS, ("marker",), ("",), 0.0, source_id=f"{source_id}:markers",
                      channel_format="string")  # fmt: skip


class Sk1Assembler:
    """Turns decoded sk1 frames into chunks on the host clock, with NaN rows for lost samples."""

    def __init__(self, source_id: str) -> None:
        self.source_id = source_id
        self.device: sk1.DeviceInfo | None = None
        self.last_status: sk1.Status | None = None
        self.clock = ClockMap()
        self._device_clock = DeviceClock()
        self._streams: dict[int, _Stream] = {}
        self.markers = markers_info(source_id)
        self._marker_times: list[tuple[float, str]] = []
        self.lost_samples = 0
        self._latest_s = -np.inf  # latest device time seen (s)
        self.blocks_before_info = 0
        self.malformed = 0

    def streams(self) -> list[StreamInfo]:
        return [s.info for s in self._streams.values() if s.info is not None] + [self.markers]

    def restart_clock(self) -> None:
        """The unit's clock restarted (a reboot): map it afresh."""
        self.clock = ClockMap()
        self._device_clock = DeviceClock()
        self._latest_s = -np.inf

    def process(self, frames: list[sk1.Frame], host_s: float) -> list[Chunk]:
        """Chunks for frames received (all) at host time `host_s`."""
        latest = None
        for f in frames:
            try:
                sent_s = self._frame(f)
            except (ValueError, KeyError, IndexError, UnicodeDecodeError, struct.error):
                self.malformed += 1  # valid CRC, invalid content: a firmware bug
                continue
            latest = sent_s if latest is None else max(latest, sent_s)
        if latest is not None:
            # frames of one read share `host_s`, so only the latest one can tighten the
            # lower envelope of (host - device): one observation per read is enough
            self.clock.observe(latest, host_s)
        return self._flush()

    def _frame(self, f: sk1.Frame) -> float:
        """Handle one frame; returns the device time (s) at which it was sent."""
        dev_s = self._device_clock.seconds(f.device_time_us)
        if dev_s < self._latest_s - REBOOT_S:  # the unit's clock started again: it rebooted
            self.restart_clock()
            dev_s = self._device_clock.seconds(f.device_time_us)
        self._latest_s = max(self._latest_s, dev_s)
        if f.type == sk1.EMG_BLOCK or f.type == sk1.IMU_BLOCK:
            sid, fmt, n_ch, n, first = _BLOCK_HEADER(f.body)
            st = self._streams.get(sid)
            if st is None or st.info is None:
                self.blocks_before_info += 1
            elif (fmt, n_ch) != st.layout or len(f.body) != _BLOCK_SIZE + n * st.sample_bytes:
                raise ValueError("sample block does not match its stream's layout")
            else:
                # values are converted for all blocks of a read at once (see _stream_chunk)
                st.blocks.append((dev_s, first, n, f.body[_BLOCK_SIZE:]))
                return dev_s + (n - 1) / st.desc.rate
        elif f.type == sk1.STREAM_INFO:
            self._stream_info(f.body)
        elif f.type == sk1.DEVICE_INFO:
            self.device = sk1.parse_device_info(f.body)
        elif f.type == sk1.MARKER:
            self._marker_times.append((dev_s, sk1.parse_marker(f.body).label()))
        elif f.type == sk1.STATUS:
            self.last_status = sk1.parse_status(f.body)
        return dev_s

    def _stream_info(self, body: bytes) -> None:
        part, _ = sk1.parse_stream_info(body)
        st = self._streams.get(part.stream_id)
        if st is None or (st.desc.n_channels, st.desc.fmt) != (part.n_channels, part.fmt):
            st = self._streams[part.stream_id] = _Stream(part)
        else:
            st.desc.channels.update(part.channels)
        if st.info is None and st.desc.complete:
            d = st.desc
            chans = [d.channels[i] for i in range(d.n_channels)]
            meta = {"protocol": "sk1"}
            if self.device is not None:
                meta |= {"device": self.device.name, "serial": str(self.device.serial),
                         "firmware": ".".join(map(str, self.device.firmware))}  # fmt: skip
            st.info = StreamInfo(
                d.name, KIND_NAMES.get(d.kind, "Misc"), tuple(c.label for c in chans),
                tuple(c.unit for c in chans), d.rate, source_id=f"{self.source_id}:{d.stream_id}",
                metadata=meta,
            )  # fmt: skip
            st.scales = d.scales()

    def _flush(self) -> list[Chunk]:
        chunks = []
        for st in self._streams.values():
            if st.blocks:
                chunks.append(self._stream_chunk(st))
                st.blocks = []
        if self._marker_times:
            dev = np.array([t for t, _ in self._marker_times])
            labels = np.array([[m] for _, m in self._marker_times], dtype=object)
            chunks.append(Chunk(self.markers, self.clock.to_host(dev), labels))
            self._marker_times = []
        return chunks

    def _stream_chunk(self, st: _Stream) -> Chunk:
        rate, n_ch, blocks = st.desc.rate, st.desc.n_channels, st.blocks
        values = sk1.decode_values(b"".join(b[3] for b in blocks), st.desc.fmt, n_ch)
        scaled = (values * st.scales).astype(np.float32)
        dev = np.array([b[0] for b in blocks])
        first = np.array([b[1] for b in blocks], dtype=np.int64)
        ns = np.array([b[2] for b in blocks], dtype=np.int64)
        prev_end = np.empty_like(first)
        prev_end[0] = first[0] if st.next_index is None else st.next_index
        prev_end[1:] = first[:-1] + ns[:-1]
        gaps = (first - prev_end) % (1 << 32)
        gaps[gaps > MAX_GAP_S * rate] = 0  # restart or reordering: no NaN rows
        st.next_index = int((first[-1] + ns[-1]) % (1 << 32))
        rows = ns + gaps
        starts = np.cumsum(rows) - rows + gaps  # row of each block's first real sample
        # sample j of the output is at its block's device time + (j - block start) / rate
        t = np.repeat(dev - starts / rate, rows) + np.arange(int(rows.sum())) / rate
        lost = int(gaps.sum())
        if lost:
            x = np.full((len(t), n_ch), np.nan, np.float32)
            real = np.repeat(starts, ns) + np.arange(len(scaled)) - np.repeat(np.cumsum(ns) - ns, ns)
            x[real] = scaled
        else:
            x = scaled
        self.lost_samples += lost
        return Chunk(st.info, self.clock.to_host(t), x, lost=lost)


class Sk1Device(Source):
    """An sk1 unit reached through `transport` (serial, BLE or the simulator's firmware).

    A transport that can lose its link (serial, BLE) reports it through `events()`;
    the device then marks the loss and the return in its markers stream, starts the
    unit again on a fresh clock, and fills the silence with NaN rows (`LinkWatch`).
    """

    def __init__(self, transport: Transport, source_id: str, silence_s: float = 5.0) -> None:
        self.transport = transport
        self.source_id = source_id
        self.decoder = sk1.Decoder()
        self.assembler = Sk1Assembler(source_id)
        self.link = LinkWatch(transport, source_id, self.assembler.markers, silence_s)
        self._seq = 0
        self.meter = RateMeter()

    @property
    def finished(self) -> bool:  # type: ignore[override]
        return bool(getattr(self.transport, "finished", False))

    def _command(self, command: int, args: bytes = b"") -> None:
        frame = sk1.encode_frame(sk1.COMMAND, self._seq, 0, sk1.command_body(command, args))
        self._seq += 1
        self.transport.write(frame)

    def open(self) -> None:
        self.link.state = "connecting"
        self.transport.open()
        self._command(sk1.CMD_SEND_INFO)
        self._command(sk1.CMD_START)
        self.link.opened()

    def read(self, timeout: float = 0.1) -> list[Chunk]:
        data = self.transport.read(timeout)
        out, back = self.link.events()
        if back:  # forget the partial frame; start the unit again (a reboot shows in its clock)
            self.decoder.reset()
            self._command(sk1.CMD_SEND_INFO)
            self._command(sk1.CMD_START)
        st = self.decoder.stats
        if data:
            frames = self.decoder.feed(data)
            self.meter.count(st.frames)
            out += self.link.gaps.fill(self.assembler.process(frames, self.transport.clock()))
        self.link.check_alive(st.frames, st.bytes, st.crc_errors, "sk1")
        return out

    def close(self) -> None:
        self.link.close(lambda: self._command(sk1.CMD_STOP))

    def streams(self) -> list[StreamInfo]:
        return self.assembler.streams()

    def status(self) -> SourceStatus:
        st = self.decoder.stats
        state = "finished" if self.finished else self.link.state
        last = self.assembler.last_status
        battery = None if last is None or last.battery_percent == 255 else int(last.battery_percent)  # 255: unknown
        return SourceStatus(state, st.frames, self.meter.per_s, st.crc_errors, st.lost_packets,
                            self.assembler.lost_samples, battery)  # fmt: skip
