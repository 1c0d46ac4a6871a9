"""A recording turned into the analysis's input: EMG, the pelvis IMU, markers.

The one place that picks a file's streams for analysis, so that `analyze`,
`contacts` and later readers agree on which IMU is the pelvis and check its units
the same way.
"""

from __future__ import annotations

import numpy as np

from sensorkit.analysis.session import EmgData, ImuData, SessionData, SignalData
from sensorkit.analysis.signal_quality import units_note
from sensorkit.dsp.imu_units import check_imu_units
from sensorkit.errors import SensorkitError
from sensorkit.recording.text_import import read_text_imu
from sensorkit.recording.xdf_reader import Recording, StreamData, header_meta, read_xdf
from sensorkit.streams import IMU_CHANNELS
from sensorkit.units import in_volts

PELVIS_NAMES = ("pelvis", "sacrum", "pelvis_imu")


def rate_of(s: StreamData) -> float:
    """A stream's sample rate, Hz: nominal, or from its timestamps when irregular."""
    if s.info.srate:
        return float(s.info.srate)
    span = float(s.timestamps[-1] - s.timestamps[0]) if len(s.timestamps) > 1 else 0.0
    if not span > 0:
        raise SensorkitError(f"stream {s.info.name!r} has no sample rate and no time span")
    return (len(s.timestamps) - 1) / span


def restored_note(s: StreamData) -> list[str]:
    """What the reader put back in a stream that left its lost samples out (none: [])."""
    if not s.restored:
        return []
    return [f"stream {s.info.name!r}: {s.restored} lost samples that the file leaves out (its times jump) are "
            "kept as lost at their own times; pyxdf.load_xdf's dejittering spreads such drop-outs over the "
            "stream, so its times differ there (docs/formats.md)"]


def pelvis_stream(rec: Recording) -> StreamData | None:
    """The sacral IMU stream: named pelvis/sacrum, else the first body IMU with the six channels."""
    imus = [s for s in rec.of_kind("IMU") if set(IMU_CHANNELS) <= set(s.info.channels) and len(s.timestamps) > 1
            and s.info.metadata.get("location", "pelvis") in ("pelvis", "sacrum")]  # not an armband's IMU
    pelvis = [s for s in imus if s.info.name.lower() in PELVIS_NAMES]
    return (pelvis or imus or [None])[0]


def pelvis_imu(rec: Recording, warnings: list[str] | None = None) -> ImuData | None:
    """The pelvis IMU in SI units, its units checked against physics (corrections are
    appended to `warnings`); None when the recording has none."""
    s = pelvis_stream(rec)
    if s is None:
        return None
    x = s.samples[:, [s.info.channels.index(c) for c in IMU_CHANNELS]]
    try:
        acc, gyr, notes = check_imu_units(x[:, :3], x[:, 3:])
    except ValueError as exc:
        raise SensorkitError(f"{rec.path}: IMU stream {s.info.name!r}: {exc}") from None
    if warnings is not None:
        warnings += [f"IMU stream {s.info.name!r}: {n}" for n in notes] + restored_note(s)
    return ImuData(s.timestamps, acc, gyr, rate_of(s))


def session_data(rec: Recording, channel_map: dict[str, str] | None = None) -> SessionData:
    """A recording's streams in the analysis's terms: EMG (the stream with most channels),
    the pelvis IMU, markers, and warnings about what had to be corrected."""
    channel_map = channel_map or {}
    warnings: list[str] = [f"salvaged file: {n}" for n in rec.notes]
    imu = pelvis_imu(rec, warnings)
    emgs = [s for s in rec.of_kind("EMG") if len(s.timestamps) > 1]
    if not emgs and imu is None:
        kinds = ", ".join(sorted({s.info.kind or "?" for s in rec.streams})) or "none"
        raise SensorkitError(f"{rec.path} has no EMG stream with samples and no pelvis IMU (stream types: {kinds}); "
                             "name the streams to use with --stream NAME_OR_TYPE or a --montage-file")  # fmt: skip
    signals = other_signals(rec)
    if not emgs:  # a sacral IMU alone: pelvic drop, movement and gait are analysed
        if channel_map:
            raise SensorkitError("--channel-map relabels EMG channels, and the recording has no EMG stream")
        return SessionData(rec.path, None, imu, rec.markers(), warnings, header_meta(rec), signals)
    emg = max(emgs, key=lambda s: s.info.n_channels)
    labels = [channel_map.get(c, c) for c in emg.info.channels]
    unknown = set(channel_map) - set(emg.info.channels)
    if unknown:
        raise SensorkitError(f"--channel-map names channels the EMG stream lacks: {', '.join(sorted(unknown))}")
    warnings += restored_note(emg) + units_note(emg.info.units, labels)
    data = EmgData(emg.timestamps, np.asarray(emg.samples), labels, rate_of(emg), in_volts(emg.info.units))
    return SessionData(rec.path, data, imu, rec.markers(), warnings, header_meta(rec), signals)


def other_signals(rec: Recording) -> dict[str, SignalData]:
    """Every channel of the numeric streams that are neither EMG nor IMU (a goniometer's
    angle, a force, a footswitch), by label: possible movement references."""
    out = {}
    for s in rec.streams:
        if s.info.is_string or s.info.kind.upper() in ("EMG", "IMU") or len(s.timestamps) < 2:
            continue
        for j, (label, unit) in enumerate(zip(s.info.channels, s.info.units, strict=True)):
            out.setdefault(label, SignalData(s.timestamps, s.samples[:, j], rate_of(s), unit, s.info.kind))
    return out


def walking_imu(path: str, warnings: list[str], rate_hz: float | None = None, time_column: str | None = None,
                columns: list[str] | None = None, acc_unit: str | None = None,
                gyr_unit: str | None = None) -> ImuData:  # fmt: skip
    """The lower-back IMU of a walk: an XDF recording's pelvis stream, or a text/CSV export
    (rate, time column, the six columns and units as `read_text_imu` takes them), its units
    checked against physics; notes on units go to `warnings`."""
    if path.lower().endswith(".xdf"):
        imu = pelvis_imu(read_xdf(path), warnings)
        if imu is None:
            raise SensorkitError(f"{path} has no IMU stream with {', '.join(IMU_CHANNELS)}")
        return imu
    t, acc, gyr, fs, units = read_text_imu(path, rate_hz, time_column, columns, acc_unit, gyr_unit)
    warnings.append(f"{path}: {units}")
    try:
        acc, gyr, notes = check_imu_units(acc, gyr)
    except ValueError as exc:
        raise SensorkitError(f"{path}: {exc}") from None
    warnings += notes
    return ImuData(t, acc, gyr, fs)
