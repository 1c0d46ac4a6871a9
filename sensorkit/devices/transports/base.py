"""What a driver needs of a transport: bytes in and out, nothing of their meaning."""

from __future__ import annotations

from typing import Protocol


class Transport(Protocol):
    """Moves bytes; knows nothing of their meaning.

    `read` returns whatever arrived within `timeout` seconds (maybe nothing);
    `clock` is the host time (s, the monotonic clock every timestamp uses) at which
    the last bytes arrived; `events` returns the link events since the last call,
    ("disconnected" | "reconnected" | "other_unit", host time), so a driver can mark the
    gap ("other_unit": another device came up where ours was, and was not taken); a
    finite transport (a simulated unit that has played its recording) sets `finished`.
    """

    finished: bool

    def open(self) -> None: ...
    def read(self, timeout: float) -> bytes: ...
    def write(self, data: bytes) -> None: ...
    def close(self) -> None: ...
    def clock(self) -> float: ...
    def events(self) -> list[tuple[str, float]]: ...
