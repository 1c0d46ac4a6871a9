"""Per-channel signal quality: faults with known times, the streaming twin, onset flags,
live Quality events and markers, and silence on real recordings."""

import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import shared_file
from test_onset import FS, burst_signal

import sensorkit.analysis.signal_quality as signal_quality_module
from sensorkit.analysis.signal_quality import assess, judge_recording, signal_quality
from sensorkit.dsp.filters import mains_frequency
from sensorkit.dsp.quality import KINDS, merge_spans
from sensorkit.dsp.quality_stream import QualityMonitor
from sensorkit.live.events import Quality
from sensorkit.live.terminal import TerminalView
from sensorkit.sim import Dosage, SimConfig, simulate


@pytest.fixture(scope="module")
def faulty():
    rec = simulate(SimConfig(scenario="session", seed=3, faults=True))
    t = np.arange(len(rec.emg)) / rec.config.fs_emg
    return rec, signal_quality(rec.emg, rec.config.fs_emg, list(rec.config.muscles), t)


def _events(q, channel, kinds):
    return [e for e in q["channels"][channel]["events"] if e["kind"] in kinds]


def test_every_simulated_fault_is_found_on_its_channel_at_its_time(faulty):
    rec, q = faulty
    faults = [f for f in rec.truth["faults"] if f["kind"] != "motion_artefact"]
    assert {f["kind"] for f in faults} == {"lift_off", "flat", "pop", "saturation", "gap"}
    for f in faults:
        channels = list(rec.config.muscles) if f["channel"] == "*" else [f["channel"]]
        for m in channels:
            found = _events(q, m, {f["kind"]})
            if f["kind"] == "pop":  # reported within 0.5 s of the step
                assert any(abs(e["start_s"] - f["start_s"]) < 0.5 for e in found), (f, found)
                continue
            covered = sum(max(0.0, min(e["end_s"], f["end_s"]) - max(e["start_s"], f["start_s"])) for e in found)
            assert covered >= 0.8 * (f["end_s"] - f["start_s"]), (f, found)


def test_no_fault_is_reported_where_there_is_none(faulty):
    rec, q = faulty
    for m, ch in q["channels"].items():
        for e in ch["events"]:
            if e["kind"] == "motion_artefact":
                continue
            true = [f for f in rec.truth["faults"] if f["channel"] in (m, "*")
                    and e["start_s"] <= f["end_s"] + 0.5 and e["end_s"] >= f["start_s"] - 0.5]  # fmt: skip
            assert true, (m, e)


def test_mains_noise_and_ecg_come_out_as_simulated(faulty):
    rec, q = faulty
    assert q["mains_hz"] == pytest.approx(50.0, abs=0.1)
    for m, ch in q["channels"].items():
        assert 1.0 < ch["noise_uv_rms"] < 4.0  # 3 uV x 0.7-1.4, white and 1/f, seen in 20-450 Hz
        assert 1.0 < ch["mains_uv_rms"] < 15.0  # 10 uV x 0.3-1.5 peak with harmonics, as RMS
        # the heart: R wave 120 uV x 0.6-1.2 on the trunk, 8 % of that on the hips, noise ~2 uV
        low, high = (60, 150) if m.startswith("erector") else (4, 14)
        assert ch["ecg"] and low < ch["ecg_uv"] < high, (m, ch)


def test_a_part_of_the_recording_measures_the_ecg_as_the_whole_does(faulty, monkeypatch):
    # the ECG is measured on the first ECG_SPAN_S of a recording; half of this one (~120
    # beats, where 10 minutes hold ~700) finds the same channels, their R waves as close to
    # the simulated ones as the whole recording's are (within 20 %, or 4 uV for the small
    # waves on the hips, where EMG bursts are what is averaged away)
    rec, whole = faulty
    t = np.arange(len(rec.emg)) / rec.config.fs_emg
    monkeypatch.setattr(signal_quality_module, "ECG_SPAN_S", t[-1] / 2)
    part = signal_quality(rec.emg, rec.config.fs_emg, list(rec.config.muscles), t)
    for m, ch in whole["channels"].items():
        true = rec.truth["emg"]["ecg_uv"][m]
        assert part["channels"][m]["ecg"] == ch["ecg"], m
        for found in (ch["ecg_uv"], part["channels"][m]["ecg_uv"]):
            assert abs(found - true) < max(4.0, 0.2 * true), (m, found, true)


def test_60_hz_hum_and_no_ecg():
    rec = simulate(SimConfig(scenario="single_leg_squat", seed=1, mains_hz=60.0, mains_uv=30.0, ecg_uv=0.0))
    q = signal_quality(rec.emg, 2000.0, list(rec.config.muscles), np.arange(len(rec.emg)) / 2000.0)
    assert q["mains_hz"] == pytest.approx(60.0, abs=0.1)
    assert all(not ch["ecg"] for ch in q["channels"].values())
    assert np.median([ch["mains_uv_rms"] for ch in q["channels"].values()]) > 10


@pytest.mark.parametrize("f0", [49.7, 50.0, 60.0, 60.4])
def test_mains_frequency_is_read_from_the_data(f0):
    rng = np.random.default_rng(0)
    t = np.arange(30 * 2000) / 2000
    x = rng.normal(0, 3e-6, (t.size, 2))
    x[:, 1] += 4e-6 * np.sin(2 * np.pi * f0 * t)
    assert mains_frequency(x, 2000.0) == pytest.approx(f0, abs=0.1)
    assert mains_frequency(x[:, :1], 2000.0) is None  # no hum: none reported


def test_the_streaming_twin_judges_every_window_as_the_offline_pass(faulty):
    rec, _ = faulty
    x, fs = rec.emg, rec.config.fs_emg
    offline = judge_recording(x, fs, 50.0)
    mon = QualityMonitor(fs, x.shape[1], 50.0)
    rng = np.random.default_rng(2)
    i = 0
    while i < len(x):
        n = int(rng.integers(1, 1500))
        mon.push(x[i : i + n])
        i += n
    mon.flush()
    states = np.vstack([w.states for w in mon.windows])
    assert np.array_equal(states, offline.states)
    assert np.allclose(np.vstack([w.mains_rms for w in mon.windows]), offline.mains_rms, rtol=1e-9, atol=1e-15)
    assert merge_spans(mon.windows, fs) == merge_spans([offline], fs)


def test_judging_in_stretches_equals_one_pass_even_where_a_hole_spans_two(faulty, monkeypatch):
    rec, _ = faulty
    x, fs = rec.emg.copy(), rec.config.fs_emg
    # 8 ms lost across the end of window 7: each half alone is short enough to be bridged,
    # the whole is not, and the windows either side must be judged lost as in one pass
    edge = 7 * 1000
    x[edge - 8 : edge + 8, 1] = np.nan
    whole = judge_recording(x, fs, 50.0)
    assert whole.states[6, 1] == whole.states[7, 1] == KINDS.index("gap")
    monkeypatch.setattr(signal_quality_module, "JUDGE_CHUNK_WINDOWS", 7)
    parts = judge_recording(x, fs, 50.0)
    assert np.array_equal(parts.states, whole.states)
    assert np.array_equal(parts.band_rms, whole.band_rms)
    assert merge_spans([parts], fs) == merge_spans([whole], fs)


def test_a_channel_that_loses_whole_windows_is_a_gap_there_and_no_warning(faulty):
    """A drop-out that takes whole windows of one channel (a sensor's radio link lost for 2 s):
    those windows are gaps, the other channels are judged as before, and no "All-NaN slice"
    warning reaches the caller (the GUI printed one for every such window)."""
    rec, _ = faulty
    x, fs = rec.emg.copy(), rec.config.fs_emg
    before = judge_recording(x, fs, 50.0)
    x[10_000:14_000, 1] = np.nan  # 2 s of channel 1: windows 10-13 (of 0.5 s) lost whole
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        after = judge_recording(x, fs, 50.0)
    assert np.all(after.states[10:14, 1] == KINDS.index("gap"))
    others = [j for j in range(x.shape[1]) if j != 1]
    assert np.array_equal(after.states[:, others], before.states[:, others])


def test_onset_flags_derive_from_the_events():
    x = burst_signal()
    labels = ["glute_med_L"]
    clipped = np.clip(x, None, np.percentile(x[int(3 * FS) : int(4 * FS)], 90))
    flag = assess(clipped[:, None], FS, labels, np.arange(len(x)) / FS).flagger(lambda t: 0.0)
    assert flag("glute_med_L", 3.0, 2.6, 4.5) == "saturated"
    assert flag("glute_med_L", 1.0, 0.6, 2.0) is None
    off = x.copy()
    off[int(3.05 * FS) :] += 0.03  # electrode pops off the skin: a 30 mV jump
    flag = assess(off[:, None], FS, labels, np.arange(len(x)) / FS).flagger(lambda t: 0.0)
    assert flag("glute_med_L", 3.0, 2.6, 4.5) == "lift_off"
    lost = x.copy()
    lost[int(2.99 * FS) : int(3.05 * FS)] = np.nan
    flag = assess(lost[:, None], FS, labels, np.arange(len(x)) / FS).flagger(lambda t: 0.0)
    assert flag("glute_med_L", 3.0, 2.6, 4.5) == "gap"


def test_analyze_flags_the_onsets_a_fault_touches(tmp_path):
    from helpers import record_sim

    from sensorkit.analysis.session import analyze_session
    from sensorkit.recording.session_input import session_data
    from sensorkit.recording.xdf_reader import read_xdf

    rec = simulate(SimConfig(scenario="session", seed=5, faults=True))
    path = tmp_path / "faults.xdf"
    device, _ = record_sim(path, rec)
    truth = device.transport.truth_on_host_clock()
    result = analyze_session(session_data(read_xdf(path)))
    lift = next(f for f in truth["faults"] if f["kind"] == "lift_off")
    flagged = [r["quality"][lift["channel"]] for b in result["exercises"] for r in b["reps"]
               if r["onsets_s"][lift["channel"]] is not None
               and lift["start_s"] <= r["onsets_s"][lift["channel"]] <= lift["end_s"]]  # fmt: skip
    assert flagged and set(flagged) == {"lift_off"}
    block = result["signal_quality"]
    assert set(block["channels"]) == set(rec.config.muscles)
    gap = next(f for f in truth["faults"] if f["kind"] == "gap")
    assert any(abs(e["start_s"] - gap["start_s"]) < 0.05 for e in _events(block, "glute_max_L", {"gap"}))
    # the table's per-channel line and the report's findings say where the lift-off was
    from sensorkit.report.html import report_html
    from sensorkit.report.table import format_result

    when = f"lift-off at {lift['start_s'] - result['recording_start_s']:.0f}"
    table = format_result(result)
    assert "signal quality (mains 50 Hz" in table
    line = next(x for x in table.splitlines() if x.strip().startswith(lift["channel"] + " "))
    assert when[:-1] in line, line  # within a second of the truth
    html = report_html([result])
    assert f"{lift['channel']}: lift-off at" in html
    assert "mains 50 Hz" in html and "<th>ECG R wave</th>" in html


def test_live_pipeline_emits_lift_off_within_a_second_and_the_result_block(tmp_path):
    from sensorkit.live.pipeline import LivePipeline
    from sensorkit.streams import Chunk, StreamInfo

    rec = simulate(SimConfig(scenario="single_leg_squat", seed=3, faults=True))
    fs = rec.config.fs_emg
    info = StreamInfo("emg", "EMG", tuple(rec.config.muscles), ("V",) * len(rec.config.muscles), fs)
    pipe = LivePipeline()
    seen: list[Quality] = []
    pipe.subscribe(lambda e: seen.append(e) if isinstance(e, Quality) else None)
    t0 = 100.0
    for i in range(0, len(rec.emg), 100):
        rows = rec.emg[i : i + 100]
        pipe.feed(Chunk(info, t0 + (i + np.arange(len(rows))) / fs, rows))
    result = pipe.finish()
    lift = next(f for f in rec.truth["faults"] if f["kind"] == "lift_off")
    first = next(e for e in seen if e.channel == lift["channel"] and e.state == "lift_off")
    start = t0 + lift["start_s"]
    known = first.t_s + 0.5 + 0.15  # its window's end and the 0.15 s a window waits for
    assert first.t_s <= start < first.t_s + 0.5 or start <= first.t_s < start + 0.5, (first, start)
    assert known - start < 1.0 and first.measures["mains_uv"] > 50
    assert any(e.channel == lift["channel"] and e.state == "ok" and e.t_s > first.t_s for e in seen)
    live = result["signal_quality"]["channels"][lift["channel"]]["events"]
    assert any(e["kind"] == "lift_off" and e["start_s"] <= t0 + lift["start_s"] + 0.5 for e in live)


def test_terminal_prints_quality_changes_worth_a_line():
    view = TerminalView(50.0, 5.0)
    measures = {"noise_uv": 80.0, "mains_uv": 900.0, "low_freq_uv": 5.0}
    line = view.line(Quality("glute_med_L", "lift_off", 12.5, measures))
    assert "glute_med_L" in line and "off the skin" in line and "900 uV" in line
    assert view.line(Quality("glute_med_L", "ok", 20.0, {"noise_uv": 2.0})) == "signal glute_med_L: ok again"
    assert view.line(Quality("glute_med_L", "motion_artefact", 30.0, {})) is None  # every movement: no line
    assert view.line(Quality("glute_med_L", "ok", 30.5, {})) is None  # back from a motion artefact: no line
    assert view.line(Quality("glute_med_L", "gap", 40.0, {})) == "signal: samples lost (radio or cable drop-out)"
    assert view.line(Quality("glute_max_L", "gap", 40.0, {})) is None  # the same drop-out on every channel


def test_live_record_writes_quality_markers(tmp_path):
    out = tmp_path / "rec.xdf"
    # as fast as the simulator goes: the analysis lags, and catches up before the file closes
    spec = "sim://single_leg_squat?faults=1&speed=0&reps=2&seed=3"
    run = subprocess.run([sys.executable, "-m", "sensorkit", "live", spec, "--record", str(out), "--quiet"],
                         capture_output=True, text=True, timeout=300)  # fmt: skip
    assert run.returncode == 0, run.stderr
    from sensorkit.recording.xdf_reader import read_xdf

    markers = [str(m) for s in read_xdf(out).streams if s.info.kind == "Markers" for m in s.samples[:, 0]]
    quality = [m for m in markers if m.startswith("quality:")]
    assert any(m.endswith(":lift_off") for m in quality) and any(m.endswith(":saturation") for m in quality)
    assert not any(m.endswith(":motion_artefact") for m in quality)  # every movement has them: not markers
    # the end of the recording's faults is there too: each channel that went bad is ok again
    bad = {m.split(":")[1] for m in quality if not m.endswith(":ok")}
    assert bad and all(f"quality:{ch}:ok" in quality for ch in bad)


def _not_quiet(q: dict) -> list:
    """What a real recording without faults should not show: fault events, and noise levels
    outside what surface EMG amplifiers give (a few uV)."""
    out = []
    for m, ch in q["channels"].items():
        out += [(m, e) for e in ch["events"] if e["kind"] != "motion_artefact"]
        out += [(m, ch["noise_uv_rms"])] if not 0.5 < ch["noise_uv_rms"] < 40 else []
    return out


def test_real_gait_emg_is_quiet():
    emg = pd.read_csv(shared_file("musclesynergies_gait_emg", "ID0012_TW_01_emg_raw.csv"))
    cols = [c for c in emg.columns if c != "time"]
    x = emg[cols].to_numpy() * 1e-6  # microvolts
    q = signal_quality(x, 1000.0, cols, np.arange(len(x)) / 1000.0)
    assert not _not_quiet(q), _not_quiet(q)
    assert q["mains_hz"] is None  # the lab's export holds no mains line
    assert all(ch["mains_uv_rms"] is None for ch in q["channels"].values())  # not measured, not 0
    assert sum(e["kind"] == "motion_artefact" for ch in q["channels"].values() for e in ch["events"]) <= 2


@pytest.mark.parametrize("name", ["3Amar.txt", "5Nmar.txt", "5Npie.txt", "5Nsen.txt"])
def test_real_thigh_emg_is_quiet(name):
    x = pd.read_csv(shared_file("uci_lower_limb_emg", name), skiprows=7, sep="\t", header=None).dropna()
    x = x.to_numpy()[:, :4] * 1e-3  # millivolts
    q = signal_quality(x, 1000.0, ["RF", "BF", "VM", "ST"], np.arange(len(x)) / 1000.0)
    assert not _not_quiet(q), _not_quiet(q)


def test_the_clean_example_recordings_raise_no_fault():
    """Strong glute bursts at 1 kHz once passed for a lifted electrode's hum (the bursts' own
    power at the mains lines); a clean session raises nothing but movement artefacts."""
    from sensorkit.analysis.session import analyze_session
    from sensorkit.recording.session_input import session_data
    from sensorkit.recording.xdf_reader import read_xdf

    root = __import__("pathlib").Path(__file__).resolve().parents[1] / "recordings"
    for name in ("before.xdf", "after.xdf"):
        block = analyze_session(session_data(read_xdf(root / name)))["signal_quality"]
        assert block["mains_hz"] == pytest.approx(50.0, abs=0.1)
        faults = [(m, e) for m, ch in block["channels"].items() for e in ch["events"] if e["kind"] != "motion_artefact"]
        assert not faults, (name, faults)


def test_a_floating_electrode_without_hum_is_a_lift_off():
    """A lifted electrode in a room without mains (battery amplifier): its input wanders by
    millivolts; no well attached lead does that."""
    rng = np.random.default_rng(4)
    t = np.arange(int(12 * FS)) / FS
    x = rng.normal(0, 3e-6, (t.size, 3))
    off = (t > 4) & (t < 8)
    x[off, 1] += 2e-3 * np.sin(2 * np.pi * 4 * t[off]) + 1e-3 * np.sin(2 * np.pi * 9 * t[off])
    q = signal_quality(x, FS, ["a", "b", "c"], t)
    lifted = _events(q, "b", {"lift_off"})
    assert lifted and lifted[0]["start_s"] <= 4.0 + 0.5 and lifted[-1]["end_s"] >= 8.0 - 0.5
    assert not _events(q, "a", {"lift_off", "flat"}) and not _events(q, "c", {"lift_off", "flat"})


def _counts(emg: np.ndarray) -> np.ndarray:
    """EMG (V) as a Myo armband gives it: int8 counts of about 3 uV, no offset, clipped."""
    return np.clip(np.round((emg - np.median(emg, axis=0)) / 3e-6), -128, 127)


def test_emg_in_counts_is_judged_only_by_what_needs_no_unit():
    """A Myo armband's EMG is in counts, not volts. Read as volts, tens of counts are tens of
    volts and every window of every channel was a lift-off (so every onset was flagged and no
    block had a clean one). Told the channels are not in volts, hum, movement artefacts, pops
    and lift-offs (limits in volts) are not judged, no level is given in uV, and a stuck
    channel is still found (what needs no unit is judged as before)."""
    rec = simulate(SimConfig(scenario="single_leg_squat", seed=3, fs_emg=200.0))
    x, fs, labels = _counts(rec.emg), rec.config.fs_emg, list(rec.config.muscles)
    x[2000:2100, 1] = 7.0  # 0.5 s stuck
    t = np.arange(len(x)) / fs
    as_volts = signal_quality(x, fs, labels, t)
    assert all(_events(as_volts, m, {"lift_off"}) for m in labels)
    q = signal_quality(x, fs, labels, t, volts=[False] * len(labels))
    for m in labels:
        assert not _events(q, m, {"lift_off", "pop", "motion_artefact"}), m
        ch = q["channels"][m]
        assert ch["noise_uv_rms"] is None and ch["mains_uv_rms"] is None and ch["ecg_uv"] is None
    stuck = _events(q, labels[1], {"flat", "saturation"})
    assert stuck and abs(stuck[0]["start_s"] - 10.0) < 0.05
    # at 200 Hz the band the noise is measured in ends at 90 Hz, and the table says so
    from sensorkit.report.table import quality_lines

    assert q["band_hz"] == [20.0, 90.0]
    assert "noise in 20-90 Hz" in quality_lines({"signal_quality": q})[0]


def test_a_recording_in_counts_is_analysed_with_a_warning_live_and_offline(tmp_path):
    """The same session written in volts and in a Myo's counts: analysed alike (onsets within a
    sample, every clean one still clean), with a warning offline and a notice live."""
    import jsonschema
    from test_analysis import SCHEMA

    from sensorkit.analysis.session import analyze_session
    from sensorkit.live.events import Notice
    from sensorkit.live.pipeline import LivePipeline
    from sensorkit.recording.session_input import session_data
    from sensorkit.recording.xdf_reader import read_xdf
    from sensorkit.recording.xdf_writer import XdfWriter
    from sensorkit.streams import Chunk, StreamInfo

    rec = simulate(SimConfig(scenario="single_leg_squat", seed=4, fs_emg=200.0, dose=Dosage(reps=3)))
    muscles, fs = rec.config.muscles, rec.config.fs_emg
    t = np.arange(len(rec.emg)) / fs
    imu_t = np.arange(len(rec.imu)) / rec.config.fs_imu
    results = {}
    # the same samples both ways (the counts' 3-uV steps in volts): only the unit differs, since at
    # 200 Hz the quantisation alone moves a fifth of the onsets by more than a sample
    for unit, x in (("V", _counts(rec.emg) * 3e-6), ("au", _counts(rec.emg))):
        path = tmp_path / f"{unit}.xdf"
        w = XdfWriter(path)
        w.write_chunk(Chunk(StreamInfo("emg", "EMG", tuple(muscles), (unit,) * len(muscles), fs), t, x))
        w.write_chunk(Chunk(StreamInfo("pelvis", "IMU", ("acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z"),
                                       ("m/s^2",) * 3 + ("rad/s",) * 3, rec.config.fs_imu), imu_t, rec.imu))
        marks = StreamInfo("markers", "Markers", ("marker",), ("",), 0.0, channel_format="string")
        w.write_chunk(Chunk(marks, np.array([m[0] for m in rec.markers]),
                            np.array([[m[1]] for m in rec.markers], dtype=object)))  # fmt: skip
        w.close()
        results[unit] = analyze_session(session_data(read_xdf(path)))
    counts, volts = results["au"], results["V"]
    jsonschema.validate(counts, SCHEMA)
    assert any("not in volts" in w for w in counts.get("warnings", []))
    assert not any("not in volts" in w for w in volts.get("warnings", []))
    glutes = [m for m in muscles if m.startswith("glute")]
    pairs = [(a["quality"][m], a["onsets_s"][m], b["onsets_s"][m])
             for ba, bb in zip(counts["exercises"], volts["exercises"], strict=True)
             for a, b in zip(ba["reps"], bb["reps"], strict=True) for m in glutes if b["quality"][m] == "ok"]
    assert len(pairs) >= 6
    assert all(q == "ok" for q, _, _ in pairs)  # read as volts, every one was "lift_off"
    assert all(abs(a - b) <= 1.01 / fs for _, a, b in pairs)  # within a sample of the volts
    # live: the same notice, and no lift-off among its quality events
    pipe = LivePipeline()
    seen = []
    pipe.subscribe(seen.append)
    info = StreamInfo("myo_emg", "EMG", tuple(muscles), ("au",) * len(muscles), fs)
    x = _counts(rec.emg)
    for i in range(0, len(x), 200):
        pipe.feed(Chunk(info, 100.0 + t[i : i + 200], x[i : i + 200]))
    pipe.finish()
    assert any(isinstance(e, Notice) and "not in volts" in e.text for e in seen)
    assert not any(isinstance(e, Quality) and e.state in ("lift_off", "hum", "pop") for e in seen)
