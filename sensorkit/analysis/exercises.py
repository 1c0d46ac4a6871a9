"""Exercises, their blocks in a session, and the reference each one's glute timing uses."""

from __future__ import annotations

import re
from dataclasses import dataclass

EXERCISES = (
    "single_leg_squat", "step_down", "step_up", "single_leg_stance", "prone_hip_extension",
    "glute_bridge", "single_leg_bridge", "hip_thrust", "clamshell", "side_lying_abduction",
    "lunge", "lateral_band_walk", "gait",
)  # fmt: skip
BILATERAL = ("glute_bridge", "hip_thrust")
GLUTES = ("glute_max", "glute_med")
HAMSTRINGS = ("biceps_femoris", "semitendinosus", "semimembranosus")
MUSCLE_LABEL = re.compile(r"^[a-z][a-z0-9_]*_[LR]$")


@dataclass(frozen=True)
class Block:
    """One exercise on one side, between its start and end (s, file clock)."""

    exercise: str
    side: str | None
    start_s: float
    end_s: float


def parse_blocks(markers: list[tuple[float, str]], end_of_data: float) -> list[Block]:
    """Exercise blocks from `exercise_start:NAME[:SIDE]` / `exercise_end:...` markers.

    A block without its end marker runs to the next block's start or the end of data.
    Unknown markers are ignored.
    """
    blocks: list[Block] = []
    open_: tuple[str, str | None, float] | None = None
    for t, text in sorted(markers):
        parts = text.strip().split(":")
        if parts[0] not in ("exercise_start", "exercise_end") or len(parts) < 2:
            continue
        name, side = parts[1], (parts[2] if len(parts) > 2 and parts[2] in ("L", "R") else None)
        if parts[0] == "exercise_start":
            if open_ is not None:
                blocks.append(Block(open_[0], open_[1], open_[2], t))
            open_ = (name, side, t)
        elif open_ is not None and open_[0] == name:
            blocks.append(Block(name, open_[1], open_[2], t))
            open_ = None
    if open_ is not None:
        blocks.append(Block(open_[0], open_[1], open_[2], end_of_data))
    return blocks


def default_reference(exercise: str, side: str | None, muscles: list[str]) -> str:
    """The reference of glute latency: the ipsilateral hamstrings for prone hip extension
    (the classic Sahrmann test), movement onset from the IMU otherwise."""
    if exercise == "prone_hip_extension" and side is not None:
        for h in HAMSTRINGS:
            if f"{h}_{side}" in muscles:
                return f"{h}_{side}"
    return "movement"


def is_glute(muscle: str) -> bool:
    return muscle.rsplit("_", 1)[0] in GLUTES


def glutes_of_interest(exercise: str, side: str | None, muscles: list[str]) -> list[str]:
    """The glute channels a delayed verdict is about: the working side's, or both sides."""
    sides = ("L", "R") if side is None else (side,)
    return [m for m in muscles if is_glute(m) and m.endswith(sides)]
