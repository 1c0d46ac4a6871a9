"""Real recordings from other labs (skipped where ../shared/real-data is absent)."""

import numpy as np
import pandas as pd
from conftest import shared_file

from sensorkit.dsp.onset import ChannelOnsets, find_bursts


def gait():
    emg = pd.read_csv(shared_file("musclesynergies_gait_emg", "ID0012_TW_01_emg_raw.csv"))
    events = pd.read_csv(shared_file("musclesynergies_gait_emg", "ID0012_TW_01_gait_events.csv"))
    fs = 1.0 / np.median(np.diff(emg.time))
    return emg, events, fs


def test_glute_med_and_max_get_one_onset_per_stride_before_touchdown():
    emg, events, fs = gait()
    assert round(fs) == 1000
    t0 = emg.time.iloc[0]
    for col in ("ME", "MA"):  # gluteus medius, gluteus maximus; microvolts -> V
        ch = ChannelOnsets(emg[col].to_numpy() * 1e-6, fs)
        onsets = np.array([on for on, _ in find_bursts(ch.cond, fs, env=ch.env)]) - ch.delay_s + t0
        for td in events.touchdown_s:
            near = onsets[(onsets > td - 0.4) & (onsets < td + 0.1)]
            assert len(near) == 1, (col, td, onsets)
            assert -250 < (near[0] - td) * 1000 < 50  # late-swing activation, before contact
        # quiet in mid-swing: no onset between lift-off and the late-swing burst
        for lo, td in zip(events.liftoff_s, events.touchdown_s[1:], strict=False):
            assert not ((onsets > lo + 0.1) & (onsets < td - 0.4)).any()


def biosppy(name):
    x = np.loadtxt(shared_file("biosppy_emg", name)).astype(float)  # 12-bit ADC counts
    return x, 1000.0


def test_biosppy_activations_found_and_rests_left_alone():
    # activations and rests read off a plot of emg_1.txt (conditioned signal and RMS)
    x, fs = biosppy("emg_1.txt")
    ch = ChannelOnsets(x, fs)
    onsets = np.array([on for on, _ in find_bursts(ch.cond, fs, env=ch.env)])
    for active in (1.5, 15.5, 25.6, 26.4):
        assert np.any(np.abs(onsets - active) < 0.2), (active, onsets)
    for lo, hi in ((2.5, 9.0), (27.5, 33.5), (46.0, 62.0)):
        assert not ((onsets > lo) & (onsets < hi)).any(), (lo, hi, onsets)


def test_biosppy_low_snr_recording():
    x, fs = biosppy("emg.txt")  # bursts only ~2x the noise
    ch = ChannelOnsets(x, fs)
    bursts = find_bursts(ch.cond, fs, env=ch.env)
    covered = lambda t: any(on - 0.5 <= t <= off for on, off in bursts)  # noqa: E731
    assert covered(39.0) and covered(54.0)
    onsets = np.array([on for on, _ in bursts])
    for lo, hi in ((1.0, 33.0), (62.0, 94.0)):
        assert not ((onsets > lo) & (onsets < hi)).any(), (lo, hi, onsets)
