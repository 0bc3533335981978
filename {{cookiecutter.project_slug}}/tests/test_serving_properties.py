"""Property-based: whatever JSON a client sends to /predict, the service never answers 5xx."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mlflow.models import infer_signature
from sklearn.ensemble import RandomForestClassifier

from {{ cookiecutter.package_name }}.metadata import load_metadata
from {{ cookiecutter.package_name }}.serving.app import create_app
from {{ cookiecutter.package_name }}.serving.settings import ServeSettings

COLUMNS = ["bpm_mean", "acc_mag_std"]
FEATURES = pd.DataFrame({"bpm_mean": [60.0, 70.0, 150.0, 160.0], "acc_mag_std": [0.1, 0.2, 2, 3]})
LABELS = ["sitting", "sitting", "running", "running"]

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=5)
)
ANY_JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=12,
)
VALUE = SCALARS | st.floats(min_value=-1e40, max_value=1e40)
ROW = st.dictionaries(
    st.sampled_from([*COLUMNS, "other"]), VALUE, max_size=3
) | st.fixed_dictionaries({name: VALUE for name in COLUMNS})
BODY = ROW | st.lists(ROW, max_size=6) | ANY_JSON


def _client(model_name: str) -> FlaskClient:
    return create_app(ServeSettings(model_name, max_batch_rows=5)).test_client()


def _register() -> str:
    name = load_metadata().tracking.registered_model_name
    model = RandomForestClassifier(n_estimators=5, random_state=0).fit(FEATURES, LABELS)
    with mlflow.start_run():
        mlflow.sklearn.log_model(
            model,
            name="model",
            signature=infer_signature(FEATURES, model.predict(FEATURES)),
            registered_model_name=name,
            pip_requirements=["scikit-learn"],
            skops_trusted_types=["sklearn.tree._tree.Tree"],
        )
    mlflow.MlflowClient().set_registered_model_alias(name, "champion", "1")
    return name


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")  # float32 casts
def test_no_body_makes_the_service_fail(scratch_project: Path, tracking_uri: str) -> None:
    client = _client(_register())
    seen: set[int] = set()

    @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
    @given(body=BODY)
    def check(body: Any) -> None:
        data = json.dumps(body)  # NaN and Infinity literals included: Python's json reads them
        response = client.post("/predict", data=data, content_type="application/json")
        seen.add(response.status_code)
        assert response.status_code in (200, 400), (response.status_code, data)
        assert response.is_json

    check()
    assert seen == {200, 400}
