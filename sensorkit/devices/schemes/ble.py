"""`ble://ADDRESS_OR_name=NAME?protocol=sk1|myo`: sensors on Bluetooth LE.

- sk1: notifications carry whole sk1 frames (firmware_protocols/sk1/PROTOCOL.md
  section 4); they go, in sequence-number order, to the same decoder as serial
  bytes, and commands are written to the control characteristic.
- myo: the Myo armband (firmware_protocols/myo/PROTOCOL.md): sleep off and raw EMG
  + IMU on at every connection; the four EMG characteristics take turns, so a
  notification that arrives out of turn is held until its predecessors come (or
  are given up as lost: NaN rows).
"""

from __future__ import annotations

from sensorkit.devices.base import Source
from sensorkit.devices.drivers.myo import MyoDevice
from sensorkit.devices.drivers.sk1 import Sk1Device
from sensorkit.devices.params import pop_number
from sensorkit.devices.transports.ble import BleBackend
from sensorkit.devices.transports.sk1_ble import Sk1BleTransport
from sensorkit.errors import SensorkitError


def open_ble(target: str, params: dict[str, str], backend: BleBackend | None = None) -> Source:
    """The (not yet opened) Source for `ble://target?protocol=sk1|myo`."""
    params = dict(params)
    if not target and "name" in params:  # ble://?name=X and ble://name=X both name the device
        target = f"name={params.pop('name')}"
    protocol = params.pop("protocol", "sk1")
    silence = pop_number(params, "timeout", 5.0, "ble", positive=True)
    if params:
        raise SensorkitError(f"unknown ble parameter(s): {', '.join(sorted(params))}")
    source_id = f"ble:{target}"
    if protocol == "sk1":
        return Sk1Device(Sk1BleTransport(target, backend), source_id, silence_s=silence)
    if protocol == "myo":
        return MyoDevice(target, source_id, backend, silence)
    raise SensorkitError(f"ble protocol {protocol!r} is unknown; choose from sk1, myo")
