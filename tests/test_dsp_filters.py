"""EMG conditioning: band, notch, envelope, RMS, %MVC; streaming twins equal offline causal."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.signal import welch

from sensorkit.dsp import filters as F

FS = 2000.0


def tone(freq, seconds=4.0, fs=FS, amp=1.0):
    t = np.arange(int(seconds * fs)) / fs
    return amp * np.sin(2 * np.pi * freq * t)


def rms(x):
    return float(np.sqrt(np.nanmean(np.asarray(x) ** 2)))


def test_band_pass_keeps_the_emg_band_and_removes_offset_and_drift():
    x = tone(100) + tone(3, amp=5) + 0.002  # EMG-band tone, motion drift, DC offset
    y = F.condition(x, FS, mains=None)
    mid = slice(2000, 6000)
    assert rms(y[mid]) == pytest.approx(rms(tone(100)[mid]), rel=0.05)
    assert rms(F.condition(tone(3, amp=5) + 0.002, FS, mains=None)[mid]) < 0.01


def test_a_hum_that_dominates_the_rests_is_found_between_bursts_many_times_its_size():
    """A muscle's bursts (broadband, 40x the hum) for 4 s of every 10, a 5-uV hum under 2 uV of
    noise throughout: the median of the 1-s spectra is a rest's, which the hum dominates; the
    mean of them (as before) is the bursts', which buries it. Without hum nothing is found."""
    rng = np.random.default_rng(4)
    n = int(60 * FS)
    t = np.arange(n) / FS
    on = (t % 10.0) < 4.0
    emg = rng.standard_normal(n) * 2e-6 + on * rng.standard_normal(n) * 200e-6
    hum = 5e-6 * np.sqrt(2) * np.sin(2 * np.pi * 50.0 * t)
    assert F.detect_mains(emg + hum, FS) == 50.0
    assert F.detect_mains(emg, FS) is None
    f, p = welch(emg + hum, fs=FS, nperseg=int(FS))  # the mean of the 1-s spectra
    k = int(np.argmin(np.abs(f - 50.0)))
    assert p[k] / np.median(np.r_[p[k - 8 : k - 2], p[k + 3 : k + 9]]) < 4.0  # would not have been found


@pytest.mark.parametrize("mains", [50.0, 60.0])
def test_mains_is_detected_and_notched_with_harmonics(mains):
    rng = np.random.default_rng(0)
    emg = rng.standard_normal(int(8 * FS)) * 50e-6
    hum = 100e-6 * (tone(mains, 8) + 0.3 * tone(3 * mains, 8))
    assert F.detect_mains(emg + hum, FS) == mains
    assert F.detect_mains(emg, FS) is None
    y = F.condition(emg + hum, FS, mains="auto")
    f, p = welch(y, fs=FS, nperseg=4000)
    _, p_clean = welch(F.condition(emg, FS, mains=None), fs=FS, nperseg=4000)
    for h in (mains, 3 * mains):
        k = np.argmin(np.abs(f - h))
        assert p[k] < 3 * p_clean[k]


def test_nan_gap_stays_a_gap_and_does_not_smear():
    x = tone(80, 3)
    x[3000:3200] = np.nan
    for causal in (False, True):
        y = F.condition(x, FS, mains=None, causal=causal)
        assert np.isnan(y[3000:3200]).all()
        assert np.isfinite(y[:3000]).all() and np.isfinite(y[3200:]).all()
        env = F.linear_envelope(y, FS, causal=causal)
        assert np.isnan(env[3000:3200]).all() and np.isfinite(env[3400:]).all()
        r = F.moving_rms(y, FS, causal=causal)
        assert np.isfinite(r[4000:-100]).all()  # later windows are not poisoned by the gap


def test_envelope_and_rms_of_a_sine():
    x = tone(100)
    env = F.linear_envelope(x, FS)
    assert np.nanmean(env[2000:6000]) == pytest.approx(2 / np.pi, rel=0.02)  # mean of |sin|
    assert np.nanmean(F.moving_rms(x, FS)[2000:6000]) == pytest.approx(1 / np.sqrt(2), rel=0.01)


def test_mvc_normalisation():
    env = np.r_[np.full(2000, 0.1), np.full(1500, 0.4), np.full(2000, 0.2)]
    ref = F.mvc_reference(env, FS, window_s=0.5)
    assert ref == pytest.approx(0.4)
    np.testing.assert_allclose(F.percent_mvc(env[:3], ref), 25.0)


def test_multichannel_matches_single_channel():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4000, 3))
    y = F.condition(x, FS, mains=None)
    np.testing.assert_allclose(y[:, 1], F.condition(x[:, 1], FS, mains=None), atol=1e-12)


def random_chunks(n, cuts):
    edges = sorted({0, n, *[c % (n + 1) for c in cuts]})
    return list(zip(edges[:-1], edges[1:], strict=True))


SIGNAL = np.random.default_rng(2).standard_normal((3000, 2)) * 1e-4 + 1e-3
SIGNAL[1200:1260] = np.nan  # a gap of lost samples
SIGNAL[2000:2030, 1] = np.nan  # and one channel's alone


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 3000), max_size=25))
def test_streaming_filter_equals_offline_causal_for_any_chunking(cuts):
    sos = F.condition_sos(FS, mains_hz=50.0)
    ref = F.apply_sos(sos, SIGNAL, causal=True)
    sf = F.StreamingFilter(sos)
    got = np.vstack([sf.process(SIGNAL[a:b]) for a, b in random_chunks(len(SIGNAL), cuts)])
    np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-15)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 3000), max_size=25))
def test_streaming_rms_equals_offline_causal_for_any_chunking(cuts):
    ref = F.moving_rms(SIGNAL, FS, causal=True)
    sr = F.StreamingRms(FS)
    got = np.vstack([sr.process(SIGNAL[a:b]) for a, b in random_chunks(len(SIGNAL), cuts)])
    np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-15)


def test_long_causal_filtering_in_stretches_is_one_pass_bit_for_bit():
    # apply_sos works through long segments STRETCH samples at a time, carrying the state
    from scipy.signal import sosfilt

    rng = np.random.default_rng(5)
    x = rng.normal(0, 1e-4, (2 * F.STRETCH + 123, 2))
    x[F.STRETCH + 7, 1] = np.nan  # a lost sample: its channel starts again from rest after it
    sos = F.condition_sos(2000.0, F.BAND_HZ, 50.0)
    out = F.apply_sos(sos, x, causal=True)
    cut = F.STRETCH + 7
    for a, b in ((0, cut), (cut + 1, len(x))):
        one, _ = sosfilt(sos, x[a:b, 1:], axis=0, zi=F._steady_zi(sos, x[a, 1:]))
        assert np.array_equal(out[a:b, 1:], one)
    assert np.isnan(out[cut, 1])
    one, _ = sosfilt(sos, x[:, :1], axis=0, zi=F._steady_zi(sos, x[0, :1]))
    assert np.array_equal(out[:, :1], one)  # the other channel, which lost nothing, goes on
    psi = F.tkeo(x[:, 0])
    assert np.array_equal(psi[1:-1], x[1:-1, 0] ** 2 - x[:-2, 0] * x[2:, 0])
    # the TKEO envelope made a stretch at a time equals |TKEO| filtered whole, up to a last
    # stretch of one sample; and any stretch of TKEO equals the whole one's
    from sensorkit.dsp.onset import OnsetParams, detection_envelope, envelope_prefilter

    y = x[: F.STRETCH + 1, 0]
    env_sos = F.lowpass_sos(2000.0, OnsetParams().envelope_hz)
    whole = F.apply_sos(env_sos, np.abs(F.tkeo(y)), causal=True)
    assert np.array_equal(detection_envelope(y, 2000.0, OnsetParams(detect_lowpass_hz=None)), whole)
    # by default the EMG is low-passed first (`envelope_prefilter`), causally
    pre = F.apply_sos(envelope_prefilter(2000.0), y, causal=True)
    assert np.array_equal(detection_envelope(y, 2000.0), F.apply_sos(env_sos, np.abs(F.tkeo(pre)), causal=True))
    for a, b in ((0, 1), (0, 5), (7, 8), (len(y) - 1, len(y)), (100, len(y))):
        assert np.array_equal(F.tkeo_stretch(y, a, b), F.tkeo(y)[a:b]), (a, b)


@pytest.mark.parametrize(("fs", "mains", "period"), [(2000, 50, 40), (2000, 60, 100), (250, 60, 25), (1024, 50, 41)])
def test_the_mains_period_is_whole_samples(fs, mains, period):
    assert F.mains_period(fs, mains) == period


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(1, 2500), min_size=1, max_size=12))
def test_gaps_filled_for_the_notch_as_offline_whatever_the_chunks(cuts):
    """`fill_periodic` fills the first `max_len` samples of each gap with the value a period
    earlier (a filled one where the gap is longer than a period) and leaves the rest, and
    samples with nothing finite a period before, NaN; its streaming twin gives the same."""
    rng = np.random.default_rng(4)
    x = rng.normal(size=(5000, 2))
    x[5:15] = np.nan  # no period before it: stays lost
    x[300:330, 0] = np.nan
    x[1000:2600, 1] = np.nan  # longer than max_len: its end stays lost
    x[4990:] = np.nan
    whole, filled, _, _ = F.fill_periodic(x, 40, 1000)
    assert np.isnan(whole[5:15]).all() and not filled[5:15].any()
    np.testing.assert_array_equal(whole[300:330, 0], x[260:290, 0])
    np.testing.assert_array_equal(whole[1040:1080, 1], x[960:1000, 1])  # two periods back, through the fill
    assert filled[1000:2000, 1].all() and np.isnan(whole[2000:2600, 1]).all()
    assert filled.sum() == (~np.isfinite(x)).sum() - 20 - 600
    twin = F.StreamingPeriodicFill(40, 1000)
    edges = np.cumsum(cuts)
    parts = [twin.process(c) for c in np.split(x, edges[edges < len(x)])]
    np.testing.assert_array_equal(np.vstack([p[0] for p in parts]), whole)
    np.testing.assert_array_equal(np.vstack([p[1] for p in parts]), filled)


def test_a_channel_losing_samples_alone_leaves_the_others_filtered_as_they_were():
    """One channel's lost samples restart that channel's filter only, offline and live alike: a
    shared 2-D filter restarted every channel there (a quiet channel then rang with the hum
    its notch had to learn again, and the live EMG differed from `analyze`'s)."""
    rng = np.random.default_rng(8)
    x = rng.normal(0, 1e-5, (6000, 3)) + 2e-5 * np.sin(2 * np.pi * 50 * np.arange(6000) / FS)[:, None]
    x[1000:1100, 0] = np.nan
    x[3000:3004, 2] = np.nan
    sos = F.condition_sos(FS, mains_hz=50.0)
    together = F.apply_sos(sos, x, causal=True)
    for j in range(3):
        np.testing.assert_array_equal(together[:, j], F.apply_sos(sos, x[:, j], causal=True))
    for cuts in ([1050], [999, 1000, 1100, 3002], list(range(500, 6000, 777))):
        sf = F.StreamingFilter(sos)
        got = np.vstack([sf.process(x[a:b]) for a, b in random_chunks(len(x), cuts)])
        np.testing.assert_allclose(got, together, rtol=1e-9, atol=1e-15)


@pytest.mark.parametrize("mains", [None, 50.0])
def test_conditioning_through_lost_samples_live_equals_offline(mains):
    """`condition_lost` and its streaming twin: the same numbers, lost samples lost, whatever the chunks."""
    rng = np.random.default_rng(9)
    x = rng.normal(0, 1e-5, (8000, 2)) + 2e-5 * np.sin(2 * np.pi * 50 * np.arange(8000) / FS)[:, None]
    x[2000:2300] = np.nan
    x[5000:5040, 1] = np.nan
    whole = F.condition_lost(x, FS, F.BAND_HZ, mains)
    assert np.isnan(whole[2000:2300]).all() and np.isnan(whole[5000:5040, 1]).all()
    assert np.isfinite(whole[5000:5040, 0]).all()
    for cuts in ([2100], list(range(700, 8000, 1111))):
        twin = F.StreamingConditionLost(FS, F.BAND_HZ, mains)
        got = np.vstack([twin.process(x[a:b]) for a, b in random_chunks(len(x), cuts)])
        np.testing.assert_allclose(got, whole, rtol=1e-9, atol=1e-15)
