"""Before/after comparison of sessions of one patient (`sensorkit compare`).

Input: `analyze` results (one per session, in time order). Per exercise, side, muscle
and metric (`latency_ms` of each muscle to its block's reference, `pelvic_drop_deg`):
n, mean and SD per session (outliers set aside as in a block's verdict), the change
from the first session to the last with its 95 % Welch interval, Hedges' g and the
minimal detectable change (MDC95), and a verdict in plain words.

A verdict other than `no clear change` needs the interval to exclude zero and the
change to exceed the MDC: the session's own MDC95 = 1.96 x sqrt(2) x SEM from the
rep-to-rep spread, never below a floor for what the measurement resolves:
- pelvic drop: 2.7 deg, the smallest detectable difference reported for contralateral
  pelvic drop measured in running (Dingenen et al. 2018, Phys Ther Sport 33:40-47);
  a single sacral IMU agrees with optical motion capture within about 3 deg in
  published validations (Bolink et al. 2016), so smaller changes are not claimed;
- onset latency: 10 ms, about the uncertainty of one onset on recordings other than our
  simulator's (issue 13 of the project measured 5-15 ms medians), so a smaller change
  of a mean is not claimed whatever the spread.
Improved means the glute fires earlier relative to its reference, or the pelvis drops
less. Only the glutes of each block's working side (both sides in bilateral exercises
and gait) and the drop are judged; other muscles (the other side's, the hamstrings and
erector spinae) are shown, not judged, and a block's reference muscle is left out (its
latency to itself is 0).
"""

from __future__ import annotations

from collections.abc import Iterable

from sensorkit.analysis.exercises import is_glute
from sensorkit.analysis.stats import change, summarise, verdict

DROP_FLOOR_DEG = 2.7
LATENCY_FLOOR_MS = 10.0
METRICS = {"latency_ms": "ms", "pelvic_drop_deg": "deg"}
MUSCLE_NAMES = {
    "glute_max": "gluteus maximus", "glute_med": "gluteus medius", "biceps_femoris": "biceps femoris",
    "semitendinosus": "semitendinosus", "semimembranosus": "semimembranosus", "erector_spinae": "erector spinae",
    "tfl": "tensor fasciae latae", "rectus_femoris": "rectus femoris", "vastus_lateralis": "vastus lateralis",
}  # fmt: skip
SIDES = {"L": "left", "R": "right"}

Key = tuple[str, str | None, str | None, str]  # exercise, side, muscle (None for the drop), metric


def judged_keys(result: dict) -> set[Key]:
    """The keys a verdict is about: each block's glutes of interest (the working side's, or
    both in bilateral exercises and gait) and the pelvic drop."""
    out = set()
    for block in result.get("exercises", []):
        glutes = block.get("glutes") or [m for m in block.get("summary", {}) if is_glute(m)]
        out |= {(block["exercise"], block["side"], m, "latency_ms") for m in glutes}
    return out


def observations(result: dict) -> dict[Key, list[float]]:
    """Every repetition's value per exercise, side, muscle and metric: latencies of onsets
    whose quality is `ok`, drops whose quality is `ok`. A block's reference muscle (the
    hamstrings in prone hip extension) is left out: its latency to itself is 0 by definition,
    and compared it read "switches on 0 ms later after (95 % CI 0 to 0 ms)"."""
    out: dict[Key, list[float]] = {}
    for block in result.get("exercises", []):
        ex, side = block["exercise"], block["side"]
        for rep in block["reps"]:
            for m, lat in rep.get("latency_ms", {}).items():
                if m == block.get("reference"):
                    continue
                key = (ex, side, m, "latency_ms")
                out.setdefault(key, [])
                if lat is not None and rep["quality"].get(m) == "ok":
                    out[key].append(float(lat))
            if "pelvic_drop_deg" in rep:
                key = (ex, side if side is not None else rep.get("side"), None, "pelvic_drop_deg")
                out.setdefault(key, [])
                if rep["pelvic_drop_deg"] is not None and rep.get("pelvic_drop_quality", "ok") == "ok":
                    out[key].append(float(rep["pelvic_drop_deg"]))
    return out


def quiet_keys(result: dict) -> set[Key]:
    """Latency keys whose muscle showed no burst at all (`no_burst`) in most repetitions: a
    muscle that stays quiet in that exercise (the other leg's in a single-leg task), which
    is not a recording too poor to compare."""
    counts: dict[Key, list[int]] = {}
    for block in result.get("exercises", []):
        for rep in block["reps"]:
            for m in rep.get("latency_ms", {}):
                c = counts.setdefault((block["exercise"], block["side"], m, "latency_ms"), [0, 0])
                c[0] += rep["quality"].get(m) == "no_burst"
                c[1] += 1
    return {k for k, (quiet, n) in counts.items() if quiet > n / 2}


def describe_key(key: Key) -> str:
    """'gluteus medius (left, single-leg squat)', 'gluteus medius (left, single-leg squat on the
    right leg)' (a muscle of the other side than the working leg) or 'pelvic drop (left stance,
    single-leg squat)'."""
    ex, side, muscle, metric = key
    exercise = ex.replace("_", " ").replace("single leg", "single-leg")
    if metric == "pelvic_drop_deg":
        where = f"{SIDES.get(side, side)} stance, " if side else ""
        return f"pelvic drop ({where}{exercise})"
    base, _, mside = muscle.rpartition("_")
    name = MUSCLE_NAMES.get(base, base.replace("_", " "))
    # a block's muscles of both sides share its exercise: without the working leg, the left
    # muscle in the right-leg block reads as the one in the left-leg block
    leg = f" on the {SIDES.get(side, side)} leg" if side and side != mside else ""
    return f"{name} ({SIDES.get(mside, mside)}, {exercise}{leg})"


def _text(key: Key, c, v: str | None, after: str) -> str:
    metric = key[3]
    what = describe_key(key)
    if c is None:
        return f"{what}: too few repetitions in one of the sessions to compare"
    unit = METRICS[metric]
    d, (lo, hi) = c.difference, c.ci95
    if metric == "latency_ms":
        direction = "earlier" if d < 0 else "later"
        phrase = f"switches on {abs(d):.0f} ms {direction} {after}"
    else:
        direction = "smaller" if d < 0 else "larger"
        phrase = f"is {abs(d):.1f} deg {direction} {after}"
    a, b = (-hi, -lo) if d < 0 else (lo, hi)  # the interval of the change in the direction named
    nd = 0 if unit == "ms" else 1
    judged = f": {v}" if v is not None else " (shown for reference, not judged)"
    return f"{what} {phrase} (95 % CI {a:.{nd}f} to {b:.{nd}f} {unit}){judged}"


def compare_results(results: list[dict], labels: Iterable[str] | None = None) -> dict:
    """The comparison of sessions (results in time order): entries, what did not match, and
    the sessions' identities. Raises ValueError for sessions of different patients."""
    labels = list(labels) if labels is not None else [r.get("session") or r.get("file", f"session {i + 1}")
                                                      for i, r in enumerate(results)]  # fmt: skip
    if len(results) < 2:
        raise ValueError("compare needs at least two sessions")
    names = {r.get("pseudonym") for r in results} - {None}
    if len(names) > 1:
        raise ValueError(f"the sessions belong to different patients ({', '.join(sorted(names))}); "
                         "compare sessions of one patient")  # fmt: skip
    obs = [observations(r) for r in results]
    quiet = set().union(*(quiet_keys(r) for r in results))
    of_interest = set().union(*(judged_keys(r) for r in results))
    keys = sorted(set().union(*obs), key=lambda k: (k[0], k[1] or "", k[3], k[2] or ""))
    entries, unmatched = [], []
    for key in keys:
        present = [i for i, o in enumerate(obs) if key in o]
        if len(present) < len(results):
            unmatched.append({"exercise": key[0], "side": key[1], "muscle": key[2], "metric": key[3],
                              "sessions": [labels[i] for i in present]})  # fmt: skip
        if present != list(range(len(results))) and len(present) < 2:
            continue
        first, last = present[0], present[-1]
        sessions = []
        for i in present:
            s = summarise(obs[i][key])
            sessions.append({"session": labels[i], "n": s.n, "mean": _r(s.mean), "sd": _r(s.sd),
                             "outliers": s.outliers})  # fmt: skip
        floor = DROP_FLOOR_DEG if key[3] == "pelvic_drop_deg" else LATENCY_FLOOR_MS
        c = change(obs[first][key], obs[last][key], floor)
        judged = key[3] == "pelvic_drop_deg" or key in of_interest
        v = verdict(c) if judged else None
        entries.append({
            "exercise": key[0], "side": key[1], "muscle": key[2], "metric": key[3],
            "sessions": sessions, "from": labels[first], "to": labels[last],
            "difference": None if c is None else _r(c.difference),
            "ci95": None if c is None else [_r(c.ci95[0]), _r(c.ci95[1])],
            "hedges_g": None if c is None or c.hedges_g is None else _r(c.hedges_g),
            "mdc": None if c is None else _r(c.mdc),
            "verdict": v, "judged": judged,
            "quiet": c is None and key in quiet,  # too few to compare because the muscle stayed quiet
            "text": _text(key, c, v, f"in {labels[last]}" if len(results) > 2 else "after"),
        })  # fmt: skip
    return {
        "software": results[0].get("software"),
        "pseudonym": next(iter(names), None),
        "sessions": [{"label": labels[i], "file": r.get("file"), "session": r.get("session"),
                      "recorded": r.get("recorded")} for i, r in enumerate(results)],  # fmt: skip
        "floors": {"pelvic_drop_deg": DROP_FLOOR_DEG, "latency_ms": LATENCY_FLOOR_MS},
        "entries": entries,
        "unmatched": unmatched,
    }


def _r(x: float | None, nd: int = 2):
    return None if x is None else round(float(x), nd)
