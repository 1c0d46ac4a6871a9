"""Signal quality per channel: every fault kind's recall, false alarms and live delay.

Simulated sessions (the whole clinic session, 8 channels) with the simulator's
faults (`faults=1`: a lift-off, a flat stretch, three pops, a saturation and a
drop-out per session, plus the motion artefacts it always adds) and varied
recordings: amplifier noise 2-8 uV, mains 50 or 60 Hz (+-0.3) at 2-40 uV, ECG R wave 0-1500
uV on the trunk (8 % of it on the hips), EMG at 2 kHz or (a third of them) 1 kHz.
Scored per fault kind against the truth:

- recall: faults with an event of their kind (lift-off and flat count for each
  other: both say "no electrode contact") on their channel overlapping them +-0.5 s
  (pops: starting within 0.5 s);
- lift-off coverage: the share of each lift-off covered by lift-off/flat events;
- false alarms per channel-hour: events matching no fault of any kind on that channel;
- live delay: from a lift-off's or saturation's start to the data time at which the
  live monitor has judged its first flagged window (window end + 0.15 s look-ahead;
  the monitor judges windows exactly as `analyze`, tested);
- mains frequency error per session, and ECG: flagged on channels whose R wave is
  at least twice the amplifier noise, not flagged where it is under half.

The real recordings of ../shared/real-data (no faults; gait EMG and thigh EMG) are
counted as false alarms per channel-hour where present.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from sensorkit.analysis.signal_quality import assess, judge_recording
from sensorkit.dsp.quality import KINDS, PAD_S, WINDOW_S
from sensorkit.sim import SimConfig, simulate

SESSIONS = 12
SHARED = Path(__file__).resolve().parents[2] / "shared" / "real-data"
KINDS_SCORED = ("lift_off", "flat", "pop", "saturation", "gap", "motion_artefact")
SAME = {"lift_off": ("lift_off", "flat"), "flat": ("flat", "lift_off")}
BIG_MOTION_UV = 100.0  # the simulator's movement waves peak at 20-150 uV; most hide under the burst they start with


def configs() -> list[SimConfig]:
    rng = np.random.default_rng(15)
    out = []
    for seed in range(SESSIONS):
        ecg = 0.0 if seed % 4 == 0 else float(np.exp(rng.uniform(np.log(10), np.log(1500))))
        mains = float(rng.choice([50.0, 60.0]) + rng.uniform(-0.3, 0.3))
        out.append(SimConfig(scenario="session", seed=100 + seed, faults=True, noise_uv=float(rng.uniform(2, 8)),
                             fs_emg=1000.0 if seed % 3 == 2 else 2000.0, mains_hz=mains,
                             mains_uv=float(rng.uniform(2, 40)), ecg_uv=ecg))  # fmt: skip
    return out


def overlaps(e: dict, f: dict, slack: float = 0.5) -> bool:
    return e["start_s"] <= f["end_s"] + slack and e["end_s"] >= f["start_s"] - slack


def score_session(cfg: SimConfig, tally: dict) -> None:
    rec = simulate(cfg)
    fs = cfg.fs_emg
    t = np.arange(len(rec.emg)) / fs
    q = assess(rec.emg, fs, list(cfg.muscles), t).block
    tally["hours"] += len(rec.emg) / fs / 3600 * len(cfg.muscles)
    tally["mains_err"].append(abs((q["mains_hz"] or 0.0) - cfg.mains_hz))  # no line found: an error of ~50 Hz
    faults = rec.truth["faults"]
    events = [(m, e) for m, ch in q["channels"].items() for e in ch["events"]]
    windows = judge_recording(rec.emg, fs, q["mains_hz"])
    for f in faults:
        for m in list(cfg.muscles) if f["channel"] == "*" else [f["channel"]]:
            kinds = SAME.get(f["kind"], (f["kind"],))
            if f["kind"] == "pop":
                hit = any(mm == m and e["kind"] == "pop" and abs(e["start_s"] - f["start_s"]) < 0.5 for mm, e in events)
            else:
                hit = any(mm == m and e["kind"] in kinds and overlaps(e, f) for mm, e in events)
            tally[f["kind"]]["n"] += 1
            tally[f["kind"]]["hit"] += hit
            if f["kind"] == "motion_artefact" and f.get("peak_uv", 0) >= BIG_MOTION_UV:
                tally["big_motion"].append(hit)
            if f["kind"] == "lift_off":
                cover = sum(max(0.0, min(e["end_s"], f["end_s"]) - max(e["start_s"], f["start_s"]))
                            for mm, e in events if mm == m and e["kind"] in kinds)  # fmt: skip
                tally["cover"].append(cover / (f["end_s"] - f["start_s"]))
            if f["kind"] in ("lift_off", "saturation"):
                j = list(cfg.muscles).index(m)
                flagged = np.flatnonzero(windows.states[:, j] == KINDS.index(f["kind"]))
                flagged = flagged[(flagged + 1) * WINDOW_S > f["start_s"]]
                if flagged.size:
                    tally[f["kind"]]["delay"].append((flagged[0] + 1) * WINDOW_S + PAD_S - f["start_s"])
    for m, e in events:
        if not any(f["channel"] in (m, "*") and overlaps(e, f) for f in faults):
            tally[e["kind"]]["false"] += 1
    for m, ch in q["channels"].items():
        r, noise = rec.truth["emg"]["ecg_uv"].get(m, 0.0), rec.truth["emg"]["noise_uv"][m]
        if r >= 2 * noise:
            tally["ecg_strong"].append(ch["ecg"])
        elif r <= 0.5 * noise:
            tally["ecg_weak"].append(not ch["ecg"])


def real_false_alarms() -> tuple[int, float] | None:
    files = []
    gait = SHARED / "musclesynergies_gait_emg" / "ID0012_TW_01_emg_raw.csv"
    if gait.exists():
        emg = pd.read_csv(gait)
        cols = [c for c in emg.columns if c != "time"]
        files.append((emg[cols].to_numpy() * 1e-6, cols))
    for path in sorted((SHARED / "uci_lower_limb_emg").glob("*.txt")):
        x = pd.read_csv(path, skiprows=7, sep="\t", header=None).dropna().to_numpy()[:, :4] * 1e-3
        files.append((x, ["RF", "BF", "VM", "ST"]))
    if not files:
        return None
    n, hours = 0, 0.0
    for x, labels in files:
        q = assess(x, 1000.0, labels, np.arange(len(x)) / 1000.0).block
        n += sum(len(ch["events"]) for ch in q["channels"].values())
        hours += len(x) / 1000.0 / 3600 * len(labels)
    return n, hours


def main() -> None:
    tally: dict = {k: {"n": 0, "hit": 0, "false": 0, "delay": []} for k in KINDS_SCORED}
    tally.update(hours=0.0, cover=[], mains_err=[], ecg_strong=[], ecg_weak=[], big_motion=[])
    started = time.perf_counter()
    for cfg in configs():
        score_session(cfg, tally)
    took = time.perf_counter() - started
    print(f"signal quality: {SESSIONS} simulated sessions, {tally['hours']:.2f} channel-hours "
          "(noise 2-8 uV, mains 50/60 Hz at 2-40 uV, ECG 0-1500 uV, 1 or 2 kHz)")  # fmt: skip
    print(f"{'fault':<16}{'recall':>12}{'false /ch-h':>13}{'live delay (median, max)':>28}")
    for k in KINDS_SCORED:
        t = tally[k]
        recall = f"{t['hit']}/{t['n']}" if t["n"] else "-"
        delay = f"{np.median(t['delay']):.2f} s, {np.max(t['delay']):.2f} s" if t["delay"] else "-"
        print(f"{k:<16}{recall:>12}{t['false'] / tally['hours']:>13.1f}{delay:>28}")
    big = tally["big_motion"]
    print(f"motion artefacts peaking at >= {BIG_MOTION_UV:.0f} uV: {np.mean(big):.0%} of {len(big)} found (an event "
          "needs the wave's 2-20 Hz content to outweigh the EMG band 1.5x over half a second)")  # fmt: skip
    print(f"lift-off coverage: median {np.median(tally['cover']):.0%}, least {np.min(tally['cover']):.0%}")
    print(f"mains frequency error: max {np.max(tally['mains_err']):.2f} Hz over {SESSIONS} sessions")
    print(f"ECG flagged where R >= 2x noise: {np.mean(tally['ecg_strong']):.0%} of {len(tally['ecg_strong'])}; "
          f"not flagged where R <= noise/2: {np.mean(tally['ecg_weak']):.0%} of {len(tally['ecg_weak'])}")  # fmt: skip
    real = real_false_alarms()
    if real is not None:
        print(f"real recordings (no faults): {real[0]} events in {real[1] * 60:.0f} channel-minutes")
    print(f"quality: {tally['hours'] * 3600 / took:.0f}x real time per channel (assessment incl. ECG)")


if __name__ == "__main__":
    main()
