"""The clinic report: one self-contained HTML file (`compare --report`, `analyze --report`).

Figures are drawn with matplotlib's SVG backend and embedded inline, so the file
needs nothing else: it opens offline, can be mailed, and prints to a clean PDF
(`--pdf` prints it with headless Chromium). No script, no external resource.

Contents: whose sessions; the verdicts in plain words; per block, each glute's
latency per repetition before and after (every repetition a dot); the order in which
the muscles switched on in each repetition; the pelvic drop through each repetition,
sessions overlaid, peak marked; the trend over sessions when there are more than two;
signal-quality notes; the method with honest accuracy statements.
"""

from __future__ import annotations

import datetime as _dt
import html
import io
import re

import numpy as np
from matplotlib.figure import Figure

from sensorkit.analysis.compare import describe_key
from sensorkit.analysis.stats import outliers
from sensorkit.dsp.onset import ONSET_BAND_HZ
from sensorkit.report.table import channel_findings

COLORS = ("#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860")
VERDICT_CLASS = {"improved": "good", "worse": "bad", "no clear change": "neutral"}
CSS = """
body{font-family:DejaVu Sans,Helvetica,Arial,sans-serif;margin:2em auto;max-width:60em;color:#222;line-height:1.4}
h1{font-size:1.5em;margin-bottom:.2em}h2{font-size:1.2em;border-bottom:1px solid #ccc;margin-top:1.6em}
h3{font-size:1.05em;margin-bottom:.3em}table{border-collapse:collapse;margin:.5em 0}
td,th{padding:.25em .6em;border-bottom:1px solid #e4e4e4;text-align:left;vertical-align:top}
.good{color:#1b7a2f;font-weight:bold}.bad{color:#b3261e;font-weight:bold}.neutral{color:#555}
.figure{margin:.6em 0;page-break-inside:avoid}.figure svg{max-width:100%;height:auto}
.note{color:#555;font-size:.92em}.small{font-size:.9em}
@media print{body{margin:0;max-width:none}h2{page-break-after:avoid}}
"""


def _svg(fig: Figure) -> str:
    """The figure as inline SVG (no XML prolog, no fixed size: it scales with the page)."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    svg = buf.getvalue()
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r'(<svg[^>]*?) width="[^"]*" height="[^"]*"', r"\1", svg, count=1)
    return f'<div class="figure">{svg}</div>'


def _labels(results: list[dict]) -> list[str]:
    return [r.get("session") or r.get("file") or f"session {i + 1}" for i, r in enumerate(results)]


def _blocks(results: list[dict]) -> list[tuple[str, str | None]]:
    seen: list[tuple[str, str | None]] = []
    for r in results:
        for b in r["exercises"]:
            if (b["exercise"], b["side"]) not in seen:
                seen.append((b["exercise"], b["side"]))
    return seen


def _block(result: dict, exercise: str, side: str | None) -> dict | None:
    return next((b for b in result["exercises"] if b["exercise"] == exercise and b["side"] == side), None)


def _title(exercise: str, side: str | None) -> str:
    where = {"L": "left", "R": "right"}.get(side or "", "")
    return exercise.replace("_", " ").replace("single leg", "single-leg").capitalize() + (f", {where}" if where else "")


def latency_figure(results: list[dict], exercise: str, side: str | None, margin_ms: float) -> str | None:
    """Each glute's latency per repetition, one column of dots per session; hollow dots are
    repetitions set aside (flagged onsets or outliers); the bar is the mean of the rest."""
    labels = _labels(results)
    blocks = [_block(r, exercise, side) for r in results]
    glutes = sorted({g for b in blocks if b for g in b.get("glutes", [])})
    if not glutes:
        return None
    fig = Figure(figsize=(2.2 + 2.3 * len(glutes), 3.0))
    axes = fig.subplots(1, len(glutes), squeeze=False)[0]
    rng = np.random.default_rng(0)
    for ax, m in zip(axes, glutes, strict=True):
        for k, b in enumerate(blocks):
            if b is None:
                continue
            lat = np.array([np.nan if r["latency_ms"].get(m) is None else r["latency_ms"][m] for r in b["reps"]])
            ok = np.array([r["quality"].get(m) == "ok" for r in b["reps"]]) & np.isfinite(lat)
            keep = ok.copy()
            keep[ok] &= ~outliers(lat[ok])
            x = k + rng.uniform(-0.12, 0.12, len(lat))
            color = COLORS[k % len(COLORS)]
            ax.scatter(x[keep], lat[keep], s=22, color=color, zorder=3)
            ax.scatter(x[~keep & np.isfinite(lat)], lat[~keep & np.isfinite(lat)], s=22, facecolors="none",
                       edgecolors=color, zorder=3)  # fmt: skip
            if keep.any():
                ax.hlines(lat[keep].mean(), k - 0.3, k + 0.3, color="k", lw=1.5, zorder=4)
        ax.axhline(margin_ms, color="#b3261e", lw=0.8, ls="--")
        ax.axhline(0, color="#999", lw=0.6)
        ax.set_xticks(range(len(labels)), labels, fontsize=8)
        ax.set_xlim(-0.6, len(labels) - 0.4)
        ax.set_title(describe_key((exercise, side, m, "latency_ms")).split(" (")[0], fontsize=9)
        ax.set_ylabel("latency to reference (ms)", fontsize=8)
        ax.tick_params(labelsize=8)
    return _svg(fig)


def order_figure(results: list[dict], exercise: str, side: str | None) -> str | None:
    """Which muscle switched on first in each repetition, relative to its reference (0)."""
    labels = _labels(results)
    blocks = [(lab, _block(r, exercise, side)) for lab, r in zip(labels, results, strict=True)]
    blocks = [(lab, b) for lab, b in blocks if b is not None and b["reps"]]
    if not blocks:
        return None
    muscles = sorted({m for _, b in blocks for r in b["reps"] for m, v in r["latency_ms"].items()
                      if v is not None and r["quality"].get(m) == "ok"})  # fmt: skip
    if not muscles:
        return None
    height = 1.0 + 0.22 * max(len(b["reps"]) for _, b in blocks)
    fig = Figure(figsize=(3.0 * len(blocks) + 1.6, height + 0.6))
    axes = fig.subplots(1, len(blocks), squeeze=False, sharex=True)[0]
    for ax, (lab, b) in zip(axes, blocks, strict=True):
        for j, m in enumerate(muscles):
            ys, xs = [], []
            for r in b["reps"]:
                v = r["latency_ms"].get(m)
                if v is not None and r["quality"].get(m) == "ok":
                    ys.append(r["index"])
                    xs.append(v)
            ax.scatter(xs, ys, s=16, color=COLORS[j % len(COLORS)], marker="os^vD<>"[j % 7], label=m, zorder=3)
        ax.axvline(0, color="#333", lw=0.8)
        ax.set_title(lab, fontsize=9)
        ax.set_ylabel("repetition", fontsize=8)
        ax.set_xlabel(f"onset relative to {_reference(b)} (ms)", fontsize=8)
        ax.set_yticks(sorted({r["index"] for r in b["reps"]}))
        ax.invert_yaxis()
        ax.tick_params(labelsize=8)
    axes[-1].legend(fontsize=7, loc="center left", bbox_to_anchor=(1.02, 0.5), frameon=False)
    return _svg(fig)


def _reference(block: dict) -> str:
    ref = block["reference"]
    return {"movement": "movement onset", "initial_contact": "foot contact"}.get(ref, ref)


def drop_figure(results: list[dict], exercise: str, side: str | None, threshold_deg: float) -> str | None:
    """The pelvic drop through every repetition, sessions overlaid, each peak marked."""
    labels = _labels(results)
    fig = Figure(figsize=(6.0, 2.8))
    ax = fig.subplots()
    drawn = False
    for k, (lab, r) in enumerate(zip(labels, results, strict=True)):
        b = _block(r, exercise, side)
        if b is None:
            continue
        color = COLORS[k % len(COLORS)]
        for i, rep in enumerate(b["reps"]):
            curve = rep.get("pelvic_drop_curve")
            if not curve or not curve["deg"]:
                continue
            y = np.asarray(curve["deg"])
            t = np.arange(len(y)) / curve["rate_hz"]
            ax.plot(t, y, color=color, lw=1.0, alpha=0.8, label=lab if i == 0 else None)
            p = int(np.argmax(np.abs(y)))
            ax.plot(t[p], y[p], "o", color=color, ms=4)
            drawn = True
    if not drawn:
        return None
    ax.axhline(threshold_deg, color="#b3261e", lw=0.8, ls="--")
    ax.axhline(0, color="#999", lw=0.6)
    ax.set_xlabel("time from movement onset (s)", fontsize=8)
    ax.set_ylabel("drop of the free side (deg)", fontsize=8)
    ax.tick_params(labelsize=8)
    ax.legend(fontsize=8, frameon=False)
    return _svg(fig)


def trend_figure(comparison: dict) -> str | None:
    """Mean per session of every judged measure (more than two sessions)."""
    entries = [e for e in comparison["entries"] if e["judged"] and len(e["sessions"]) > 2]
    if not entries:
        return None
    fig = Figure(figsize=(6.0, 1.2 + 0.25 * len(entries)))
    axl, axd = fig.subplots(1, 2)
    for k, e in enumerate(entries):
        ax = axd if e["metric"] == "pelvic_drop_deg" else axl
        means = [np.nan if s["mean"] is None else s["mean"] for s in e["sessions"]]
        ax.plot(range(len(means)), means, "o-", color=COLORS[k % len(COLORS)], lw=1,
                label=describe_key((e["exercise"], e["side"], e["muscle"], e["metric"])))  # fmt: skip
    for ax, unit in ((axl, "latency (ms)"), (axd, "pelvic drop (deg)")):
        names = [s["session"] for s in entries[0]["sessions"]]
        ax.set_xticks(range(len(names)), names, fontsize=8)
        ax.set_ylabel(unit, fontsize=8)
        ax.tick_params(labelsize=8)
        ax.legend(fontsize=6, frameon=False)
    return _svg(fig)


def _quality_notes(results: list[dict]) -> list[str]:
    notes = []
    for lab, r in zip(_labels(results), results, strict=True):
        counts: dict[str, dict[str, int]] = {}
        for b in r["exercises"]:
            for rep in b["reps"]:
                for m, q in rep["quality"].items():
                    if q not in ("ok", "no_burst"):
                        counts.setdefault(m, {}).setdefault(q, 0)
                        counts[m][q] += 1
        for m, qs in sorted(counts.items()):
            what = ", ".join(f"{n} {q.replace('_', ' ')}" for q, n in sorted(qs.items()))
            notes.append(f"{lab}: {m}: {what} (shown, not averaged)")
        notes += [f"{lab}: {w}" for w in r.get("warnings", [])]
        notes += [f"{lab}: not analysed: {g['what']} ({g['why']})" for g in r.get("not_analysed", [])]
        notes += [f"{lab}: {_title(b['exercise'], b['side'])} not analysed: {b['not_analysed']}"
                  for b in r["exercises"] if b.get("not_analysed")]  # fmt: skip
        pelvis = r.get("pelvis")
        if pelvis and pelvis.get("calibration") is None:
            notes.append(f"{lab}: no pelvic drop: {pelvis.get('reason', 'the pelvis sensor was not calibrated')}")
        sq = r.get("signal_quality")
        if sq:  # the recording's own faults, per channel, whatever repetitions they touched
            t0 = r.get("recording_start_s") or 0.0
            for m, ch in sq["channels"].items():
                faults = [ev for ev in ch["events"] if ev["kind"] != "motion_artefact"]
                if faults:
                    notes.append(f"{lab}: {m}: {channel_findings({'events': faults}, t0)} (s from the start)")
    return notes


def _quality_tables(results: list[dict], labels: list[str]) -> list[str]:
    """Per session, each EMG channel's noise, mains hum and ECG (what the electrodes picked up)."""
    e = html.escape
    out = []
    for lab, r in zip(labels, results, strict=True):
        sq = r.get("signal_quality")
        if not sq:
            continue
        mains = f"mains {sq['mains_hz']:g} Hz" if sq.get("mains_hz") else "no mains hum found"
        lo, hi = sq.get("band_hz") or (20, 450)
        out.append(f"<p class='small'>{e(lab)}: {e(mains)}</p><table class='small'><tr><th>channel</th>"
                   f"<th>noise (uV RMS, {lo:g}-{hi:g} Hz)</th><th>mains hum (uV RMS)</th>"
                   "<th>ECG R wave</th></tr>")  # fmt: skip
        for m, ch in sq["channels"].items():
            noise = "-" if ch["noise_uv_rms"] is None else f"{ch['noise_uv_rms']:.1f}"
            hum = "-" if ch["mains_uv_rms"] is None else f"{ch['mains_uv_rms']:.1f}"
            ecg = ("yes" if ch.get("ecg_uv") is None else f"{ch['ecg_uv']:.0f} uV") if ch.get("ecg") else "none"
            out.append(f"<tr><td>{e(m)}</td><td>{noise}</td><td>{hum}</td><td>{ecg}</td></tr>")
        out.append("</table>")
    return out


def report_html(results: list[dict], comparison: dict | None = None) -> str:
    """The report of one session (`comparison` None) or of a comparison of sessions."""
    labels = _labels(results)
    first = results[0]
    margin = first.get("parameters", {}).get("timing", {}).get("delay_margin_ms", 50.0)
    threshold = (first.get("pelvis") or {}).get("drop_threshold_deg", 5.0)
    who = next((r.get("pseudonym") for r in results if r.get("pseudonym")), None)
    title = "Glute timing and pelvic drop" + (f": patient {who}" if who else "")
    e = html.escape
    out = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{e(title)}</title>"
           f"<style>{CSS}</style></head><body>", f"<h1>{e(title)}</h1>"]  # fmt: skip
    software = (first.get("software") or {}).get("version", "")
    made = _dt.date.today().isoformat()
    out.append(f"<p class='note'>sensorkit {e(software)}, report made {made}</p>")
    out.append("<h2>Sessions</h2><table><tr><th>session</th><th>recorded</th><th>file</th><th>exercises</th></tr>")
    for lab, r in zip(labels, results, strict=True):
        exercises = ", ".join(f"{_title(b['exercise'], b['side'])} ({len(b['reps'])} reps)" for b in r["exercises"])
        out.append(f"<tr><td>{e(lab)}</td><td>{e(str(r.get('recorded') or '-'))}</td>"
                   f"<td>{e(str(r.get('file') or '-'))}</td><td>{e(exercises)}</td></tr>")  # fmt: skip
    out.append("</table>")
    out.append("<h2>Summary</h2>")
    if comparison is not None:
        judged = [x for x in comparison["entries"] if x["judged"]]
        out.append("<table>")
        for x in sorted(judged, key=lambda x: ({"improved": 0, "worse": 1}.get(x["verdict"], 2), x["text"])):
            cls = VERDICT_CLASS.get(x["verdict"], "neutral")
            out.append(f"<tr><td class='{cls}'>{e(x['verdict'] or '')}</td><td>{e(x['text'])}</td></tr>")
        out.append("</table>")
        if comparison["unmatched"]:
            items = "".join(f"<li>{e(u['exercise'])} {e(u['side'] or '')} {e(u['muscle'] or 'pelvic drop')}: only in "
                            f"{e(', '.join(u['sessions']))}</li>" for u in comparison["unmatched"])  # fmt: skip
            out.append(f"<p class='note'>Not in every session (compared where two or more have it):</p><ul "
                       f"class='small'>{items}</ul>")  # fmt: skip
    else:
        out.append("<table>")
        for b in first["exercises"]:
            for m in b.get("glutes", []):
                s = b["summary"].get(m, {})
                if not s.get("n"):
                    continue
                state = {True: ("bad", "delayed"), False: ("good", "not delayed"), None: ("neutral", "too few reps")}
                cls, word = state[s.get("delayed")]
                ci = s.get("ci95_ms")
                ci_txt = f" (95 % CI {ci[0]:+.0f} to {ci[1]:+.0f} ms)" if ci else ""
                out.append(f"<tr><td class='{cls}'>{word}</td><td>{e(describe_key((b['exercise'], b['side'], m, 'x')))}"
                           f": mean {s['mean_latency_ms']:+.0f} ms{ci_txt} over {s['n']} reps</td></tr>")  # fmt: skip
            drops = [r["pelvic_drop_deg"] for r in b["reps"] if r.get("pelvic_drop_deg") is not None]
            if drops:
                flagged = sum(bool(r.get("pelvic_drop_flag")) for r in b["reps"])
                cls = "bad" if flagged > len(drops) / 2 else "good"
                out.append(f"<tr><td class='{cls}'>drop</td><td>{e(_title(b['exercise'], b['side']))}: mean "
                           f"{np.mean(drops):+.1f} deg, {flagged} of {len(drops)} reps above {threshold:g} deg"
                           "</td></tr>")  # fmt: skip
        out.append("</table>")
    for exercise, side in _blocks(results):
        out.append(f"<h2>{e(_title(exercise, side))}</h2>")
        ref = next((_reference(b) for r in results if (b := _block(r, exercise, side))), "")
        for caption, note, fig in (
            (f"Glute onset latency to {ref}", f"Every repetition a dot; hollow: set aside (flagged or outlier); bar: "
             f"the mean of the rest; dashed: delayed above {margin:g} ms.",
             latency_figure(results, exercise, side, margin)),
            ("Order of activation in each repetition", f"Each muscle's onset relative to {ref} (0).",
             order_figure(results, exercise, side)),
            ("Pelvic drop through each repetition", f"Sessions overlaid; dots: each repetition's peak; dashed: flagged "
             f"above {threshold:g} deg.", drop_figure(results, exercise, side, threshold)),
        ):  # fmt: skip
            if fig is not None:
                out.append(f"<h3>{e(caption)}</h3><p class='note'>{e(note)}</p>{fig}")
    if comparison is not None and len(results) > 2:
        fig = trend_figure(comparison)
        if fig:
            out.append(f"<h2>Trend over sessions</h2>{fig}")
    notes = _quality_notes(results)
    out.append("<h2>Signal quality</h2>")
    out.append("<ul class='small'>" + "".join(f"<li>{e(n)}</li>" for n in notes) + "</ul>" if notes
               else "<p class='small'>No repetition was flagged; no correction was needed.</p>")  # fmt: skip
    out += _quality_tables(results, labels)
    band_lo, band_hi = ONSET_BAND_HZ  # the method states the band onsets are detected in, as the code has it
    out.append(METHOD.format(margin=margin, threshold=threshold, band_lo=band_lo, band_hi=band_hi))
    out.append("</body></html>")
    return "\n".join(out)


METHOD = """<h2>Method</h2><div class='small'>
<p>For onsets, surface EMG was band-passed ({band_lo:g}-{band_hi:g} Hz, 4th-order Butterworth, causal: the
{band_lo:g}-Hz edge keeps the heart's QRS out of trunk muscles), notched at the mains frequency
where hum was found, and each muscle's onset in each repetition was taken where its envelope left the quiet
baseline before the movement (Hodges &amp; Bui style threshold, traced back to the departure). Latency is the
onset relative to the block's reference: movement onset from the sacral IMU, the hamstrings in prone hip
extension, or foot contact in gait. A glute is called delayed in a block when the 95 % interval of its mean
latency lies above {margin:g} ms (the feed-forward window of postural control, Aruin &amp; Latash 1995).
Repetitions whose onset was flagged (artefact, lift-off, gap, noisy baseline) or lay more than 3.5 robust SDs
from the block's median (more in small blocks, so that ordinary variation sets one aside in only 1 block in 20:
6.9 robust SDs for 4 repetitions) are shown but not averaged.</p>
<p>Pelvic obliquity comes from the sacral IMU after a calibration (quiet standing and forward bends), 0 at
quiet standing; the drop is the peak fall of the free side during a repetition, flagged above {threshold:g}
deg.</p>
<p>Accuracy, honestly: each onset carries its uncertainty (onset SD, typically 2-15 ms); on simulated
recordings with slow recruitment the detector's onsets can be 10-20 ms late, which affects both sessions
alike. A single sacral IMU agrees with optical motion capture within about 3 deg in published validations
(Bolink et al. 2016), so the change within a patient, not the absolute angle, is the primary quantity. A
change is called improved or worse only when its 95 % interval excludes zero and it exceeds the smallest
change the measurement resolves (MDC95 from the sessions' rep-to-rep spread, at least 10 ms for latency and
2.7 deg for the drop, Dingenen et al. 2018); otherwise it is "no clear change".</p></div>"""
