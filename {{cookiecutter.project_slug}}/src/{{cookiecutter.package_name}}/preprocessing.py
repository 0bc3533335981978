"""Feature engineering that travels inside the model: raw columns in, model inputs out.

:func:`build_preprocessor` turns the ``preprocessing`` config group and the
types of the experiment's features into one scikit-learn ``ColumnTransformer``.
``modeling.build_model`` puts it in front of the estimator, so the logged MLflow
model is the whole pipeline: batch inference and the service send raw columns
(text, dates, missing values) and get exactly the transformations of training.

Per column type, in order:

- numeric (booleans too, as 0 and 1): missing indicators (``<column>_na``),
  imputation (mean, median, an arbitrary value, or the end of the distribution's
  tail), a skew transform (Yeo-Johnson) and outlier capping (winsorizing), both of
  which skip booleans, and scaling when the model needs it;
- categorical: imputation (a ``Missing`` category, or the most frequent one),
  rare labels grouped as ``Rare``, one-hot encoding (unseen categories: all zeros);
- date: calendar parts (year, month, day of week...) with missing dates imputed,
  scaled as numbers are (a year of 2026 would swamp a linear model's other inputs).

Columns the model was not trained on are ignored.

The model takes its inputs as a client can send them in JSON
(``data.column_types.model_input``): numbers, and text, with dates written in
ISO 8601 (``2026-03-12T10:15:00``). Missing values are NaN or None.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from feature_engine.datetime import DatetimeFeatures
from feature_engine.encoding import RareLabelEncoder
from feature_engine.imputation import (
    AddMissingIndicator,
    ArbitraryNumberImputer,
    CategoricalImputer,
    EndTailImputer,
    MeanMedianImputer,
)
from feature_engine.outliers import Winsorizer
from feature_engine.transformation import YeoJohnsonTransformer
from omegaconf import DictConfig
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, RobustScaler, StandardScaler

from .config import ConfigError
from .data.dataset import ColumnType

SCALERS = {"standard": StandardScaler, "robust": RobustScaler, "minmax": MinMaxScaler}
RARE = "Rare"
MISSING = "Missing"


def _choice(settings: DictConfig, key: str, allowed: Mapping[str, Any] | tuple[str, ...]) -> str:
    """The option ``key`` (``numeric.impute``: ``impute`` of ``settings``), if it is allowed."""
    value = str(settings[key.rpartition(".")[2]])
    if value not in allowed:
        raise ConfigError(
            f"preprocessing: `{key}: {value}` is not an option; use one of {sorted(allowed)}"
        )
    return value


def _imputer(settings: DictConfig, columns: list[str | int]) -> Any:
    method = _choice(settings, "numeric.impute", ("mean", "median", "arbitrary", "end_of_tail"))
    if method == "arbitrary":
        return ArbitraryNumberImputer(arbitrary_number=settings.fill_value, variables=columns)
    if method == "end_of_tail":
        return EndTailImputer(imputation_method="gaussian", tail="right", fold=3, variables=columns)
    return MeanMedianImputer(imputation_method=method, variables=columns)


def numeric_steps(
    settings: DictConfig, columns: list[str], *, scale: bool, booleans: list[str] | None = None
) -> list[tuple[str, Any]]:
    """The numeric columns' steps, from ``preprocessing.numeric``.

    The skew transform and outlier capping leave out ``booleans`` (0 or 1: no skew, no
    outliers; capping would fail on, or flatten, a rare 1).
    """
    # feature-engine's `variables` are lists of names or positions.
    variables: list[str | int] = [*columns]
    shaped: list[str | int] = [name for name in columns if name not in (booleans or [])]
    steps: list[tuple[str, Any]] = []
    if settings.missing_indicator:
        steps.append(
            ("missing_indicator", AddMissingIndicator(missing_only=True, variables=variables))
        )
    steps.append(("impute", _imputer(settings, variables)))
    transform = _choice(settings, "numeric.transform", ("none", "yeo_johnson"))
    if transform == "yeo_johnson" and shaped:
        steps.append(("yeo_johnson", YeoJohnsonTransformer(variables=shaped)))
    capping = _choice(settings, "numeric.cap_outliers", ("none", "iqr", "gaussian", "quantiles"))
    if capping != "none" and shaped:
        fold = {"iqr": 1.5, "gaussian": 3, "quantiles": 0.01}[capping]
        steps.append(
            (
                "cap_outliers",
                Winsorizer(capping_method=capping, tail="both", fold=fold, variables=shaped),
            )
        )
    return steps + scale_steps(settings, scale=scale)


def scale_steps(settings: DictConfig, *, scale: bool) -> list[tuple[str, Any]]:
    """The scaler ``preprocessing.numeric.scale`` names, for numbers and date parts alike."""
    scaler = _choice(settings, "numeric.scale", ("auto", "none", *SCALERS))
    if scaler == "auto":
        scaler = "standard" if scale else "none"
    return [] if scaler == "none" else [("scale", SCALERS[scaler]())]


def categorical_steps(settings: DictConfig) -> list[tuple[str, Any]]:
    """The categorical columns' steps, from ``preprocessing.categorical``."""
    method = _choice(settings, "categorical.impute", ("missing", "frequent"))
    imputer = CategoricalImputer(
        imputation_method=method, fill_value=MISSING, ignore_format=True, return_object=True
    )
    rare = RareLabelEncoder(
        tol=settings.rare_share,
        n_categories=1,
        max_n_categories=settings.max_categories,
        replace_with=RARE,
        ignore_format=True,
    )
    encoder = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
    return [("impute", imputer), ("group_rare", rare), ("one_hot", encoder)]


def date_steps(settings: DictConfig) -> list[tuple[str, Any]]:
    """The date columns' steps, from ``preprocessing.dates``."""
    try:
        # Dates arrive as ISO 8601 text (column_types.model_input); each value is read
        # on its own, times with an offset in UTC, as the align stage stores them.
        parts = DatetimeFeatures(
            features_to_extract=list(settings.parts),
            drop_original=True,
            missing_values="ignore",
            format="ISO8601",
            utc=True,
        )
    except ValueError as error:  # a part feature-engine does not know
        raise ConfigError(
            f"preprocessing: `dates.parts: {list(settings.parts)}`: {error}"
        ) from error
    return [("parts", parts), ("impute", MeanMedianImputer(imputation_method="median"))]


def build_preprocessor(
    settings: DictConfig, features: Mapping[str, ColumnType], *, scale: bool
) -> ColumnTransformer:
    """One branch per column type present in ``features``; every other column is dropped."""
    by_type: dict[str, list[str]] = {"numeric": [], "categorical": [], "date": []}
    for name, kind in features.items():
        by_type["numeric" if kind == "boolean" else kind].append(name)
    branches = []
    if by_type["numeric"]:
        booleans = [name for name, kind in features.items() if kind == "boolean"]
        steps = numeric_steps(settings.numeric, by_type["numeric"], scale=scale, booleans=booleans)
        branches.append(("numeric", Pipeline(steps), by_type["numeric"]))
    if by_type["categorical"]:
        branches.append(
            (
                "categorical",
                Pipeline(categorical_steps(settings.categorical)),
                by_type["categorical"],
            )
        )
    if by_type["date"]:
        steps = [*date_steps(settings.dates), *scale_steps(settings.numeric, scale=scale)]
        branches.append(("date", Pipeline(steps), by_type["date"]))
    transformer = ColumnTransformer(branches, remainder="drop")
    transformer.set_output(transform="pandas")  # named columns all the way to the estimator
    return transformer
