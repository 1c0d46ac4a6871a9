"""liblsl, loaded through pylsl once and quietly, for the LSL source and the LSL outlet."""

from __future__ import annotations

from sensorkit.errors import SensorkitError


def load_pylsl():
    try:
        import pylsl
    except ImportError:  # pragma: no cover - pylsl is a dependency; its native library may still fail
        raise SensorkitError("LSL needs pylsl: pip install pylsl") from None
    except (OSError, RuntimeError) as exc:
        raise SensorkitError(f"LSL's native library (liblsl) cannot be loaded: {exc}") from None
    try:  # liblsl logs INFO lines to stderr by default: keep the command line's one-line messages
        pylsl.set_config_content("[log]\nlevel = -2\n")
    except Exception:  # older liblsl, or already configured by an earlier call
        pass
    return pylsl
