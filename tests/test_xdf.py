"""XDF recording: pyxdf reads what we write; we read what others write; damage is salvaged."""

import struct

import numpy as np
import pytest
import pyxdf
from conftest import shared_file
from helpers import expected_emg, record_sim, small_session

from sensorkit.errors import SensorkitError
from sensorkit.recording.xdf_reader import read_xdf, scan_chunks
from sensorkit.recording.xdf_writer import XdfWriter
from sensorkit.streams import Chunk, StreamInfo


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    rec = small_session(seed=11)
    path = tmp_path_factory.mktemp("xdf") / "session.xdf"
    device, chunks = record_sim(path, rec)
    return path, rec, chunks


def _desc_channels(stream):
    chans = stream["info"]["desc"][0]["channels"][0]["channel"]
    return [(c["label"][0], c["unit"][0], c["type"][0]) for c in chans]


def test_pyxdf_reads_names_types_labels_units_counts_and_times(recorded):
    path, rec, chunks = recorded
    streams, header = pyxdf.load_xdf(str(path))
    by_name = {s["info"]["name"][0]: s for s in streams}
    assert set(by_name) == {"emg", "pelvis", "markers"}
    emg, imu, mk = by_name["emg"], by_name["pelvis"], by_name["markers"]
    assert (emg["info"]["type"][0], imu["info"]["type"][0], mk["info"]["type"][0]) == ("EMG", "IMU", "Markers")
    assert _desc_channels(emg) == [(m, "V", "EMG") for m in rec.config.muscles]
    assert _desc_channels(imu) == [("acc_x", "m/s^2", "Accelerometer"), ("acc_y", "m/s^2", "Accelerometer"),
                                   ("acc_z", "m/s^2", "Accelerometer"), ("gyr_x", "rad/s", "Gyroscope"),
                                   ("gyr_y", "rad/s", "Gyroscope"), ("gyr_z", "rad/s", "Gyroscope")]
    assert float(emg["info"]["nominal_srate"][0]) == 2000 and float(imu["info"]["nominal_srate"][0]) == 200
    assert len(emg["time_stamps"]) == len(rec.emg) and len(imu["time_stamps"]) == len(rec.imu)
    np.testing.assert_array_equal(emg["time_series"], expected_emg(rec))
    np.testing.assert_allclose(emg["time_stamps"], chunks["emg"].timestamps, atol=1e-6)
    assert [row[0] for row in mk["time_series"]] == [m for _, m in rec.markers]
    np.testing.assert_allclose(mk["time_stamps"], chunks["markers"].timestamps, atol=1e-9)
    assert header["info"]["patient"] == ["P001"] and header["info"]["session"] == ["test"]
    assert int(emg["footer"]["info"]["sample_count"][0]) == len(rec.emg)


def test_exact_timestamps_without_dejittering(recorded):
    path, _, chunks = recorded
    streams, _ = pyxdf.load_xdf(str(path), dejitter_timestamps=False)
    emg = next(s for s in streams if s["info"]["name"][0] == "emg")
    np.testing.assert_array_equal(emg["time_stamps"], chunks["emg"].timestamps)


def test_reader_wraps_pyxdf_into_the_data_model(recorded):
    path, rec, _ = recorded
    r = read_xdf(path)
    emg = r.of_kind("EMG")[0]
    assert emg.info.channels == rec.config.muscles and emg.info.srate == 2000
    np.testing.assert_array_equal(emg.samples, expected_emg(rec).astype(np.float64))
    assert [m for _, m in r.markers()] == [m for _, m in rec.markers]
    assert r.notes == [] and emg.lost_samples == 0


@pytest.mark.parametrize("name", ["minimal.xdf", "clock_resets.xdf", "empty_streams.xdf"])
def test_reader_returns_exactly_what_pyxdf_returns_on_third_party_files(name):
    """pyxdf's samples and times, and NaN rows where a regular stream lost samples. In
    clock_resets.xdf the BioSemi stream's times jump 274 s between its two segments, and
    twice 2 samples' worth in its first (steps of 33 and 36 ms among ones of 9-26 ms that
    never fall back): restored before pyxdf's one-line dejittering, its times there move
    up to 41 ms from pyxdf's."""
    path = shared_file("xdf_example_files", name)
    ref, _ = pyxdf.load_xdf(str(path))
    ours = read_xdf(path)
    assert len(ours.streams) == len(ref)
    for s, r in zip(ours.streams, ref, strict=True):
        assert s.info.name == r["info"]["name"][0]
        real = np.isfinite(s.samples).all(axis=1) if not s.info.is_string else np.ones(len(s.timestamps), bool)
        assert real.sum() == len(r["time_stamps"])
        moved = name == "clock_resets.xdf" and s.info.name == "BioSemi"
        np.testing.assert_allclose(s.timestamps[real], r["time_stamps"], rtol=0, atol=0.05 if moved else 0)
        if s.info.is_string:
            assert real.all() and [list(row) for row in s.samples] == [list(row) for row in r["time_series"]]
        else:
            np.testing.assert_array_equal(s.samples[real], np.asarray(r["time_series"], dtype=np.float64))
            assert np.isnan(s.samples[~real]).all() and s.lost_samples == (~real).sum()
            steps = np.diff(s.timestamps)
            assert len(steps) < 2 or steps.max() < 2.5 * np.median(steps)  # no jump left
        if moved:
            assert 270 < (~real).sum() * np.median(np.diff(s.timestamps)) < 275
    assert not ours.notes


def test_minimal_file_values():
    r = read_xdf(shared_file("xdf_example_files", "minimal.xdf"))
    eeg = r.streams[0]
    assert eeg.samples.shape == (9, 3) and eeg.samples[1].tolist() == [12, 22, 32]
    # its string stream is typed StringMarker, a common LSL spelling of Markers
    assert [m for _, m in r.markers()][1:5] == ["Hello", "World", "from", "LSL"]


def test_truncated_file_is_salvaged_at_any_cut(recorded, tmp_path):
    path, rec, _ = recorded
    data = path.read_bytes()
    rng = np.random.default_rng(0)
    for cut in sorted(rng.integers(200, len(data) - 1, 12)):
        p = tmp_path / f"cut{cut}.xdf"
        p.write_bytes(data[:cut])
        r = read_xdf(p)
        emg = r.of_kind("EMG")
        n = len(emg[0].timestamps) if emg else 0
        assert n <= len(rec.emg)
        assert not r.closed_cleanly and any("not closed cleanly" in note for note in r.notes)
        if cut < len(data) - 2000:
            assert any("cut off" in note for note in r.notes)
        if emg and n:
            np.testing.assert_array_equal(emg[0].samples, expected_emg(rec)[:n].astype(np.float64))


def test_damage_in_the_middle_resynchronises_at_a_boundary(tmp_path):
    info = StreamInfo("emg", "EMG", ("glute_med_L",), ("V",), 1000.0)
    path = tmp_path / "damaged.xdf"
    w = XdfWriter(path)
    for k in range(30):
        t = k + np.arange(1000) / 1000
        w.write_chunk(Chunk(info, t, np.full((1000, 1), k, np.float32)))
        if k % 5 == 4:
            w.write_boundary()
    w.close()
    data = bytearray(path.read_bytes())
    starts, pos = [], 4  # walk the chunk structure to break one chunk header mid-file
    while pos < len(data):
        starts.append(pos)
        width = data[pos]
        pos += 1 + width + int.from_bytes(data[pos + 1 : pos + 1 + width], "little")
    victim = starts[len(starts) // 3]
    data[victim : victim + 40] = b"\x07" * 40  # not a valid length field
    path.write_bytes(bytes(data))
    r = read_xdf(path)
    emg = r.streams[0]
    assert any("damaged bytes" in note for note in r.notes) and r.closed_cleanly
    values = set(np.unique(emg.samples[np.isfinite(emg.samples)]))
    assert {0, 29} <= values and len(values) < 30  # lost a chunk, kept both ends
    # the lost second is a gap of NaN rows at the right times, not a silent jump
    np.testing.assert_allclose(np.diff(emg.timestamps), 1e-3, atol=1e-6)
    assert emg.lost_samples == 1000 and len(emg.timestamps) == 30000


def test_units_from_other_software_are_converted(tmp_path):
    path = tmp_path / "units.xdf"
    w = XdfWriter(path)
    emg = StreamInfo("emg", "EMG", ("glute_med_L", "glute_max_L"), ("uV", "mV"), 1000.0)
    imu = StreamInfo("pelvis", "IMU", ("acc_x", "gyr_x"), ("g", "deg/s"), 100.0)
    w.write_chunk(Chunk(emg, [0.0, 0.001], [[100.0, 1.0], [200.0, 2.0]]))
    w.write_chunk(Chunk(imu, [0.0, 0.01], [[1.0, 180.0], [0.5, 90.0]]))
    w.close()
    r = read_xdf(path)
    e, i = r.of_kind("EMG")[0], r.of_kind("IMU")[0]
    assert e.info.units == ("V", "V") and i.info.units == ("m/s^2", "rad/s")
    np.testing.assert_allclose(e.samples, [[100e-6, 1e-3], [200e-6, 2e-3]], rtol=1e-6)
    np.testing.assert_allclose(i.samples, [[9.80665, np.pi], [4.903325, np.pi / 2]], rtol=1e-6)


def test_not_an_xdf_file_is_a_clear_error(tmp_path):
    p = tmp_path / "x.xdf"
    p.write_bytes(b"hello")
    with pytest.raises(SensorkitError, match="not an XDF file"):
        read_xdf(p)
    with pytest.raises(SensorkitError, match="cannot read"):
        read_xdf(tmp_path / "missing.xdf")
    export = tmp_path / "walk.csv"  # another system's export handed where a recording is read
    export.write_text("time,acc_x,acc_y\n0.00,0.1,9.8\n0.01,0.2,9.7\n")
    with pytest.raises(SensorkitError, match=r"walk.csv is a text file, not an XDF recording: .* sensorkit import "):
        read_xdf(export)


def test_scan_keeps_intact_files_byte_identical(recorded):
    path, _, _ = recorded
    data = path.read_bytes()
    intact, notes = scan_chunks(data)
    assert intact == data and notes == []
    assert struct.unpack_from("<H", data, 4 + 1 + data[4])[0] == 1  # first chunk: FileHeader


def test_files_written_faster_than_real_time_still_have_boundaries(recorded):
    path, rec, _ = recorded
    data = path.read_bytes()
    from sensorkit.recording.xdf_writer import BOUNDARY_UUID

    # one boundary per 5 s of data, whatever the wall time it took to write
    assert data.count(BOUNDARY_UUID) >= int(rec.duration // 5) - 1


def test_single_lost_samples_on_a_clocks_times_keep_every_time(tmp_path):
    """An IMU logged on its own clock that lost single samples (a step of two periods) as
    well as runs, the lost ones simply absent: every real sample keeps its time, and each
    lost one is a NaN row. Left out, 200 single losses shifted the rows behind them, and
    the dejittering line through time against row then moved every time (0.4 s at the start
    of an Xsens walk)."""
    rng = np.random.default_rng(3)
    n, fs = 4000, 100.0
    lost = np.zeros(n, dtype=bool)
    lost[rng.choice(np.arange(10, n - 10, 3), 200, replace=False)] = True  # single samples
    for a in (1000, 2500):
        lost[a : a + 7] = True  # and two runs
    t = 1000.0 + np.arange(n) / fs
    x = np.column_stack([np.arange(n, dtype=float)] * 6)
    info = StreamInfo("pelvis", "IMU", ("acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z"),
                      ("m/s^2",) * 3 + ("rad/s",) * 3, fs)  # fmt: skip
    w = XdfWriter(tmp_path / "walk.xdf", {"patient": "P001", "session": "walk"})
    w.write_chunk(Chunk(info, t[~lost], x[~lost]))
    w.close()
    s = read_xdf(tmp_path / "walk.xdf").streams[0]
    assert len(s.timestamps) == n and s.lost_samples == lost.sum()
    np.testing.assert_allclose(s.timestamps, t, atol=1e-6)
    assert np.array_equal(np.isnan(s.samples[:, 0]), lost)
    np.testing.assert_array_equal(s.samples[~lost, 0], x[~lost, 0])
