"""Write a drift report as JSON (for machines) and HTML (for people)."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: right; }
th:first-child, td:first-child, td:last-child { text-align: left; }
tr.drifted { background: #fde2e2; }
.bar { display: inline-block; height: 0.8em; background: #c0392b; }
"""


def _number(value: Any, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _row(feature: dict[str, Any]) -> str:
    width = min(float(feature["psi"] or 0.0), 1.0) * 100  # PSI bar, capped at 1
    cells = [
        html.escape(feature["feature"]),
        f'{_number(feature["psi"])} <span class="bar" style="width:{width:.0f}px"></span>',
        _number(feature["ks"]),
        f"{feature['missing_rate']:.1%} ({feature['reference_missing_rate']:.1%})",
        f"{feature['out_of_range_rate']:.1%}",
        f"{_number(feature['reference_min'])} to {_number(feature['reference_max'])}",
        f"{_number(feature['batch_mean'])} ({_number(feature['reference_mean'])})",
        html.escape("; ".join(feature["reasons"]) or "ok"),
    ]
    css = ' class="drifted"' if feature["drifted"] else ""
    return f"<tr{css}>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>"


def render_html(report: dict[str, Any]) -> str:
    """The report as a standalone HTML page: one table row per feature, drifted ones red."""
    verdict = (
        f"Drift in {len(report['drifted_features'])} feature(s): "
        + ", ".join(report["drifted_features"])
        if report["drift"]
        else "No drift: every feature is within the thresholds."
    )
    headers = [
        "feature",
        "PSI",
        "KS",
        "missing (training)",
        "out of range",
        "training range",
        "mean (training)",
        "verdict",
    ]
    thresholds = ", ".join(f"{k} {v}" for k, v in report["thresholds"].items())
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8"><title>Drift report</title>',
            f"<style>{STYLE}</style></head><body>",
            "<h1>Drift report</h1>",
            f"<p>Batch <code>{html.escape(report['batch'])}</code> against training data "
            f"<code>{html.escape(report['reference'])}</code>.</p>",
            f"<p><strong>{html.escape(verdict)}</strong></p>",
            f"<p>Thresholds: {html.escape(thresholds)}.</p>",
            "<table><thead><tr>" + "".join(f"<th>{h}</th>" for h in headers) + "</tr></thead>",
            "<tbody>",
            *(_row(feature) for feature in report["features"]),
            "</tbody></table></body></html>",
        ]
    )


def write_reports(report: dict[str, Any], folder: Path) -> tuple[Path, Path]:
    """Write ``drift.json`` and ``drift.html`` into ``folder``; return both paths."""
    folder.mkdir(parents=True, exist_ok=True)
    json_path, html_path = folder / "drift.json", folder / "drift.html"
    json_path.write_text(json.dumps(report, indent=2), encoding="utf-8")
    html_path.write_text(render_html(report), encoding="utf-8")
    return json_path, html_path
