"""The live onset detector agrees with the offline one, whatever the chunking."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sensorkit.dsp.onset import ChannelOnsets
from sensorkit.dsp.onset_stream import StreamingOnsetDetector
from sensorkit.sim import Dosage, SimConfig, simulate


@pytest.fixture(scope="module")
def rec():
    return simulate(SimConfig(seed=5, scenario="single_leg_squat", dose=Dosage(reps=3)))


def live_onsets(x, fs, sizes):
    det = StreamingOnsetDetector(fs, mains_hz=50.0)
    out, k, i = [], 0, 0
    while k < len(x):
        n = sizes[i % len(sizes)]
        out += det.process(x[k : k + n])
        k, i = k + n, i + 1
    return np.array(out)


@pytest.mark.parametrize("muscle", ["glute_med_L", "glute_max_R", "biceps_femoris_L", "erector_spinae_R"])
def test_live_onsets_within_30_ms_of_offline(rec, muscle):
    fs = rec.config.fs_emg
    x = rec.emg[:, rec.config.muscles.index(muscle)]
    ch = ChannelOnsets(x, fs, mains=50.0)
    live = live_onsets(x, fs, [37, 400, 1, 93])
    checked = 0
    for b in rec.truth["exercises"]:
        for r in b["reps"]:
            tm = r["movement_onset_s"]
            o = ch.onset((tm - 1.2, tm - 0.35), (tm - 0.35, r["end_s"]))
            if o.onset_s is None or o.quality != "ok":
                continue
            assert np.min(np.abs(live - o.onset_s)) < 0.03
            checked += 1
    assert checked >= 3


@settings(max_examples=10, deadline=None)  # each example runs 20 s of EMG, some of it sample by sample
@given(st.lists(st.integers(1, 3000), min_size=1, max_size=8))
def test_chunking_does_not_change_live_onsets(rec, sizes):
    """The left squats' 20 s (three glute_med_L bursts; until December 2026 this read the first
    40 s of glute_med_R, quiet there, and compared two empty lists)."""
    fs = rec.config.fs_emg
    x = rec.emg[int(20 * fs) : int(40 * fs), rec.config.muscles.index("glute_med_L")]
    whole = live_onsets(x, fs, [len(x)])
    assert len(whole) == 3
    np.testing.assert_array_equal(live_onsets(x, fs, sizes), whole)


def test_only_threshold_detectors_run_live():
    with pytest.raises(ValueError, match="live"):
        from sensorkit.dsp.onset import OnsetParams

        StreamingOnsetDetector(2000.0, OnsetParams(detector="changepoint"))


def test_live_channel_answers_as_offline_after_its_buffers_dropped_old_rows():
    """The live buffers (conditioned, envelope, raw, lost-sample mask) drop their oldest rows
    independently; an onset asked of them must still read one aligned span (they were read
    from the envelope's start, up to tens of ms apart)."""
    from sensorkit.live.emg import LiveEmg
    from sensorkit.sim.emg import motor_unit_emg

    fs, rng = 2000.0, np.random.default_rng(3)
    t = np.arange(int(40 * fs)) / fs
    starts = np.arange(3.0, 38.0, 3.0)
    exc = np.zeros(t.size)
    for s0 in starts:
        on = (t >= s0) & (t < s0 + 1.0)
        exc[on] = 0.4 * np.minimum((t[on] - s0) / 0.1, 1.0)  # a 100-ms ramp
    x = (motor_unit_emg(exc, fs, rng) + rng.normal(0, 5e-6, t.size))[:, None]
    bank = LiveEmg(fs, 1, mains=50.0, keep_s=6.0)
    for a in range(0, len(x), 333):
        bank.push(x[a : a + 333])
    assert len({tail.start for tail in (bank.cond, bank.env, bank.raw, bank.held)}) > 1  # the case in question
    offline = ChannelOnsets(x[:, 0], fs, mains=50.0)
    checked = 0
    for s0 in starts:
        if (s0 - 2.0) * fs < bank.env.start or s0 + 2.0 > t[-1]:
            continue  # only what the live buffers still hold
        window = ((s0 - 1.2, s0 - 0.35), (s0 - 0.35, s0 + 1.0))
        live, off = bank.channel(0).onset(*window), offline.onset(*window)
        assert off.onset_s == pytest.approx(s0, abs=0.03)
        assert live.onset_s == pytest.approx(off.onset_s, abs=1e-9) and live.quality == off.quality
        checked += 1
    assert checked >= 1


def test_the_fit_settings_reach_the_offline_and_live_trace_alike(rec):
    from sensorkit.dsp.onset import OnsetParams
    from sensorkit.dsp.onset_departure import DepartureParams

    fs = rec.config.fs_emg
    x = rec.emg[:, rec.config.muscles.index("glute_max_R")]
    coarse = OnsetParams(fit=DepartureParams(smooth_s=0.02, reach_s=0.2))

    def live(params):
        det = StreamingOnsetDetector(fs, params, mains_hz=50.0)
        return np.array(det.process(x))

    ch, ch_coarse = ChannelOnsets(x, fs, mains=50.0), ChannelOnsets(x, fs, coarse, mains=50.0)
    found_live = live(coarse)
    moved = checked = 0
    for r in [r for b in rec.truth["exercises"] for r in b["reps"]]:
        tm = r["movement_onset_s"]
        windows = ((tm - 1.2, tm - 0.35), (tm - 0.35, r["end_s"]))
        a, b = ch.onset(*windows), ch_coarse.onset(*windows)
        if a.quality != "ok" or b.quality != "ok":
            continue
        assert np.min(np.abs(found_live - b.onset_s)) < 0.0015  # live answers as offline with the same settings
        moved += abs(a.onset_s - b.onset_s) > 0.5 / fs
        checked += 1
    assert checked >= 3 and moved >= 1  # the settings were used: the fit moved at least one onset


def test_the_onset_band_reaches_the_offline_and_live_detectors_alike(rec):
    """`OnsetParams.band_hz` (30-450 Hz by default) is the band all three detectors filter in:
    each subtracts that band's delay, and told another band live still answers as offline."""
    from sensorkit.dsp.onset import OnsetParams, band_delay
    from sensorkit.live.emg import LiveEmg

    fs = rec.config.fs_emg
    x = rec.emg[:, rec.config.muscles.index("glute_med_L")]
    default = band_delay(fs, (30.0, 450.0))[0]
    assert ChannelOnsets(x, fs).delay_s == StreamingOnsetDetector(fs).delay_s == LiveEmg(fs, 1).delay_s == default
    other = OnsetParams(band_hz=(25.0, 400.0))
    ch = ChannelOnsets(x, fs, other, mains=50.0)
    live = StreamingOnsetDetector(fs, other, mains_hz=50.0)
    assert ch.delay_s == live.delay_s == LiveEmg(fs, 1, other, 50.0).delay_s == band_delay(fs, (25.0, 400.0))[0]
    assert ch.delay_s != default
    found_live = np.array(live.process(x))
    checked = 0
    for r in [r for b in rec.truth["exercises"] for r in b["reps"]]:
        tm = r["movement_onset_s"]
        o = ch.onset((tm - 1.2, tm - 0.35), (tm - 0.35, r["end_s"]))
        if o.quality == "ok":
            assert np.min(np.abs(found_live - o.onset_s)) < 0.0015
            checked += 1
    assert checked >= 3


def test_live_emg_keeps_rows_from_a_pinned_index_beyond_its_window():
    """The pipeline keeps an open block's EMG from its start (to measure the block whole when
    it ends); unpinned, only the last `keep_s` seconds stay."""
    from sensorkit.live.emg import LiveEmg

    fs = 1000.0
    x = np.random.default_rng(0).normal(0, 1e-5, (int(20 * fs), 2))
    bank = LiveEmg(fs, 2, mains=None, keep_s=2.0)
    bank.keep_from(int(3 * fs))
    for a in range(0, int(12 * fs), 250):
        bank.push(x[a : a + 250])
    assert bank.oldest <= 3 * fs and bank.raw.end == 12 * fs
    assert np.array_equal(bank.raw.column(1)[int(3 * fs) - bank.raw.start :][:10], x[int(3 * fs) : int(3 * fs) + 10, 1])
    bank.keep_from(None)
    for a in range(int(12 * fs), len(x), 250):
        bank.push(x[a : a + 250])
    assert bank.oldest >= (20 - 4) * fs  # back to about `keep_s` (buffers grow in doublings)


@pytest.mark.parametrize("hum_from_s", [0.0, 15.0])
def test_live_decides_the_mains_notch_from_its_first_seconds_however_cut(hum_from_s):
    """Live, the notch is decided from exactly the first `mains_window_s` seconds, whatever the
    chunks (the chunk that completes the window reaches past it): a hum there is notched, one
    that starts later is not; `analyze` decides from the whole recording (docs/analysis.md)."""
    from sensorkit.live.emg import LiveEmg

    fs = 2000.0
    t = np.arange(int(30 * fs)) / fs
    hum = np.where(t >= hum_from_s, 20e-6, 0) * np.sin(2 * np.pi * 50 * t)
    x = np.random.default_rng(1).normal(0, 5e-6, t.size) + hum
    decided = set()
    for step in (777, 4000, 9999):
        bank = LiveEmg(fs, 1)
        for a in range(0, len(x), step):
            bank.push(x[a : a + step, None])
        decided.add(bank.mains_hz[0])
    assert decided == {50.0 if hum_from_s < 10.0 else None}
    assert ChannelOnsets(x, fs).mains_hz == 50.0  # offline: the whole recording holds a hum


def test_live_emg_given_each_channels_notch_conditions_as_offline_from_the_first_sample():
    """A replay hands each channel the notch `analyze` decided from the whole recording
    (`sensorkit.analysis.mains`): a hum that starts after the first 10 s is notched from the
    first sample, as offline, on that channel alone; a list of the wrong length is refused."""
    from sensorkit.dsp.onset import channel_mains
    from sensorkit.live.emg import LiveEmg

    fs = 2000.0
    t = np.arange(int(30 * fs)) / fs
    x = np.random.default_rng(3).normal(0, 5e-6, (t.size, 2))
    x[:, 1] += np.where(t >= 15.0, 20e-6, 0) * np.sin(2 * np.pi * 50 * t)
    offline = [ChannelOnsets(x[:, j], fs) for j in range(2)]
    assert [c.mains_hz for c in offline] == [channel_mains(x[:, j], fs) for j in range(2)] == [None, 50.0]
    bank = LiveEmg(fs, 2, mains=[c.mains_hz for c in offline])
    for a in range(0, len(x), 1234):
        bank.push(x[a : a + 1234])
    n = bank.env.end
    for j in range(2):
        np.testing.assert_array_equal(bank.cond.column(j)[:n], offline[j].cond[:n])
    own = LiveEmg(fs, 2)  # deciding itself: the first 10 s hold no hum
    for a in range(0, len(x), 1234):
        own.push(x[a : a + 1234])
    assert own.mains_hz == [None, None]
    with pytest.raises(ValueError, match="2 mains notches for 3 channels"):
        LiveEmg(fs, 3, mains=[None, 50.0])


@pytest.mark.parametrize("whole_rows", [True, False])
def test_live_conditioning_equals_offline_through_drop_outs_under_mains_hum(whole_rows):
    """The gaps filled for the notch (`fill_periodic`) and then lost again: the live channel's
    conditioned signal and envelope are offline's, sample for sample, however the stream is cut,
    whether packets lose whole rows or one channel loses samples alone."""
    from sensorkit.live.emg import LiveEmg

    fs, rng = 2000.0, np.random.default_rng(7)
    t = np.arange(int(20 * fs)) / fs
    x = rng.normal(0, 4e-6, (t.size, 2)) + 25e-6 * np.sin(2 * np.pi * 50 * t + 0.3)[:, None]
    for a, n in ((30000, 3), (31000, 80), (36000, 700), (5000, 2600), (38000, 2)):
        x[a : a + n, slice(None) if whole_rows else a % 2] = np.nan
    offline = [ChannelOnsets(x[:, j], fs) for j in range(2)]
    assert all(c.mains_hz == 50.0 for c in offline)
    for step in (333, 4096):
        bank = LiveEmg(fs, 2)
        for a in range(0, len(x), step):
            bank.push(x[a : a + step])
        n = bank.env.end
        for j in range(2):
            np.testing.assert_array_equal(bank.cond.column(j)[:n], offline[j].cond[:n])
            np.testing.assert_allclose(bank.env.column(j)[:n], offline[j].env[:n], rtol=1e-12, atol=0)
