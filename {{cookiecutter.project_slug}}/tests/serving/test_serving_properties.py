"""Property-based: whatever JSON a client sends to /predict, the service never answers 5xx.

And schemathesis, reading /openapi.json, sends requests that the document allows
(and, to /predict, requests that it forbids): every answer must be what the
document promises, and no answer a 5xx.

The service is the configured dataset's champion, so the rows are made of its
columns: well-formed values (numbers, known categories, ISO dates, null) mixed
with any JSON at all.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
import schemathesis
import schemathesis.checks
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import CheckContext
from schemathesis.core.transport import Response

from {{ cookiecutter.package_name }}.inputs import NUMERIC_TYPES
from {{ cookiecutter.package_name }}.serving.app import create_app
from {{ cookiecutter.package_name }}.serving.settings import ServeSettings

from ..champion import Champion

# Numbers beyond float32 range become infinities when the model casts them (it then
# refuses the rows); numpy warns about the cast and about sums of those infinities.
# pandas warns when text in a date column is no date it can read (the model refuses it).
pytestmark = [
    pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning"),
    pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning"),
    pytest.mark.filterwarnings("ignore:Could not infer format:UserWarning"),
]
MAX_ROWS = 5
MODEL_REJECTED = "the model rejected the rows"

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
DATES = st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1))


def well_formed(champion: Champion, name: str) -> st.SearchStrategy[Any]:
    """Values of column ``name`` the model takes: its kind of value, or null."""
    kind = champion.project.experiment.features[name]
    if champion.types[name] in NUMERIC_TYPES:
        return st.none() | st.integers(-1000, 1000) | st.floats(-1e6, 1e6)
    if kind == "date":
        return st.none() | DATES.map(lambda day: day.isoformat(timespec="seconds"))
    known = sorted(champion.project.train_set[name].dropna().astype(str).unique())
    return st.none() | st.text(max_size=5) | st.sampled_from(known or [""])


def bodies(champion: Champion) -> st.SearchStrategy[Any]:
    """Rows and batches of the model's columns, some well formed, and any JSON at all."""
    names = champion.names
    good = st.fixed_dictionaries(
        {name: well_formed(champion, name) for name in names},
        optional={"other": ANY_JSON},
    )
    mixed = st.fixed_dictionaries({name: well_formed(champion, name) | VALUE for name in names})
    some = st.dictionaries(st.sampled_from([*names, "other"]), VALUE, max_size=4)
    row = good | mixed | some
    split = st.fixed_dictionaries(
        {
            "columns": st.permutations([*names, "other"]).map(list)
            | st.lists(st.sampled_from([*names, "other"]), max_size=len(names) + 1),
            "data": st.lists(st.lists(VALUE, max_size=len(names) + 1) | VALUE, max_size=6)
            | ANY_JSON,
        },
        optional={"index": ANY_JSON, "other": VALUE},
    )
    return good | row | st.lists(row, max_size=MAX_ROWS + 1) | split | ANY_JSON


def _client(model_name: str) -> FlaskClient:
    return create_app(ServeSettings(model_name, max_batch_rows=MAX_ROWS)).test_client()


def test_no_body_makes_the_service_fail(registered_model: str, champion: Champion) -> None:
    client = _client(registered_model)
    seen: set[int] = set()

    @settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
    @given(body=bodies(champion))
    def check(body: Any) -> None:
        data = json.dumps(body)  # NaN and Infinity literals included: Python's json reads them
        response = client.post("/predict", data=data, content_type="application/json")
        seen.add(response.status_code)
        assert response.status_code in (200, 400), (response.status_code, data)
        assert response.is_json

    check()
    assert seen == {200, 400}


def rows_pass_the_services_checks(names: list[str]) -> Any:
    """A check: rows the document allows are refused, if at all, by the model only.

    The document says what a row holds (every column, of its type, or null), not
    what the model makes of the values (a date that is not a date, a number
    beyond what the estimator computes with), so schemathesis' own check that a
    valid request is accepted does not apply; this one holds instead.
    """

    def check(ctx: CheckContext, response: Response, case: schemathesis.Case[Any]) -> None:
        body = case.body
        rows = body if isinstance(body, list) else [body]
        positive = case.meta is not None and case.meta.generation.mode.is_positive
        is_rows = all(isinstance(row, dict) and set(names) <= set(row) for row in rows)
        if positive and is_rows and response.status_code == 400:
            assert response.json()["error"] == MODEL_REJECTED, response.json()

    return check


def test_the_service_keeps_the_promises_of_its_openapi_document(
    registered_model: str, champion: Champion
) -> None:
    app = create_app(ServeSettings(registered_model, max_batch_rows=MAX_ROWS))
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    paths = schema.raw_schema["paths"]
    rows_check = rows_pass_the_services_checks(champion.names)
    # Cases are drawn from each operation's strategy here rather than through
    # schemathesis' pytest plugin, whose from_fixture() does not run under pytest 9.
    for path, method in [(path, method) for path, methods in paths.items() for method in methods]:
        operation = schema[path][method]
        modes = [schemathesis.GenerationMode.POSITIVE]
        if method == "post":
            modes.append(schemathesis.GenerationMode.NEGATIVE)

        @settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
        @given(case=st.one_of([operation.as_strategy(mode) for mode in modes]))
        def check(case: schemathesis.Case[Any]) -> None:
            # No 5xx; status, content type and body as documented; forbidden bodies refused.
            case.call_and_validate(
                excluded_checks=[schemathesis.checks.positive_data_acceptance],
                additional_checks=[rows_check],
            )

        check()
