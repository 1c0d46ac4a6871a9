"""Device spec strings: one URL-like string picks a source (DESIGN.md section 5).

`sim://single_leg_squat?glute_delay_ms=120`, `file://recordings/before.xdf?speed=1`,
`serial:///dev/ttyUSB0?protocol=sk1`, `ble://name=Myo?protocol=myo`, `lsl://type=EMG`. As with
pyserial's URL handlers, each scheme is one module in `devices/schemes/` with an `open_*`
function, listed in `SCHEMES`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from urllib.parse import parse_qsl

from sensorkit.devices.base import Source
from sensorkit.errors import SensorkitError

# scheme -> (module, its opener(target, params) -> Source, the target when the spec gives none).
# A new scheme is one module in devices/schemes/ and one line here.
SCHEMES: dict[str, tuple[str, str, str]] = {
    "sim": ("sensorkit.devices.schemes.sim", "open_sim", "session"),
    "file": ("sensorkit.devices.schemes.file", "open_replay", ""),
    "serial": ("sensorkit.devices.schemes.serial", "open_serial", ""),
    "ble": ("sensorkit.devices.schemes.ble", "open_ble", ""),
    "lsl": ("sensorkit.devices.schemes.lsl", "open_lsl", ""),
}
SUPPORTED = tuple(SCHEMES)


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
    entry = SCHEMES.get(spec.scheme)
    if entry is None:
        raise SensorkitError(f"unknown device scheme {spec.scheme!r} in {text!r}; "
                             f"supported: {', '.join(s + '://' for s in SCHEMES)}")  # fmt: skip
    module, function, default_target = entry
    opener = getattr(importlib.import_module(module), function)  # imported on use: --help stays fast
    return opener(spec.target or default_target, spec.params)
