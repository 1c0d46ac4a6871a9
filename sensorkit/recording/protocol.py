"""The session protocol: the steps a clinician walks a patient through, and the markers
they leave in the recording (`calibration_start:standing` ... `exercise_end:NAME:SIDE`,
docs/formats.md), so that a real session analyses by block.

A protocol is a small TOML file (`recording/protocols/` ships `default`, the clinic
exercises, and `gait`, walking; `--protocol NAME` picks one, `--protocol FILE.toml` your own): a list
of steps, each a calibration (`standing`, `forward_bend`) or an exercise (a name of the
exercise registry, a side for unilateral ones, a number of repetitions), with the words
to say to the patient. `ProtocolRunner` steps through it: each `advance()` starts the
current step or ends it and moves on; markers go to `emit(text)`, which the caller
stamps with the data time (the monitor window and `sensorkit record --protocol`).
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from sensorkit.analysis.exercises import BILATERAL, REGISTRY
from sensorkit.errors import SensorkitError

CALIBRATIONS = ("standing", "forward_bend")


@dataclass(frozen=True)
class Step:
    kind: str  # "calibration" or "exercise"
    name: str  # standing / forward_bend, or the exercise
    side: str | None = None
    reps: int | None = None
    seconds: float | None = None
    say: str = ""

    def title(self) -> str:
        side = {"L": ", left", "R": ", right"}.get(self.side or "", "")
        what = self.name.replace("_", " ")
        if self.kind == "calibration":
            return f"calibration: {what}" + (f" ({self.seconds:g} s or more)" if self.seconds else "")
        return f"{self.reps or ''} {what}{side}".strip()

    def markers(self) -> tuple[str, str]:
        """The (start, end) markers of the step."""
        if self.kind == "calibration":
            return f"calibration_start:{self.name}", f"calibration_end:{self.name}"
        tail = f"{self.name}:{self.side}" if self.side else self.name
        return f"exercise_start:{tail}", f"exercise_end:{tail}"


@dataclass(frozen=True)
class Protocol:
    name: str
    steps: tuple[Step, ...]


def shipped_protocols() -> list[str]:
    """The names of the protocols sensorkit ships (`load_protocol(shipped=NAME)`)."""
    return sorted(f.name.removesuffix(".toml") for f in files("sensorkit.recording").joinpath("protocols").iterdir()
                  if f.name.endswith(".toml"))  # fmt: skip


def load_protocol(path: str | Path | None = None, shipped: str = "default") -> Protocol:
    """A protocol from a TOML file, or (`path` None) the shipped one named `shipped`, checked."""
    if path is None and shipped not in shipped_protocols():
        raise SensorkitError(f"no shipped protocol {shipped!r} (shipped: {', '.join(shipped_protocols())}; "
                             "or give a FILE.toml)")  # fmt: skip
    try:
        text = (Path(path).read_text() if path is not None
                else files("sensorkit.recording").joinpath(f"protocols/{shipped}.toml").read_text())  # fmt: skip
        data = tomllib.loads(text)
    except OSError as exc:
        raise SensorkitError(f"cannot read protocol {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SensorkitError(f"protocol {path}: not valid TOML ({exc})") from None
    steps = []
    for k, raw in enumerate(data.get("step", []), 1):
        where = f"protocol {path or shipped}, step {k}"
        if "calibration" in raw:
            if raw["calibration"] not in CALIBRATIONS:
                raise SensorkitError(f"{where}: calibration must be one of {', '.join(CALIBRATIONS)}")
            steps.append(Step("calibration", raw["calibration"], seconds=raw.get("seconds"), say=raw.get("say", "")))
        elif "exercise" in raw:
            name, side = raw["exercise"], raw.get("side")
            if name not in REGISTRY:
                raise SensorkitError(f"{where}: unknown exercise {name!r}")
            if name in BILATERAL and side is not None:
                raise SensorkitError(f"{where}: {name} is bilateral: give no side")
            if name not in BILATERAL and name != "gait" and side not in ("L", "R"):
                raise SensorkitError(f"{where}: {name} needs side = \"L\" or \"R\"")
            steps.append(Step("exercise", name, side, raw.get("reps"), say=raw.get("say", "")))
        else:
            raise SensorkitError(f"{where}: a step is a calibration = ... or an exercise = ...")
    if not steps:
        raise SensorkitError(f"protocol {path or shipped} has no [[step]]")
    return Protocol(str(data.get("name", Path(path).stem if path else shipped)), tuple(steps))


class ProtocolRunner:
    """Steps through a protocol; `emit(marker)` receives each marker as it is due."""

    def __init__(self, protocol: Protocol, emit: Callable[[str], None]) -> None:
        self.protocol, self.emit = protocol, emit
        self.index = 0  # the current step
        self.running = False  # the current step has started

    @property
    def done(self) -> bool:
        return self.index >= len(self.protocol.steps)

    @property
    def step(self) -> Step | None:
        return None if self.done else self.protocol.steps[self.index]

    def advance(self) -> str:
        """Start the current step, or end it and move to the next; what happened, in words."""
        if self.done:
            return "the protocol is complete"
        step = self.protocol.steps[self.index]
        start, end = step.markers()
        if not self.running:
            self.emit(start)
            self.running = True
            return f"started {step.title()}"
        self.emit(end)
        self.running = False
        self.index += 1
        return f"ended {step.title()}"

    def skip(self) -> str:
        """Leave out the current step (ending it first if it runs)."""
        if self.done:
            return "the protocol is complete"
        said = self.advance() if self.running else f"skipped {self.protocol.steps[self.index].title()}"
        if not self.running and said.startswith("skipped"):
            self.index += 1
        return said

    def annotate(self, text: str) -> None:
        """A free clinician's note (`annotation:TEXT`)."""
        text = " ".join(text.split())
        if text:
            self.emit(f"annotation:{text}")
