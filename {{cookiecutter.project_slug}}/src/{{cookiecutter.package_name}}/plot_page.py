"""Draw ``dvc plots show --json`` as one HTML page that needs no network: ``make plots``.

``dvc plots show`` writes a page whose scripts come from a CDN, so it stays blank
offline and behind a firewall. Here each plot is drawn to SVG on this machine with
vl-convert (Vega-Lite compiled in: no browser, no download) and the SVGs go into
``dvc_plots/index.html``, a page without scripts. Each plot's title names the
model version and the data version of the last evaluation
(``results/validation.json``).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

from .data.io import atomic_write_bytes
from .metadata import load_metadata
from .provenance import short_hash

PAGE = Path("dvc_plots/index.html")


def caption(validation: Mapping[str, Any]) -> str:
    """Which model version and data version the plots show, from ``validation.json``."""
    model = f"{validation.get('model', 'model')} version {validation.get('version', '?')}"
    version = validation.get("data_version")
    return f"{model}, data {short_hash(str(version) if version else None)}"


def render_page(plots: Mapping[str, Any], subtitle: str) -> str:
    """The page of every plot in DVC's JSON (``{"data": {name: [plot, ...]}}``) as SVG."""
    import vl_convert  # imported here: only `make plots` pays for loading it

    sections = []
    for name, items in plots.get("data", {}).items():
        for item in items:
            spec = dict(item["content"])
            spec["title"] = {"text": name, "subtitle": subtitle}
            svg = vl_convert.vegalite_to_svg(spec)
            sections.append(f"<section>\n{svg}\n</section>")
    # dvc.yaml lists the plots of both tasks; a missing file is the other task's.
    errors = [
        f"<li>{escape(str(error.get('name')))}: {escape(str(error.get('msg')))}</li>"
        for error in plots.get("errors", [])
        if error.get("type") != "FileNotFoundError"
    ]
    missing = f"<p>Not drawn:</p>\n<ul>{''.join(errors)}</ul>\n" if errors else ""
    if not sections:
        missing += "<p>No plot data yet: run <code>make pipeline</code> first.</p>\n"
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>Evaluation plots</title></head>\n<body>\n"
        f"<h1>Evaluation plots</h1>\n<p>{escape(subtitle)}</p>\n{missing}"
        + "\n".join(sections)
        + "\n</body></html>\n"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Read DVC's plots as JSON from standard input and write the page."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=PAGE, help=f"the page (default {PAGE})")
    args = parser.parse_args(argv)
    try:
        plots = json.load(sys.stdin)
    except json.JSONDecodeError as error:
        print(f"expected the JSON of `dvc plots show --json` on standard input: {error}")
        return 1
    validation_path = load_metadata().validation_file()
    validation = json.loads(validation_path.read_text()) if validation_path.is_file() else {}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(render_page(plots, caption(validation)).encode(), args.out)
    print(f"Wrote {args.out} (open it in a browser; it needs no network)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
