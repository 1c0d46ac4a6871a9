"""Analysis results as a readable text table and as flat CSV rows."""

from __future__ import annotations

import csv
import io

import numpy as np


def _cell(lat, sd, quality) -> str:
    if lat is None:
        return quality
    text = f"{lat:+.0f}"
    if sd is not None:
        text += f" ±{sd:.0f}"
    return text if quality == "ok" else f"{text} {quality}"


def _drop_cell(rep: dict) -> str:
    d, q = rep.get("pelvic_drop_deg"), rep.get("pelvic_drop_quality", "ok")
    text = "-" if d is None else f"{d:+.1f}{' FLAG' if rep.get('pelvic_drop_flag') else ''}"
    return text if q == "ok" else f"{text} {q}"


EVENT_WORDS = {"lift_off": "lift-off", "flat": "flat line", "pop": "pop", "saturation": "saturation",
               "gap": "drop-out", "motion_artefact": "motion artefact"}  # fmt: skip


def channel_findings(ch: dict, t0: float = 0.0, most: int = 3) -> str:
    """A channel's signal-quality events in a few words: each fault's first times (s from
    `t0`) and duration; motion artefacts only counted (they come with movement)."""
    parts = []
    for kind, word in EVENT_WORDS.items():
        evs = [e for e in ch.get("events", []) if e["kind"] == kind]
        if not evs:
            continue
        if kind == "motion_artefact":
            parts.append(f"{len(evs)} {word}{'s' if len(evs) > 1 else ''}")
            continue
        at = ", ".join(f"{e['start_s'] - t0:.1f}" for e in evs[:most]) + (", ..." if len(evs) > most else "")
        total = sum(e["end_s"] - e["start_s"] for e in evs)
        lasting = "" if kind == "pop" else f" ({total:.1f} s{' in all' if len(evs) > 1 else ''})"
        many = f"{len(evs)} {word}s" if len(evs) > 1 else word
        parts.append(f"{many} at {at} s{lasting}")
    return "; ".join(parts) if parts else "no fault"


def quality_lines(result: dict) -> list[str]:
    """The table's signal-quality lines: the mains line, then per channel its noise, hum,
    ECG and faults."""
    sq = result.get("signal_quality")
    if not sq:
        return []
    t0 = result.get("recording_start_s") or 0.0
    mains = f"mains {sq['mains_hz']:g} Hz" if sq.get("mains_hz") else "no mains hum found"
    lo, hi = sq.get("band_hz") or (20, 450)
    lines = [f"signal quality ({mains}; noise in {lo:g}-{hi:g} Hz, uV RMS):"]
    width = max(len(m) for m in sq["channels"]) if sq["channels"] else 0
    for m, ch in sq["channels"].items():
        noise = "-" if ch["noise_uv_rms"] is None else f"{ch['noise_uv_rms']:.1f}"
        hum = "-" if ch["mains_uv_rms"] is None else f"{ch['mains_uv_rms']:.1f}"
        ecg = ("ECG" if ch.get("ecg_uv") is None else f"ECG {ch['ecg_uv']:.0f} uV") if ch.get("ecg") else "no ECG"
        lines.append(f"  {m:<{width}}  noise {noise:>5}  hum {hum:>5}  {ecg:<12}  {channel_findings(ch, t0)}")
    return lines + [""]


def format_result(result: dict) -> str:
    """Per block: one row per repetition, one column per muscle (latency ± onset SD, ms) and
    the pelvic drop (deg) on single-leg tasks, then each glute's mean latency with its 95%
    interval and the verdict, and the mean drop."""
    lines = []
    who = ", ".join(f"{k} {result[k]}" for k in ("pseudonym", "session") if result.get(k))
    if who:
        when = f", recorded {result['recorded']}" if result.get("recorded") else ""
        lines += [f"{result.get('file', '')}: {who}{when}", ""]
    for gap in result.get("not_analysed", []):
        lines.append(f"not analysed: {gap['what']} ({gap['why']})")
    if result.get("not_analysed"):
        lines.append("")
    pelvis = result.get("pelvis")
    if pelvis and pelvis.get("calibration") is None:
        lines += [f"pelvic drop not reported: {pelvis.get('reason', 'no calibration')}", ""]
    elif pelvis:
        note = "; the sensor was upside down (corrected)" if pelvis.get("upside_down") else ""
        source = ("a walk (no quiet standing)" if pelvis["calibration"] == "walk"
                  else f"{pelvis['calibration']} standing and forward bends")
        lines += [f"pelvis sensor calibrated from {source}, mounted {pelvis['mounting_deg']:.0f} deg from "
                  f"upright{note}"]
        lines += [f"note: {pelvis['note']}"] if pelvis.get("note") else []
        lines.append("")
    lines += quality_lines(result)
    t0 = result.get("recording_start_s") or 0.0
    for block in result["exercises"]:
        side = f" {block['side']}" if block["side"] else ""
        ref = {"movement": "movement onset", "initial_contact": "initial contact"}.get(
            block["reference"], f"{block['reference']} onset")
        if block.get("movement_from"):
            ref += f" (movement from {block['movement_from']})"
        if block.get("not_analysed"):
            lines += [f"{block['exercise']}{side}: not analysed: {block['not_analysed']}", ""]
            continue
        what = f"latency (ms) to {ref}" if block["summary"] else "no EMG"
        lines.append(f"{block['exercise']}{side}: {len(block['reps'])} reps, {what}")
        if block.get("blocks_from"):
            lines.append(f"  found without markers: {block['blocks_from']}")
        muscles = list(block["summary"])
        rows = [[_cell(rep["latency_ms"][m], rep["onset_sd_ms"][m], rep["quality"][m]) for m in muscles]
                for rep in block["reps"]]  # fmt: skip
        columns = list(muscles)
        if any(r.get("pelvic_drop_deg") is not None for r in block["reps"]):
            columns.append("pelvic_drop_deg")
            for row, rep in zip(rows, block["reps"], strict=True):
                row.append(_drop_cell(rep))
        widths = [max(len(c), *(len(r[k]) for r in rows)) + 2 if rows else len(c) + 2
                  for k, c in enumerate(columns)]  # fmt: skip
        steps = any(rep.get("side") for rep in block["reps"])  # gait: each step's stance leg
        lines.append("  rep  at (s)    " + ("side" if steps else "")
                     + "".join(f"{c:>{w}}" for c, w in zip(columns, widths, strict=True)))  # fmt: skip
        for rep, cells in zip(block["reps"], rows, strict=True):
            t = rep["movement_onset_s"] if rep["movement_onset_s"] is not None else rep.get("reference_s")
            mv = "-" if t is None else f"{t - t0:.2f}"  # seconds from the recording's start, as `info` shows
            side = f"{rep.get('side') or '-':>4}" if steps else ""
            lines.append(f"  {rep['index']:>3}  {mv:>10}{side}"
                         + "".join(f"{c:>{w}}" for c, w in zip(cells, widths, strict=True)))
        margin = result["parameters"]["timing"]["delay_margin_ms"]
        lines += block_summary(block, margin, result.get("pelvis", {}).get("drop_threshold_deg", 5.0))
        lines.append("")
    return "\n".join(lines).rstrip()


def block_summary(block: dict, margin_ms: float, threshold_deg: float) -> list[str]:
    """A block's verdict lines: each glute's mean latency, 95% interval and verdict; the mean drop."""
    lines = []
    for m in block["glutes"]:
        s = block["summary"][m]
        if s["n"] == 0:
            lines.append(f"  {m}: no clean onset")
            continue
        ci = "" if s["ci95_ms"] is None else f" (95% CI {s['ci95_ms'][0]:+.0f} to {s['ci95_ms'][1]:+.0f})"
        verdict = {True: f"DELAYED (> {margin_ms:.0f} ms)", False: "not delayed",
                   None: "too few reps for a verdict"}[s["delayed"]]  # fmt: skip
        aside = f" ({s['outliers']} outlier{'s' if s['outliers'] > 1 else ''} set aside)" if s.get("outliers") else ""
        lines.append(f"  {m}: mean {s['mean_latency_ms']:+.0f} ms{ci} over {s['n']} reps{aside}: {verdict}")
    ok_drops = [r["pelvic_drop_deg"] for r in block["reps"]
                if r.get("pelvic_drop_deg") is not None and r.get("pelvic_drop_quality") == "ok"]  # fmt: skip
    if ok_drops:
        flagged = sum(bool(r.get("pelvic_drop_flag")) for r in block["reps"])
        lines.append(f"  pelvic drop: mean {sum(ok_drops) / len(ok_drops):+.1f} deg over {len(ok_drops)} "
                     f"reps, {flagged} above {threshold_deg:g} deg")
    return lines


def rep_line(rep: dict, glutes: list[str]) -> str:
    """One repetition in a line: each glute's latency with its uncertainty and quality, the drop."""
    cells = [f"{m} {_cell(rep['latency_ms'][m], rep['onset_sd_ms'][m], rep['quality'][m])}"
             + (" DELAYED" if rep["delayed"].get(m) else "") for m in glutes]  # fmt: skip
    d = rep.get("pelvic_drop_deg")
    if d is not None:
        q = rep.get("pelvic_drop_quality", "ok")
        flag = " FLAG" if rep.get("pelvic_drop_flag") else ""
        cells.append(f"drop {d:+.1f} deg{flag}" + ("" if q == "ok" else f" {q}"))
    elif rep.get("pelvic_drop_quality"):
        cells.append(f"drop {rep['pelvic_drop_quality']}")
    what = f"step {rep['index']:>2} {rep['side']}" if rep.get("side") in ("L", "R") else f"rep {rep['index']:>2}"
    return f"  {what}: " + ("; ".join(cells) if cells else "no glute channel")


CSV_FIELDS = ("pseudonym", "session", "exercise", "side", "reference", "rep", "start_s", "end_s",
              "movement_onset_s", "muscle", "onset_s", "latency_ms", "onset_sd_ms", "delayed", "quality",
              "pelvic_drop_deg", "pelvic_drop_flag", "pelvic_drop_sd_deg")  # fmt: skip


def result_rows(result: dict) -> list[dict]:
    """One row per repetition and muscle (per repetition, muscle empty, without EMG). `side`
    is the block's stance or working leg, or in gait each step's stance leg."""
    rows = []
    for block in result["exercises"]:
        for rep in block["reps"]:
            for m in list(rep["onsets_s"]) or [None]:
                get = (lambda d, m=m: None if m is None else d[m])  # noqa: E731
                rows.append({
                    "pseudonym": result.get("pseudonym") or "", "session": result.get("session") or "",
                    "exercise": block["exercise"], "side": block["side"] or rep.get("side") or "",
                    "reference": block["reference"], "rep": rep["index"], "start_s": rep["start_s"],
                    "end_s": rep["end_s"], "movement_onset_s": rep["movement_onset_s"], "muscle": m or "",
                    "onset_s": get(rep["onsets_s"]), "latency_ms": get(rep["latency_ms"]),
                    "onset_sd_ms": get(rep["onset_sd_ms"]), "delayed": get(rep["delayed"]),
                    "quality": get(rep["quality"]), "pelvic_drop_deg": rep.get("pelvic_drop_deg"),
                    "pelvic_drop_flag": rep.get("pelvic_drop_flag"),
                    "pelvic_drop_sd_deg": rep.get("pelvic_drop_sd_deg"),
                })  # fmt: skip
    return rows


def result_csv(result: dict) -> str:
    """`result_rows` as CSV text."""
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=CSV_FIELDS)
    w.writeheader()
    w.writerows(result_rows(result))
    return out.getvalue()


def contacts_summary(times: list[float], sides: list[str], duration_s: float) -> str:
    """Initial contacts found in a walk: count, sides, cadence and step times (s)."""
    if not times:
        return f"no walking found in {duration_s:.0f} s (at least 4 steps in a row are needed)"
    t = np.asarray(times)
    steps = np.diff(t)
    walking = steps[steps <= 1.3]  # within a walking bout
    lines = [f"{len(t)} initial contacts in {duration_s:.0f} s: "
             f"{sides.count('L')} left, {sides.count('R')} right"]  # fmt: skip
    if walking.size:
        lines.append(f"cadence {60 / np.median(walking):.0f} steps/min")
        for side in "LR":  # a step is named after the contact that ends it
            own = [s for s, side_end in zip(steps, sides[1:], strict=True)
                   if side_end == side and s <= 1.3]  # fmt: skip
            if own:
                lines.append(f"step time ending on {side}: mean {np.mean(own):.3f} s (sd {np.std(own):.3f})")
    return "\n".join(lines)
