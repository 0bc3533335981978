"""Property-based: whatever JSON a client sends to /predict, the service never answers 5xx.

And schemathesis, reading /openapi.json, sends requests that the document allows
(and, to /predict, requests that it forbids): every answer must be what the
document promises, and no answer a 5xx.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest
import schemathesis
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.ensemble import RandomForestClassifier

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
SPLIT = st.fixed_dictionaries(
    {
        "columns": st.lists(st.sampled_from([*COLUMNS, "other"]), max_size=3),
        "data": st.lists(st.lists(VALUE, max_size=3) | VALUE, max_size=6) | ANY_JSON,
    },
    optional={"index": ANY_JSON, "other": VALUE},
)
BODY = ROW | st.lists(ROW, max_size=6) | SPLIT | ANY_JSON


def _client(model_name: str) -> FlaskClient:
    return create_app(ServeSettings(model_name, max_batch_rows=5)).test_client()


# Numbers beyond float32 range become infinities when the model casts them (it then
# refuses the rows); numpy warns about the cast and about sums of those infinities.
@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_no_body_makes_the_service_fail(register_model: Callable[..., str]) -> None:
    model = RandomForestClassifier(n_estimators=5, random_state=0).fit(FEATURES, LABELS)
    client = _client(register_model(model, FEATURES))
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


def test_the_service_keeps_the_promises_of_its_openapi_document(registered_model: str) -> None:
    app = create_app(ServeSettings(registered_model, max_batch_rows=5))
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    paths = schema.raw_schema["paths"]
    # Cases are drawn from each operation's strategy here rather than through
    # schemathesis' pytest plugin, whose from_fixture() does not run under pytest 9.
    for path, method in [(path, method) for path, methods in paths.items() for method in methods]:
        operation = schema[path][method]
        modes = [schemathesis.GenerationMode.POSITIVE]
        if method == "post":
            modes.append(schemathesis.GenerationMode.NEGATIVE)

        @settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
        @given(case=st.one_of([operation.as_strategy(mode) for mode in modes]))
        def check(case: schemathesis.Case[Any]) -> None:
            case.call_and_validate()  # no 5xx; status, content type and body as documented

        check()
