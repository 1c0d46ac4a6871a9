"""`sim://SCENARIO?...`: a simulated patient wired to a simulated sk1 unit (`virtual/sk1.py`),
read by the ordinary sk1 driver, so the whole path from bytes to chunks is exercised."""

from __future__ import annotations

import dataclasses

import numpy as np

from sensorkit.devices.drivers.sk1 import Sk1Device
from sensorkit.devices.virtual.sk1 import SimFirmware
from sensorkit.errors import SensorkitError
from sensorkit.sim import SCENARIOS, Dosage, SimConfig, simulate

# ------------------------------------------------------------ spec parameters

_DOSE_FIELDS = {f.name: f.type for f in dataclasses.fields(Dosage)}
_CONFIG_FIELDS = {
    f.name: f.type for f in dataclasses.fields(SimConfig) if f.name not in ("dose", "scenario", "rise_ms")
}  # rise_ms (a range) is the benchmarks' knob, set from Python
DEVICE_PARAMS = {"speed": "float", "drift_ppm": "float"}


def _convert(name: str, kind, text: str):
    kind = str(kind)
    try:
        if "bool" in kind:
            if text.lower() not in ("1", "0", "true", "false", "yes", "no"):
                raise ValueError
            return text.lower() in ("1", "true", "yes")
        if "int" in kind and "float" not in kind:
            return int(text)
        if "float" in kind:
            value = float(text)
            if not np.isfinite(value):  # inf speed or NaN dose: NaN timestamps downstream
                raise ValueError
            return value
        if "tuple" in kind:
            return tuple(p.strip() for p in text.split(",") if p.strip())
    except ValueError:
        raise SensorkitError(f"sim parameter {name}={text!r} is not a valid {kind}") from None
    return text


def sim_config(scenario: str, params: dict[str, str]) -> tuple[SimConfig, dict[str, float]]:
    """A SimConfig and device options from a `sim://` spec's scenario and parameters."""
    if scenario not in SCENARIOS:
        raise SensorkitError(f"unknown sim scenario {scenario!r}; choose from {', '.join(SCENARIOS)}")
    dose, cfg, dev = {}, {}, {"speed": 1.0, "drift_ppm": 0.0}
    for name, text in params.items():
        if name in _DOSE_FIELDS:
            dose[name] = _convert(name, _DOSE_FIELDS[name], text)
        elif name in _CONFIG_FIELDS:
            cfg[name] = _convert(name, _CONFIG_FIELDS[name], text)
        elif name in DEVICE_PARAMS:
            dev[name] = _convert(name, DEVICE_PARAMS[name], text)
        else:
            known = sorted(set(_DOSE_FIELDS) | set(_CONFIG_FIELDS) | set(DEVICE_PARAMS))
            raise SensorkitError(f"unknown sim parameter {name!r}; known: {', '.join(known)}")
    if "muscles" in cfg and not 1 <= len(cfg["muscles"]) <= 16:
        raise SensorkitError("sim muscles: give 1 to 16 comma-separated labels")
    if dev["speed"] < 0:
        raise SensorkitError("sim speed must be >= 0 (0 = as fast as possible)")
    try:
        return SimConfig(scenario=scenario, dose=Dosage(**dose), **cfg), dev
    except ValueError as exc:
        raise SensorkitError(f"sim: {exc}") from None


def open_sim(scenario: str, params: dict[str, str]) -> Sk1Device:
    """The Source for `sim://SCENARIO?params`."""
    cfg, dev = sim_config(scenario, params)
    firmware = SimFirmware(simulate(cfg), speed=dev["speed"], drift_ppm=dev["drift_ppm"])
    return Sk1Device(firmware, source_id=f"sim-{scenario}-{cfg.seed}")
