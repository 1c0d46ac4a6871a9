import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "real-data"
VECTORS = ROOT / "firmware_protocols" / "sk1" / "vectors"

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def shared_file(*parts: str) -> Path:
    """A file of ../shared/real-data, or skip the test where it is absent (a user's clone)."""
    p = SHARED.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"{p} is absent (real-data is only beside the team's checkouts and CI)")
    return p
