"""The byte transport of an sk1 unit on Bluetooth LE: notifications carry whole sk1 frames
(firmware_protocols/sk1/PROTOCOL.md section 4), put back in sequence-number order;
commands are written to the control characteristic."""

from __future__ import annotations

import cobs.cobs as cobs

from sensorkit.devices.transports.ble import BleBackend, BleLink
from sensorkit.protocols import sk1


def _first_seq(payload: bytes) -> int | None:
    """Sequence number of the first frame in a notification (None if it is not a frame)."""
    try:
        raw = cobs.decode(payload.split(b"\x00", 1)[0])
        return sk1.HEADER.unpack_from(raw)[2]
    except (cobs.DecodeError, Exception):
        return None


class Sk1BleTransport:
    """The byte transport of an sk1 unit on BLE (see `transports.base.Transport`)."""

    def __init__(self, target: str, backend: BleBackend | None = None) -> None:
        self.link = BleLink(target, [sk1.BLE_DATA_UUID], backend)
        self._last_seq: int | None = None

    @property
    def connected(self) -> bool:
        return self.link.connected

    def open(self) -> None:
        self.link.open()

    def events(self) -> list[tuple[str, float]]:
        return self.link.events()

    def read(self, timeout: float) -> bytes:
        items = self.link.read(timeout)
        if not items:
            return b""
        # a notification overtaken by a later one in the same read is put back in its place
        ref = self._last_seq if self._last_seq is not None else _first_seq(items[0][1])
        keyed = []
        for k, (_, payload, _) in enumerate(items):
            seq = _first_seq(payload)
            keyed.append((k if seq is None or ref is None else (seq - ref) % 65536, k, payload))
        keyed.sort(key=lambda x: (x[0] if x[0] < 32768 else x[0] - 65536, x[1]))
        last = _first_seq(keyed[-1][2])
        self._last_seq = last if last is not None else self._last_seq
        return b"".join(p for _, _, p in keyed)

    def write(self, data: bytes) -> None:
        self.link.write(sk1.BLE_CONTROL_UUID, data, response=False)

    def clock(self) -> float:
        return self.link.clock()

    def close(self) -> None:
        self.link.close()
