"""What every source of chunks offers: devices, the simulator, file replay, LSL."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from sensorkit.streams import Chunk, StreamInfo


@dataclass
class SourceStatus:
    """Driver health, shown by the CLI and the GUI."""

    state: str = "closed"  # connecting, connected, reconnecting, finished, closed
    frames: int = 0
    frames_per_s: float = 0.0
    crc_errors: int = 0
    lost_packets: int = 0
    lost_samples: int = 0
    battery_percent: int | None = None  # where the device reports it
    detail: str | None = None  # in place of the wire's figures, for a source without a wire (a file replayed)

    def line(self) -> str:
        battery = f", battery {self.battery_percent}%" if self.battery_percent is not None else ""
        if self.detail is not None:
            return f"{self.state}, {self.detail}{battery}"
        return (f"{self.state}, {self.frames_per_s:.0f} frames/s, {self.crc_errors} CRC errors, "
                f"{self.lost_packets} lost packets, {self.lost_samples} lost samples{battery}")  # fmt: skip


class Source(ABC):
    """A source of timestamped chunks. `read` returns whatever arrived (maybe nothing)
    within `timeout` seconds; a finite source sets `finished` when it has no more."""

    finished: bool = False

    def __enter__(self) -> Source:
        self.open()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @abstractmethod
    def open(self) -> None: ...

    @abstractmethod
    def read(self, timeout: float = 0.1) -> list[Chunk]: ...

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def streams(self) -> list[StreamInfo]:
        """Streams known so far (devices learn theirs from the wire)."""

    @abstractmethod
    def status(self) -> SourceStatus: ...
