"""Preprocessing inside the model: raw columns (gaps, new categories, dates as text) in."""

from typing import Any

import numpy as np
import pandas as pd
import pytest
from omegaconf import DictConfig, OmegaConf

from {{ cookiecutter.package_name }}.config import ConfigError
from {{ cookiecutter.package_name }}.data.dataset import ColumnType
from {{ cookiecutter.package_name }}.preprocessing import build_preprocessor

from .conftest import PROJECT_ROOT

FEATURES: dict[str, ColumnType] = {
    "age": "numeric",
    "autopay": "boolean",
    "plan": "categorical",
    "signup": "date",
}


def settings(**changes: Any) -> DictConfig:
    """conf/preprocessing/default.yaml, with ``changes`` (``numeric={"impute": "mean"}``)."""
    config = OmegaConf.load(PROJECT_ROOT / "conf" / "preprocessing" / "default.yaml")
    merged = OmegaConf.merge(config, changes)
    assert isinstance(merged, DictConfig)
    return merged


@pytest.fixture
def inputs() -> pd.DataFrame:
    """60 rows as the model takes them: gaps everywhere, a rare plan, dates as ISO text."""
    rng = np.random.default_rng(7)
    rows = 60
    plans = ["basic"] * 30 + ["premium"] * 24 + ["family"] * 3 + [None, None] + ["gold"]
    frame = pd.DataFrame(
        {
            "age": rng.lognormal(3.5, 0.4, rows),
            "autopay": (np.arange(rows) % 10 == 0).astype(float),  # rarely 1
            "plan": plans,
            "signup": pd.date_range("2024-01-01", periods=rows, freq="7D").strftime(
                "%Y-%m-%dT%H:%M:%S"
            ),
        }
    ).astype({"plan": "object", "signup": "object"})
    frame.loc[[1, 2, 3], "age"] = np.nan
    frame.loc[4, "autopay"] = np.nan
    frame.loc[[5, 6], "signup"] = None
    return frame


@pytest.fixture
def new_rows() -> pd.DataFrame:
    """Rows the model never saw: a new plan, gaps, a date far ahead."""
    return pd.DataFrame(
        {
            "age": [np.nan, 40.0, 1e6],
            "autopay": [1.0, np.nan, 0.0],
            "plan": ["platinum", None, "gold"],
            "signup": [None, "2030-06-01T00:00:00", "2024-05-05T12:00:00"],
        }
    ).astype({"plan": "object", "signup": "object"})


def test_every_gap_is_imputed_and_marked(inputs: pd.DataFrame) -> None:
    output = build_preprocessor(settings(), FEATURES, scale=False).fit_transform(inputs)

    assert not output.isna().any().any()
    assert list(output.columns) == [
        "numeric__age",
        "numeric__autopay",
        "numeric__age_na",
        "numeric__autopay_na",
        "categorical__plan_Missing",
        "categorical__plan_Rare",
        "categorical__plan_basic",
        "categorical__plan_family",
        "categorical__plan_premium",
        "date__signup_year",
        "date__signup_month",
        "date__signup_day_of_week",
        "date__signup_day_of_month",
    ]
    assert output["numeric__age"].iloc[1] == pytest.approx(inputs["age"].median())
    assert output["numeric__age_na"].tolist()[:5] == [0, 1, 1, 1, 0]
    assert output["categorical__plan_Missing"].sum() == 2
    assert output["categorical__plan_Rare"].sum() == 1  # "gold": 1 row in 60, under 2 %
    assert output["date__signup_year"].iloc[0] == 2024


def test_new_categories_gaps_and_dates_do_not_fail(
    inputs: pd.DataFrame, new_rows: pd.DataFrame
) -> None:
    preprocessor = build_preprocessor(settings(), FEATURES, scale=False).fit(inputs)

    output = preprocessor.transform(new_rows)

    assert not output.isna().any().any()
    plans = output.filter(like="categorical__plan_")
    assert plans.iloc[0].tolist() == [0, 1, 0, 0, 0]  # an unseen plan counts as rare
    assert plans.iloc[1]["categorical__plan_Missing"] == 1
    assert plans.iloc[2]["categorical__plan_Rare"] == 1
    assert output["date__signup_year"].tolist()[1:] == [2030, 2024]


def test_columns_are_taken_by_name_and_others_dropped(
    inputs: pd.DataFrame, new_rows: pd.DataFrame
) -> None:
    preprocessor = build_preprocessor(settings(), FEATURES, scale=False).fit(inputs)
    shuffled = new_rows[["signup", "plan", "autopay", "age"]].assign(customer_id=["a", "b", "c"])

    output = preprocessor.transform(shuffled)

    pd.testing.assert_frame_equal(output, preprocessor.transform(new_rows))
    assert not [name for name in output.columns if "customer_id" in name]


OPTIONS = [
    {"numeric": {"impute": "mean"}},
    {"numeric": {"impute": "median"}},
    {"numeric": {"impute": "arbitrary", "fill_value": -1.0}},
    {"numeric": {"impute": "end_of_tail"}},
    {"numeric": {"missing_indicator": False}},
    {"numeric": {"transform": "yeo_johnson"}},
    {"numeric": {"cap_outliers": "iqr"}},
    {"numeric": {"cap_outliers": "gaussian"}},
    {"numeric": {"cap_outliers": "quantiles"}},
    {"numeric": {"scale": "standard"}},
    {"numeric": {"scale": "robust"}},
    {"numeric": {"scale": "minmax"}},
    {"numeric": {"scale": "none"}},
    {"numeric": {"transform": "yeo_johnson", "cap_outliers": "iqr", "scale": "robust"}},
    {"categorical": {"impute": "frequent"}},
    {"categorical": {"rare_share": 0.1, "max_categories": 2}},
]


@pytest.mark.parametrize("changes", OPTIONS, ids=str)
def test_every_option_builds_and_transforms(
    inputs: pd.DataFrame, new_rows: pd.DataFrame, changes: dict[str, Any]
) -> None:
    preprocessor = build_preprocessor(settings(**changes), FEATURES, scale=True)

    fitted = preprocessor.fit_transform(inputs)
    transformed = preprocessor.transform(new_rows)

    for output in (fitted, transformed):
        assert not output.isna().any().any()
        assert np.isfinite(output.to_numpy(dtype=float)).all()
    assert list(transformed.columns) == list(fitted.columns)
    assert len(transformed) == len(new_rows)


def test_an_arbitrary_value_fills_gaps(inputs: pd.DataFrame) -> None:
    options = settings(numeric={"impute": "arbitrary", "fill_value": -1.0, "scale": "none"})

    output = build_preprocessor(options, FEATURES, scale=True).fit_transform(inputs)

    assert output["numeric__age"].tolist()[1:4] == [-1.0, -1.0, -1.0]
    assert output["numeric__autopay"].iloc[4] == -1.0


def test_capping_limits_outliers_but_leaves_booleans_alone(
    inputs: pd.DataFrame, new_rows: pd.DataFrame
) -> None:
    options = settings(numeric={"cap_outliers": "iqr", "transform": "yeo_johnson", "scale": "none"})
    preprocessor = build_preprocessor(options, FEATURES, scale=False).fit(inputs)

    output = preprocessor.transform(new_rows)

    assert output["numeric__age"].iloc[2] < 1e3  # 1e6 capped (after the skew transform)
    assert output["numeric__autopay"].tolist() == [1.0, 0.0, 0.0]  # not capped to 0


def test_auto_scales_numbers_and_date_parts_for_a_model_that_needs_it(
    inputs: pd.DataFrame,
) -> None:
    scaled = build_preprocessor(settings(), FEATURES, scale=True).fit_transform(inputs)
    raw = build_preprocessor(settings(), FEATURES, scale=False).fit_transform(inputs)

    for name in ("numeric__age", "date__signup_year", "date__signup_day_of_month"):
        assert scaled[name].mean() == pytest.approx(0.0, abs=1e-9)
        assert scaled[name].std(ddof=0) == pytest.approx(1.0)
    assert raw["numeric__age"].iloc[0] == inputs["age"].iloc[0]
    assert raw["date__signup_year"].iloc[0] == 2024
    assert scaled["categorical__plan_basic"].iloc[0] == 1  # one-hot columns stay 0 or 1


def test_a_scaler_named_in_the_settings_scales_date_parts_too(inputs: pd.DataFrame) -> None:
    options = settings(numeric={"scale": "minmax"})

    output = build_preprocessor(options, FEATURES, scale=False).fit_transform(inputs)

    assert output["date__signup_year"].min() == 0.0
    assert output["date__signup_year"].max() == 1.0


def test_frequent_fills_a_missing_category_with_the_commonest(
    inputs: pd.DataFrame, new_rows: pd.DataFrame
) -> None:
    options = settings(categorical={"impute": "frequent"})
    preprocessor = build_preprocessor(options, FEATURES, scale=False).fit(inputs)

    output = preprocessor.transform(new_rows)

    assert "categorical__plan_Missing" not in output.columns
    assert output["categorical__plan_basic"].tolist() == [0, 1, 0]


def test_rare_categories_and_the_number_of_columns_are_limited(inputs: pd.DataFrame) -> None:
    options = settings(categorical={"rare_share": 0.1, "max_categories": 2})

    output = build_preprocessor(options, {"plan": "categorical"}, scale=False).fit_transform(inputs)

    assert output.sum().to_dict() == {
        "categorical__plan_Rare": 6,  # family, gold and the 2 missing: each under 10 %
        "categorical__plan_basic": 30,
        "categorical__plan_premium": 24,
    }


def test_date_parts_are_configurable(inputs: pd.DataFrame) -> None:
    options = settings(dates={"parts": ["quarter", "weekend"]})

    output = build_preprocessor(options, {"signup": "date"}, scale=False).fit_transform(inputs)

    assert list(output.columns) == ["date__signup_quarter", "date__signup_weekend"]
    assert not output.isna().any().any()


def test_only_the_types_present_get_a_branch(inputs: pd.DataFrame) -> None:
    preprocessor = build_preprocessor(settings(), {"plan": "categorical"}, scale=True)

    assert [name for name, _, _ in preprocessor.transformers] == ["categorical"]
    assert preprocessor.fit_transform(inputs).shape == (60, 5)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"numeric": {"impute": "mode"}}, "`numeric.impute: mode` is not an option"),
        ({"numeric": {"transform": "log"}}, "`numeric.transform: log` is not an option"),
        ({"numeric": {"cap_outliers": "mad"}}, "`numeric.cap_outliers: mad` is not an option"),
        ({"numeric": {"scale": "maxabs"}}, "`numeric.scale: maxabs` is not an option"),
        ({"categorical": {"impute": "mode"}}, "`categorical.impute: mode` is not an option"),
        ({"dates": {"parts": ["year", "fortnight"]}}, "`dates.parts: ['year', 'fortnight']`"),
    ],
)
def test_a_bad_option_is_named(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as error:
        build_preprocessor(settings(**changes), FEATURES, scale=True)

    assert str(error.value).startswith(f"preprocessing: {message}")


def test_a_bad_option_lists_the_good_ones() -> None:
    with pytest.raises(ConfigError) as error:
        build_preprocessor(settings(numeric={"scale": "maxabs"}), FEATURES, scale=True)

    assert str(error.value).endswith("use one of ['auto', 'minmax', 'none', 'robust', 'standard']")
