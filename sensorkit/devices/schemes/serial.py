"""`serial://PORT?protocol=sk1|openbci|csv&baud=...&serial=...&timeout=5`: a unit on a serial port.

PORT is a path (`/dev/ttyUSB0`, `COM3`, a udev symlink) or a USB `VID:PID` (with
`serial=` its serial number when several are plugged in); the protocol picks the
driver that reads the bytes; a device that sends no valid data for `timeout`
seconds after opening is an error.
"""

from __future__ import annotations

from sensorkit.devices.base import Source
from sensorkit.devices.params import pop_number
from sensorkit.devices.transports.serial import SerialTransport
from sensorkit.errors import SensorkitError

PROTOCOLS = ("sk1", "openbci", "csv")
DEFAULT_BAUD = {"sk1": 921600, "openbci": 115200, "csv": 115200}


def open_serial(target: str, params: dict[str, str]) -> Source:
    """The (not yet opened) Source for `serial://target?params`."""
    params = dict(params)
    if not target:
        raise SensorkitError("serial:// needs a port, e.g. serial:///dev/ttyUSB0 or serial://COM3")
    protocol = params.pop("protocol", "sk1")
    if protocol not in PROTOCOLS:
        raise SensorkitError(f"serial protocol {protocol!r} is unknown; choose from {', '.join(PROTOCOLS)}")
    baud = pop_number(params, "baud", DEFAULT_BAUD[protocol], "serial", positive=True)
    if baud != int(baud):
        raise SensorkitError(f"serial baud={baud:g} is not a baud rate")
    transport = SerialTransport(target, int(baud), params.pop("serial", None))
    source_id = f"serial:{target}"
    silence = pop_number(params, "timeout", 5.0, "serial", positive=True)
    if protocol == "sk1":
        from sensorkit.devices.drivers.sk1 import Sk1Device

        device: Source = Sk1Device(transport, source_id, silence_s=silence)
    elif protocol == "openbci":
        from sensorkit.devices.drivers.openbci import open_cyton

        device = open_cyton(transport, source_id, params, silence)
    else:
        from sensorkit.devices.drivers.csv_lines import open_csv_lines

        device = open_csv_lines(transport, source_id, params, silence)
    if params:
        raise SensorkitError(f"unknown serial parameter(s) for {protocol}: {', '.join(sorted(params))}")
    return device
