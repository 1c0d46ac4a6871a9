"""What `analyze` decides about a whole recording's mains hum, for a replay of it.

Under mains "auto", `analyze` gives each EMG channel a notch from the whole recording
(`ChannelOnsets`) and the signal-quality checks the line's frequency found in all the
channels (`signal_quality.assess`). Live, neither can wait for the end: the notch is
decided from the first 10 s and the line from the first 2 s, and a channel whose hum
only the whole file shows (one that starts later: a lamp switched on, a cable moved)
is filtered differently. A replay has the whole file, so it is handed
these decisions (`LivePipeline(recording_mains=...)`) and its analysis is `analyze`'s
on every channel, which is how the live path is checked.
"""

from __future__ import annotations

from dataclasses import dataclass

from sensorkit.analysis.session import EmgData, muscle_columns
from sensorkit.dsp.filters import mains_frequency
from sensorkit.dsp.onset import channel_mains


@dataclass(frozen=True)
class RecordingMains:
    """A recording's mains decisions as `analyze` makes them (Hz, None: no notch / no line)."""

    notch_hz: dict[str, float | None]  # per EMG channel analysed, in the stream's order: its onset notch
    line_hz: float | None  # the line the signal-quality checks measure hum at


def recording_mains(emg: EmgData, mains: float | str | None = "auto") -> RecordingMains:
    """`analyze`'s mains decisions for the EMG `emg` under the option `mains` ("auto": found in
    the data; a number or None: what the user set, which the quality checks refine with the
    line found, as `assess` does). Raises SensorkitError where no channel names a muscle."""
    idx = muscle_columns(emg)
    x = emg.samples[:, idx]
    found = mains_frequency(x, emg.fs)
    notch = {emg.labels[i]: channel_mains(emg.samples[:, i], emg.fs) if mains == "auto" else mains for i in idx}
    return RecordingMains(notch, found if mains == "auto" else (found or mains))  # type: ignore[arg-type]
