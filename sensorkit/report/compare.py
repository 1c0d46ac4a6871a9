"""A comparison of sessions as readable text and as flat CSV rows."""

from __future__ import annotations

import csv
import io

VERDICT_ORDER = {"improved": 0, "worse": 1, "no clear change": 2, None: 3}


def format_comparison(comparison: dict) -> str:
    """The verdicts first (improved, worse, no clear change), then the muscles shown for
    reference, then what could not be compared."""
    sessions = ", ".join(s["label"] for s in comparison["sessions"])
    who = f"patient {comparison['pseudonym']}: " if comparison.get("pseudonym") else ""
    lines = [f"{who}{len(comparison['sessions'])} sessions compared ({sessions})", ""]
    entries = sorted(comparison["entries"], key=lambda e: VERDICT_ORDER[e["verdict"]])
    judged = [e for e in entries if e["judged"]]
    shown = [e for e in entries if not e["judged"] and e["difference"] is not None]
    silent = [e for e in entries if not e["judged"] and e["difference"] is None]
    if judged:
        lines.append("glute timing and pelvic drop:")
        lines += [f"  {e['text']}" for e in judged]
    if shown:
        lines += ["", "other muscles (references, not judged):"]
        lines += [f"  {e['text']}" for e in shown]
    quiet = sorted({e["text"].split(":")[0] for e in silent if e.get("quiet")})
    few = sorted({e["text"].split(":")[0] for e in silent if not e.get("quiet")})
    if quiet:
        lines += ["", f"quiet in these exercises (no burst in most repetitions): {'; '.join(quiet)}"]
    if few:
        lines += ["", f"too few clean onsets to compare: {'; '.join(few)}"]
    if len(comparison["sessions"]) > 2:
        lines += ["", "trend (mean per session):"]
        for e in judged:
            means = "  ".join("-" if s["mean"] is None else f"{s['mean']:+.1f}" for s in e["sessions"])
            lines.append(f"  {e['text'].split(' (')[0]:<28} {means}")
    if comparison["unmatched"]:
        lines += ["", "not in every session (compared where two or more have it):"]
        for u in comparison["unmatched"]:
            what = u["muscle"] or "pelvic drop"
            side = f" {u['side']}" if u["side"] else ""
            lines.append(f"  {u['exercise']}{side} {what} {u['metric']}: only in {', '.join(u['sessions'])}")
    return "\n".join(lines)


FIELDS = ("pseudonym", "exercise", "side", "muscle", "metric", "from", "to", "n_from", "mean_from", "sd_from", "n_to",
          "mean_to", "sd_to", "difference", "ci95_low", "ci95_high", "hedges_g", "mdc", "verdict", "text")  # fmt: skip


def comparison_csv(comparison: dict) -> str:
    """One row per exercise, side, muscle and metric: the first and last session compared."""
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=FIELDS)
    w.writeheader()
    for e in comparison["entries"]:
        a, b = e["sessions"][0], e["sessions"][-1]
        ci = e["ci95"] or [None, None]
        w.writerow({"pseudonym": comparison.get("pseudonym") or "", "exercise": e["exercise"], "side": e["side"] or "",
                    "muscle": e["muscle"] or "",
                    "metric": e["metric"], "from": e["from"], "to": e["to"], "n_from": a["n"], "mean_from": a["mean"],
                    "sd_from": a["sd"], "n_to": b["n"], "mean_to": b["mean"], "sd_to": b["sd"],
                    "difference": e["difference"], "ci95_low": ci[0], "ci95_high": ci[1], "hedges_g": e["hedges_g"],
                    "mdc": e["mdc"], "verdict": e["verdict"] or "not judged", "text": e["text"]})  # fmt: skip
    return out.getvalue()
