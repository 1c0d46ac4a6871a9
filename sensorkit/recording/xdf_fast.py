"""XDF sample chunks decoded with numpy, a whole chunk at a time.

pyxdf (the reference reader) decodes numeric samples one at a time in Python: a 1-hour
16-channel 2 kHz recording takes it tens of seconds. Here a chunk of fixed-size samples
(every sample with its 8-byte timestamp, or none with one) is one `np.frombuffer` over
a structured dtype; chunks that mix the two, and string samples, are walked sample by
sample exactly as pyxdf does. What comes after decoding (the clock synchronisation with
its reset handling, the jitter removal, the stream dicts) is pyxdf's own code, called
with `pyxdf.load_xdf`'s defaults, so the result is pyxdf's (tests compare them on every
file the project has and on generated ones). Anything unexpected raises, and
`xdf_reader` then lets pyxdf read the file.

Written by hand because no library decodes XDF vectorised; it uses pyxdf's internal
post-processing functions, which is why the pyxdf version is bounded in pyproject.toml.
"""

from __future__ import annotations

import inspect
import struct
from collections import OrderedDict
from dataclasses import dataclass, field
from xml.etree.ElementTree import fromstring

import numpy as np
from pyxdf import pyxdf as px

from sensorkit.streams import restore_lost_rows

TAG_FILE_HEADER, TAG_STREAM_HEADER, TAG_SAMPLES, TAG_CLOCK_OFFSET, TAG_FOOTER = 1, 2, 3, 4, 6
_DEFAULTS = {k: p.default for k, p in inspect.signature(px.load_xdf).parameters.items()
             if p.default is not inspect.Parameter.empty}  # fmt: skip


def _varlen(data: bytes, pos: int) -> tuple[int, int]:
    """(value, position after it) of XDF's variable-length integer at `pos`."""
    n = data[pos]
    if n == 1:
        return data[pos + 1], pos + 2
    if n == 4:
        return struct.unpack_from("<I", data, pos + 1)[0], pos + 5
    if n == 8:
        return struct.unpack_from("<Q", data, pos + 1)[0], pos + 9
    raise ValueError(f"invalid variable-length integer at byte {pos}")


def _stamp(data: bytes, pos: int, s: px.StreamData) -> tuple[float, int]:
    """One sample's timestamp and where its values start: its own 8 bytes, or (a 0 flag)
    the stream's last timestamp plus 1/srate, as pyxdf deduces it."""
    if data[pos] != 0:
        s.last_timestamp = struct.unpack_from("<d", data, pos + 1)[0]
        return s.last_timestamp, pos + 9
    s.last_timestamp = s.last_timestamp + s.tdiff
    return s.last_timestamp, pos + 1


def _numeric(data: bytes, pos: int, end: int, n: int, s: px.StreamData) -> tuple[np.ndarray, np.ndarray]:
    """Timestamps and values of `n` numeric samples in data[pos:end]."""
    size = s.samplebytes
    if n == 0:
        return np.zeros((0,)), np.zeros((0, s.nchns), dtype=s.dtype)
    if end - pos == n * (9 + size) and data[pos] != 0:
        rec = np.frombuffer(data, np.dtype([("f", "u1"), ("t", "<f8"), ("v", s.dtype_le, (s.nchns,))]), n, pos)
        if np.all(rec["f"] != 0):  # every sample carries its timestamp
            stamps = rec["t"].astype(np.float64)
            s.last_timestamp = float(stamps[-1])
            return stamps, rec["v"].astype(s.dtype)
    if end - pos == n * (1 + size) and data[pos] == 0:
        rec = np.frombuffer(data, np.dtype([("f", "u1"), ("v", s.dtype_le, (s.nchns,))]), n, pos)
        if np.all(rec["f"] == 0):  # no sample carries one: each is the last plus 1/srate, added in turn
            stamps = np.cumsum(np.concatenate([[s.last_timestamp], np.full(n, s.tdiff)]))[1:]
            s.last_timestamp = float(stamps[-1])
            return stamps, rec["v"].astype(s.dtype)
    stamps = np.zeros((n,))
    values = np.zeros((n, s.nchns), dtype=s.dtype)
    for k in range(n):  # a chunk that mixes both: sample by sample, as pyxdf
        stamps[k], pos = _stamp(data, pos, s)
        values[k] = np.frombuffer(data, s.dtype_le, s.nchns, pos)
        pos += size
    if pos != end:
        raise ValueError("samples chunk length does not match its samples")
    return stamps, values


def _strings(data: bytes, pos: int, end: int, n: int, s: px.StreamData) -> tuple[np.ndarray, list]:
    stamps = np.zeros((n,))
    values = [[None] * s.nchns for _ in range(n)]
    for k in range(n):
        stamps[k], pos = _stamp(data, pos, s)
        for ch in range(s.nchns):
            length, pos = _varlen(data, pos)
            values[k][ch] = bytes(data[pos : pos + length]).decode(errors="replace")
            pos += length
    if pos != end:
        raise ValueError("samples chunk length does not match its samples")
    return stamps, values


@dataclass
class Index:
    """Where an XDF file's chunks are, from one walk over their lengths: the few chunks that
    are not samples, in file order, and per stream its Samples chunks (sample count, first
    sample byte, end) in file order."""

    others: list[tuple[int, int, int, int]] = field(default_factory=list)  # (tag, stream id or -1, body, end)
    samples: dict[int, tuple[list[int], list[int], list[int]]] = field(default_factory=dict)
    _joined: dict[int, bytes | None] = field(default_factory=dict, repr=False)

    def records(self, data, sid: int, sample_bytes: int) -> bytes | None:
        """A stream's samples, every chunk's joined in one buffer, when each sample is
        [8][timestamp][values] (`sample_bytes` of values); None when a chunk's size says
        otherwise. Joined once, shared by the salvage check and the decoder."""
        if sid not in self._joined:
            counts, starts, ends = self.samples[sid]
            fits = bool(counts) and np.array_equal(np.asarray(ends) - np.asarray(starts),
                                                   np.asarray(counts) * (9 + sample_bytes))  # fmt: skip
            if fits:
                view = memoryview(data)
                self._joined[sid] = b"".join([view[a:e] for a, e in zip(starts, ends, strict=True)])
                view.release()
            else:
                self._joined[sid] = None
        return self._joined[sid]


def index(data: bytes) -> Index | None:
    """The chunk index of `data`, or None where its structure is not plain (a length that
    runs past the end, an unknown tag, samples before their stream's header): those files
    go through the salvage walk and pyxdf."""
    if data[:4] != b"XDF:":
        return None
    u32, u16 = struct.Struct("<I").unpack_from, struct.Struct("<H").unpack_from
    # the common case in one unpack: [4][length u32][tag u16][stream id u32][count width]
    common = struct.Struct("<BIHIB").unpack_from
    idx, total, pos = Index(), len(data), 4
    samples = idx.samples
    try:
        while pos < total:
            if pos + 12 <= total and data[pos] == 4:
                _, length, tag, sid, w = common(data, pos)
                body = pos + 5
                end = body + length
                if tag == TAG_SAMPLES and length >= 8 and end <= total:
                    lists = samples.get(sid)
                    if lists is None:
                        return None  # samples before their stream's header
                    if w == 1:
                        lists[0].append(data[pos + 12])
                        lists[1].append(pos + 13)
                    else:
                        n, at = _varlen(data, pos + 11)
                        lists[0].append(n)
                        lists[1].append(at)
                    lists[2].append(end)
                    pos = end
                    continue
            w = data[pos]
            if w == 4:
                length, body = u32(data, pos + 1)[0], pos + 5
            elif w == 1:
                length, body = data[pos + 1], pos + 2
            elif w == 8:
                length, body = struct.unpack_from("<Q", data, pos + 1)[0], pos + 9
            else:
                return None
            end = body + length
            if length < 2 or end > total:
                return None
            tag = u16(data, body)[0]
            if tag in (TAG_STREAM_HEADER, TAG_SAMPLES, TAG_CLOCK_OFFSET, TAG_FOOTER) and length < 6:
                return None
            if tag == TAG_SAMPLES:
                sid = u32(data, body + 2)[0]
                lists = samples.get(sid)
                if lists is None:
                    return None  # samples before their stream's header
                n, at = _varlen(data, body + 6)
                lists[0].append(n)
                lists[1].append(at)
                lists[2].append(end)
            elif 1 <= tag <= 6:
                sid = u32(data, body + 2)[0] if tag in (TAG_STREAM_HEADER, TAG_CLOCK_OFFSET, TAG_FOOTER) else -1
                if tag == TAG_STREAM_HEADER and sid not in samples:
                    samples[sid] = ([], [], [])
                elif sid != -1 and sid not in samples:
                    return None
                idx.others.append((tag, sid, body + 2 + (4 if sid != -1 else 0), end))
            else:
                return None
            pos = end
    except (IndexError, struct.error, ValueError):
        return None
    return idx


def load_xdf(data: bytes, idx: Index | None = None, restore_lost: bool = False) -> tuple[list[dict], dict]:
    """What `pyxdf.load_xdf` returns for the XDF file `data` (bytes), with its defaults.

    `restore_lost`: where a regular stream's timestamps show lost samples (another
    program's drop-outs, `streams.lost_sample_runs`), put NaN rows there before pyxdf's
    jitter removal, which fits one line per stretch through the sample count and so
    spread a 0.3-s drop-out of a 100-Hz stream over the whole recording (times up to
    150 ms off). The result then has those rows more than pyxdf's.
    Raises on anything it does not expect (the caller then uses pyxdf itself)."""
    idx = idx or index(data)
    if idx is None:
        raise ValueError("not a plain XDF chunk structure")
    streams: OrderedDict[int, dict] = OrderedDict()
    temp: dict[int, px.StreamData] = {}
    fileheader = None
    for tag, sid, body, end in idx.others:
        if tag == TAG_FILE_HEADER:
            fileheader = px._xml2dict(fromstring(data[body:end]))
        elif tag == TAG_STREAM_HEADER:
            hdr = px._xml2dict(fromstring(data[body:end].decode("utf-8", "replace")))
            if sid in streams:
                raise ValueError("a stream header repeated")  # pyxdf would restart the stream
            streams[sid] = hdr
            temp[sid] = px.StreamData(hdr)
        elif tag == TAG_FOOTER:
            streams[sid]["footer"] = px._xml2dict(fromstring(data[body:end]))
        elif tag == TAG_CLOCK_OFFSET:
            t, v = struct.unpack_from("<dd", data, body)
            temp[sid].clock_times.append(t)
            temp[sid].clock_values.append(v)
    for sid, (counts, starts, ends) in idx.samples.items():
        s = temp[sid]
        whole = None if s.fmt == "string" else _all_stamped(data, idx, sid, s)
        if whole is not None:
            s.time_stamps.append(whole[0])
            s.time_series.append(whole[1])
            continue
        for n, at, end in zip(counts, starts, ends, strict=True):
            stamps, values = (_strings if s.fmt == "string" else _numeric)(data, at, end, n, s)
            s.time_series.append(values)
            s.time_stamps.append(stamps)
    return _finish(streams, temp, restore_lost), fileheader


def _all_stamped(data, idx: Index, sid: int, s: px.StreamData) -> tuple[np.ndarray, np.ndarray] | None:
    """A stream's every Samples chunk decoded at once when every sample carries its
    timestamp (what sensorkit and LabRecorder write); None otherwise. The values are a
    view into the joined records (no copy: the reader converts them once, to float64)."""
    joined = idx.records(data, sid, s.samplebytes)
    if joined is None:
        return None
    rec = np.frombuffer(joined, np.dtype([("f", "u1"), ("t", "<f8"), ("v", s.dtype_le, (s.nchns,))]))
    if not np.all(rec["f"] != 0):
        return None
    stamps = rec["t"].astype(np.float64)
    if len(stamps):
        s.last_timestamp = float(stamps[-1])
    return stamps, rec["v"] if s.dtype_le == s.dtype else rec["v"].astype(s.dtype)


def _fit_unless_zero(fit):
    """pyxdf's robust clock-offset fit, skipped where every offset is exactly 0 (what
    sensorkit's recorder writes: its timestamps are already on the host clock). From zero
    offsets its iterations never leave exactly zero (each step solves for a zero right-hand
    side), so the result is the same, bit for bit, without its 1000 iterations: 0.1 s of
    every file read otherwise (tests compare the two readers on such files)."""

    def fit_or_zero(A, y, *args, **kwargs):
        if not np.any(y):
            return np.zeros(A.shape[1])
        return fit(A, y, *args, **kwargs)

    return fit_or_zero


def _finish(streams: OrderedDict, temp: dict, restore_lost: bool = False) -> list[dict]:
    """pyxdf's steps after reading: concatenation, clock synchronisation, jitter removal and
    the stream dicts (the same calls `pyxdf.load_xdf` makes with its defaults)."""
    d = _DEFAULTS
    for stream in temp.values():
        if stream.time_stamps:  # one array (decoded at once) is kept as it is: a copy would be equal
            one = len(stream.time_stamps) == 1
            stream.time_stamps = stream.time_stamps[0] if one else np.concatenate(stream.time_stamps)
            if stream.fmt == "string":
                stream.time_series = [v for chunk in stream.time_series for v in chunk]
            else:
                stream.time_series = stream.time_series[0] if one else np.concatenate(stream.time_series)
        else:
            stream.time_stamps = np.zeros((0,))
            stream.time_series = [] if stream.fmt == "string" else np.zeros((0, stream.nchns))
    temp = px._truncate_corrupted_offsets(temp, streams)
    fit = px._robust_fit
    px._robust_fit = _fit_unless_zero(fit)
    try:
        temp = px._clock_sync(temp, d["handle_clock_resets"], d["clock_reset_threshold_stds"],
                              d["clock_reset_threshold_seconds"], d["clock_reset_threshold_offset_stds"],
                              d["clock_reset_threshold_offset_seconds"], d["winsor_threshold"])  # fmt: skip
    finally:
        px._robust_fit = fit
    if restore_lost:  # drop-outs shorter than pyxdf's breaks (longer ones it fits apart, the reader fills)
        for k, stream in temp.items():
            if stream.fmt != "string" and stream.srate > 0 and not px._stream_can_drop_samples(streams[k]):
                shorter = max(d["jitter_break_threshold_seconds"], d["jitter_break_threshold_samples"] / stream.srate)
                stream.time_stamps, stream.time_series, n = restore_lost_rows(stream.time_stamps, stream.time_series,
                                                                              stream.srate, shorter)  # fmt: skip
                if n:
                    streams[k]["restored_lost_samples"] = n  # not pyxdf's: the reader says so
    temp = px._jitter_removal(temp, d["jitter_break_threshold_seconds"], d["jitter_break_threshold_samples"],
                              stream_headers=streams)  # fmt: skip
    for k, stream in streams.items():
        tmp = temp[k]
        stream["info"]["stream_id"] = k
        stream["info"]["effective_srate"] = tmp.effective_srate
        stream["info"]["segments"] = tmp.segments
        stream["info"]["clock_segments"] = tmp.clock_segments
        stream["time_series"] = tmp.time_series
        stream["time_stamps"] = tmp.time_stamps
        stream["clock_times"] = tmp.clock_times
        stream["clock_values"] = tmp.clock_values
    return list(streams.values())
