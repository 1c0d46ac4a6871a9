"""One `analyze` result as rows of a study table: one per session x exercise x side x
muscle and metric (`latency_ms` of each muscle to its block's reference,
`pelvic_drop_deg` with an empty muscle), with n, mean, SD and 95 % interval over the
repetitions (outliers set aside, as in a block's verdict; the values `compare` uses).
"""

from __future__ import annotations

import pandas as pd

from sensorkit.analysis.compare import METRICS, judged_keys, observations
from sensorkit.analysis.stats import summarise

COLUMNS = ("file", "pseudonym", "session", "recorded", "exercise", "side", "muscle", "metric", "unit", "n",
           "mean", "sd", "ci95_low", "ci95_high", "judged")  # fmt: skip


def study_rows(result: dict, file: str) -> list[dict]:
    """The study rows of one session's result; `file` names the recording in the study."""
    judged = judged_keys(result)
    rows = []
    for key, values in observations(result).items():
        exercise, side, muscle, metric = key
        s = summarise(values)
        rows.append({
            "file": file, "pseudonym": result.get("pseudonym") or "", "session": result.get("session") or "",
            "recorded": result.get("recorded") or "", "exercise": exercise, "side": side or "",
            "muscle": muscle or "", "metric": metric, "unit": METRICS[metric], "n": s.n,
            "mean": s.mean, "sd": s.sd, "ci95_low": s.ci95[0] if s.ci95 else None,
            "ci95_high": s.ci95[1] if s.ci95 else None,
            "judged": key in judged or metric == "pelvic_drop_deg",
        })  # fmt: skip
    return rows


def study_table(rows: list[dict]) -> pd.DataFrame:
    """Rows as a table in a stable order (file, exercise, side, muscle, metric), so that
    any order of completion gives the same table."""
    df = pd.DataFrame(rows, columns=list(COLUMNS))
    df = df.astype({"n": "int64", "judged": "bool"})
    for c in ("mean", "sd", "ci95_low", "ci95_high"):
        df[c] = df[c].astype("float64")
    return df.sort_values(["file", "exercise", "side", "muscle", "metric"], kind="stable").reset_index(drop=True)
