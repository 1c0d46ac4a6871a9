"""sk1 test vectors: the Python decoder against the C reference encoder, bit-exact."""

import json
import shutil
import subprocess

import numpy as np
import pytest
from conftest import ROOT, VECTORS

from sensorkit.protocols import sk1

NAMES = sorted(p.stem for p in VECTORS.glob("*.bin"))


def load(name):
    return (VECTORS / f"{name}.bin").read_bytes(), json.loads((VECTORS / f"{name}.json").read_text())


def check_content(frame, content):
    if frame.type in (sk1.EMG_BLOCK, sk1.IMU_BLOCK):
        sid, first, values = sk1.parse_sample_block(frame.body)
        assert (sid, first) == (content["stream_id"], content["first_index"])
        assert sk1.block_header(frame.body)[1] == content["format"]
        np.testing.assert_array_equal(values, np.array(content["values"], dtype=np.int32))
    elif frame.type == sk1.STREAM_INFO:
        desc, first = sk1.parse_stream_info(frame.body)
        assert (desc.stream_id, desc.kind, desc.fmt, desc.n_channels, desc.name, first) == (
            content["stream_id"], content["kind"], content["format"], content["n_channels"],
            content["name"], content["first_channel"])
        assert desc.rate == np.float32(content["rate"])
        for i, ch in enumerate(content["channels"]):
            got = desc.channels[first + i]
            assert got.label == ch["label"]
            assert got.unit == sk1.UNIT_CODES[ch["unit"]]
            assert np.float32(got.scale) == np.float32(ch["scale"])
    elif frame.type == sk1.DEVICE_INFO:
        info = sk1.parse_device_info(frame.body)
        assert (info.n_streams, info.serial, list(info.firmware), info.name) == (
            content["n_streams"], content["serial"], content["firmware"], content["name"])
    elif frame.type == sk1.STATUS:
        assert sk1.parse_status(frame.body).__dict__ == content
    elif frame.type == sk1.MARKER:
        m = sk1.parse_marker(frame.body)
        assert (m.source, m.code, m.text) == (content["source"], content["code"], content["text"])
    elif frame.type == sk1.COMMAND:
        assert frame.body == bytes([content["command"], *content["args"]])
    else:
        pytest.fail(f"unexpected frame type {frame.type}")


def test_every_packet_type_has_a_vector():
    types = {f["type"] for n in NAMES for f in load(n)[1]["frames"]}
    assert types == set(sk1.PACKET_TYPES)
    assert {"corrupted_frame", "lost_packet", "sequence_wrap"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("split", ["whole", "bytewise"])
def test_vector_decodes_exactly(name, split):
    data, expected = load(name)
    dec = sk1.Decoder()
    if split == "whole":
        frames = dec.feed(data)
    else:
        frames = [f for i in range(len(data)) for f in dec.feed(data[i : i + 1])]
    assert [(f.type, f.seq, f.device_time_us) for f in frames] == [
        (e["type"], e["seq"], e["device_time_us"]) for e in expected["frames"]]
    for frame, exp in zip(frames, expected["frames"], strict=True):
        check_content(frame, exp["content"])
    st = expected["stats"]
    assert (dec.stats.frames, dec.stats.crc_errors, dec.stats.lost_packets) == (
        st["frames"], st["crc_errors"], st["lost_packets"])


def test_python_encoder_reproduces_c_frames():
    """Re-encoding each decoded frame with its sequence and time gives the C bytes back."""
    for name in ("device_info", "stream_info", "emg_block_int24", "emg_block_int16", "imu_block",
                 "status", "marker", "command", "lost_packet", "sequence_wrap"):
        data, _ = load(name)
        frames = sk1.Decoder().feed(data)
        assert b"".join(sk1.encode_frame(f.type, f.seq, f.device_time_us, f.body) for f in frames) == data


def test_python_body_builders_match_c():
    data, expected = load("stream_info")
    frames = sk1.Decoder().feed(data)
    desc = sk1.StreamDesc(0, sk1.KIND_EMG, sk1.FMT_INT24, 16, 2000.0, "emg")
    for f in frames:
        part, _ = sk1.parse_stream_info(f.body)
        if part.stream_id == 0:
            desc.channels.update(part.channels)
    emg_bodies = [f.body for f in frames if sk1.parse_stream_info(f.body)[0].stream_id == 0]
    assert sk1.stream_info_bodies(desc) == emg_bodies
    block = load("emg_block_int24")[1]["frames"][0]["content"]
    body = sk1.sample_block_body(0, block["first_index"], np.array(block["values"]), sk1.FMT_INT24)
    assert body == sk1.Decoder().feed(load("emg_block_int24")[0])[0].body
    m = sk1.marker_body(sk1.Marker(1, 0, "exercise_start:single_leg_squat:L"))
    assert m == sk1.Decoder().feed(load("marker")[0])[1].body


def test_crc_check_value():
    assert sk1.crc16(b"123456789") == 0x29B1


@pytest.mark.skipif(shutil.which("cc") is None and shutil.which("gcc") is None, reason="no C compiler")
def test_c_reference_encoder_compiles_and_regenerates_the_vectors(tmp_path):
    src = ROOT / "firmware_protocols" / "sk1" / "firmware"
    cc = shutil.which("cc") or shutil.which("gcc")
    exe = tmp_path / "make_vectors"
    subprocess.run([cc, "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-pedantic", "-o", str(exe),
                    str(src / "make_vectors.c"), str(src / "sk1.c")], check=True)
    out = tmp_path / "vectors"
    out.mkdir()
    subprocess.run([str(exe), str(out)], check=True)
    for name in NAMES:
        assert (out / f"{name}.bin").read_bytes() == (VECTORS / f"{name}.bin").read_bytes(), name
        assert json.loads((out / f"{name}.json").read_text()) == load(name)[1]
