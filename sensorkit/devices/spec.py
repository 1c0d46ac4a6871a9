"""Device spec strings: one URL-like string picks a source (DESIGN.md section 5).

`sim://single_leg_squat?glute_delay_ms=120`, `file://recordings/before.xdf?speed=1`,
`serial:///dev/ttyUSB0?protocol=sk1`, `ble://name=Myo?protocol=myo`, `lsl://type=EMG`. As with
pyserial's URL handlers, each scheme is one module with an `open_*` function.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl

from sensorkit.devices.base import Source
from sensorkit.errors import SensorkitError

SUPPORTED = ("sim", "file", "serial", "ble", "lsl")


@dataclass(frozen=True)
class DeviceSpec:
    scheme: str
    target: str
    params: dict[str, str]


def parse_spec(text: str) -> DeviceSpec:
    """Split `scheme://target?key=value&...` into its parts."""
    scheme, sep, rest = text.partition("://")
    if not sep or not scheme:
        raise SensorkitError(
            f"device {text!r} is not a spec like sim://session or file://rec.xdf"
        )
    target, _, query = rest.partition("?")
    try:
        params = dict(parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query)))
    except ValueError:
        raise SensorkitError(f"device {text!r}: cannot read parameters {query!r}") from None
    return DeviceSpec(scheme.lower(), target, params)


def open_device(text: str) -> Source:
    """The (not yet opened) Source a spec string names."""
    spec = parse_spec(text)
    if spec.scheme == "sim":
        from sensorkit.devices.sim import open_sim

        return open_sim(spec.target or "session", spec.params)
    if spec.scheme == "file":
        from sensorkit.devices.replay import open_replay

        return open_replay(spec.target, spec.params)
    if spec.scheme == "serial":
        from sensorkit.devices.serial_port import open_serial

        return open_serial(spec.target, spec.params)
    if spec.scheme == "ble":
        from sensorkit.devices.ble_devices import open_ble

        return open_ble(spec.target, spec.params)
    if spec.scheme == "lsl":
        from sensorkit.devices.lsl import open_lsl

        return open_lsl(spec.target, spec.params)
    raise SensorkitError(f"unknown device scheme {spec.scheme!r} in {text!r}; "
                         f"supported: {', '.join(s + '://' for s in SUPPORTED)}")  # fmt: skip
