"""Which spec to try for a serial port, from the USB identity of the boards sensorkit reads
(`sensorkit devices`, and the monitor window's device list)."""

from __future__ import annotations

from sensorkit.devices.transports.serial import PortInfo

# USB identities of boards sensorkit can read, and the spec that reads them
KNOWN_USB = {
    (0x0403, 0x6015): "OpenBCI dongle? serial://{port}?protocol=openbci",  # FTDI FT231X
    (0x2341, None): "Arduino: serial://{port}?protocol=csv&rate=...&columns=...",
    (0x2A03, None): "Arduino: serial://{port}?protocol=csv&rate=...&columns=...",
    (0x1A86, 0x7523): "CH340 (Arduino clone): serial://{port}?protocol=csv&rate=...&columns=...",
}  # fmt: skip


def guess(port: PortInfo) -> str:
    """What a port probably is, as a spec to try; '' when unknown."""
    for (vid, pid), hint in KNOWN_USB.items():
        if port.vid == vid and (pid is None or port.pid == pid):
            return hint.format(port=port.device)
    return ""
