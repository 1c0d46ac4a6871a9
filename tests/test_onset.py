"""Onset detectors: synthetic bursts with known onsets, quality flags, simulated sessions."""

import warnings

import numpy as np
import pytest

from sensorkit.dsp.onset import (
    DETECTORS,
    ChannelOnsets,
    OnsetParams,
    find_bursts,
    tkeo,
    variance_changepoint,
)
from sensorkit.sim import Dosage, SimConfig, simulate
from sensorkit.sim.emg import motor_unit_emg

FS = 2000.0


def burst_signal(onset_s=3.0, seconds=5.0, level=0.4, noise_uv=3.0, seed=0, tau=0.01):
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * FS)) / FS
    exc = np.where(t >= onset_s, level * (1 - np.exp(-(t - onset_s) / tau)), 0.0)
    exc[t > onset_s + 1.2] = 0.0
    x = motor_unit_emg(exc, FS, rng, rms_at_half=100e-6)
    return x + rng.normal(0, noise_uv * 1e-6, t.size) + 1e-3  # plus a DC electrode offset


@pytest.mark.parametrize("detector", DETECTORS)
def test_each_detector_finds_a_clean_burst_within_15_ms(detector):
    errors = []
    for seed in range(4):
        ch = ChannelOnsets(burst_signal(seed=seed), FS, OnsetParams(detector=detector), mains=None)
        o = ch.onset((1.5, 2.6), (2.6, 4.5))
        assert o.quality == "ok" and o.sd_ms > 0 and o.offset_s > o.onset_s
        errors.append(o.onset_s - 3.0)
    assert np.median(np.abs(errors)) < 0.015


def test_no_burst_in_a_quiet_window():
    ch = ChannelOnsets(burst_signal(), FS, mains=None)
    o = ch.onset((0.2, 1.2), (1.2, 2.8))
    assert o.onset_s is None and o.quality == "no_burst"


def test_gap_in_the_window_is_flagged():
    x = burst_signal()
    x[int(2.0 * FS) : int(2.1 * FS)] = np.nan
    o = ChannelOnsets(x, FS, mains=None).onset((1.5, 2.6), (2.6, 4.5))
    assert o.quality == "gap"


@pytest.mark.parametrize(("before_ms", "after_ms"), [(40, 60), (150, 100), (20, 280)])
def test_a_burst_that_began_in_a_drop_out_is_placed_in_it_with_an_interval_spanning_it(before_ms, after_ms):
    """Samples lost from `before_ms` before the onset to `after_ms` after it: the burst is first
    seen where they end, but began in them; the onset is reported in the drop-out, flagged, and
    its 95 % interval spans it (at the drop-out's end with the fit's few ms, it covered nothing)."""
    for seed in range(3):
        x = burst_signal(seed=seed)
        a, b = int((3.0 - before_ms / 1e3) * FS), int((3.0 + after_ms / 1e3) * FS)
        x[a:b] = np.nan
        o = ChannelOnsets(x, FS, mains=None).onset((1.5, 2.6), (2.6, 4.5))
        assert o.quality == "gap"
        assert a / FS <= o.onset_s <= b / FS
        assert abs(o.onset_s - 3.0) <= 1.96 * o.sd_ms / 1e3
        assert 1.96 * o.sd_ms / 1e3 >= 0.5 * (b - a) / FS  # the interval spans the drop-out


def test_a_drop_out_under_mains_hum_does_not_make_a_false_onset():
    """A quiet muscle under 30 uV of 50-Hz hum loses 40-300 ms of samples: restarted at rest
    after the drop-out, the notch rang with the hum for a few hundred ms and the onset threshold
    was crossed; fed the hum carried on through the gap (`fill_periodic`), it is not."""
    rng = np.random.default_rng(2)
    t = np.arange(int(6 * FS)) / FS
    for gap_ms in (40, 120, 300):
        x = rng.normal(0, 3e-6, t.size) + 30e-6 * np.sin(2 * np.pi * 50 * t + 0.7) + 1e-3
        x[int(3.2 * FS) : int(3.2 * FS + gap_ms * FS / 1e3)] = np.nan
        ch = ChannelOnsets(x, FS)
        assert ch.mains_hz == 50.0
        assert ch.onset((1.5, 2.6), (2.6, 5.5)).onset_s is None
        lost = int(3.2 * FS) + 30  # past the first 5 ms, bridged by a hold
        assert np.isnan(ch.cond[lost]) and np.isnan(ch.env[lost])  # still lost


def test_ecg_in_the_baseline_does_not_make_a_false_onset():
    from sensorkit.sim.confounds import ecg

    rng = np.random.default_rng(3)
    x = burst_signal(noise_uv=2.0) + ecg(np.arange(int(5 * FS)) / FS, 150e-6, rng)
    o = ChannelOnsets(x, FS, mains=None).onset((1.5, 2.6), (2.6, 4.5))
    assert o.onset_s == pytest.approx(3.0, abs=0.02)


def test_a_trunk_muscle_under_a_strong_ecg_at_a_cyton_rate():
    """An erector spinae (80 uV) with a 250-uV R wave, sampled at 250 Hz (an OpenBCI Cyton): the
    band ends there at 112 Hz, and below 30 Hz the QRS complex outweighs the EMG. Through 20-112 Hz
    (the conditioning band) 17 of these 18 bursts were found and 12 of the 18 quiet windows between
    them had an onset on a heartbeat; with the onset band's 30-Hz edge, 18 and 2."""
    from scipy.signal import resample_poly

    from sensorkit.dsp.onset import ONSET_BAND_HZ
    from sensorkit.sim.confounds import amplifier_noise, ecg

    fs, up = 250.0, 4  # the muscle rendered at 1 kHz and decimated, as a converter samples it
    found = false = 0
    for seed in (0, 1):
        rng = np.random.default_rng(seed)
        t = np.arange(int(60 * fs)) / fs
        starts = np.arange(3.0, 56.0, 6.0)
        drive = np.zeros(t.size)
        for s in starts:
            on = (t >= s) & (t < s + 2)
            drive[on] = 0.3 * np.minimum((t[on] - s) / 0.06, 1.0)
        emg = resample_poly(motor_unit_emg(np.repeat(drive, up), fs * up, rng, rms_at_half=80e-6), 1, up)[: t.size]
        x = emg + ecg(t, 250e-6, rng) + amplifier_noise(t.size, fs, 5e-6, rng, 0.0)
        ch = ChannelOnsets(x, fs, OnsetParams(), mains=None)
        assert ch.params.band_hz == ONSET_BAND_HZ == (30.0, 450.0)
        for s in starts:
            o = ch.onset((s - 1.2, s - 0.35), (s - 0.35, s + 1.5))
            found += o.onset_s is not None and abs(o.onset_s - s) <= 0.1
            false += ch.onset((s + 2.5, s + 3.35), (s + 3.35, s + 5.0)).onset_s is not None  # between bursts
    assert found >= 16 and false <= 3, (found, false)  # of 18 each


def test_the_onset_band_is_checked_and_kept_as_a_tuple():
    """A band given as a list (a settings file) works as the tuple (the filters are cached by
    these settings, which a list cannot key); a band that is no band is refused plainly."""
    from sensorkit.dsp.onset import envelope_lag

    p = OnsetParams(band_hz=[25, 400])
    assert p.band_hz == (25.0, 400.0) and envelope_lag(2000.0, p) == envelope_lag(2000.0, OnsetParams())
    for bad in ((400.0, 25.0), (0.0, 100.0), (30.0,), None):
        with pytest.raises(ValueError, match="onset band must be two frequencies"):
            OnsetParams(band_hz=bad)


def test_tkeo_and_changepoint_primitives():
    x = np.sin(np.arange(100) * 0.3)
    np.testing.assert_allclose(tkeo(x)[1:-1], np.sin(0.3) ** 2, atol=1e-12)  # A^2 sin^2(w) for a sine
    rng = np.random.default_rng(0)
    step = np.r_[rng.normal(0, 1, 500), rng.normal(0, 5, 500)]
    k, sd = variance_changepoint(step)
    assert abs(k - 500) <= 5 and sd < 5


def test_find_bursts_separates_contractions_by_rest():
    rng = np.random.default_rng(1)
    t = np.arange(int(12 * FS)) / FS
    exc = np.zeros(t.size)
    for start in (2.0, 5.0, 8.5):
        exc[(t >= start) & (t < start + 1.0)] = 0.3
    x = motor_unit_emg(exc, FS, rng) + rng.normal(0, 3e-6, t.size)
    ch = ChannelOnsets(x, FS, mains=None)
    bursts = find_bursts(ch.cond, FS, env=ch.env)
    assert len(bursts) == 3
    for (on, off), start in zip(bursts, (2.0, 5.0, 8.5), strict=True):
        assert on - ch.delay_s == pytest.approx(start, abs=0.02) and off > on + 0.8
    # a radio drop-out at rest, longer than the quiet windows the baseline is chosen from: the
    # same bursts, and no "Mean of empty slice" warning to the caller
    x[int(10.2 * FS) : int(11.8 * FS)] = np.nan
    ch = ChannelOnsets(x, FS, mains=None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lost = find_bursts(ch.cond, FS, env=ch.env)
    assert np.allclose(lost, bursts, atol=0.005)


def session_onsets(recs, params):
    """(true onset or None, onset found) for every repetition window of every muscle, as the
    benchmark makes them: baseline 1.2-0.35 s before movement onset, search from there on."""
    for rec in recs:
        fs = rec.config.fs_emg
        for j, m in enumerate(rec.config.muscles):
            ch = ChannelOnsets(rec.emg[:, j], fs, params)
            for r in (r for b in rec.truth["exercises"] for r in b["reps"] if m in r["onsets_s"]):
                tm = r["movement_onset_s"]
                yield r["onsets_s"][m], ch.onset((tm - 1.2, tm - 0.35), (tm - 0.35, r["end_s"]))


def found_onsets(recs, params):
    """(true onset, onset found) of the true onsets found within 100 ms (the benchmark's match)."""
    for truth, o in session_onsets(recs, params):
        if truth is not None and o.onset_s is not None and abs(o.onset_s - truth) <= 0.1:
            yield truth, o


def accuracy(recs, params):
    errors, missed, false, n = [], 0, 0, 0
    for truth, o in session_onsets(recs, params):
        if truth is None:
            false += o.onset_s is not None
            continue
        n += 1
        if o.onset_s is None or abs(o.onset_s - truth) > 0.1:
            missed += 1
            false += o.onset_s is not None
        else:
            errors.append(abs(o.onset_s - truth))
    return 1 - missed / n, false / n, np.median(errors), np.percentile(errors, 95), n


def test_accuracy_on_simulated_sessions_small_version():
    """The benchmark runs the full table; this keeps the default detector honest."""
    recs = [simulate(SimConfig(seed=s, dose=Dosage(reps=3, glute_delay_ms=d)))
            for s, d in ((21, 40), (22, 120))]
    recall, false, median, p95, n = accuracy(recs, OnsetParams())
    assert n >= 100
    assert recall >= 0.95 and false <= 0.05
    # p95 is the 9th-worst of 168 onsets here: 50 ms through 20-450 Hz, 56 through 20-250 Hz
    # for the envelope (the benchmark's 15 sessions: p95 13-39 ms either way)
    assert median <= 0.015 and p95 <= 0.06


def test_the_interval_widens_as_the_snr_falls():
    """A fit cannot see the part of a rise beneath the noise, so its 95 % interval must widen
    as the SNR falls (`snr_sd_factor`). On two noisy sessions (15 uV, drives rising over 20-150
    ms; most onsets below 20 dB) it covered 80 % of true onsets with the fit's SD alone and
    90 % with the SNR's factor; and the factor narrows the interval at high SNR."""
    from sensorkit.dsp.onset_departure import DepartureParams, snr_sd_factor

    assert snr_sd_factor(None) == snr_sd_factor(10.0) == 1.4 and snr_sd_factor(80.0) == 0.7
    assert 0.7 < snr_sd_factor(50.0) < snr_sd_factor(40.0) < 1.4
    recs = [simulate(SimConfig(seed=s, noise_uv=15.0, onset_ramps="varied", dose=Dosage(reps=3, glute_delay_ms=60)))
            for s in (1, 2)]  # fmt: skip
    cover = {}
    unscaled = OnsetParams(fit=DepartureParams(snr_scale=(1.0, 1.0)))
    for name, params in (("scaled", OnsetParams()), ("fit alone", unscaled)):
        inside = [abs(o.onset_s - truth) * 1e3 <= 1.96 * o.sd_ms for truth, o in found_onsets(recs, params)]
        cover[name] = np.mean(inside)
        assert len(inside) >= 120
    assert cover["scaled"] >= 0.87 and cover["fit alone"] <= cover["scaled"] - 0.05


def test_the_interval_holds_the_onset_bands_time_resolution_at_a_myo_rate():
    """At 200 Hz the onset band is 30-90 Hz: a rise cannot be placed closer than about one
    period of its width (17 ms; 2.4 ms through 30-450 Hz), which the fit's likelihood does
    not see. On two simulated sessions at 200 Hz (6 uV of noise) the 95 % intervals covered
    73 % of true onsets without that term and 87 % with it."""
    from sensorkit.dsp.onset import ONSET_BAND_HZ
    from sensorkit.dsp.onset_departure import DepartureParams, band_resolution_s

    assert band_resolution_s(2000.0, ONSET_BAND_HZ) == band_resolution_s(1000.0, ONSET_BAND_HZ) == 1 / 420
    assert band_resolution_s(200.0, ONSET_BAND_HZ) == pytest.approx(1 / 60)
    assert band_resolution_s(200.0, ONSET_BAND_HZ, DepartureParams(resolution_periods=0.0)) == 0.0
    recs = [simulate(SimConfig(seed=s, noise_uv=6.0, fs_emg=200.0, onset_ramps="varied",
                               dose=Dosage(reps=3, glute_delay_ms=60))) for s in (1, 2)]  # fmt: skip
    cover = {}
    without = OnsetParams(fit=DepartureParams(resolution_periods=0.0))
    for name, params in (("with", OnsetParams()), ("without", without)):
        inside = [abs(o.onset_s - truth) * 1e3 <= 1.96 * o.sd_ms for truth, o in found_onsets(recs, params)]
        cover[name] = np.mean(inside)
        assert len(inside) >= 100
    assert cover["with"] >= 0.83 and cover["without"] <= cover["with"] - 0.1


def test_the_burst_median_frequency_is_measured_above_the_noise():
    """`burst_median_hz` takes the baseline's power off the burst's: a 40-80 Hz burst under
    white noise of twice its RMS reads 62 Hz; the same burst against a silent baseline, noise
    and all, reads 125 Hz."""
    from scipy.signal import butter, sosfilt

    from sensorkit.dsp.onset_departure import DepartureParams, burst_median_hz, potential_delay_s

    fs, rng = 2000.0, np.random.default_rng(5)
    low = sosfilt(butter(2, (40, 80), btype="bandpass", fs=fs, output="sos"), rng.standard_normal(int(0.2 * fs)))
    burst = low / low.std() + 2 * rng.standard_normal(low.size)
    base = 2 * rng.standard_normal(int(0.8 * fs))
    f = burst_median_hz(burst, base, fs)
    assert 45 <= f <= 80
    assert burst_median_hz(burst, np.zeros(base.size), fs) > 100  # the noise lifts it unless subtracted
    assert potential_delay_s(burst, base, fs) == pytest.approx(0.53 / f)
    assert potential_delay_s(burst, base, fs, DepartureParams(delay_cycles=0.0)) == 0.0
    assert burst_median_hz(np.zeros(400), base, fs) is None  # nothing above the baseline
    assert potential_delay_s(np.zeros(5), base, fs) == pytest.approx(0.53 / 100.0)  # too short: the typical


def test_onsets_are_timed_to_the_discharges_not_to_the_energy():
    """Potentials begin at their discharges and their energy peaks into them, later the wider
    they are: a fit to the energy's rise is late by about half a potential. With potentials
    twice as wide (median frequency ~60 Hz) the median error was +9.0 ms on these sessions;
    moved back by `potential_delay_s` (0.53 periods of the burst's median frequency), +0.5 ms."""
    from sensorkit.dsp.onset_departure import DepartureParams

    recs = [simulate(SimConfig(seed=s, noise_uv=3.0, muap_scale=2.0, onset_ramps="varied",
                               dose=Dosage(reps=3, glute_delay_ms=60))) for s in (41, 42)]  # fmt: skip
    bias = {}
    for name, params in (("moved", OnsetParams()), ("energy", OnsetParams(fit=DepartureParams(delay_cycles=0.0)))):
        signed = [o.onset_s - truth for truth, o in found_onsets(recs, params)]
        assert len(signed) >= 150
        bias[name] = np.median(signed) * 1e3
    assert abs(bias["moved"]) <= 3.0 and bias["energy"] >= bias["moved"] + 5.0, bias


@pytest.mark.parametrize("fs", [200.0, 250.0])
def test_onsets_at_a_myo_or_cyton_rate_are_not_early(fs):
    """At 200 Hz (a Myo armband) and 250 Hz (an OpenBCI Cyton) the band-pass's upper edge falls
    to 90 and 112 Hz; its delay at the EMG's usual 100 Hz, at or beyond that edge, is 39 and
    12 ms, and subtracted from every onset it put them early: on these clean sessions by a
    median of 40 and 10 ms. Taken inside the band (`centre_hz`): +2.2 and +1.2 ms."""
    from sensorkit.dsp.filters import bandpass_sos
    from sensorkit.dsp.onset import band_delay, centre_hz, group_delay_s

    clean = dict(noise_uv=1.0, ecg_uv=0.0, mains_uv=0.0, artefacts=False, onset_ramps="varied")
    recs = [simulate(SimConfig(seed=s, fs_emg=fs, dose=Dosage(reps=3, glute_delay_ms=60), **clean)) for s in (51, 52)]
    signed = [o.onset_s - truth for truth, o in found_onsets(recs, OnsetParams())]
    assert len(signed) >= 160
    assert abs(np.median(signed)) <= 0.004, np.median(signed)
    assert centre_hz(2000.0) == centre_hz(500.0) == 100.0 and centre_hz(fs) < 0.45 * fs
    assert band_delay(fs)[0] < 0.5 * group_delay_s(bandpass_sos(fs), fs, 100.0)


def test_emg_with_a_low_spectrum_is_found_through_noise():
    """Wide motor-unit potentials (median frequency ~50 Hz, as under a thick fat layer) in
    strong noise, with drives rising over 20-150 ms: amplifier noise above 250 Hz, where
    such EMG has nothing, must not drown the detection envelope. Through the whole 20-450 Hz
    band 113 of these 168 onsets were found within 100 ms; through 20-250 Hz, 136."""
    recs = [simulate(SimConfig(seed=s, noise_uv=10.0, muap_scale=2.0, onset_ramps="varied",
                               dose=Dosage(reps=3, glute_delay_ms=60))) for s in (31, 32)]  # fmt: skip
    recall, _, _, _, n = accuracy(recs, OnsetParams())
    assert n == 168 and recall >= 0.77


def test_onset_on_a_movement_artefact_is_flagged():
    from sensorkit.sim.confounds import motion_artefact

    x = burst_signal()
    t = np.arange(x.size) / FS
    rng = np.random.default_rng(0)
    x += motion_artefact(t, 3.0, 2e-3, rng)  # a 2 mV cable swing as the muscle switches on
    o = ChannelOnsets(x, FS, mains=None).onset((1.5, 2.6), (2.6, 4.5))
    assert o.onset_s is not None and o.quality == "artefact"


@pytest.mark.parametrize(("shape", "within_ms"), [("linear", 6), ("raised_cosine", 15), ("exp", 6)])
def test_slow_rises_are_traced_back_to_where_the_drive_began(shape, within_ms):
    """A drive rising over 120 ms recruits its first small units sparsely: its threshold
    crossing, even traced back to 1 SD, comes 5-40 ms after the drive began (a raised cosine,
    flat at its start, recruits nothing for its first ~25 ms: the hardest case). The onset
    must be the rise's start and its 95 % interval must hold the truth."""
    from sensorkit.sim.session import drive_rise

    rng = np.random.default_rng(11)
    t = np.arange(int(40 * FS)) / FS
    starts = np.arange(2.0, 38.0, 3.0) + rng.uniform(0, 0.5, 12)
    exc = np.zeros(t.size)
    for s0 in starts:
        on = (t >= s0) & (t < s0 + 1.2)
        exc[on] = 0.3 * drive_rise(t[on] - s0, shape, 0.12)
    x = motor_unit_emg(exc, FS, rng, rms_at_half=100e-6) + rng.normal(0, 6e-6, t.size)
    err, cover = {}, {}
    for traced in (True, False):
        ch = ChannelOnsets(x, FS, OnsetParams(departure=traced), mains=None)
        found = [ch.onset((s0 - 1.2, s0 - 0.35), (s0 - 0.35, s0 + 1.0)) for s0 in starts]
        err[traced] = np.array([(o.onset_s - s0) * 1e3 for o, s0 in zip(found, starts, strict=True)])
        cover[traced] = np.mean(np.abs(err[traced]) <= 1.96 * np.array([o.sd_ms for o in found]))
    assert np.median(err[False]) > 4  # the crossing traced back to 1 SD is late...
    assert abs(np.median(err[True])) <= within_ms  # ...the rise's start is not
    assert np.median(np.abs(err[True])) < np.median(np.abs(err[False]))
    assert cover[True] >= 0.8
