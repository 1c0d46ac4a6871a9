"""Salvage of damaged XDF files, below pyxdf (which reads only intact chunk streams).

The file is walked chunk by chunk (`[NumLengthBytes][Length][Tag u16][content]`, XDF
1.0). Every chunk is checked: its length fits, its tag is known, its stream has a
header, a Samples chunk's size matches its stream's format and its timestamps are
finite and plausible. Where a check fails, the walk resynchronises at the next place
where two plausible chunks follow each other (boundary chunks, a fixed 16-byte UUID
written every few seconds, are the surest anchors, but any chunk will do), so one
damaged spot costs only the chunks it touches. What the walk then repairs:

- a stream header whose XML does not parse is read leniently (tags in any case,
  channel count and format recovered from its text); a stream header that is gone
  is searched for in the damaged bytes, and failing that its format is inferred from
  the sizes of its Samples chunks, so the stream's samples survive under a stand-in
  name;
- samples lost in a damaged stretch of a regular stream become NaN rows at their
  expected times (a visible gap, counted as lost), never a silent jump;
- a sample whose timestamp is impossible (a flipped bit: 2.4e-305, inf, NaN, out of
  order with its neighbours; `_damaged`) is set as lost instead of being loaded;
- a file without stream footers was not closed cleanly, and says so.

Every repair is described in plain words (`Salvage.notes`); the repaired chunks are
then read by pyxdf as usual. Written by hand: pyxdf stops or skips silently at damage
and no library repairs XDF.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field
from xml.etree import ElementTree as ET

import numpy as np

from sensorkit.recording.xdf_fast import Index
from sensorkit.recording.xdf_writer import BOUNDARY_UUID, NUMERIC, TAG_BOUNDARY, TAG_SAMPLES, TAG_STREAM_HEADER, _chunk

TAG_FILE_HEADER, TAG_CLOCK_OFFSET, TAG_STREAM_FOOTER = 1, 4, 6
SIZES = {"float32": 4, "double64": 8, "int8": 1, "int16": 2, "int32": 4, "int64": 8}
MAX_CHANNELS = 4096
MAX_STREAM_ID = 1024
TIMESTAMP_SLACK_S = 1.0  # a timestamp this far out of order with its neighbours is damage, not jitter
ORDER_WINDOW = 8  # ... with most of this many samples either side of it (_damaged)
MAX_TIMESTAMP_S = 1e11  # s: no clock LSL or a Unix epoch gives reaches this (3000 years)
MAX_JUMP_S = 60.0  # a regular stream's chunk whose first or last time lies this far from its neighbour is damaged there


@dataclass
class StreamFormat:
    """What the walk must know of a stream to check and repair its Samples chunks."""

    channel_format: str
    n_channels: int
    srate: float
    name: str
    header: bytes | None = None  # the (repaired) stream header content, stream id included
    last_t: float | None = None  # timestamp of the last sample seen, s


@dataclass
class Salvage:
    """The file's chunks as pyxdf can read them, and what was done to get them."""

    data: bytes
    notes: list[str] = field(default_factory=list)
    closed_cleanly: bool = True


def _varlen(data: bytes | memoryview, pos: int) -> tuple[int, int] | None:
    """(value, position after it) of a variable-length integer, or None."""
    if pos >= len(data):
        return None
    width = data[pos]
    if width not in (1, 4, 8) or pos + 1 + width > len(data):
        return None
    return int.from_bytes(data[pos + 1 : pos + 1 + width], "little"), pos + 1 + width


def _chunk_at(data: bytes, pos: int) -> tuple[int, int, int] | None:
    """(tag, content start, end) of a structurally plausible chunk at `pos`, or None."""
    v = _varlen(data, pos)
    if v is None:
        return None
    length, body = v
    if length < 2 or body + length > len(data):
        return None
    tag = struct.unpack_from("<H", data, body)[0]
    if not 1 <= tag <= 6:
        return None
    if tag == TAG_BOUNDARY and data[body + 2 : body + length] != BOUNDARY_UUID:
        return None
    if tag in (2, 3, 4, 6) and length < 6:
        return None
    if tag == TAG_CLOCK_OFFSET and length != 2 + 4 + 16:
        return None
    return tag, body + 2, body + length


def _text(el: ET.Element | None, tag: str) -> str | None:
    found = el.find(tag) if el is not None else None
    return found.text if found is not None and found.text is not None else None


def _lenient_field(xml: str, tag: str) -> str | None:
    m = re.search(rf"<{tag}>\s*([^<]*?)\s*</{tag}>", xml, re.IGNORECASE)
    return m.group(1) if m else None


def _header_format(content: bytes) -> tuple[StreamFormat | None, bytes | None, str | None]:
    """A stream header's format, its content repaired where it had to be, and a note."""
    sid, xml = content[:4], content[4:]
    try:
        root = ET.fromstring(xml)
        fmt, n = _text(root, "channel_format"), _text(root, "channel_count")
        rate, name = _text(root, "nominal_srate"), _text(root, "name") or ""
        note, repaired = None, content
        if fmt is None or n is None:
            raise ET.ParseError("channel format or count missing")
    except ET.ParseError:
        text = xml.decode("utf-8", errors="replace")
        fmt, n = _lenient_field(text, "channel_format"), _lenient_field(text, "channel_count")
        rate, name = _lenient_field(text, "nominal_srate"), _lenient_field(text, "name") or ""
        if fmt is None or n is None:
            return None, None, None
        root = _rebuild_header(text, fmt, n, rate, name)
        repaired = sid + b'<?xml version="1.0"?>' + ET.tostring(root, encoding="utf-8")
        note = f"stream {name or '?'}: damaged header read leniently"
    fmt = fmt.strip().lower()
    try:
        n_ch, srate = int(n), float(rate or 0)
    except ValueError:
        return None, None, None
    if (fmt not in SIZES and fmt != "string") or not 0 < n_ch <= MAX_CHANNELS or not np.isfinite(srate):
        return None, None, None
    return StreamFormat(fmt, n_ch, max(srate, 0.0), name, repaired), repaired, note


def _rebuild_header(text: str, fmt: str, n: str, rate: str | None, name: str) -> ET.Element:
    """A clean stream header from the fields that survive in damaged XML text."""
    root = ET.Element("info")
    for tag, val in (("name", name), ("type", _lenient_field(text, "type") or ""), ("channel_count", n),
                     ("nominal_srate", rate or "0"), ("channel_format", fmt),
                     ("source_id", _lenient_field(text, "source_id") or "")):  # fmt: skip
        ET.SubElement(root, tag).text = val
    chans = ET.SubElement(ET.SubElement(root, "desc"), "channels")
    labels = re.findall(r"<label>\s*([^<]*?)\s*</label>", text, re.IGNORECASE)
    units = re.findall(r"<unit>\s*([^<]*?)\s*</unit>", text, re.IGNORECASE)
    if len(labels) == int(n):
        for i, label in enumerate(labels):
            ch = ET.SubElement(chans, "channel")
            ET.SubElement(ch, "label").text = label
            ET.SubElement(ch, "unit").text = units[i] if len(units) == len(labels) else ""
    return root


def _file_header_repaired(content: bytes) -> tuple[bytes, str | None]:
    try:
        ET.fromstring(content)
        return content, None
    except ET.ParseError:
        text = content.decode("utf-8", errors="replace")
        root = ET.Element("info")
        for tag in ("version", "datetime", "software", "patient", "session", "montage", "devices"):
            v = _lenient_field(text, tag)
            if v is not None:
                ET.SubElement(root, tag).text = v
        return b'<?xml version="1.0"?>' + ET.tostring(root, encoding="utf-8"), "the file header was damaged"


def _sample_layout(content: bytes, f: StreamFormat) -> tuple[int, int, bool] | None:
    """(sample count, start of the samples, every sample stamped) when the chunk's size fits
    the stream's format; None when it cannot be one of its Samples chunks."""
    v = _varlen(content, 4)
    if v is None:
        return None
    count, pos = v
    if f.channel_format == "string":
        return (count, pos, False) if _strings_fit(content, pos, count, f.n_channels) else None
    size = SIZES[f.channel_format] * f.n_channels
    rest = len(content) - pos
    if count and rest == count * (9 + size):
        flags = np.ndarray((count,), np.uint8, content, pos, (9 + size,))
        return (count, pos, True) if (flags == 8).all() else None
    if count and rest == count * (1 + size):
        flags = np.ndarray((count,), np.uint8, content, pos, (1 + size,))
        return (count, pos, False) if (flags == 0).all() else None
    # a mix of stamped and unstamped samples (some writers stamp only a few): walk it
    if count <= 0 or rest < count * (1 + size) or rest > count * (9 + size):
        return None
    p = pos
    for _ in range(count):
        if p >= len(content) or content[p] not in (0, 8):
            return None
        p += 1 + content[p] + size
    return (count, pos, False) if p == len(content) else None


def _strings_fit(content: bytes, pos: int, count: int, n_channels: int) -> bool:
    """Whether `count` string samples ([0|8][timestamp][length][text] per channel) fill the
    chunk exactly: a damaged length would otherwise swallow the chunks that follow."""
    if not 0 < count <= len(content):
        return False
    p = pos
    for _ in range(count):
        if p >= len(content) or content[p] not in (0, 8):
            return False
        p += 1 + content[p]
        for _ in range(n_channels):
            v = _varlen(content, p)
            if v is None:
                return False
            p = v[1] + v[0]
    return p == len(content)


def _damaged(t: np.ndarray, srate: float) -> np.ndarray:
    """Mask of the timestamps in each row of `t` (chunks of one size, in stream order) that
    cannot be true: not finite, beyond `MAX_TIMESTAMP_S`, or out of order by more than
    `TIMESTAMP_SLACK_S` with most of the `ORDER_WINDOW` samples before it or most of those
    after it (a flipped bit: 2.4e-305 amid 1000.0). On a regular stream, also the first or
    last sample of a chunk when it lies more than `MAX_JUMP_S` from its neighbour (nothing
    on that side of it in the chunk to be out of order with).

    Order, not a line: a chunk holding a radio drop-out that another program left out
    (LabRecorder writes what arrived) lies on two lines, and an irregular stream's (rate
    0) on none. Judged against one line per chunk, such samples were set as lost: every
    sample but two of an irregular stream's 20-s chunk, and the part of a chunk on the
    far side of a drop-out longer than a second."""
    n = t.shape[1]
    with np.errstate(invalid="ignore", over="ignore"):
        bad = ~np.isfinite(t) | (np.abs(t) > MAX_TIMESTAMP_S)
        u = np.where(bad, np.nan, t)
        wrong_before, seen_before = np.zeros(t.shape), np.zeros(t.shape)  # against the samples before each
        wrong_after, seen_after = np.zeros(t.shape), np.zeros(t.shape)
        for d in range(1, min(ORDER_WINDOW, n - 1) + 1):
            early, late = u[:, :-d], u[:, d:]  # pairs d apart: the early one should not lie after the late one
            known = np.isfinite(early) & np.isfinite(late)
            wrong = known & (early > late + TIMESTAMP_SLACK_S)
            wrong_before[:, d:] += wrong
            seen_before[:, d:] += known
            wrong_after[:, :-d] += wrong
            seen_after[:, :-d] += known
        bad |= (wrong_before * 2 > seen_before) | (wrong_after * 2 > seen_after)
        if srate > 0 and n > 1:
            bad[:, 0] |= u[:, 1] - u[:, 0] > MAX_JUMP_S
            bad[:, -1] |= u[:, -1] - u[:, -2] > MAX_JUMP_S
    return bad


def _bad_times(content: bytes, f: StreamFormat, count: int, pos: int) -> tuple[np.ndarray, np.ndarray] | None:
    """(mask of samples with impossible timestamps (`_damaged`), the times to give them),
    or None when all are plausible. Only for chunks where every sample is stamped. A
    damaged sample's time is interpolated between the good ones around it (continued
    from the stream's last sample where the chunk has none)."""
    stride = 9 + SIZES[f.channel_format] * f.n_channels
    t = np.ndarray((count,), "<f8", content, pos + 1, (stride,))
    bad = _damaged(t[None, :], f.srate)[0]
    if not bad.any():
        return None
    i = np.arange(count)
    step = 1.0 / f.srate if f.srate > 0 else 0.0
    if (~bad).any():
        line = np.interp(i, i[~bad], t[~bad])
        if f.srate > 0:  # before the first good sample and after the last: on the stream's rate
            first, last = np.flatnonzero(~bad)[[0, -1]]
            line = np.where(i < first, t[first] - step * (first - i), line)
            line = np.where(i > last, t[last] + step * (i - last), line)
    else:
        line = (f.last_t + step * (i + 1)) if f.last_t is not None else np.full(count, np.nan)
    return bad, line


def _set_lost(content: bytes, f: StreamFormat, pos: int, bad: np.ndarray, line: np.ndarray) -> bytes:
    """The chunk with its damaged samples set as lost: NaN values, timestamp on the line."""
    size = SIZES[f.channel_format] * f.n_channels
    stride = 9 + size
    buf = bytearray(content)
    t = np.ndarray((len(bad),), "<f8", buf, pos + 1, (stride,))
    t[bad] = line[bad]
    nan_row = np.full(f.n_channels, np.nan, NUMERIC[f.channel_format]).tobytes()
    for i in np.flatnonzero(bad).tolist():
        start = pos + i * stride + 9
        buf[start : start + size] = nan_row
    return bytes(buf)


def _times(content: bytes, f: StreamFormat, count: int, pos: int, stamped: bool) -> tuple[float, float] | None:
    """First and last timestamp of a numeric Samples chunk (unstamped ones continue the stream)."""
    step = 1.0 / f.srate if f.srate > 0 else 0.0
    if f.channel_format == "string":
        return None
    size = SIZES[f.channel_format] * f.n_channels
    if stamped:
        first = struct.unpack_from("<d", content, pos + 1)[0]
        last = struct.unpack_from("<d", content, pos + (count - 1) * (9 + size) + 1)[0]
        return first, last
    p, t, first = pos, f.last_t, None
    for _ in range(count):
        if content[p] == 8:
            t = struct.unpack_from("<d", content, p + 1)[0]
        elif t is not None:
            t += step
        first = t if first is None else first
        p += 1 + content[p] + size
    return (first, t) if first is not None and t is not None else None


def _nan_chunk(sid: int, f: StreamFormat, t0: float, n: int) -> bytes:
    """A Samples chunk of `n` NaN rows from `t0` at the stream's rate."""
    dtype = np.dtype([("len", "u1"), ("t", "<f8"), ("x", NUMERIC[f.channel_format], (f.n_channels,))])
    rec = np.empty(n, dtype=dtype)
    rec["len"] = 8
    rec["t"] = t0 + np.arange(n) / f.srate
    rec["x"] = np.nan
    body = struct.pack("<I", sid) + (b"\x01" + struct.pack("<B", n) if n < 256 else b"\x04" + struct.pack("<I", n))
    return _chunk(TAG_SAMPLES, body + rec.tobytes())


def _infer_format(sid: int, contents: list[bytes]) -> StreamFormat | None:
    """The format of a stream whose header is gone, from its Samples chunks' sizes."""
    for fmt in ("float32", "double64", "int16", "int32", "int64", "int8"):
        for n in range(1, 257):
            f = StreamFormat(fmt, n, 0.0, f"stream{sid}")
            if contents and all(_sample_layout(c, f) is not None for c in contents[:20]):
                header = ET.Element("info")
                for tag, val in (("name", f"stream{sid}"), ("type", ""), ("channel_count", str(n)),
                                 ("nominal_srate", "0"), ("channel_format", fmt)):  # fmt: skip
                    ET.SubElement(header, tag).text = val
                f.header = struct.pack("<I", sid) + b'<?xml version="1.0"?>' + ET.tostring(header, "utf-8")
                return f
    return None


def _resync(data: bytes, start: int) -> int:
    """The next position from `start` where two plausible chunks follow each other."""
    n = len(data)
    arr = np.frombuffer(data, np.uint8)
    lo = start
    while lo < n:
        hi = min(n, lo + (1 << 20))
        seg = arr[lo:hi]
        cand = np.flatnonzero(np.isin(seg, (1, 4, 8))) + lo
        for q in cand.tolist():
            c = _chunk_at(data, q)
            if c is None:
                continue
            tag, body, end = c
            # a stream id sensorkit or LabRecorder would write (small); a stream whose header
            # is the damaged chunk itself is not known yet, so any small id is accepted
            if tag in (2, 3, 4, 6) and struct.unpack_from("<I", data, body)[0] > MAX_STREAM_ID:
                continue
            if tag == TAG_FILE_HEADER:
                continue
            if end == n or _chunk_at(data, end) is not None:
                return q
        lo = hi
    return n


def _xml_end(data: bytes, body: int, end: int) -> int:
    """Where an XML chunk (headers, footers) really ends: its declared `end`, unless its
    text closes elsewhere and a plausible chunk (or the end of the file) follows there,
    which means its length field is damaged."""
    tail = data[max(body, end - 16) : end].rstrip()
    if tail.endswith(b"</info>"):
        return end
    close = data.find(b"</info>", body, min(len(data), end + 65536))
    if close < 0:
        return end
    e = close + len(b"</info>")
    if e == len(data) or _chunk_at(data, e) is not None:
        return e
    return end


def _headers_in(data: bytes, a: int, b: int) -> list[tuple[int, bytes]]:
    """Stream headers whose XML survives inside the damaged bytes [a, b)."""
    out = []
    pos = a
    while True:
        i = data.find(b"<?xml", pos, b)
        if i < 0:
            break
        j = data.find(b"</info>", i, b)
        if j < 0:
            break
        xml = data[i : j + len(b"</info>")]
        if i - 4 >= a and re.search(rb"<channel_count>", xml, re.IGNORECASE):
            out.append((struct.unpack_from("<I", data, i - 4)[0], data[i - 4 : i] + xml))
        pos = j
    return out


class _Walk:
    """State of one walk over a file's chunks."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.formats: dict[int, StreamFormat] = {}
        self.out: list[bytes] = [b"XDF:"]
        self.headers_at = 1  # where headers found late go: after the file header
        self.late_headers: list[bytes] = []
        self.notes: list[str] = []
        self.footers: set[int] = set()
        self.orphans: dict[int, list[tuple[int, bytes]]] = {}  # samples of streams with no header yet
        self.pending_gap: dict[int, float] = {}  # stream id -> last timestamp before a damaged stretch
        self.bad_times: dict[int, list[float]] = {}
        self.gaps: dict[int, list[tuple[float, float, int]]] = {}  # stream id -> (from s, to s, samples)
        self.t_first: float | None = None  # the earliest timestamp seen: times in notes count from it

    def chunk(self, pos: int) -> int | None:
        """Take the chunk at `pos`; its end, or None when it is damaged."""
        c = _chunk_at(self.data, pos)
        if c is None:
            return None
        tag, body, end = c
        if tag in (TAG_FILE_HEADER, TAG_STREAM_HEADER, TAG_STREAM_FOOTER):
            xml_end = _xml_end(self.data, body, end)
            if xml_end != end:
                self.notes.append(f"a damaged chunk length at offset {pos} corrected from its XML")
                content = self.data[body:xml_end]
                end = xml_end
                raw = _chunk(tag, content)
            else:
                raw, content = self.data[pos:end], self.data[body:end]
        else:
            raw, content = self.data[pos:end], self.data[body:end]
        if tag == TAG_FILE_HEADER:
            fixed, note = _file_header_repaired(content)
            if note:
                self.notes.append(note)
            self.out.append(raw if fixed is content else _chunk(tag, fixed))
            self.headers_at = len(self.out)
        elif tag == TAG_STREAM_HEADER:
            sid = struct.unpack_from("<I", content)[0]
            f, repaired, note = _header_format(content)
            if f is None:
                return None
            if sid not in self.formats:
                self.out.append(raw if repaired is content else _chunk(tag, repaired))
                self.adopt(sid, f, note)
        elif tag == TAG_SAMPLES:
            sid = struct.unpack_from("<I", content)[0]
            f = self.formats.get(sid)
            if f is None:
                self.orphans.setdefault(sid, []).append((len(self.out), content))
                self.out.append(b"")  # filled in once the stream's format is known
            else:
                fixed = self.samples(sid, f, content)
                if fixed is None:
                    return None
                self.out.append(raw if fixed is content else fixed)
        else:
            if tag == TAG_STREAM_FOOTER:
                self.footers.add(struct.unpack_from("<I", content)[0])
            self.out.append(raw)
        return end

    def adopt(self, sid: int, f: StreamFormat, note: str | None, late: bool = False) -> None:
        """A stream's format is known: check the samples that came before its header."""
        self.formats[sid] = f
        if note:
            self.notes.append(note)
        if late:
            self.late_headers.append(_chunk(TAG_STREAM_HEADER, f.header))
        for i, content in self.orphans.pop(sid, []):
            fixed = self.samples(sid, f, content)
            self.out[i] = b"" if fixed is None else _chunk(TAG_SAMPLES, content) if fixed is content else fixed

    def samples(self, sid: int, f: StreamFormat, content: bytes) -> bytes | None:
        """The Samples chunk checked and, where needed, repaired (returned as `content`
        itself when untouched), preceded by a NaN gap where a damaged stretch before it
        lost samples; None when it cannot be this stream's."""
        layout = _sample_layout(content, f)
        if layout is None:
            return None
        count, pos, stamped = layout
        fixed: bytes | None = None
        if stamped:
            found = _bad_times(content, f, count, pos)
            if found is not None:
                bad, line = found
                stride = 9 + SIZES[f.channel_format] * f.n_channels
                values = np.ndarray((count,), "<f8", content, pos + 1, (stride,))[bad].tolist()
                self.bad_times.setdefault(sid, []).extend(values)
                if not np.isfinite(line).all() or f.channel_format not in ("float32", "double64"):
                    return b""  # no line to put them on, or no NaN in an integer format
                fixed = _set_lost(content, f, pos, bad, line)
        span = _times(fixed or content, f, count, pos, stamped)
        prefix = b""
        if span is not None:
            before = self.pending_gap.pop(sid, None)
            if before is not None and f.srate > 0 and f.channel_format in ("float32", "double64"):
                missing = int(round((span[0] - before) * f.srate)) - 1
                if 0 < missing <= 3600 * f.srate:
                    prefix = _nan_chunk(sid, f, before + 1.0 / f.srate, missing)
                    self.gaps.setdefault(sid, []).append((before + 1.0 / f.srate, span[0], missing))
            f.last_t = span[1]
            if np.isfinite(span[0]) and (self.t_first is None or span[0] < self.t_first):
                self.t_first = span[0]
        if not prefix and fixed is None:
            return content
        return prefix + _chunk(TAG_SAMPLES, fixed or content)

    def damaged(self, a: int, b: int) -> None:
        """Bytes [a, b) are damaged: recover stream headers in them, expect gaps after them."""
        for sid, header in _headers_in(self.data, a, b):
            if sid not in self.formats:
                f, repaired, _ = _header_format(header)
                if f is not None:
                    f.header = repaired
                    self.adopt(sid, f, f"stream {f.name}: header recovered from a damaged stretch", late=True)
        for sid, f in self.formats.items():
            if f.last_t is not None and sid not in self.pending_gap:
                self.pending_gap[sid] = f.last_t

    def finish(self) -> None:
        """Streams whose header never appeared: their format from their chunks' sizes."""
        for sid in list(self.orphans):
            items = self.orphans[sid]
            f = _infer_format(sid, [c for _, c in items])
            if f is None:
                self.orphans.pop(sid)
                self.notes.append(f"stream id {sid}: {len(items)} chunks of samples dropped (its header is "
                                  "lost and their format could not be inferred)")  # fmt: skip
                continue
            self.adopt(sid, f, f"stream id {sid}: header lost; samples kept as {f.name} ({f.n_channels} "
                       f"{f.channel_format} channels, no labels)", late=True)  # fmt: skip


NOT_CLOSED = ("the file was not closed cleanly (no stream footers): the recording was interrupted "
              "and ends at its last flushed data")  # fmt: skip


def _intact(data: bytes, idx: Index) -> Salvage | None:
    """The file unchanged when the walk would find nothing to repair, decided a stream at a
    time with numpy from the chunk index (the walk takes tens of microseconds per chunk, a
    1-hour recording has hundreds of thousands); None where in doubt (the walk decides).

    The same checks as the walk: plausible chunks (the index), XML that ends where its
    chunk does, headers that parse, no header twice, Samples chunks of at least one
    sample whose size fits the format with every sample stamped, timestamps finite and on
    their chunk's own line."""
    formats: dict[int, StreamFormat] = {}
    footers = set()
    for tag, sid, body, end in idx.others:
        content_at = body - 4 if sid != -1 else body
        if tag in (TAG_FILE_HEADER, TAG_STREAM_HEADER, TAG_STREAM_FOOTER) and _xml_end(data, content_at, end) != end:
            return None
        if tag == TAG_FILE_HEADER and _file_header_repaired(data[body:end])[1] is not None:
            return None
        if tag == TAG_STREAM_HEADER:
            f, _, note = _header_format(data[content_at:end])
            if f is None or note is not None or sid in formats:
                return None
            formats[sid] = f
        elif tag == TAG_STREAM_FOOTER:
            footers.add(sid)
        elif tag == TAG_BOUNDARY and data[body:end] != BOUNDARY_UUID:
            return None
        elif tag == TAG_CLOCK_OFFSET and end - content_at != 4 + 16:
            return None
    for sid, (counts, starts, ends) in idx.samples.items():
        f = formats[sid]
        if not counts:
            continue
        c = np.asarray(counts)
        if c.min() <= 0:
            return None
        if f.channel_format == "string":
            with memoryview(data) as view:  # released at once: the reader closes its memory map after
                fits = all(_strings_fit(view[:e], a, n, f.n_channels)
                           for n, a, e in zip(counts, starts, ends, strict=True))  # fmt: skip
            if not fits:
                return None
            continue
        stride = 9 + SIZES[f.channel_format] * f.n_channels
        joined = idx.records(data, sid, stride - 9)
        if joined is None:
            return None
        rec = np.ndarray((int(c.sum()),), np.dtype([("f", "u1"), ("t", "<f8")]), joined, 0, (stride,))
        if not np.all(rec["f"] == 8) or not _times_on_their_lines(rec["t"], c, f.srate):
            return None
    clean = not formats or set(formats) <= footers
    return Salvage(data, [] if clean else [NOT_CLOSED], clean)


def _times_on_their_lines(t: np.ndarray, counts: np.ndarray, srate: float) -> bool:
    """`_bad_times` for many chunks at once: no timestamp `_damaged`. Chunks whose times
    never fall back by more than the slack have no pair out of order, so only the others
    (and a chunk's ends, on a regular stream) are judged in full (an hour's chunks judged
    in full, as a median line each, took half a second)."""
    with np.errstate(invalid="ignore", over="ignore"):
        if not (np.isfinite(t).all() and np.abs(t).max(initial=0.0) <= MAX_TIMESTAMP_S):
            return False
        firsts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        for n in np.unique(counts):  # chunks of one size at a time: a (chunks, n) matrix
            rows = t[firsts[counts == n][:, None] + np.arange(n)]
            fall = (np.maximum.accumulate(rows, axis=1) - rows).max(axis=1)
            unsure = fall > TIMESTAMP_SLACK_S
            if srate > 0 and n > 1:
                unsure |= (rows[:, -1] - rows[:, -2] > MAX_JUMP_S) | (rows[:, 1] - rows[:, 0] > MAX_JUMP_S)
            if unsure.any() and _damaged(rows[unsure], srate).any():
                return False
    return True


def salvage(data: bytes, idx: Index | None = None) -> Salvage:
    """Walk an XDF file's chunks, repairing what can be repaired (see the module doc).
    With the file's chunk index (`xdf_fast.index`), an intact file is recognised at once."""
    if idx is not None:
        quick = _intact(data, idx)
        if quick is not None:
            return quick
    data = bytes(data)  # the walk needs bytes (the reader may pass a memory map)
    n = len(data)
    w = _Walk(data)
    stretches: list[tuple[int, int]] = []
    pos = 4 if data.startswith(b"XDF:") else 0
    if pos == 0:
        w.notes.append("the file's first bytes are damaged (no 'XDF:' signature)")
    while pos < n:
        end = w.chunk(pos)
        if end is not None:
            pos = end
            continue
        nxt = _resync(data, pos + 1)
        stretches.append((pos, nxt))
        w.damaged(pos, nxt)
        pos = nxt
    w.finish()
    notes = w.notes
    for a, b in stretches:
        if b >= n:
            notes.append(f"dropped the last {n - a} bytes: an incomplete or damaged end (file cut off)")
        else:
            notes.append(f"skipped {b - a} damaged bytes at offset {a}")
    for sid, f in w.formats.items():
        t0 = w.t_first or 0.0
        for a, b, k in w.gaps.get(sid, []):
            notes.append(f"stream {f.name}: {k} samples ({b - a:.3g} s) lost at {a - t0:.2f}-{b - t0:.2f} s "
                         "from the start, kept as a gap (NaN rows)")  # fmt: skip
        if w.bad_times.get(sid):
            shown = ", ".join(f"{v:.3g}" for v in w.bad_times[sid][:3])
            notes.append(f"stream {f.name}: {len(w.bad_times[sid])} samples with impossible timestamps "
                         f"({shown}) set as lost")  # fmt: skip
    clean = not w.formats or set(w.formats) <= w.footers
    if not clean:
        notes.append(NOT_CLOSED)
    out = w.out[: w.headers_at] + w.late_headers + w.out[w.headers_at :]
    return Salvage(b"".join(out), notes, clean)
