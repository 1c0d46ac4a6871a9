"""The live pipeline's repetitions against the truth and against `analyze`, per exercise.

Each simulated session is written to XDF as `sensorkit simulate` writes it, replayed through
`LivePipeline` (what `sensorkit live file://...` and the monitor window run) and analysed
offline; each true repetition is matched to the nearest found one (within 0.3 s). Shown per
exercise: repetitions shown live (`RepetitionDone`, from `LiveMovement`: the past only) and
found offline, false ones, the movement onset's median |error|, the share of repetitions
whose live onset lies within 30 ms of the offline one, and the share of repetitions in the
live result (a finished block is measured whole) equal to `analyze`'s within 1 ms
(DESIGN.md: on a replay the live result equals `analyze`'s). Both movement shapes of the
simulator (minimum-jerk and raised cosine); clinic sessions (squats, bridges, prone hip
extension), step-downs and single-leg stance (held 8-15 s). Then prone sessions with the
pelvis lying still between lifts (a third of standing's sway) and with standing's sway, lifts
as built, small, slow and both: how many are shown live, and how many false, against how many
`analyze` finds. Then single-leg stances with the pelvis level, hiked or dropping: how many are
shown live within 0.1 s of their onset (docs/analysis.md, Known limits).

    .venv/bin/python benchmarks/bench_live_reps.py [SEEDS]
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

from sensorkit.analysis.session import analyze_session
from sensorkit.cli import main as cli
from sensorkit.devices.schemes.file import Replay
from sensorkit.live.events import RepetitionDone
from sensorkit.live.pipeline import LivePipeline
from sensorkit.recording.session_input import session_data
from sensorkit.recording.xdf_reader import read_xdf

MATCH_S = 0.3


def _replay(path: Path) -> list:
    src = Replay(str(path), speed=0)
    src.open()
    out = []
    while not src.finished:
        out += src.read()
    return out


def _nearest(found: list[float], t: float) -> float:
    return min((f - t for f in found), key=abs) if found else np.inf


def _block_onsets(result: dict, block: dict) -> list[float]:
    """Movement onsets (s) of a result's repetitions in the exercise and side of a true block."""
    key = (block["exercise"], block["side"])
    return [r["movement_onset_s"] for b in result["exercises"] if (b["exercise"], b["side"]) == key for r in b["reps"]]


def _session(scenario: str, seed: int, profile: str, folder: Path,
             params: tuple[str, ...] = ()) -> tuple[dict, dict, dict, dict]:  # fmt: skip
    """(truth, repetitions shown live, live result, analyze's result) of a simulated session;
    `params`: more simulator parameters (KEY=VALUE)."""
    # one file per set of parameters: `simulate` will not overwrite one (a name from their number
    # alone had "twice the time" analyse the files of "half the excursion")
    path = folder / f"{scenario}-{seed}-{profile}-{'-'.join(params).replace('=', '')}.xdf"
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = cli(["simulate", scenario, "-o", str(path), "--seed", str(seed), "--param", f"motion_profile={profile}",
                    *(x for kv in params for x in ("--param", kv))])  # fmt: skip
        offline = analyze_session(session_data(read_xdf(path))) if code == 0 else None
    if offline is None:
        raise RuntimeError(f"sensorkit simulate failed for {path.name}")
    pipeline = LivePipeline(file=path.name)
    shown: dict[tuple, list] = {}
    pipeline.subscribe(lambda e: shown.setdefault((e.exercise, e.side), []).append(e.row)
                       if isinstance(e, RepetitionDone) else None)  # fmt: skip
    for chunk in _replay(path):
        pipeline.push(chunk)
    live = pipeline.finish()
    truth = json.loads(path.with_suffix(".truth.json").read_text())
    as_shown = {"exercises": [{"exercise": k[0], "side": k[1], "reps": v} for k, v in shown.items()]}
    return truth, as_shown, live, offline


def run(seeds: range) -> dict:
    rows: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for profile in ("minjerk", "cosine"):
            for scenario, ss in (("session", seeds), ("step_down", seeds[:3]), ("single_leg_stance", seeds[:3])):
                for seed in ss:
                    truth, live, result, offline = _session(scenario, seed, profile, Path(tmp))
                    for tb in truth["exercises"]:
                        r = rows.setdefault(tb["exercise"], {"true": 0, "live": [], "off": [], "false": [0, 0],
                                                             "found": [0, 0], "apart": [], "equal": []})  # fmt: skip
                        kept, expected = _block_onsets(result, tb), _block_onsets(offline, tb)
                        same = len(kept) == len(expected)
                        pairs = zip(kept, expected, strict=False)
                        r["equal"] += [same and abs(a - b) <= 1e-3 for a, b in pairs] or [same]
                        onsets = [x["movement_onset_s"] for x in tb["reps"]]
                        r["true"] += len(onsets)
                        got = {}
                        for k, (name, res) in enumerate((("live", live), ("off", offline))):
                            got[name] = _block_onsets(res, tb)
                            r["found"][k] += sum(abs(_nearest(got[name], t)) <= MATCH_S for t in onsets)  # recall
                            r["false"][k] += sum(abs(_nearest(onsets, f)) > MATCH_S for f in got[name])
                        for t in onsets:
                            on, off = _nearest(got["live"], t), _nearest(got["off"], t)
                            r["live"].append(on)
                            r["off"].append(off)
                            if abs(on) <= MATCH_S and abs(off) <= MATCH_S:
                                r["apart"].append(abs(on - off))
    print(f"Live pipeline repetitions on replays against the truth and analyze ({len(seeds)} clinic sessions and "
          f"3 each of step-downs and single-leg stance per movement shape, minimum-jerk and raised cosine)")
    print(f"  {'exercise':<22}{'reps':>6}{'live found':>12}{'false':>7}{'median ms':>11}"
          f"{'analyze found':>15}{'false':>7}{'median ms':>11}{'live ~ analyze':>16}{'result = analyze':>18}")
    out = {}
    for ex, r in rows.items():
        lv, of = np.abs(r["live"]) * 1000, np.abs(r["off"]) * 1000
        near = float(np.mean(np.asarray(r["apart"]) <= 0.03)) if r["apart"] else float("nan")
        print(f"  {ex:<22}{r['true']:>6}{r['found'][0] / r['true']:>12.1%}{r['false'][0]:>7}"
              f"{np.median(lv[lv < MATCH_S * 1000]):>11.0f}{r['found'][1] / r['true']:>15.1%}{r['false'][1]:>7}"
              f"{np.median(of[of < MATCH_S * 1000]):>11.0f}{near:>16.0%}{np.mean(r['equal']):>18.0%}")
        out[ex] = (r["found"][0] / r["true"], r["false"][0], near, float(np.mean(r["equal"])))
    print("  (live: the repetitions shown as they happened; live ~ analyze: share of the repetitions found by both "
          "whose live movement onset is within 30 ms of analyze's; result = analyze: share of the live result's "
          "repetitions, each finished block measured whole, equal to analyze's)")
    worst = min(v[0] for v in out.values())
    prone = rows["prone_hip_extension"]
    print(f"live reps: worst exercise {worst:.1%} of repetitions found live, {sum(v[1] for v in out.values())} false; "
          f"prone hip extension {out['prone_hip_extension'][0]:.1%} (analyze {prone['found'][1] / prone['true']:.1%}); "
          f"live result = analyze for {min(v[3] for v in out.values()):.0%} of repetitions in the worst exercise")
    return out


# prone lifts of a pelvis lying still (a third of standing's sway) and lying with standing's sway,
# as built, small, slow and both
LYING_STILL = {"as built": (), "half the excursion": ("lift_range=0.5",), "twice the time": ("lift_pace=2",),
               "both": ("lift_pace=2", "lift_range=0.5")}
LYING_SWAYS = {"a third of standing's sway": "lying_sway=0.3333", "standing's sway": "lying_sway=1"}


def run_lying_still(seeds: range = range(1, 4)) -> dict[str, tuple[float, float]]:
    """Prone sessions, the pelvis lying still between lifts or swaying as standing: the share of true
    repetitions shown live and found by `analyze` (within 0.3 s), and the false ones shown live,
    per variation of the lifts."""
    print(f"Prone hip extension lying ({len(seeds)} sessions per movement shape and row): repetitions within 0.3 s")
    print(f"  {'sway':<28}{'lifts':<22}{'reps':>6}{'shown live':>12}{'false':>7}{'analyze':>10}"
          f"{'result = analyze':>18}")
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for sway, param in LYING_SWAYS.items():
            for name, extra in LYING_STILL.items():
                n, shown, false, found, equal = 0, 0, 0, 0, []
                for profile in ("minjerk", "cosine"):
                    for seed in seeds:
                        truth, live, result, offline = _session("prone_hip_extension", seed, profile, Path(tmp),
                                                                (param, *extra))  # fmt: skip
                        for tb in truth["exercises"]:
                            onsets = [x["movement_onset_s"] for x in tb["reps"]]
                            got, off = _block_onsets(live, tb), _block_onsets(offline, tb)
                            kept = _block_onsets(result, tb)
                            n += len(onsets)
                            shown += sum(abs(_nearest(got, t)) <= MATCH_S for t in onsets)
                            false += sum(abs(_nearest(onsets, f)) > MATCH_S for f in got)
                            found += sum(abs(_nearest(off, t)) <= MATCH_S for t in onsets)
                            same = len(kept) == len(off)
                            equal.append(same and all(abs(a - b) <= 1e-3 for a, b in zip(kept, off, strict=True)))
                out[f"{name}, {sway}"] = (shown / n, found / n)
                print(f"  {sway:<28}{name:<22}{n:>6}{shown / n:>12.0%}{false:>7}{found / n:>10.0%}"
                      f"{np.mean(equal):>18.0%}")
    still = {k: v for k, v in out.items() if k.endswith(next(iter(LYING_SWAYS)))}
    print(f"live reps, lying still: least shown live {min(v[0] for v in still.values()):.0%} "
          f"(analyze {min(v[1] for v in still.values()):.0%}; docs/analysis.md, Known limits)")
    return out


# single-leg stances with the pelvis level (the healthy answer), hiked or dropping: a level or hiked
# hold looks like rest, and its pieces are joined live by `LiveHeld`
STANCE_PELVIS = {"level": "pelvic_drop_deg=0", "hiked 2 deg": "pelvic_drop_deg=-2",
                 "dropping 4 deg": "pelvic_drop_deg=4"}


def run_held(seeds: range = range(4)) -> dict[str, tuple[float, int]]:
    """Single-leg stance sessions with the pelvis level, hiked or dropping: the share of true stances
    shown live (`RepetitionDone`) within 0.1 s of their onset, the false ones shown, and the share
    the finished blocks (measured whole, as `analyze`) have within 0.1 s."""
    print(f"Single-leg stances by pelvis ({len(seeds)} sessions per movement shape and row): stances shown live")
    print(f"  {'pelvis':<18}{'stances':>8}{'shown live':>12}{'false':>7}{'finished block':>16}")
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, param in STANCE_PELVIS.items():
            n, shown, false, final = 0, 0, 0, 0
            for profile in ("minjerk", "cosine"):
                for seed in seeds:
                    truth, live, result, _ = _session("single_leg_stance", seed, profile, Path(tmp), (param,))
                    for tb in truth["exercises"]:
                        onsets = [x["movement_onset_s"] for x in tb["reps"]]
                        got, kept = _block_onsets(live, tb), _block_onsets(result, tb)
                        n += len(onsets)
                        shown += sum(abs(_nearest(got, t)) <= 0.1 for t in onsets)
                        false += sum(abs(_nearest(onsets, f)) > MATCH_S for f in got)
                        final += sum(abs(_nearest(kept, t)) <= 0.1 for t in onsets)
            out[name] = (shown / n, false)
            print(f"  {name:<18}{n:>8}{shown / n:>12.0%}{false:>7}{final / n:>16.0%}")
    print(f"live reps, single-leg stances: least shown live {min(v[0] for v in out.values()):.0%}, "
          f"{sum(v[1] for v in out.values())} false (docs/analysis.md, Known limits)")
    return out


def main() -> dict:
    seeds = range(int(sys.argv[1])) if len(sys.argv) > 1 and sys.argv[1].isdigit() else range(4)
    return run(seeds) | {"lying still": run_lying_still(), "held": run_held()}


if __name__ == "__main__":
    main()
