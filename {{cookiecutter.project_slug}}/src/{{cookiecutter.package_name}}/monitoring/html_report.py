"""Write the monitor's report as JSON (for machines) and a standalone HTML page (for people).

The page opens with the verdict, the model version, the time window and the row
counts, then shows every column, worst first: its checks and the reference's
distribution (grey) overlaid with the batch's (red when the column raised an
alarm, blue otherwise). No script and no external file: it opens anywhere.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from ..data.io import atomic_write_bytes

JSON_FILE = "monitor.json"
HTML_FILE = "monitor.html"
WIDTH, HEIGHT = 360, 120

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; max-width: 70em; }
.verdict { font-size: 1.2em; padding: 0.6em 1em; border-radius: 4px; }
.alarm { background: #fde2e2; } .healthy { background: #e2f5e4; }
section { border-top: 1px solid #ddd; padding: 0.8em 0; display: flex; gap: 2em; }
section h3 { margin: 0 0 0.3em 0; }
table { border-collapse: collapse; font-size: 0.9em; }
td, th { padding: 2px 8px; text-align: left; border-bottom: 1px solid #eee; }
tr.raised td { color: #b03a2e; font-weight: 600; }
.legend span { display: inline-block; width: 0.8em; height: 0.8em; margin: 0 0.3em; }
"""


def _escape(value: Any) -> str:
    return html.escape(str(value))


def _plot(distribution: dict[str, Any], alarm: bool) -> str:
    """The two distributions as overlaid bars in an inline SVG."""
    if not distribution.get("labels"):
        return "<p>(no values to plot)</p>"
    reference, batch = distribution["reference"], distribution["batch"]
    top = max([*reference, *batch, 1e-9])
    count = len(reference)
    step = WIDTH / count
    color = "#c0392b" if alarm else "#2e86c1"
    shapes = []
    for index, (ref, new) in enumerate(zip(reference, batch, strict=True)):
        x = index * step
        for share, fill, opacity in ((ref, "#888", 0.55), (new, color, 0.55)):
            height = share / top * (HEIGHT - 20)
            shapes.append(
                f'<rect x="{x:.1f}" y="{HEIGHT - 15 - height:.1f}" width="{step * 0.9:.1f}" '
                f'height="{height:.1f}" fill="{fill}" fill-opacity="{opacity}">'
                f"<title>{_escape(distribution['labels'][index])}: reference {ref:.1%}, "
                f"batch {new:.1%}</title></rect>"
            )
    labels = distribution["labels"]
    first, last = _escape(labels[0]), _escape(labels[-1])
    axis = (
        f'<text x="0" y="{HEIGHT - 2}" font-size="10">{first}</text>'
        f'<text x="{WIDTH}" y="{HEIGHT - 2}" font-size="10" text-anchor="end">{last}</text>'
    )
    return (
        f'<svg width="{WIDTH}" height="{HEIGHT}" role="img" '
        f'aria-label="distribution of reference and batch">{"".join(shapes)}{axis}</svg>'
    )


def _column(column: dict[str, Any]) -> str:
    rows = "".join(
        f'<tr class="{"raised" if finding["alarm"] else ""}">'
        f"<td>{_escape(finding['check'])}</td><td>{_escape(finding['message'])}</td>"
        f"<td>{finding['effect']:.3g} (floor {finding['min_effect']:.3g})</td>"
        f"<td>{finding['adjusted_p_value']:.3g}</td></tr>"
        for finding in column["findings"]
    )
    counts = (
        f"{column['batch_rows']:,} rows ({column['batch_missing']:.1%} missing); reference "
        f"{column['reference_rows']:,} ({column['reference_missing']:.1%} missing)"
    )
    status = "ALARM" if column["alarm"] else "ok"
    return (
        f"<section><div><h3>{_escape(column['column'])} <small>{_escape(column['type'])}, "
        f"{status}</small></h3><p>{counts}</p>"
        "<table><tr><th>check</th><th>result</th><th>effect</th><th>p (Holm)</th></tr>"
        f"{rows}</table></div>{_plot(column['distribution'], column['alarm'])}</section>"
    )


def render_html(report: dict[str, Any]) -> str:
    """The report as one standalone HTML page."""
    model, batch = report["model"], report["batch"]
    window = f" from {batch['from']} to {batch['to']}" if "from" in batch else ""
    performance = report.get("performance")
    thresholds = ", ".join(f"{key} {value}" for key, value in report["thresholds"].items())
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8"><title>Monitoring report</title>',
            f"<style>{STYLE}</style></head><body>",
            f"<h1>Monitoring report: {_escape(model['name'])} version "
            f"{_escape(model['version'])}</h1>",
            f'<p class="verdict {report["status"]}">{_escape(report["verdict"])}</p>',
            f"<p>{batch['rows']:,} rows from <code>{_escape(batch['source'])}</code>{window}, "
            f"against the reference of run <code>{_escape(model['run_id'])}</code> "
            f"({report['reference']['rows']:,} training rows, "
            f"{report['reference']['prediction_rows']:,} test predictions).</p>",
            f"<p>Live metric: {_escape(performance['message'])}.</p>" if performance else "",
            f"<p><small>Settings: {_escape(thresholds)}.</small></p>",
            '<p class="legend"><span style="background:#888"></span>reference '
            '<span style="background:#2e86c1"></span>batch '
            '<span style="background:#c0392b"></span>batch, column in alarm</p>',
            *(_column(column) for column in report["columns"]),
            "</body></html>",
        ]
    )


def write_reports(report: dict[str, Any], folder: Path) -> tuple[Path, Path]:
    """Write ``monitor.json`` and ``monitor.html`` into ``folder``; return both paths."""
    folder.mkdir(parents=True, exist_ok=True)
    json_path, html_path = folder / JSON_FILE, folder / HTML_FILE
    atomic_write_bytes((json.dumps(report, indent=2, default=str) + "\n").encode(), json_path)
    atomic_write_bytes(render_html(report).encode(), html_path)
    return json_path, html_path
