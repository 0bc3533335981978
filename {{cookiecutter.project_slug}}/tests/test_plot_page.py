"""The offline plots page: every DVC plot drawn to SVG here, named by model and data version."""

import re
from pathlib import Path
from typing import Any

import yaml

from {{ cookiecutter.package_name }}.plot_page import caption, render_page

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def dvc_plot(values: list[dict[str, Any]], x: str, y: str) -> dict[str, Any]:
    """One plot as `dvc plots show --json` gives it: a Vega-Lite spec with its data inline."""
    return {
        "type": "vega",
        "revisions": ["workspace"],
        "content": {
            "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
            "data": {"values": values},
            "mark": "rect",
            "encoding": {
                "x": {"field": x, "type": "nominal"},
                "y": {"field": y, "type": "nominal"},
                "color": {"aggregate": "count", "type": "quantitative"},
            },
        },
    }


def test_every_plot_is_drawn_here_with_no_script_and_no_other_host() -> None:
    pairs = [{"actual": "yes", "predicted": "no"}, {"actual": "no", "predicted": "no"}]
    plots = {
        "data": {"results/plots/confusion.csv": [dvc_plot(pairs, "predicted", "actual")]},
        "errors": [
            {"name": "results/plots/predictions.csv", "type": "FileNotFoundError", "msg": "-"},
            {"name": "results/plots/class_scores.csv", "type": "ParserError", "msg": "bad CSV"},
        ],
    }

    page = render_page(plots, "churn-model version 3, data 1a2b3c4d")

    assert page.count("<svg") == 1
    assert "results/plots/confusion.csv" in page and "churn-model version 3" in page
    assert "<script" not in page
    assert not re.findall(r'(?:src|href)="https?://', page)  # nothing fetched from a CDN
    assert "results/plots/class_scores.csv: bad CSV" in page  # what could not be drawn
    assert "predictions.csv" not in page  # the other task's plot: no file, no complaint


def test_a_project_without_plot_data_says_what_to_run() -> None:
    assert "run <code>make pipeline</code>" in render_page({"data": {}}, "model version ?")


def test_the_caption_names_the_model_version_and_the_data_version() -> None:
    validation = {"model": "churn-model", "version": "3", "data_version": "1a2b3c4d5e6f.dir"}

    assert caption(validation) == "churn-model version 3, data 1a2b3c4d"
    assert caption({}) == "model version ?, data not tracked by DVC"


def test_the_confusion_matrix_has_a_row_per_actual_class_as_the_png() -> None:
    plots = yaml.safe_load((PROJECT_ROOT / "dvc.yaml").read_text())["plots"]
    confusion = next(
        settings for plot in plots for name, settings in plot.items() if "confusion" in name
    )

    assert (confusion["x"], confusion["y"]) == ("predicted", "actual")
