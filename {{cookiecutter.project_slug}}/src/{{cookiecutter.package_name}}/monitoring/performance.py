"""The live metric, once labels arrive: logged predictions joined with what really happened.

Labels come later, as a table with a key and the label column (named as in
training). The key is the request id (clients may send their own as
``X-Request-ID``; add a ``row`` column when a request carried several rows) or any
input column the model took. The live metric is compared with the model's test
metric; a relative drop beyond ``max_metric_drop`` raises an alarm once enough rows
have a label.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..data.dataset import PREDICTION, Task
from .settings import Thresholds

REQUEST_ID = "request_id"
ROW = "row"


class LabelsError(ValueError):
    """The labels cannot be joined with the predictions; the message says why."""


@dataclass(frozen=True)
class LivePerformance:
    """The metric on labelled predictions against the same metric on the test set."""

    metric: str
    live: float | None
    test: float | None
    labelled_rows: int
    drop: float | None  # relative; positive means worse than on the test set
    alarm: bool
    message: str


def join_labels(
    labels: pd.DataFrame,
    meta: pd.DataFrame,
    inputs: pd.DataFrame,
    key: str,
    label: str,
    source: str,
) -> pd.DataFrame:
    """Predictions and labels side by side (columns ``PREDICTION`` and ``label``).

    Raises:
        LabelsError: The labels lack the key or the label column, or the key is not
            the request id nor a logged input.
    """
    missing = [name for name in (key, label) if name not in labels.columns]
    if missing:
        raise LabelsError(f"{source} has no column(s) {missing}; it needs '{key}' and '{label}'")
    if key == REQUEST_ID:
        on = [REQUEST_ID, ROW] if ROW in labels.columns else [REQUEST_ID]
        if on == [REQUEST_ID] and meta[REQUEST_ID].duplicated().any():
            raise LabelsError(
                f"{source}: some requests carried several rows; add a '{ROW}' column "
                "(the row's position in its request, from 0) to say which row a label is for"
            )
        logged = meta[[*on, PREDICTION]]
    elif key in inputs.columns:
        logged = pd.DataFrame({key: inputs[key], PREDICTION: meta[PREDICTION]})
        on = [key]
    else:
        raise LabelsError(
            f"cannot join {source} on '{key}': it is neither '{REQUEST_ID}' nor an input "
            f"the model took ({sorted(inputs.columns)[:10]}...)"
        )
    right = labels[[*on, label]].rename(columns={label: "label"})
    right = right.astype({name: logged[name].dtype for name in on}, errors="ignore")
    joined = logged.merge(right, on=on, how="inner")
    return joined.dropna(subset=["label", PREDICTION])


def live_performance(
    joined: pd.DataFrame,
    task: Task,
    metric: str,
    greater_is_better: bool,
    test_value: float | None,
    thresholds: Thresholds,
) -> LivePerformance:
    """Score the labelled predictions and compare with the test metric."""
    count = len(joined)
    if count == 0:
        message = "no prediction has a label"
        return LivePerformance(metric, None, test_value, 0, None, False, message)
    # Imported here: scoring needs scikit-learn, whose import a check without labels skips.
    from ..modeling import scores

    live = scores(joined["label"].tolist(), joined[PREDICTION].tolist(), task).get(metric)
    if live is None or test_value is None:
        message = f"{metric} cannot be compared (live {live}, test {test_value})"
        return LivePerformance(metric, live, test_value, count, None, False, message)
    worse_by = (test_value - live) if greater_is_better else (live - test_value)
    drop = worse_by / abs(test_value) if test_value else worse_by
    enough = count >= thresholds.min_labelled_rows
    alarm = enough and drop > thresholds.max_metric_drop
    message = f"{metric} {live:.4g} on {count} labelled rows, {test_value:.4g} on the test set"
    if not enough:
        message += f" (too few labels to judge: fewer than {thresholds.min_labelled_rows})"
    elif alarm:
        message += f": {drop:.1%} worse, more than the {thresholds.max_metric_drop:.0%} allowed"
    return LivePerformance(metric, live, test_value, count, drop, alarm, message)
