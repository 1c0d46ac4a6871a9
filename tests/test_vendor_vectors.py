"""Third-party decoders against byte vectors written from the vendors' own documents.

sensorkit's OpenBCI and Myo encoders exist for the simulated devices; testing the
decoders only against them could not catch a misreading the two share. These vectors
were written byte by byte from OpenBCI's data-format page and Thalmic Labs' myohw.h
(sources in each JSON file), with every expected value worked out by hand.
"""

import json
from pathlib import Path

import numpy as np
import pytest

from sensorkit.protocols import myo
from sensorkit.protocols import openbci as ob

VECTORS = Path(__file__).resolve().parents[1] / "firmware_protocols"
CYTON = json.loads((VECTORS / "openbci_cyton" / "vectors" / "vendor_vectors.json").read_text())
MYO = json.loads((VECTORS / "myo" / "vectors" / "vendor_vectors.json").read_text())


def unhex(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


@pytest.mark.parametrize("vector", CYTON["packets"], ids=lambda v: v["why"][:30])
def test_cyton_packets_decode_as_the_data_format_page_says(vector):
    data = unhex(vector["hex"])
    assert len(data) == ob.PACKET_BYTES
    (packet,) = ob.CytonDecoder().feed(b"noise " + data)  # a packet found after junk, as on a real port
    assert packet.sample_number == vector["sample_number"] and packet.footer == vector["footer"]
    assert packet.counts.tolist() == vector["counts"]
    accel = packet.accel_counts()
    if vector["accel_counts"] is None:
        assert accel is None
    else:
        assert accel.tolist() == vector["accel_counts"]
        np.testing.assert_allclose(accel * ob.ACCEL_G_PER_COUNT, vector["accel_g"], rtol=1e-12)


def test_cyton_scales_are_the_documented_ones():
    assert ob.volts_per_count(24) * 1e6 == pytest.approx(CYTON["scale_uv_per_count_gain24"], abs=5e-6)
    assert ob.volts_per_count(1) == pytest.approx(4.5 / (2**23 - 1))
    assert ob.ACCEL_G_PER_COUNT == CYTON["accel_g_per_count"]
    full_scale = CYTON["packets"][0]["counts"][0] * ob.volts_per_count(24)
    assert full_scale == pytest.approx(4.5 / 24)  # +8388607 counts is the ADS1299's positive full scale


def test_cyton_packets_split_anyhow_decode_the_same():
    data = b"".join(unhex(v["hex"]) for v in CYTON["packets"])
    dec = ob.CytonDecoder()
    packets = [p for k in range(0, len(data), 5) for p in dec.feed(data[k : k + 5])]
    assert [p.counts.tolist() for p in packets] == [v["counts"] for v in CYTON["packets"]]


def test_myo_commands_are_the_headers_structs():
    by_name = {c["name"]: unhex(c["hex"]) for c in MYO["commands"]}
    assert myo.set_mode(myo.EMG_MODE_RAW, myo.IMU_MODE_DATA) == by_name["set_mode raw EMG + IMU data, classifier off"]
    assert myo.set_sleep_mode(myo.SLEEP_NEVER) == by_name["set_sleep_mode never sleep"]
    assert myo.START == (by_name["set_sleep_mode never sleep"], by_name["set_mode raw EMG + IMU data, classifier off"])


def test_myo_uuids_are_the_headers():
    u = MYO["uuids"]
    assert myo.CONTROL_SERVICE == u["control_service"] and myo.COMMAND == u["command"]
    assert myo.IMU_DATA == u["imu_data"] and list(myo.EMG_DATA) == u["emg_data"]


def test_myo_emg_and_imu_payloads_decode_as_the_header_says():
    emg = myo.emg_samples(unhex(MYO["emg"]["hex"]))
    assert emg.tolist() == MYO["emg"]["samples"]
    quat, acc, gyr = myo.imu_sample(unhex(MYO["imu"]["hex"]))
    assert quat.tolist() == MYO["imu"]["quaternion_wxyz"]
    assert acc.tolist() == MYO["imu"]["acc_g"] and gyr.tolist() == MYO["imu"]["gyr_dps"]
