# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""A drill as one self-contained HTML page: the verdict, the RTO against its target, a timeline of the stages per
node, the RTO trend of the last drills and what each node presented for attestation. Inline CSS and SVG only:
no script, no font, no image from the network, so it opens the same offline, in a mail, or in an audit archive."""

from __future__ import annotations

from html import escape

from ._result import STAGES, verdict

COLOURS = dict(
    zip(STAGES, ("#8c8c8c", "#6a3d9a", "#1f78b4", "#33a02c", "#b2df8a", "#ff7f00", "#fdbf6f", "#a6cee3"), strict=False)
)
TREND_SHOWN = 20
CHART_WIDTH = 760
LABEL_WIDTH = 190
ROW_HEIGHT = 22

STYLE = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2rem;color:#1b1b1b;max-width:980px}
h1{font-size:1.4rem;margin-bottom:.2rem} .sub{color:#555;margin-top:0}
.verdict{display:inline-block;padding:.35rem .8rem;border-radius:4px;font-weight:600;color:#fff}
.passed{background:#2e7d32} .failed{background:#c62828}
table{border-collapse:collapse;margin:.5rem 0 1.5rem} td,th{border:1px solid #ccc;padding:.25rem .6rem;text-align:left;font-size:.9rem}
svg text{font-size:11px;fill:#333} .legend span{display:inline-block;margin-right:1rem;font-size:.85rem}
.swatch{display:inline-block;width:.8rem;height:.8rem;margin-right:.3rem;vertical-align:middle}
"""


def _ticks(span: float) -> list[float]:
    step = next((s for s in (0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800) if span / s <= 10), 3600)
    count = int(span // step) + 1
    return [round(i * step, 3) for i in range(count + 1)]


def _timeline(result: dict, outcome: dict) -> str:
    rows: list[str] = []
    for stage in result["stages"]:
        row = stage.get("node") or "cluster"
        if row not in rows:
            rows.append(row)
    target = result.get("rto_target_seconds")
    span = max([s["end"] for s in result["stages"]] + ([target] if target else []) + [1.0])
    ticks = _ticks(span)
    span = ticks[-1]
    scale = (CHART_WIDTH - LABEL_WIDTH - 20) / span
    height = ROW_HEIGHT * len(rows) + 40
    parts = [
        f'<svg id="timeline" role="img" aria-label="stages per node over time" width="{CHART_WIDTH}" '
        f'height="{height}" viewBox="0 0 {CHART_WIDTH} {height}" xmlns="http://www.w3.org/2000/svg">'
    ]
    for tick in ticks:
        x = LABEL_WIDTH + tick * scale
        parts.append(
            f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{height - 25}" stroke="#e4e4e4"/>'
            f'<text x="{x:.1f}" y="{height - 10}" text-anchor="middle">{tick:g} s</text>'
        )
    for index, row in enumerate(rows):
        y = index * ROW_HEIGHT + 4
        parts.append(f'<text x="{LABEL_WIDTH - 8}" y="{y + 14}" text-anchor="end">{escape(row)}</text>')
        for stage in (s for s in result["stages"] if (s.get("node") or "cluster") == row):
            x, width = LABEL_WIDTH + stage["start"] * scale, max((stage["end"] - stage["start"]) * scale, 2.0)
            stroke = ' stroke="#c62828" stroke-width="2"' if stage["status"] == "failed" else ""
            title = f"{stage['stage']}: {stage['start']:.2f} s to {stage['end']:.2f} s, {stage['status']}"
            if stage.get("detail"):
                title += f" ({stage['detail']})"
            parts.append(
                f'<rect class="stage stage-{stage["stage"]}" x="{x:.1f}" y="{y}" width="{width:.1f}" '
                f'height="{ROW_HEIGHT - 6}" rx="2" fill="{COLOURS[stage["stage"]]}"{stroke}>'
                f"<title>{escape(title)}</title></rect>"
            )
    if target:
        x = LABEL_WIDTH + target * scale
        parts.append(
            f'<line id="rto-target" x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{height - 25}" stroke="#c62828" '
            f'stroke-dasharray="4 3"/><text x="{x + 4:.1f}" y="10" fill="#c62828">target</text>'
        )
    if outcome["rto_seconds"] is not None:
        x = LABEL_WIDTH + outcome["rto_seconds"] * scale
        parts.append(f'<line id="rto" x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{height - 25}" stroke="#1b1b1b"/>')
    parts.append("</svg>")
    legend = "".join(
        f'<span><i class="swatch" style="background:{COLOURS[name]}"></i>{name.replace("_", " ")}</span>'
        for name in STAGES
        if any(s["stage"] == name for s in result["stages"])
    )
    return "".join(parts) + f'<p class="legend">{legend}</p>'


def _trend(history: list[dict], target: float | None) -> str:
    shown = history[-TREND_SHOWN:]
    if len(shown) < 2:
        return "<p>The trend appears from the second drill on.</p>"
    values = [entry.get("rto_seconds") for entry in shown]
    top = max([v for v in values if v is not None] + ([target] if target else []) + [1.0]) * 1.15
    width, height, left, bottom = CHART_WIDTH, 180, 50, 30
    step = (width - left - 20) / (len(shown) - 1)

    def y(value: float) -> float:
        return (height - bottom) - value / top * (height - bottom - 10)

    parts = [
        f'<svg id="trend" role="img" aria-label="RTO of the last drills" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">',
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - 10}" y2="{height - bottom}" stroke="#999"/>',
        f'<text x="4" y="{y(top / 1.15) + 4:.1f}">{top / 1.15:.0f} s</text><text x="4" y="{height - bottom + 4}">0 s</text>',
    ]
    if target:
        parts.append(
            f'<line x1="{left}" y1="{y(target):.1f}" x2="{width - 10}" y2="{y(target):.1f}" stroke="#c62828" '
            f'stroke-dasharray="4 3"/>'
        )
    points = [(left + i * step, y(v)) for i, v in enumerate(values) if v is not None]
    if len(points) > 1:
        parts.append(
            '<polyline fill="none" stroke="#1f78b4" stroke-width="2" points="'
            + " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
            + '"/>'
        )
    for i, entry in enumerate(shown):
        x = left + i * step
        label = escape(
            f"{entry.get('started_at') or '?'} {entry.get('scenario') or ''}: "
            + (f"{entry['rto_seconds']:.1f} s" if entry.get("rto_seconds") is not None else "not recovered")
        )
        if entry.get("rto_seconds") is None:
            parts.append(
                f'<text class="drill failed" x="{x:.1f}" y="20" text-anchor="middle" fill="#c62828">x'
                f"<title>{label}</title></text>"
            )
        else:
            colour = "#2e7d32" if entry.get("passed") else "#c62828"
            parts.append(
                f'<circle class="drill" cx="{x:.1f}" cy="{y(entry["rto_seconds"]):.1f}" r="4" fill="{colour}">'
                f"<title>{label}</title></circle>"
            )
    parts.append("</svg>")
    return "".join(parts)


def _attestation(result: dict) -> str:
    rows = result.get("attestation") or []
    if not rows:
        return "<p>No attestation evidence was recorded (the lab's dummy variant, or a check-mode drill).</p>"
    body = "".join(
        f"<tr><td>{escape(str(row.get('node', '')))}</td><td>{escape(str(row.get('variant', '')))}</td>"
        f"<td>{escape(str(row.get('summary', '')))}</td></tr>"
        for row in rows
    )
    return f'<table id="attestation"><tr><th>node</th><th>variant</th><th>evidence</th></tr>{body}</table>'


def _stages_table(result: dict) -> str:
    body = "".join(
        f"<tr><td>{escape(s['stage'].replace('_', ' '))}</td><td>{escape(s.get('node') or 'cluster')}</td>"
        f"<td>{s['start']:.2f}</td><td>{s['end']:.2f}</td><td>{s['end'] - s['start']:.2f}</td>"
        f"<td>{escape(s['status'])}</td><td>{escape(s.get('detail') or '')}</td></tr>"
        for s in result["stages"]
    )
    return (
        '<table id="stages"><tr><th>stage</th><th>node</th><th>start (s)</th><th>end (s)</th><th>took (s)</th>'
        f"<th>status</th><th>detail</th></tr>{body}</table>"
    )


def drill_html(result: dict, history: list[dict]) -> str:
    outcome = verdict(result)
    scenario = result["scenario"]
    parameters = ", ".join(f"{key}={value}" for key, value in sorted((scenario.get("parameters") or {}).items()))
    state = "passed" if outcome["passed"] else "failed"
    title = f"Drill {scenario['name']} on {result.get('target') or 'lab'}"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>{STYLE}</style></head>
<body>
<h1>{escape(title)}</h1>
<p class="sub">started {escape(str(result.get("started_at") or ""))}{escape(" · " + parameters) if parameters else ""}</p>
<p><span id="verdict" class="verdict {state}">{state.upper()}</span> {escape(outcome["reason"])}</p>
<h2>Stages</h2>
{_timeline(result, outcome)}
{_stages_table(result)}
<h2>RTO of the last drills</h2>
{_trend(history, result.get("rto_target_seconds"))}
<h2>Attestation</h2>
{_attestation(result)}
</body></html>
"""
