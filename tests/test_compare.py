"""Before/after comparison: the statistics against hand computations and scipy, the verdict
at its boundaries, and the example sessions."""

import json
from pathlib import Path

import numpy as np
import pytest
from scipy import stats as sps

from sensorkit.analysis.compare import compare_results, observations
from sensorkit.analysis.stats import (
    Change,
    change,
    hedges_g,
    mdc95,
    outlier_z,
    outliers,
    summarise,
    verdict,
    welch_ci,
)
from sensorkit.analysis.timing import summarise_latencies
from sensorkit.cli import main

ROOT = Path(__file__).resolve().parents[1]
A = np.array([92.0, 85.0, 101.0, 88.0, 95.0])
B = np.array([30.0, 22.0, 35.0, 18.0, 27.0, 31.0])


def test_welch_interval_equals_scipys():
    diff, (lo, hi) = welch_ci(A, B)
    ref = sps.ttest_ind(B, A, equal_var=False).confidence_interval(0.95)
    assert diff == pytest.approx(B.mean() - A.mean())
    assert (lo, hi) == pytest.approx((ref.low, ref.high))


def test_hedges_g_and_mdc_by_hand():
    sp = np.sqrt((4 * A.var(ddof=1) + 5 * B.var(ddof=1)) / 9)
    assert hedges_g(A, B) == pytest.approx((B.mean() - A.mean()) / sp * (1 - 3 / (4 * 11 - 9)))
    n_h = 2 / (1 / 5 + 1 / 6)
    assert mdc95(A, B) == pytest.approx(1.959964 * np.sqrt(2) * sp / np.sqrt(n_h))
    assert mdc95(A, B, floor=100.0) == 100.0


def test_verdict_at_its_boundaries():
    assert verdict(Change(-60, (-80, -40), -3.0, 20)) == "improved"
    assert verdict(Change(60, (40, 80), 3.0, 20)) == "worse"
    assert verdict(Change(-60, (-80, 0.0), -3.0, 20)) == "no clear change"  # interval touches zero
    assert verdict(Change(-20, (-30, -10), -3.0, 20)) == "no clear change"  # change equal to the MDC
    assert verdict(Change(-20.5, (-30, -10), -3.0, 20)) == "improved"
    assert verdict(None) == "no clear change"
    assert verdict(Change(2.0, (1.0, 3.0), 1.0, 0.5), lower_is_better=False) == "improved"


def test_outliers_are_set_aside_by_the_modified_z_score():
    x = np.array([90, 88, 95, 92, 85, 91, 89, 94, 87, 93, -30, -25])
    assert outliers(x).tolist() == [False] * 10 + [True, True]
    assert not outliers(np.array([1.0, 50.0, 100.0])).any()  # too few to say
    s = summarise(x)
    assert s.n == 10 and s.outliers == 2 and s.mean == pytest.approx(x[:10].mean())


def test_ordinary_variation_in_a_small_block_is_not_an_outlier_and_a_wrong_onset_is():
    """At Iglewicz & Hoaglin's 3.5 alone, 17-20 % of normal blocks of 4-5 repetitions lost one;
    the small-sample threshold keeps that to about 1 in 20 for every size, and still sets aside
    an onset 150 ms off among repetitions within 20 ms of each other."""
    rng = np.random.default_rng(11)
    for n in (4, 5, 8, 20):
        lost = np.mean([outliers(rng.normal(80, 15, n)).any() for _ in range(4000)])
        assert 0.03 < lost < 0.07, (n, lost)
        assert np.mean([outliers(rng.normal(80, 15, n), z=3.5).any() for _ in range(4000)]) > 0.09  # the old rule
    assert outlier_z(4) > outlier_z(10) > outlier_z(30) >= 3.5
    assert not outliers(np.array([117.0, 106.0, 74.0, 110.0])).any()  # the example recording's left gluteus maximus
    assert outliers(np.array([90.0, 100.0, 110.0, 250.0])).tolist() == [False, False, False, True]
    assert outliers(np.array([90.0, 110.0, 100.0, -50.0])).tolist() == [False, False, False, True]


def test_early_twitches_no_longer_hide_a_delayed_glute():
    # glutes ~90 ms late; five early onsets (postural twitches taken for the onset) 78-126 ms before
    rng = np.random.default_rng(3)
    late = 90 + rng.normal(0, 10, 15)
    early = np.array([12.0, -36.0, -20.0, 5.0, -8.0])
    plain = np.concatenate([late, early])
    naive_lo = plain.mean() - sps.t.ppf(0.975, len(plain) - 1) * plain.std(ddof=1) / np.sqrt(len(plain))
    assert naive_lo < 50  # the plain mean's interval reaches below the margin: "not delayed"
    s = summarise_latencies(list(plain), 50)
    assert s.delayed is True and s.outliers == 5 and s.n == 15


def test_change_needs_two_values_each_side():
    assert change([1.0], [2.0, 3.0]) is None
    assert change([1.0, None, np.nan, 2.0], [5.0, 6.0]).difference == pytest.approx(4.0)


def _results():
    out = []
    for name in ("before", "after"):
        p = ROOT / "recordings" / f"{name}.xdf"
        from sensorkit.analysis.session import analyze_session
        from sensorkit.recording.session_input import session_data
        from sensorkit.recording.xdf_reader import read_xdf

        out.append(analyze_session(session_data(read_xdf(p))))
    return out


@pytest.fixture(scope="module")
def example():
    return _results()


def test_results_say_whose_session_they_are(example):
    before, after = example
    assert before["pseudonym"] == after["pseudonym"] == "P001"
    assert (before["session"], after["session"]) == ("before", "after")
    assert before["recorded"] and before["file"] == "before.xdf"


def test_the_example_improvement_is_found_with_the_right_sign(example):
    truth = [json.loads((ROOT / "recordings" / f"{n}.truth.json").read_text()) for n in ("before", "after")]
    c = compare_results(example, ["before", "after"])
    judged = [e for e in c["entries"] if e["judged"]]
    assert {e["metric"] for e in judged} == {"latency_ms", "pelvic_drop_deg"} and len(judged) == 6
    assert all(e["verdict"] == "improved" for e in judged), [e["text"] for e in judged]
    for e in judged:
        blocks = [[b for b in t["exercises"] if b["exercise"] == e["exercise"] and b["side"] == e["side"]][0]
                  for t in truth]  # fmt: skip
        if e["metric"] == "latency_ms":
            true = [np.mean([r["latency_ms"][e["muscle"]] for r in b["reps"]]) for b in blocks]
        else:
            true = [np.mean([r["pelvic_drop_deg"] for r in b["reps"]]) for b in blocks]
        true_change = true[1] - true[0]
        assert e["ci95"][0] <= true_change <= e["ci95"][1] or abs(e["difference"] - true_change) < e["mdc"]
        assert e["difference"] < 0
    assert "switches on" in judged[0]["text"] and "earlier after (95 % CI" in judged[0]["text"]


def test_every_entry_names_a_different_thing(example):
    """A left-leg block's right glute and a right-leg block's left glute were both written
    'gluteus maximus (left/right, single-leg squat)', the same words as the judged working-side
    muscles: the text listed a muscle as compared and as too few to compare at once."""
    from sensorkit.analysis.compare import describe_key
    from sensorkit.report.compare import format_comparison

    c = compare_results(example, ["before", "after"])
    texts = [describe_key((e["exercise"], e["side"], e["muscle"], e["metric"])) for e in c["entries"]]
    assert len(texts) == len(set(texts))
    assert describe_key(("single_leg_squat", "R", "glute_max_L", "latency_ms")) == \
        "gluteus maximus (left, single-leg squat on the right leg)"  # fmt: skip
    same_side = describe_key(("single_leg_squat", "L", "glute_max_L", "latency_ms"))
    assert same_side == "gluteus maximus (left, single-leg squat)"
    assert describe_key(("glute_bridge", None, "glute_max_L", "latency_ms")) == "gluteus maximus (left, glute bridge)"
    judged = {e["text"].split(" switches")[0].split(" is ")[0] for e in c["entries"] if e["judged"]}
    not_compared = [line.split(": ", 1)[1].split("; ") for line in format_comparison(c).splitlines()
                    if line.startswith(("too few clean onsets to compare: ", "quiet in these exercises"))]  # fmt: skip
    assert judged and not_compared and not judged & set().union(*not_compared)


def test_a_session_compared_with_itself_changes_nothing(example):
    c = compare_results([example[0], example[0]], ["a", "b"])
    assert {e["verdict"] for e in c["entries"] if e["judged"]} == {"no clear change"}
    assert all(e["verdict"] is None for e in c["entries"] if not e["judged"])


def test_mismatched_sessions_are_compared_where_they_overlap(example):
    before, after = example
    only_left = {**after, "exercises": [b for b in after["exercises"] if b["side"] == "L"]}
    c = compare_results([before, only_left], ["before", "after"])
    assert {e["side"] for e in c["entries"]} == {"L"}
    missing = {(u["exercise"], u["side"], u["muscle"], u["metric"]) for u in c["unmatched"]}
    assert ("single_leg_squat", "R", "glute_med_R", "latency_ms") in missing
    assert all(u["sessions"] == ["before"] for u in c["unmatched"])


def test_sessions_of_two_patients_are_refused(example):
    other = {**example[1], "pseudonym": "P099"}
    with pytest.raises(ValueError, match="different patients"):
        compare_results([example[0], other])


def test_three_sessions_give_a_trend(example):
    c = compare_results([example[0], example[0], example[1]], ["week0", "week3", "week6"])
    e = next(e for e in c["entries"] if e["judged"])
    assert [s["session"] for s in e["sessions"]] == ["week0", "week3", "week6"]
    assert e["from"] == "week0" and e["to"] == "week6" and "in week6" in e["text"]


def test_compare_command_on_recordings_and_saved_results(tmp_path, capsys):
    before = tmp_path / "before.json"
    assert main(["analyze", str(ROOT / "recordings" / "before.xdf"), "--json", str(before), "-q"]) == 0
    capsys.readouterr()
    out, csv = tmp_path / "c.json", tmp_path / "c.csv"
    assert main(["compare", str(before), str(ROOT / "recordings" / "after.xdf"), "--json", str(out),
                 "--csv", str(csv), "-q"]) == 0  # fmt: skip
    text = capsys.readouterr().out
    assert "patient P001: 2 sessions compared (before, after)" in text and ": improved" in text
    assert json.loads(out.read_text())["entries"]
    assert csv.read_text().splitlines()[0].startswith("pseudonym,exercise,side,muscle,metric,from,to")


def test_compare_command_errors_are_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert main(["compare", str(bad), str(ROOT / "recordings" / "after.xdf"), "-q"]) == 1
    assert "is not a JSON result" in capsys.readouterr().err
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"pseudonym": "P099", "exercises": []}))
    mine = tmp_path / "mine.json"
    mine.write_text(json.dumps({"pseudonym": "P001", "exercises": []}))
    assert main(["compare", str(mine), str(other)]) == 1
    assert "different patients" in capsys.readouterr().err
    assert main(["compare", str(mine)]) == 1
    assert "at least two sessions" in capsys.readouterr().err


def test_observations_keep_only_clean_values(example):
    obs = observations(example[0])
    assert all(np.isfinite(v) for vals in obs.values() for v in vals)
    assert len(obs[("single_leg_squat", "L", None, "pelvic_drop_deg")]) == 4


@pytest.mark.parametrize("before, after, expected", [
    ({"glute_delay_ms": 110, "pelvic_drop_deg": 8}, {"glute_delay_ms": 10, "pelvic_drop_deg": 2.5}, "improved"),
    ({"glute_delay_ms": 10, "pelvic_drop_deg": 2.5}, {"glute_delay_ms": 110, "pelvic_drop_deg": 8}, "worse"),
    ({"glute_delay_ms": 60, "pelvic_drop_deg": 5}, {"glute_delay_ms": 60, "pelvic_drop_deg": 5}, "no clear change"),
    ({"glute_delay_ms": 80, "pelvic_drop_deg": 9}, {"glute_delay_ms": 80, "pelvic_drop_deg": 3},
     {"drop": "improved", "glute": "no clear change"}),
])  # fmt: skip
def test_verdicts_on_simulated_pairs_with_known_changes(before, after, expected, tmp_path, capsys):
    """Pairs of simulated sessions (different seeds: different patients' noise, same truth
    where nothing changed): every verdict on the working side's glutes and the drop is right."""
    paths = []
    for k, params in enumerate((before, after)):
        p = tmp_path / f"s{k}.xdf"
        argv = ["simulate", "single_leg_squat", "-o", str(p), "--seed", str(11 + k), "--patient", "P005",
                "--session", ("before", "after")[k], "--param", "reps=8"]  # fmt: skip
        for key, value in params.items():
            argv += ["--param", f"{key}={value}"]
        assert main(argv) == 0
        paths.append(str(p))
    out = tmp_path / "c.json"
    assert main(["compare", *paths, "--json", str(out), "-q"]) == 0
    verdicts = {(e["side"], e["muscle"] or "drop"): e["verdict"] for e in json.loads(out.read_text())["entries"]
                if e["judged"]}  # fmt: skip
    assert len(verdicts) == 6  # both sides: two glutes and the drop
    if isinstance(expected, str):
        assert set(verdicts.values()) == {expected}, verdicts
    else:  # only the drop changed
        for (_, what), v in verdicts.items():
            assert v == expected["drop" if what == "drop" else "glute"], verdicts


def test_a_quiet_muscle_is_told_apart_from_a_poor_recording(example):
    import copy

    from sensorkit.report.compare import format_comparison

    before, after = copy.deepcopy(example)
    # the right-leg squat's left glute stays quiet (no_burst) in the example; make its left
    # hamstring's onsets unusable by artefacts instead, in both sessions
    for result in (before, after):
        for block in result["exercises"]:
            if block["exercise"] == "single_leg_squat" and block["side"] == "L":
                for rep in block["reps"]:
                    rep["quality"]["biceps_femoris_L"] = "artefact"
    comparison = compare_results([before, after], ["before", "after"])
    by = {(e["side"], e["muscle"]): e for e in comparison["entries"] if e["exercise"] == "single_leg_squat"}
    assert by[("R", "glute_max_L")]["quiet"] and by[("R", "glute_max_L")]["difference"] is None
    assert not by[("L", "biceps_femoris_L")]["quiet"] and by[("L", "biceps_femoris_L")]["difference"] is None
    assert not by[("L", "glute_max_L")]["quiet"]  # the working glute is compared
    text = format_comparison(comparison)
    quiet_line = next(line for line in text.splitlines() if line.startswith("quiet in these exercises"))
    few_line = next(line for line in text.splitlines() if line.startswith("too few clean onsets"))
    assert "gluteus maximus (left, single-leg squat on the right leg)" in quiet_line
    assert "biceps femoris (left, single-leg squat)" in few_line and "biceps femoris (left" not in quiet_line.replace(
        "biceps femoris (left, single-leg squat on the right leg)", "")


def test_a_blocks_reference_muscle_is_not_compared_with_itself():
    """Prone hip extension's reference is the hamstrings: their latency to themselves is 0 in
    every repetition, and compared it read "switches on 0 ms later after (95 % CI 0 to 0 ms)"."""
    def result(glute_ms: float) -> dict:
        reps = [{"latency_ms": {"glute_max_L": glute_ms + k, "biceps_femoris_L": 0.0, "erector_spinae_L": 30.0 + k},
                 "quality": {"glute_max_L": "ok", "biceps_femoris_L": "ok", "erector_spinae_L": "ok"}}
                for k in range(5)]  # fmt: skip
        return {"pseudonym": "P001", "exercises": [{"exercise": "prone_hip_extension", "side": "L",
                                                    "reference": "biceps_femoris_L", "glutes": ["glute_max_L"],
                                                    "reps": reps}]}  # fmt: skip

    obs = observations(result(120.0))
    assert set(obs) == {("prone_hip_extension", "L", "glute_max_L", "latency_ms"),
                        ("prone_hip_extension", "L", "erector_spinae_L", "latency_ms")}  # fmt: skip
    c = compare_results([result(120.0), result(40.0)], ["before", "after"])
    assert {e["muscle"] for e in c["entries"]} == {"glute_max_L", "erector_spinae_L"}
    assert next(e for e in c["entries"] if e["muscle"] == "glute_max_L")["verdict"] == "improved"
    assert not any("biceps femoris" in e["text"] for e in c["entries"])
