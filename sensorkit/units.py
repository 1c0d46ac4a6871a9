"""Units other software writes, and their conversion to sensorkit's SI units (DESIGN.md 4)."""

import numpy as np

# unit spellings other software writes -> (SI unit, factor)
UNIT_FACTORS = {
    "v": ("V", 1.0), "volt": ("V", 1.0), "volts": ("V", 1.0),
    "mv": ("V", 1e-3), "millivolt": ("V", 1e-3), "millivolts": ("V", 1e-3),
    "uv": ("V", 1e-6), "µv": ("V", 1e-6), "μv": ("V", 1e-6), "microvolt": ("V", 1e-6),
    "microvolts": ("V", 1e-6),
    "m/s^2": ("m/s^2", 1.0), "m/s2": ("m/s^2", 1.0), "m/s**2": ("m/s^2", 1.0),
    "m s-2": ("m/s^2", 1.0), "g": ("m/s^2", 9.80665),
    "rad/s": ("rad/s", 1.0), "rad s-1": ("rad/s", 1.0),
    "deg/s": ("rad/s", np.pi / 180), "dps": ("rad/s", np.pi / 180), "°/s": ("rad/s", np.pi / 180),
    "t": ("T", 1.0), "ut": ("T", 1e-6), "µt": ("T", 1e-6), "gauss": ("T", 1e-4),
}  # fmt: skip


def to_si(unit: str) -> tuple[str, float]:
    """(SI unit, factor) for a unit as written by some recording system; unknown ones unchanged."""
    return UNIT_FACTORS.get(unit.strip().lower(), (unit, 1.0))


def in_volts(units: tuple[str, ...] | list[str]) -> list[bool]:
    """Per channel: its unit is a voltage (V, mV, uV, ... as `to_si` knows them)."""
    return [to_si(u)[0] == "V" for u in units]
