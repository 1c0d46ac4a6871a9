"""`serial://PORT?protocol=csv&rate=...&columns=...`: text lines from a microcontroller sketch.

A typical Arduino + MyoWare + MPU-6050 sketch prints one line per sample, such as
`123456,512,498,-312,45,16201,12,-7,3`. The user says what each column is and at
what rate lines come, as parameters or in a montage file (`montage=FILE.json`
with the same keys):

- `columns`: comma-separated, one per field: `time` (the board's clock, unit
  `time_unit` = ms | us | s, default ms), `emg:LABEL` (an EMG channel, e.g.
  `emg:glute_med_L`), `acc_x` ... `gyr_z` (the IMU), or `-` (ignored);
- `rate`: lines per second (Hz);
- `emg_scale` (V per count, default 5/1023: a 10-bit ADC at 5 V) and `emg_offset`
  (counts at 0 V, default 0); `acc_scale` (m/s^2 per count, default an MPU-6050 at
  +-2 g: 9.80665/16384) and `gyr_scale` (rad/s per count, default +-250 deg/s:
  1/131 deg/s).

Lines that do not parse (a reset message, a line cut by the port opening, noise)
are counted and skipped. With a `time` column, jumps in the board's clock become
NaN rows; without one, the line count at `rate` is the board's clock.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from sensorkit.devices.base import Source, SourceStatus
from sensorkit.devices.clock import ClockMap
from sensorkit.devices.drivers.sk1 import markers_info
from sensorkit.devices.link import LinkWatch, RateMeter
from sensorkit.devices.params import pop_number
from sensorkit.devices.transports.base import Transport
from sensorkit.errors import SensorkitError
from sensorkit.protocols.text_lines import LineParser
from sensorkit.streams import EMG, IMU, IMU_CHANNELS, Chunk, StreamInfo

TIME_UNITS = {"ms": 1e-3, "us": 1e-6, "s": 1.0}
DEFAULTS = {"emg_scale": 5.0 / 1023, "emg_offset": 0.0, "acc_scale": 9.80665 / 16384,
            "gyr_scale": np.radians(1 / 131)}  # fmt: skip


class CsvLinesDevice(Source):
    def __init__(self, transport: Transport, source_id: str, columns: list[str], rate: float,
                 scales: dict[str, float], time_unit: str = "ms", silence_s: float = 5.0) -> None:  # fmt: skip
        self.transport, self.source_id, self.rate, self.columns = transport, source_id, rate, columns
        self.emg_cols = [i for i, c in enumerate(columns) if c.startswith("emg:")]
        self.imu_cols = [columns.index(c) for c in IMU_CHANNELS if c in columns]
        self.time_col = columns.index("time") if "time" in columns else None
        self.time_scale = TIME_UNITS[time_unit]
        self.scales = scales
        meta = {"protocol": "csv-lines"}
        self.emg = StreamInfo("emg", EMG, tuple(columns[i][4:] for i in self.emg_cols), ("V",) * len(self.emg_cols),
                              rate, source_id=f"{source_id}:emg", metadata=meta) if self.emg_cols else None  # fmt: skip
        imu_labels = tuple(columns[i] for i in self.imu_cols)
        self.imu = StreamInfo("pelvis", IMU, imu_labels, tuple("m/s^2" if c.startswith("acc") else "rad/s"
                              for c in imu_labels), rate, source_id=f"{source_id}:imu",
                              metadata=meta) if self.imu_cols else None  # fmt: skip
        self.markers = markers_info(source_id)
        self.link = LinkWatch(transport, source_id, self.markers, silence_s)
        self.clock = ClockMap()
        self.parser = LineParser(len(columns))
        self.lost_samples = 0
        self._count = 0  # lines accepted (the clock without a time column)
        self._last_t: float | None = None
        self._bytes = 0
        self.meter = RateMeter()

    def open(self) -> None:
        self.link.state = "connecting"
        self.transport.open()
        self.link.opened()

    def _device_times(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Board times (s) of the rows, and of every sample slot including missed ones (NaN rows)."""
        if self.time_col is None:
            t = (self._count + np.arange(len(rows))) / self.rate
            self._count += len(rows)
            return t, np.arange(len(rows))
        t = rows[:, self.time_col] * self.time_scale
        start = self._last_t if self._last_t is not None else t[0] - 1 / self.rate
        rel = np.maximum(np.round((t - start) * self.rate).astype(np.int64), 1)  # 1: the next slot
        k = np.arange(len(rel))
        rel = np.maximum.accumulate(rel - k) + k  # one row per slot, in order
        self._last_t = float(t[-1])
        return t, rel - 1

    def _chunks(self, rows: np.ndarray, host_s: float) -> list[Chunk]:
        t, slots = self._device_times(rows)
        self.clock.observe(float(t[-1]), host_s)
        n = int(slots[-1]) + 1
        first_t = t[0] - slots[0] / self.rate
        times = self.clock.to_host(first_t + np.arange(n) / self.rate)
        lost = n - len(rows)
        self.lost_samples += lost
        out = []
        for info, cols, convert in ((self.emg, self.emg_cols, self._emg_volts),
                                    (self.imu, self.imu_cols, self._imu_si)):  # fmt: skip
            if info is None:
                continue
            x = np.full((n, len(cols)), np.nan, dtype=np.float32)
            x[slots] = convert(rows[:, cols])
            out.append(Chunk(info, times, x, lost=lost))
        return out

    def _emg_volts(self, counts: np.ndarray) -> np.ndarray:
        return (counts - self.scales["emg_offset"]) * self.scales["emg_scale"]

    def _imu_si(self, counts: np.ndarray) -> np.ndarray:
        labels = [self.columns[i] for i in self.imu_cols]
        factor = np.array([self.scales["acc_scale" if c.startswith("acc") else "gyr_scale"] for c in labels])
        return counts * factor

    def read(self, timeout: float = 0.1) -> list[Chunk]:
        data = self.transport.read(timeout)
        out, back = self.link.events()
        if back:  # a reset board restarts its clock: map it afresh
            self.clock, self._last_t = ClockMap(), None
            self.parser.reset()
        self._bytes += len(data)
        rows = self.parser.feed(data) if data else np.zeros((0, len(self.columns)))
        if len(rows):
            self.meter.count(self.parser.lines)
            out += self.link.gaps.fill(self._chunks(rows, self.transport.clock()))
        good = self.parser.lines - self.parser.malformed
        self.link.check_alive(good, self._bytes, self.parser.malformed, "text-line")
        return out

    def close(self) -> None:
        self.link.close()  # such sketches take no commands

    def streams(self) -> list[StreamInfo]:
        return [s for s in (self.emg, self.imu) if s is not None] + [self.markers]

    def status(self) -> SourceStatus:
        return SourceStatus(self.link.state, self.parser.lines, self.meter.per_s, self.parser.malformed, 0,
                            self.lost_samples)  # fmt: skip


def open_csv_lines(transport: Transport, source_id: str, params: dict[str, str], silence_s: float) -> CsvLinesDevice:
    """A text-line device from `serial://` parameters or a montage file (`montage=FILE.json`)."""
    if "montage" in params:
        path = params.pop("montage")
        try:
            loaded = json.loads(Path(path).read_text())
        except (OSError, ValueError) as exc:
            raise SensorkitError(f"cannot read montage {path}: {exc}") from None
        params.update({k: ",".join(v) if isinstance(v, list) else str(v) for k, v in loaded.items()
                       if k not in params})  # fmt: skip
    columns = [c.strip() for c in params.pop("columns", "").split(",") if c.strip()]
    known = {"time", "-", *IMU_CHANNELS}
    bad = [c for c in columns if c not in known and not (c.startswith("emg:") and len(c) > 4)]
    if not columns or bad:
        raise SensorkitError("csv columns=...: name each field time, emg:LABEL, acc_x ... gyr_z or -"
                             + (f" (not understood: {', '.join(bad)})" if bad else ""))  # fmt: skip
    if not any(c.startswith("emg:") or c in IMU_CHANNELS for c in columns):
        raise SensorkitError("csv columns=...: no EMG or IMU column to record")
    rate = pop_number(params, "rate", None, "csv", positive=True)
    time_unit = params.pop("time_unit", "ms")
    if time_unit not in TIME_UNITS:
        raise SensorkitError(f"csv time_unit={time_unit!r}: use ms, us or s")
    scales = {k: pop_number(params, k, v, "csv") for k, v in DEFAULTS.items()}
    return CsvLinesDevice(transport, source_id, columns, rate, scales, time_unit, silence_s)
