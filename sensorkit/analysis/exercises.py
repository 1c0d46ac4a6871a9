"""Exercises, their blocks in a session, and the reference each one's glute timing uses.

`REGISTRY` is the one list of exercises: the analysis, the live pipeline, the CLI's
choices and help all read it, so adding an exercise is one entry here (and, to try
it without a patient, a scenario in `sensorkit.sim`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sensorkit.dsp.movement import MovementParams


@dataclass(frozen=True)
class Exercise:
    """What the analysis must know of an exercise.

    `bilateral`: both legs work (no side). `single_leg`: the patient stands (or steps)
    on one leg, so the pelvic drop of the other side is measured. `reference`: what
    glute latency is measured from: `movement` (movement onset from the pelvis IMU),
    `hamstrings` (the working side's hamstrings, falling back to movement) or
    `initial_contact` (each step's foot contact). `reps_from`: `movement` (repetitions
    are motions of the pelvis) or `contacts` (each step of gait). `postures`: how the
    pelvis lies while it is done (`sensorkit.dsp.posture.POSTURES`), which is where a
    recording without markers is searched for it. `hold_s`: how long a repetition may hold
    the pelvis still away from its rest (a single-leg stance is held up to 30 s in the
    Trendelenburg test); the live detector takes a stillness elsewhere that lasts longer for a
    new resting posture (`LiveMovementParams.new_posture_s` otherwise).
    """

    name: str
    bilateral: bool = False
    single_leg: bool = False
    reference: str = "movement"
    reps_from: str = "movement"
    postures: tuple[str, ...] = ("upright",)
    hold_s: float | None = None

    @property
    def lying(self) -> bool:
        """Done lying (never upright): the pelvis rests on a table between repetitions, far
        stiller than standing, which the movement onset's pause is measured against
        (`sensorkit.dsp.movement.lying`)."""
        return "upright" not in self.postures

    def movement(self, p: MovementParams) -> MovementParams:
        """How its repetitions are found in the pelvis IMU: `p`, against the lying pelvis where it is done lying."""
        # imported here: the CLI reads REGISTRY for its help, which must start without scipy
        from sensorkit.dsp.movement import lying

        return lying(p) if self.lying else p


SIDE_LYING = ("left_side_down", "right_side_down")
REGISTRY: dict[str, Exercise] = {e.name: e for e in (
    Exercise("single_leg_squat", single_leg=True),
    Exercise("step_down", single_leg=True),
    Exercise("step_up", single_leg=True),
    Exercise("single_leg_stance", single_leg=True, hold_s=30.0),
    Exercise("prone_hip_extension", reference="hamstrings", postures=("prone",)),  # the Sahrmann test
    Exercise("glute_bridge", bilateral=True, postures=("supine",)),
    Exercise("single_leg_bridge", single_leg=True, postures=("supine",)),
    Exercise("hip_thrust", bilateral=True, postures=("supine", "upright")),  # shoulders on a bench: in between
    Exercise("clamshell", postures=SIDE_LYING),
    Exercise("side_lying_abduction", postures=SIDE_LYING),
    Exercise("lunge", single_leg=True),
    Exercise("lateral_band_walk", single_leg=True),
    Exercise("gait", single_leg=True, reference="initial_contact", reps_from="contacts"),  # each step's stance leg
)}  # fmt: skip
EXERCISES = tuple(REGISTRY)
BILATERAL = tuple(e.name for e in REGISTRY.values() if e.bilateral)
SINGLE_LEG = tuple(e.name for e in REGISTRY.values() if e.single_leg)
GLUTES = ("glute_max", "glute_med")
HAMSTRINGS = ("biceps_femoris", "semitendinosus", "semimembranosus")
MUSCLE_LABEL = re.compile(r"^[a-z][a-z0-9_]*_[LR]$")


@dataclass(frozen=True)
class Block:
    """One exercise on one side, between its start and end (s, file clock); `found_from`:
    "markers", or how it was found in a recording without them; `reps`: the repetitions
    (movement onset, end; s) where finding the block found them (None: look for them)."""

    exercise: str
    side: str | None
    start_s: float
    end_s: float
    found_from: str = "markers"
    reps: tuple[tuple[float, float], ...] | None = None


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
    """The reference of glute latency (`Exercise.reference`): the working side's hamstrings
    where the exercise names them and they are recorded, movement onset otherwise."""
    if REGISTRY[exercise].reference == "hamstrings" and side is not None:
        for h in HAMSTRINGS:
            if f"{h}_{side}" in muscles:
                return f"{h}_{side}"
    return "movement"


def block_reference(chosen: str | None, exercise: str, side: str | None, muscles: list[str]) -> str:
    """The reference a block uses: the user's (`--reference`; a muscle named without its side,
    e.g. biceps_femoris, is the working side's), else the exercise's default."""
    if chosen is None:
        return default_reference(exercise, side, muscles)
    if chosen != "movement" and chosen not in muscles and side is not None and f"{chosen}_{side}" in muscles:
        return f"{chosen}_{side}"
    return chosen


def is_glute(muscle: str) -> bool:
    return muscle.rsplit("_", 1)[0] in GLUTES


def glutes_of_interest(exercise: str, side: str | None, muscles: list[str]) -> list[str]:
    """The glute channels a delayed verdict is about: the working side's, or both sides."""
    sides = ("L", "R") if side is None else (side,)
    return [m for m in muscles if is_glute(m) and m.endswith(sides)]
