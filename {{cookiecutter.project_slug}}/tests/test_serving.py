"""The prediction service, through Flask's test client, with a model in a private registry."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client import REGISTRY

from {{ cookiecutter.package_name }}.metadata import load_metadata
from {{ cookiecutter.package_name }}.serving.app import create_app
from {{ cookiecutter.package_name }}.serving.logs import JsonFormatter
from {{ cookiecutter.package_name }}.serving.model import ServedModel
from {{ cookiecutter.package_name }}.serving.settings import (
    ServeSettings,
    SettingsError,
    load_settings,
)

from .sample_model import FEATURES, LABELS

ROWS: list[dict[str, Any]] = FEATURES.to_dict("records")
ROW = ROWS[0]


@pytest.fixture
def app(registered_model: str) -> Flask:
    return create_app(ServeSettings(registered_model, max_batch_rows=3, max_body_bytes=2000))


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def post(client: FlaskClient, body: Any) -> tuple[int, dict[str, Any]]:
    response = client.post("/predict", json=body)
    return response.status_code, response.get_json()


def sample(name: str, labels: dict[str, str]) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_health_answers_before_the_model_is_loaded(registered_model: str) -> None:
    client = create_app(
        ServeSettings(registered_model, load_wait_seconds=0), load="never"
    ).test_client()

    assert client.get("/health").status_code == 200
    assert client.get("/ready").status_code == 503
    assert client.post("/predict", json=ROW).status_code == 503


def test_ready_once_loaded_and_model_describes_itself(client: FlaskClient) -> None:
    assert client.get("/ready").status_code == 200
    card = client.get("/model").get_json()

    assert card["name"] == load_metadata().tracking.registered_model_name
    assert (card["version"], card["alias"]) == ("1", "champion")
    assert card["run_id"]
    assert "bpm_mean" in card["signature"]["inputs"]
    assert card["input_example"] == [ROW]


def test_the_input_example_can_be_posted_back(client: FlaskClient) -> None:
    example = client.get("/model").get_json()["input_example"]

    status, body = post(client, example)

    assert status == 200
    assert body["predictions"] == ["sitting"]
    assert body["model"]["version"] == "1"


def test_server_timing_says_where_a_prediction_spent_its_time(client: FlaskClient) -> None:
    timing = client.post("/predict", json=ROW).headers["Server-Timing"]

    steps = dict(metric.split(";dur=") for metric in timing.split(", "))
    assert list(steps) == ["read", "parse", "model", "app"]
    assert sum(float(steps[step]) for step in ("read", "parse", "model")) <= float(steps["app"])


def test_one_row_or_a_batch_up_to_the_limit(client: FlaskClient) -> None:
    status, body = post(client, ROW)
    assert (status, body["predictions"]) == (200, ["sitting"])
    status, body = post(client, ROWS[1:])
    assert status == 200
    assert body["predictions"] == LABELS[1:]
    status, body = post(client, {"bpm_mean": 160, "acc_mag_std": 3})  # JSON integers
    assert (status, body["predictions"]) == (200, ["running"])


def test_a_split_body_predicts_like_its_records(client: FlaskClient) -> None:
    split = json.loads(FEATURES.iloc[1:].to_json(orient="split"))  # "index" included, ignored

    status, body = post(client, split)

    assert (status, body["predictions"]) == (200, LABELS[1:])


@pytest.mark.parametrize(
    ("settings", "expected_version"),
    [({"model_version": "1"}, "1"), ({"model_alias": "champion"}, "1")],
)
def test_version_or_alias_selects_the_model(
    registered_model: str, settings: dict[str, str], expected_version: str
) -> None:
    client = create_app(ServeSettings(registered_model, **settings)).test_client()  # type: ignore[arg-type]

    assert client.get("/model").get_json()["version"] == expected_version


def test_a_local_model_folder_can_be_served(registered_model: str, tmp_path: Path) -> None:
    folder = mlflow.artifacts.download_artifacts(
        f"models:/{registered_model}/1", dst_path=str(tmp_path)
    )
    client = create_app(ServeSettings(registered_model, model_uri=folder)).test_client()

    assert post(client, ROW)[0] == 200
    assert client.get("/model").get_json()["uri"] == folder


NOT_A_NUMBER = "column 'bpm_mean' must be a number (double); rows [0]"
BAD_BODIES = [
    ({"bpm_mean": 60.0}, "missing column 'acc_mag_std' in rows [0]"),
    ({**ROW, "extra": 1}, "unknown column 'extra' in rows [0]"),
    ({**ROW, "bpm_mean": "60"}, f"{NOT_A_NUMBER} hold a string"),
    ({**ROW, "bpm_mean": True}, f"{NOT_A_NUMBER} hold a boolean"),
    ({**ROW, "bpm_mean": None}, "column 'bpm_mean' must not be null; rows [0] are"),
    ([], "the batch is empty: send at least one row"),
    ([ROW] * 4, "the batch has 4 rows; at most 3 are allowed"),
    ([ROW, 7], "every row must be a JSON object; rows [1] are not"),
    ("text", "the body must be a JSON object (one row), an array of them, or {"),
    ({"columns": ["bpm_mean"], "data": [[60.0]]}, "missing column 'acc_mag_std' in rows [0]"),
    ({"columns": ["bpm_mean"], "data": [[1, 2]]}, "every row of 'data' must hold 1 values"),
]


@pytest.mark.parametrize(("body", "problem"), BAD_BODIES)
def test_bad_rows_get_400_naming_the_problem(client: FlaskClient, body: Any, problem: str) -> None:
    status, answer = post(client, body)

    assert status == 400
    assert [p for p in answer["problems"] if p.startswith(problem)], answer["problems"]
    assert answer["request_id"]


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_numbers_get_400(client: FlaskClient, literal: str) -> None:
    body = '{"bpm_mean": ' + literal + ', "acc_mag_std": 0.1}'

    response = client.post("/predict", data=body, content_type="application/json")

    assert response.status_code == 400
    assert response.get_json()["problems"] == [
        "column 'bpm_mean' must be a finite number; "
        "rows [0] hold NaN, infinity or a number beyond float range"
    ]


def test_every_problem_of_a_batch_is_named_at_once(client: FlaskClient) -> None:
    rows = [{"bpm_mean": "x"}, {**ROW, "acc_mag_std": float("inf"), "other": 1}]

    response = client.post("/predict", data=json.dumps(rows), content_type="application/json")

    assert response.status_code == 400
    assert response.get_json()["problems"] == [
        "missing column 'acc_mag_std' in rows [0]",
        "unknown column 'other' in rows [1]; the model takes only ['acc_mag_std', 'bpm_mean']",
        "column 'bpm_mean' must be a number (double); rows [0] hold a string",
        "column 'acc_mag_std' must be a finite number; "
        "rows [1] hold NaN, infinity or a number beyond float range",
    ]


def test_invalid_json_gets_400(client: FlaskClient) -> None:
    response = client.post("/predict", data="{not json", content_type="application/json")

    assert response.status_code == 400
    assert response.get_json()["error"] == "the body is not valid JSON"


def test_body_over_the_limit_gets_413(client: FlaskClient) -> None:
    response = client.post("/predict", json=[ROW] * 100)

    assert response.status_code == 413
    assert "limit of 2000 bytes" in response.get_json()["error"]


@pytest.mark.parametrize("content_type", ["text/csv", "application/x-www-form-urlencoded"])
def test_wrong_content_type_gets_415(client: FlaskClient, content_type: str) -> None:
    response = client.post("/predict", data=json.dumps(ROW), content_type=content_type)

    assert response.status_code == 415
    assert "application/json" in response.get_json()["error"]


def test_unknown_route_and_method_get_json_errors(client: FlaskClient) -> None:
    missing = client.get("/nowhere")
    wrong_method = client.get("/predict")

    assert (missing.status_code, missing.get_json()["error"]) == (
        404,
        "no such endpoint: GET /nowhere",
    )
    assert wrong_method.status_code == 405
    assert wrong_method.is_json


def test_a_failing_model_gives_500_with_the_request_id(
    registered_model: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(self: ServedModel, frame: pd.DataFrame) -> list[Any]:
        raise RuntimeError("model exploded")

    monkeypatch.setattr(ServedModel, "predict", broken)
    client = create_app(ServeSettings(registered_model)).test_client()

    response = client.post("/predict", json=ROW, headers={"X-Request-ID": "req-42"})

    assert response.status_code == 500
    assert response.get_json()["request_id"] == "req-42"
    assert response.headers["X-Request-ID"] == "req-42"
    assert "app;dur=" in response.headers["Server-Timing"]


def test_non_finite_predictions_become_null(
    registered_model: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def regressor(self: ServedModel, frame: pd.DataFrame) -> list[Any]:
        return [float("nan"), 1.5, float("inf")][: len(frame)]

    monkeypatch.setattr(ServedModel, "predict", regressor)
    client = create_app(ServeSettings(registered_model)).test_client()
    before = sample("model_output_non_null_fraction_sum", {})

    status, body = post(client, ROWS[:3])

    assert (status, body["predictions"]) == (200, [None, 1.5, None])
    assert sample("model_output_non_null_fraction_sum", {}) - before == pytest.approx(1 / 3)


def test_metrics_count_requests_rows_and_quality(client: FlaskClient) -> None:
    ok = {"endpoint": "/predict", "status": "200"}
    bad = {"endpoint": "/predict", "status": "400"}
    before = {
        "ok": sample("model_requests_total", ok),
        "bad": sample("model_requests_total", bad),
        "rows": sample("model_rows_predicted_total", {}),
        "missing": sample("model_input_missing_fraction_count", {}),
        "latency": sample("model_request_latency_seconds_count", {"endpoint": "/predict"}),
    }

    post(client, ROWS[:3])
    post(client, ROW)
    post(client, {"bpm_mean": 1.0})
    text = client.get("/metrics").get_data(as_text=True)

    assert sample("model_requests_total", ok) - before["ok"] == 2
    assert sample("model_requests_total", bad) - before["bad"] == 1
    assert sample("model_rows_predicted_total", {}) - before["rows"] == 4
    assert sample("model_input_missing_fraction_count", {}) - before["missing"] == 3
    assert sample("model_request_latency_seconds_count", {"endpoint": "/predict"}) == (
        before["latency"] + 3
    )
    assert "# TYPE model_output_non_null_fraction histogram" in text


def test_openapi_describes_the_endpoints_and_the_input_schema(client: FlaskClient) -> None:
    document = client.get("/openapi.json").get_json()

    assert document["openapi"].startswith("3.")
    assert set(document["paths"]) == {
        "/health",
        "/ready",
        "/model",
        "/metrics",
        "/openapi.json",
        "/predict",
    }
    row = document["components"]["schemas"]["Row"]
    assert row["required"] == ["bpm_mean", "acc_mag_std"]
    assert row["additionalProperties"] is False
    batch = document["paths"]["/predict"]["post"]["requestBody"]["content"]["application/json"]
    assert batch["schema"]["oneOf"][1]["maxItems"] == 3
    split = document["components"]["schemas"]["Split"]
    assert split["properties"]["columns"]["items"]["enum"] == ["bpm_mean", "acc_mag_std"]
    assert split["properties"]["data"]["maxItems"] == 3


def test_settings_come_from_conf_serve_then_the_environment(scratch_project: Path) -> None:
    configured = load_settings(["serve.max_batch_rows=7"], environ={})
    overridden = load_settings(
        environ={
            "MODEL_VERSION": "3",
            "MAX_BODY_BYTES": "999",
            "MODEL_URI": "",
            "MERGE_REQUESTS": "false",
        }
    )

    assert (configured.max_batch_rows, configured.model_alias) == (7, "champion")
    assert configured.uri.endswith("@champion")
    assert configured.merge_requests
    assert (overridden.model_version, overridden.max_body_bytes) == ("3", 999)
    assert not overridden.merge_requests
    assert overridden.uri.endswith("/3")


@pytest.mark.usefixtures("scratch_project")
def test_bad_settings_are_named() -> None:
    with pytest.raises(SettingsError, match=r"MAX_BATCH_ROWS must be a number \(int\)"):
        load_settings(environ={"MAX_BATCH_ROWS": "many"})
    with pytest.raises(SettingsError, match="MERGE_REQUESTS must be true or false, got 'maybe'"):
        load_settings(environ={"MERGE_REQUESTS": "maybe"})
    with pytest.raises(SettingsError, match="max_batch_rows must be at least 1"):
        load_settings(["serve.max_batch_rows=0"], environ={})


def test_logs_are_json_lines_with_extra_fields() -> None:
    record = logging.LogRecord("svc", logging.INFO, __file__, 1, "request", None, None)
    record.request_id = "abc"
    record.latency_ms = 1.5

    entry = json.loads(JsonFormatter().format(record))

    assert entry["message"] == "request"
    assert (entry["request_id"], entry["latency_ms"]) == ("abc", 1.5)
