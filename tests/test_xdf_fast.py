"""The numpy XDF decoder gives exactly what pyxdf.load_xdf gives (values and their types,
timestamps after clock synchronisation and dejittering, metadata, footers, clock
offsets) on every XDF file the project has and on generated ones; where it cannot,
pyxdf reads the file."""

import io
import logging
import struct
from pathlib import Path

import numpy as np
import pytest
import pyxdf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sensorkit.cli import main
from sensorkit.recording import xdf_reader
from sensorkit.recording.xdf_fast import load_xdf
from sensorkit.recording.xdf_writer import _chunk, _varlen
from tests.conftest import SHARED

ROOT = Path(__file__).resolve().parents[1]
DTYPES = {"int8": "<i1", "int16": "<i2", "int32": "<i4", "int64": "<i8", "float32": "<f4", "double64": "<f8"}


def differences(a, b, path="") -> list[str]:
    """Where two pyxdf-style results differ (types included), empty when equal."""
    if isinstance(a, dict):
        if not isinstance(b, dict) or set(a) != set(b):
            return [f"{path}: keys differ"]
        return [e for k in a for e in differences(a[k], b[k], f"{path}.{k}")]
    if isinstance(a, list | tuple):
        if type(a) is not type(b) or len(a) != len(b):
            return [f"{path}: {type(a).__name__} of {len(a)} vs {type(b).__name__}"]
        return [e for i, (x, y) in enumerate(zip(a, b, strict=True)) for e in differences(x, y, f"{path}[{i}]")]
    if isinstance(a, np.ndarray):
        if not isinstance(b, np.ndarray) or a.dtype != b.dtype or a.shape != b.shape:
            return [f"{path}: array {a.dtype}{a.shape} vs {getattr(b, 'dtype', type(b))}{getattr(b, 'shape', '')}"]
        return [] if np.array_equal(a, b, equal_nan=a.dtype.kind == "f") else [f"{path}: values differ"]
    if isinstance(a, float) and isinstance(b, float) and np.isnan(a) and np.isnan(b):
        return []
    return [] if type(a) is type(b) and a == b else [f"{path}: {a!r} != {b!r}"]


def assert_same_as_pyxdf(data: bytes) -> None:
    logging.getLogger("pyxdf.pyxdf").setLevel(logging.CRITICAL)
    ref = pyxdf.load_xdf(io.BytesIO(data))
    got = load_xdf(data)
    assert differences(ref, got) == []


def project_files() -> list[Path]:
    files = sorted((ROOT / "recordings").glob("*.xdf"))
    files += sorted((SHARED / "xdf_example_files").glob("*.xdf"))  # absent in a user's clone: not listed
    return files


@pytest.mark.parametrize("path", project_files(), ids=lambda p: p.name)
def test_equal_to_pyxdf_on_the_projects_files(path):
    assert_same_as_pyxdf(path.read_bytes())


def test_equal_to_pyxdf_on_a_simulated_session_with_faults_and_an_import(tmp_path):
    sim = tmp_path / "sim.xdf"
    assert main(["simulate", "single_leg_squat", "-o", str(sim), "--param", "faults=1", "--param", "reps=3"]) == 0
    assert_same_as_pyxdf(sim.read_bytes())
    text = tmp_path / "x.txt"
    text.write_text("time\tRF (mV)\tknee (deg)\n" + "\n".join(f"{i / 500:.3f}\t{np.sin(i):.4f}\t{i % 90}"
                                                              for i in range(3000)))  # fmt: skip
    out = tmp_path / "x.xdf"
    assert main(["import", str(text), "-o", str(out)]) == 0
    assert_same_as_pyxdf(out.read_bytes())


# ---------------------------------------------------------------- generated files


def header(sid: int, name: str, fmt: str, n: int, srate: float) -> bytes:
    xml = (f"<?xml version='1.0'?><info><name>{name}</name><type>T</type><channel_count>{n}</channel_count>"
           f"<nominal_srate>{srate!r}</nominal_srate><channel_format>{fmt}</channel_format>"
           f"<desc><channels>{''.join(f'<channel><label>c{i}</label></channel>' for i in range(n))}</channels>"
           "</desc></info>")  # fmt: skip
    return _chunk(2, struct.pack("<I", sid) + xml.encode())


def samples(sid: int, fmt: str, rows: list, stamps: list) -> bytes:
    body = bytearray(struct.pack("<I", sid) + _varlen(len(rows)))
    for row, t in zip(rows, stamps, strict=True):
        body += b"\x00" if t is None else b"\x08" + struct.pack("<d", t)
        if fmt == "string":
            for v in row:
                raw = v.encode()
                body += _varlen(len(raw)) + raw
        else:
            body += np.asarray(row, dtype=DTYPES[fmt]).tobytes()
    return _chunk(3, bytes(body))


stream_spec = st.tuples(
    st.sampled_from([*DTYPES, "string"]), st.integers(1, 4), st.sampled_from([0.0, 10.0, 100.0, 512.0]),
    st.lists(st.tuples(st.integers(0, 12), st.sampled_from(["all", "none", "mixed"])), min_size=0, max_size=6),
    st.booleans(), st.integers(0, 4),
)  # fmt: skip


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs=st.lists(stream_spec, min_size=1, max_size=3), seed=st.integers(0, 2**31))
def test_equal_to_pyxdf_on_generated_files(specs, seed):
    """Any formats, channel counts, rates (or none), chunkings, timestamps on every sample,
    none or some, clock offsets, footers, chunks of several streams interleaved."""
    rng = np.random.default_rng(seed)
    out = bytearray(b"XDF:" + _chunk(1, b"<?xml version='1.0'?><info><version>1.0</version></info>"))
    pending = []
    for sid, (fmt, n, srate, chunks, footer, offsets) in enumerate(specs, 1):
        out += header(sid, f"s{sid}", fmt, n, srate)
        own: list[bytes] = []
        t = float(rng.uniform(0, 1000))
        for size, stamping in chunks:
            rows = ([[str(rng.integers(0, 99)) for _ in range(n)] for _ in range(size)] if fmt == "string"
                    else rng.integers(-100, 100, (size, n)).tolist())  # fmt: skip
            stamps = []
            for k in range(size):
                t += 1 / srate if srate else float(rng.uniform(0.01, 1))
                keep = stamping == "all" or (stamping == "mixed" and (k == 0 or rng.random() < 0.5))
                stamps.append(t + float(rng.normal(0, 1e-4)) if keep else None)
            own.append(samples(sid, fmt, rows, stamps))
        for k in range(offsets):
            own.append(_chunk(4, struct.pack("<Idd", sid, t * (k + 1) / max(offsets, 1), rng.normal(0, 1e-3))))
        if footer:
            own.append(_chunk(6, struct.pack("<I", sid) + b"<?xml version='1.0'?><info><sample_count>"
                              + str(sum(c[0] for c in chunks)).encode() + b"</sample_count></info>"))  # fmt: skip
        pending.append(own)
    while any(pending):  # the streams' chunks interleave, each stream's own in order
        own = [q for q in pending if q][int(rng.integers(0, sum(1 for q in pending if q)))]
        out += own.pop(0)
    assert_same_as_pyxdf(bytes(out))


def test_what_the_fast_decoder_refuses_pyxdf_reads(monkeypatch):
    path = ROOT / "recordings" / "before.xdf"
    fast = xdf_reader.read_xdf(path)

    def refuse(data):
        raise ValueError("unexpected")

    monkeypatch.setattr(xdf_reader, "load_xdf_fast", refuse)
    slow = xdf_reader.read_xdf(path)
    assert [s.info for s in slow.streams] == [s.info for s in fast.streams]
    for a, b in zip(slow.streams, fast.streams, strict=True):
        np.testing.assert_array_equal(a.timestamps, b.timestamps)
        np.testing.assert_array_equal(a.samples, b.samples)


# ---------------------------------------------------------------- the quick intact check


def variants(data: bytes, seed: int) -> list[bytes]:
    """The file, cut off, with bytes flipped here and there, and with its footers gone."""
    rng = np.random.default_rng(seed)
    out = [data, data[: len(data) // 2], data[: len(data) - 7]]
    for _ in range(6):
        b = bytearray(data)
        for i in rng.integers(4, len(data), 3):
            b[i] ^= 1 << int(rng.integers(0, 8))
        out.append(bytes(b))
    return out


@pytest.mark.parametrize("path", project_files(), ids=lambda p: p.name)
def test_the_quick_intact_check_agrees_with_the_salvage_walk(path):
    from sensorkit.recording.xdf_fast import index
    from sensorkit.recording.xdf_salvage import _intact, salvage

    quick_ones = 0
    for k, data in enumerate(variants(path.read_bytes(), seed=len(path.name))):
        idx = index(data)
        quick = _intact(data, idx) if idx is not None else None
        walk = salvage(data)
        if quick is not None:  # wherever it decides, it decides as the walk does
            quick_ones += 1
            assert (quick.data == walk.data, quick.notes, quick.closed_cleanly) == \
                (True, walk.notes, walk.closed_cleanly), k  # fmt: skip
        assert salvage(data, idx).data == walk.data
    if path.parent.name == "recordings":
        assert quick_ones >= 1  # an intact sensorkit recording is recognised at once


def test_an_unclosed_recording_is_still_said_to_be_so(tmp_path):
    from sensorkit.recording.xdf_fast import index
    from sensorkit.recording.xdf_salvage import _intact, salvage
    from sensorkit.recording.xdf_writer import XdfWriter
    from sensorkit.streams import Chunk, StreamInfo

    path = tmp_path / "open.xdf"
    w = XdfWriter(path)
    info = StreamInfo("emg", "EMG", ("glute_max_L",), ("V",), 1000.0, "t", "float32")
    for k in range(5):
        w.write_chunk(Chunk(info, k * 0.05 + np.arange(50) / 1000, np.zeros((50, 1))))
    w.flush()  # never closed: no footers, as after a crash
    data = path.read_bytes()
    quick, walk = _intact(data, index(data)), salvage(data)
    assert quick is not None and not quick.closed_cleanly and quick.notes == walk.notes
    assert "not closed cleanly" in quick.notes[0]
    assert not xdf_reader.read_xdf(path).closed_cleanly
    w.close()


def test_the_quick_timestamp_check_decides_as_the_order_rule():
    from sensorkit.recording.xdf_salvage import MAX_JUMP_S, TIMESTAMP_SLACK_S, _times_on_their_lines

    def by_order(t, counts, srate):  # the definition, sample by sample (see _damaged)
        firsts = np.r_[0, np.cumsum(counts)[:-1]]
        for a, n in zip(firsts, counts, strict=True):
            c = t[a : a + n]
            for k in range(n):
                before, after = range(max(0, k - 8), k), range(k + 1, min(n, k + 9))
                if (2 * sum(c[j] > c[k] + TIMESTAMP_SLACK_S for j in before) > len(before)
                        or 2 * sum(c[k] > c[j] + TIMESTAMP_SLACK_S for j in after) > len(after)):  # fmt: skip
                    return False
            if n > 1 and (c[-1] - c[-2] > MAX_JUMP_S or c[1] - c[0] > MAX_JUMP_S):
                return False
        return True

    rng = np.random.default_rng(3)
    decided = set()
    for trial in range(300):
        counts = rng.choice([1, 2, 5, 50], size=20)
        t = 10.0 + np.arange(counts.sum()) / 100.0 + rng.normal(0, 1e-4, counts.sum())
        for i in rng.integers(0, len(t), int(rng.integers(0, 3))):  # drop-outs: the rest of the stream later
            t[i:] += rng.uniform(0.5, 5) * TIMESTAMP_SLACK_S
        for i in rng.integers(0, len(t), int(rng.integers(0, 3))):  # stamps off their line, some near the slack
            t[i] += rng.choice([-1, 1]) * rng.uniform(0.5, 2.5) * TIMESTAMP_SLACK_S
        if rng.random() < 0.1:
            t[-1] += 2 * MAX_JUMP_S
        if rng.random() < 0.1:
            t[0] -= 2 * MAX_JUMP_S
        want = by_order(t, counts, 100.0)
        assert _times_on_their_lines(t, counts, 100.0) == want, trial
        decided.add(want)
    assert decided == {True, False}
