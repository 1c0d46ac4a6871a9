"""The events the live pipeline emits, in the order they become known.

Times are seconds on the recording's clock (the chunks' timestamps), like every
time in an `analyze` result, so events can be laid over the raw data.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class BlockStarted:
    """An exercise block began (an `exercise_start` marker)."""

    exercise: str
    side: str | None
    start_s: float
    reference: str  # "movement" or the reference muscle's label


@dataclass(frozen=True)
class Calibrated:
    """The pelvis sensor is calibrated: obliquity and repetitions are tracked from now on."""

    t_s: float  # end of the calibration
    pelvis: dict  # as in a result's `pelvis` field: source, mounting_deg, bend_deg, upside_down


@dataclass(frozen=True)
class RepetitionStarted:
    """The pelvis began to move inside a block: a repetition (its movement onset)."""

    exercise: str
    side: str | None
    index: int  # 1-based within the block
    movement_onset_s: float
    detected_s: float  # data time at which the motion was clear


@dataclass(frozen=True)
class RepetitionCancelled:
    """A motion too brief to be a repetition (under `MovementParams.min_period_s`)."""

    exercise: str
    side: str | None
    index: int


@dataclass(frozen=True)
class Onset:
    """A muscle's onset in the current repetition, as soon as it is final.

    `sd_ms` is its uncertainty; `quality` one of the onset quality flags.
    """

    channel: str
    t_s: float
    sd_ms: float | None
    quality: str
    latency_ms: float | None  # to the block's reference, when that is already known
    index: int  # the repetition it belongs to


@dataclass(frozen=True)
class RepetitionDone:
    """A repetition is complete: `row` is its result row in the `analyze` schema."""

    exercise: str
    side: str | None
    row: dict


@dataclass(frozen=True)
class BlockDone:
    """A block is complete: `block` is its result in the `analyze` schema (reps and the
    per-muscle summary with the delayed verdict)."""

    block: dict


@dataclass(frozen=True)
class Quality:
    """A channel's signal quality changed (`ok`, `hum`, `motion_artefact`, `pop`, `lift_off`,
    `saturation`, `flat`, `gap`: `sensorkit.dsp.quality`) in the half-second window from
    `t_s`; `measures` of that window in uV: `noise_uv` (EMG band), `mains_uv`, `low_freq_uv`."""

    channel: str
    state: str
    t_s: float
    measures: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Notice:
    """Something the user should know that is not a result (a skipped exercise, a missing
    calibration, a stream the pipeline cannot use)."""

    text: str


Event = BlockStarted | Calibrated | RepetitionStarted | RepetitionCancelled | Onset | RepetitionDone | BlockDone
Event = Event | Quality | Notice
