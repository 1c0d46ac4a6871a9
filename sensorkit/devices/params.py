"""Reading a device spec's `?key=value` parameters (shared by every scheme's module).

Kept apart from `devices/spec.py`, which opens the scheme modules: a scheme module
importing its parameters from there would close an import cycle.
"""

from __future__ import annotations

from sensorkit.errors import SensorkitError


def pop_number(params: dict[str, str], key: str, default: float | None, what: str,
               positive: bool = False) -> float:  # fmt: skip
    """Take a numeric spec parameter out of `params` (its default when absent), or say what is wrong."""
    text = params.pop(key, None)
    if text is None:
        if default is None:
            raise SensorkitError(f"{what} devices need {key}=...")
        return default
    try:
        value = float(text)
    except ValueError:
        raise SensorkitError(f"{what} {key}={text!r} is not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise SensorkitError(f"{what} {key}={text!r} must be a finite number")
    if positive and not value > 0:
        raise SensorkitError(f"{what} {key}={text!r} must be positive")
    return value
