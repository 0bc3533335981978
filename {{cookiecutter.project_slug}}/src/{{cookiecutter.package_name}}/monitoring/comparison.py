"""Compare a batch of model inputs (and predictions) with the model's reference, column by column.

Each column gets the checks its type allows (see :mod:`.statistics` for the tests):

========== ======================================================================
type       checks
========== ======================================================================
numeric    drift (Kolmogorov-Smirnov), missing values, values outside the range,
           values that are not numbers
boolean    drift (chi-square on true/false), missing values
categorical drift (chi-square), missing values, categories never seen in training
date       missing values, values that are not ISO 8601 dates (dates move forward
           by nature, so their distribution is not compared)
========== ======================================================================

The reference is read once (:func:`.samples.profile`) and may be compared with
many batches. A column the batch lacks is a schema violation. Every finding's p-value is adjusted
with Holm's method over all the findings, and a finding raises an alarm when the
adjusted p-value is at most the false-alarm rate *and* its effect reaches the
floor set for its check (``conf/monitor/``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from ..data.dataset import ColumnType
from .samples import ColumnSample, column_sample
from .settings import Thresholds
from .statistics import (
    TestResult,
    category_shift,
    holm,
    numeric_shift,
    out_of_range,
    share_increase,
    unseen_categories,
)

Check = Literal["schema", "type", "drift", "missing", "out_of_range", "unseen"]
HISTOGRAM_BINS = 20
SHOWN_CATEGORIES = 12  # the rest of a categorical column's values are shown as "(other)"


@dataclass(frozen=True)
class Finding:
    """The outcome of one check of one column."""

    column: str
    check: Check
    p_value: float
    effect: float
    min_effect: float
    message: str
    adjusted_p_value: float = 1.0
    alarm: bool = False

    @property
    def severity(self) -> float:
        """How far the effect is past its floor (alarms sort by it, largest first)."""
        return self.effect / self.min_effect if self.min_effect > 0 else float("inf")


@dataclass(frozen=True)
class ColumnSummary:
    """What a column looks like in both samples: counts and a distribution to plot."""

    column: str
    type: ColumnType
    reference_rows: int
    batch_rows: int
    reference_missing: float
    batch_missing: float
    distribution: dict[str, Any]  # {"kind": "histogram"|"bars", "labels", "reference", "batch"}
    findings: list[Finding] = field(default_factory=list)

    @property
    def alarm(self) -> bool:
        """Whether any of the column's checks raised an alarm."""
        return any(finding.alarm for finding in self.findings)


@dataclass(frozen=True)
class Comparison:
    """Every column's summary, worst first, and whether the batch raises an alarm."""

    columns: list[ColumnSummary]

    @property
    def alarms(self) -> list[Finding]:
        """The findings that raised an alarm, worst first."""
        found = [finding for column in self.columns for finding in column.findings]
        return sorted((f for f in found if f.alarm), key=lambda f: -f.severity)

    @property
    def alarm(self) -> bool:
        """Whether the batch raises an alarm."""
        return bool(self.alarms)


def compare(
    reference: Mapping[str, ColumnSample],
    batch: Mapping[str, pd.Series],
    columns: Mapping[str, ColumnType],
    thresholds: Thresholds,
) -> Comparison:
    """Check every column of ``columns`` (name to type) of the batch against the reference.

    ``reference`` is the reference's :func:`.samples.profile`; ``batch`` maps column
    names to values (a DataFrame does). Columns of the batch not in ``columns`` are
    ignored; columns it lacks are schema violations.
    """
    summaries = [
        _check_column(name, reference[name], batch.get(name), thresholds)
        for name in columns
        if name in reference
    ]
    findings = [finding for summary in summaries for finding in summary.findings]
    adjusted = holm([finding.p_value for finding in findings])
    judged = iter(
        _judge(f, p, thresholds.false_alarm_rate) for f, p in zip(findings, adjusted, strict=True)
    )
    summaries = [
        replace(summary, findings=[next(judged) for _ in summary.findings]) for summary in summaries
    ]
    summaries.sort(key=_worst_first)
    return Comparison(summaries)


def _judge(finding: Finding, adjusted: float, false_alarm_rate: float) -> Finding:
    alarm = adjusted <= false_alarm_rate and finding.effect >= finding.min_effect
    return replace(finding, adjusted_p_value=adjusted, alarm=alarm)


def _worst_first(summary: ColumnSummary) -> tuple[int, float, float]:
    severity = max((f.severity for f in summary.findings if f.alarm), default=0.0)
    smallest_p = min((f.adjusted_p_value for f in summary.findings), default=1.0)
    return (0 if summary.alarm else 1, -severity, smallest_p)


EXPECTED = {"numeric": "numbers", "boolean": "true or false", "date": "ISO 8601 dates"}


def _check_column(
    name: str, ref: ColumnSample, values: pd.Series | None, thresholds: Thresholds
) -> ColumnSummary:
    kind = ref.kind
    if values is None:
        schema = Finding(name, "schema", 0.0, 1.0, 0.0, f"the batch has no column '{name}'")
        return ColumnSummary(name, kind, ref.rows, 0, ref.missing_share, 1.0, {}, [schema])
    new = column_sample(values, kind)
    findings = [_missing_finding(name, ref, new, thresholds)]
    if new.invalid:
        message = f"{new.invalid} value(s) are not {EXPECTED.get(kind, kind)}"
        findings.append(Finding(name, "type", 0.0, new.invalid / new.rows, 0.0, message))
    if kind == "numeric":
        findings += _numeric_findings(name, ref, new, thresholds)
    elif kind in ("categorical", "boolean"):
        findings += _categorical_findings(name, ref, new, thresholds)
    # Dates move forward by nature: only their quality is checked, their spread is shown.
    distribution = _bars(ref, new) if ref.counts or new.counts else _histogram(ref, new)
    return ColumnSummary(
        name,
        kind,
        ref.rows,
        new.rows,
        ref.missing_share,
        new.missing_share,
        distribution,
        findings,
    )


def _missing_finding(
    name: str, ref: ColumnSample, new: ColumnSample, thresholds: Thresholds
) -> Finding:
    result = share_increase(ref.missing, ref.rows, new.missing, new.rows)
    message = f"{new.missing_share:.1%} missing, {ref.missing_share:.1%} in the reference"
    return _finding(name, "missing", result, thresholds.min_missing_increase, message)


def _numeric_findings(
    name: str, ref: ColumnSample, new: ColumnSample, thresholds: Thresholds
) -> list[Finding]:
    if not len(ref.numbers) or not len(new.numbers):
        return []
    shift = numeric_shift(ref.numbers, new.numbers)
    outside = out_of_range(ref.numbers, new.numbers)
    median_move = _sorted_quantile(new.numbers, 0.5) - _sorted_quantile(ref.numbers, 0.5)
    low, high = ref.numbers[0], ref.numbers[-1]
    return [
        _finding(
            name,
            "drift",
            shift,
            thresholds.min_drift,
            f"distribution moved (KS D = {shift.effect:.3f}; median {median_move:+.4g})",
        ),
        _finding(
            name,
            "out_of_range",
            outside,
            thresholds.min_out_of_range,
            f"{outside.effect:.1%} outside the reference's range [{low:.4g}, {high:.4g}]",
        ),
    ]


def _categorical_findings(
    name: str, ref: ColumnSample, new: ColumnSample, thresholds: Thresholds
) -> list[Finding]:
    shift = category_shift(ref.counts, new.counts)
    message = f"category shares changed (total variation {shift.effect:.3f})"
    findings = [_finding(name, "drift", shift, thresholds.min_drift, message)]
    if ref.kind == "categorical":
        unseen = unseen_categories(ref.counts, new.counts)
        new_names = sorted(set(new.counts) - set(ref.counts))
        listed = ", ".join(repr(value) for value in new_names[:5])
        more = f" and {len(new_names) - 5} more" if len(new_names) > 5 else ""
        message = f"{unseen.effect:.1%} of rows have categories unseen in the reference"
        if new_names:
            message += f": {listed}{more}"
        findings.append(_finding(name, "unseen", unseen, thresholds.min_unseen, message))
    return findings


def _finding(name: str, check: Check, result: TestResult, floor: float, message: str) -> Finding:
    return Finding(name, check, result.p_value, result.effect, floor, message)


def _histogram(ref: ColumnSample, new: ColumnSample) -> dict[str, Any]:
    """Shares of both samples over shared bins spanning the central 99 % of either."""
    samples = [sample.numbers for sample in (ref, new) if len(sample.numbers)]
    if not samples:
        return {}
    low = min(_sorted_quantile(numbers, 0.005) for numbers in samples)
    high = max(_sorted_quantile(numbers, 0.995) for numbers in samples)
    if high <= low:
        high = low + 1.0
    edges = np.linspace(low, high, HISTOGRAM_BINS + 1)

    def shares(numbers: npt.NDArray[Any]) -> list[float]:
        # Values beyond the edges count in the first or last bin.
        inner = np.searchsorted(numbers, edges[1:-1], side="left")
        counts = np.diff(np.concatenate([[0], inner, [len(numbers)]]))
        return [round(float(count) / max(len(numbers), 1), 6) for count in counts]

    labels = [f"{edge:.4g}" for edge in edges.tolist()]
    if ref.kind == "date":
        labels = [str(pd.Timestamp(edge, unit="D").date()) for edge in edges.tolist()]
    return {
        "kind": "histogram",
        "labels": labels,
        "reference": shares(ref.numbers),
        "batch": shares(new.numbers),
    }


def _sorted_quantile(numbers: npt.NDArray[Any], share: float) -> float:
    return float(numbers[int(share * (len(numbers) - 1))])


def _bars(ref: ColumnSample, new: ColumnSample) -> dict[str, Any]:
    """Shares of the most common categories of either sample; the rest as ``(other)``."""

    def shares(counts: dict[str, int]) -> dict[str, float]:
        total = sum(counts.values()) or 1
        return {name: count / total for name, count in counts.items()}

    ref_shares, new_shares = shares(ref.counts), shares(new.counts)
    names = set(ref_shares) | set(new_shares)
    top = sorted(names, key=lambda n: -max(ref_shares.get(n, 0.0), new_shares.get(n, 0.0)))
    labels = top[:SHOWN_CATEGORIES]
    reference = [ref_shares.get(name, 0.0) for name in labels]
    batch = [new_shares.get(name, 0.0) for name in labels]
    if len(names) > SHOWN_CATEGORIES:
        labels = [*labels, "(other)"]
        reference.append(max(0.0, 1.0 - sum(reference)))
        batch.append(max(0.0, 1.0 - sum(batch)))
    return {
        "kind": "bars",
        "labels": labels,
        "reference": [round(share, 6) for share in reference],
        "batch": [round(share, 6) for share in batch],
    }
