"""The prediction service, through Flask's test client, serving the configured dataset's champion.

Rows, column names and expected predictions come from the trained project
(``champion.py``), so the tests hold for any configured table and task.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client import REGISTRY

from {{ cookiecutter.package_name }}.config import compose_config
from {{ cookiecutter.package_name }}.inputs import NUMERIC_TYPES
from {{ cookiecutter.package_name }}.metadata import load_metadata
from {{ cookiecutter.package_name }}.predict import main
from {{ cookiecutter.package_name }}.prediction_log import log_files, read_logs
from {{ cookiecutter.package_name }}.serving.app import create_app
from {{ cookiecutter.package_name }}.serving.logs import JsonFormatter
from {{ cookiecutter.package_name }}.serving.model import ServedModel
from {{ cookiecutter.package_name }}.serving.settings import (
    ServeSettings,
    SettingsError,
    load_settings,
)

from ..champion import Champion, Record
from ..conftest import TrainedProject

MAX_ROWS = 3
NOT_FINITE = "must be a finite number or missing (null); rows [{}] hold {}"
OTHER_KEYS = {"not an input": "call back", "nor this": [1, {"x": None}], "flag": True, "n": None}


@pytest.fixture
def rows(champion: Champion) -> list[Record]:
    return champion.records(champion.test_rows(MAX_ROWS))


@pytest.fixture
def row(rows: list[Record]) -> Record:
    return rows[0]


@pytest.fixture
def body_limit(row: Record) -> int:
    """Room for a few more rows than the batch limit, whatever the width of a row."""
    return 8 * len(json.dumps(row)) + 1000


@pytest.fixture
def app(registered_model: str, body_limit: int) -> Flask:
    settings = ServeSettings(registered_model, max_batch_rows=MAX_ROWS, max_body_bytes=body_limit)
    return create_app(settings)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def post(client: FlaskClient, body: Any) -> tuple[int, dict[str, Any]]:
    response = client.post("/predict", json=body)
    return response.status_code, response.get_json()


def post_text(client: FlaskClient, text: str) -> tuple[int, dict[str, Any]]:
    response = client.post("/predict", data=text, content_type="application/json")
    return response.status_code, response.get_json()


def sample(name: str, labels: dict[str, str] | None = None) -> float:
    return REGISTRY.get_sample_value(name, labels or {}) or 0.0


def missing_fraction(records: list[Record]) -> float:
    return sum(value is None for record in records for value in record.values()) / (
        len(records) * len(records[0])
    )


def test_health_answers_before_the_model_is_loaded(registered_model: str, row: Record) -> None:
    client = create_app(
        ServeSettings(registered_model, load_wait_seconds=0), load="never"
    ).test_client()

    assert client.get("/health").status_code == 200
    assert client.get("/ready").status_code == 503
    assert client.post("/predict", json=row).status_code == 503


def test_ready_once_loaded_and_model_describes_itself(
    client: FlaskClient, registered_model: str, trained_project: TrainedProject
) -> None:
    experiment = trained_project.experiment

    assert client.get("/ready").status_code == 200
    card = client.get("/model").get_json()

    assert card["name"] == registered_model
    assert card["name"] == load_metadata().registered_model_name(experiment.name)
    assert (card["version"], card["alias"]) == ("1", "champion")
    assert card["run_id"]
    assert all(column["required"] for column in card["columns"])  # a missing value: null
    # Raw columns in: numbers as doubles, categories and dates as text.
    assert {column["name"]: column["type"] for column in card["columns"]} == {
        name: "double" if kind in ("numeric", "boolean") else "string"
        for name, kind in experiment.features.items()
    }
    inputs = card["signature"]["inputs"]  # JSON objects, not a JSON string inside JSON
    assert [column["name"] for column in inputs] == list(experiment.features)
    assert isinstance(card["signature"]["outputs"], list)


def test_the_input_example_can_be_posted_back(client: FlaskClient, champion: Champion) -> None:
    example = client.get("/model").get_json()["input_example"]

    status, body = post(client, example)

    assert [set(record) for record in example] == [set(champion.names)]
    assert status == 200
    champion.assert_predictions(body["predictions"], champion.predict(example))
    assert body["model"]["version"] == "1"


def test_server_timing_says_where_a_prediction_spent_its_time(
    client: FlaskClient, row: Record
) -> None:
    timing = client.post("/predict", json=row).headers["Server-Timing"]

    steps = dict(metric.split(";dur=") for metric in timing.split(", "))
    assert list(steps) == ["parse", "model", "app"]
    assert float(steps["parse"]) + float(steps["model"]) <= float(steps["app"])


def test_one_row_or_a_batch_up_to_the_limit(
    client: FlaskClient, champion: Champion, rows: list[Record]
) -> None:
    status, body = post(client, rows[0])
    assert status == 200
    champion.assert_predictions(body["predictions"], champion.predict(rows[:1]))

    status, body = post(client, rows)

    assert status == 200
    champion.assert_predictions(body["predictions"], champion.predict(rows))


def test_json_integers_are_numbers(client: FlaskClient, champion: Champion, row: Record) -> None:
    name = champion.numeric_column()
    numeric = [other for other, kind in champion.types.items() if kind in NUMERIC_TYPES]
    integers = {
        key: round(value) if key in numeric and value is not None else value
        for key, value in row.items()
    }
    integers[name] = 3  # at least one

    status, body = post(client, integers)

    assert status == 200
    champion.assert_predictions(body["predictions"], champion.predict([integers]))


def test_a_split_body_predicts_like_its_records(client: FlaskClient, champion: Champion) -> None:
    frame = pd.DataFrame(champion.records(champion.test_rows(MAX_ROWS)), index=[7, 8, 9])
    split = json.loads(frame.to_json(orient="split"))  # "index" included, ignored

    status, body = post(client, split)

    assert status == 200
    records = json.loads(frame.to_json(orient="records"))  # the same values, through JSON
    champion.assert_predictions(body["predictions"], champion.predict(records))


def test_columns_the_model_does_not_take_are_ignored(
    client: FlaskClient, champion: Champion, rows: list[Record]
) -> None:
    split = {
        "columns": ["not an input", *reversed(champion.names)],
        "data": [["x", *(record[name] for name in reversed(champion.names))] for record in rows],
    }

    status, body = post(client, [{**OTHER_KEYS, **record} for record in rows])
    split_status, split_body = post(client, split)

    expected = champion.predict(rows)
    assert (status, split_status) == (200, 200)
    champion.assert_predictions(body["predictions"], expected)
    champion.assert_predictions(split_body["predictions"], expected)


@pytest.mark.parametrize("nulls", ["every column", "one column"])
def test_null_is_a_missing_value_the_model_imputes(
    client: FlaskClient, champion: Champion, row: Record, nulls: str
) -> None:
    blank = champion.names if nulls == "every column" else champion.names[:1]
    record = {**row, **dict.fromkeys(blank)}
    before = (
        sample("model_input_missing_fraction_sum"),
        sample("model_input_missing_fraction_count"),
    )

    status, body = post(client, record)

    assert status == 200, body
    champion.assert_valid(body["predictions"])
    champion.assert_predictions(body["predictions"], champion.predict([record]))
    after = sample("model_input_missing_fraction_sum"), sample("model_input_missing_fraction_count")
    assert after[0] - before[0] == pytest.approx(len(blank) / len(champion.names))
    assert after[1] - before[1] == 1


@pytest.mark.parametrize(
    "form", ["{day}", "{day}T00:00:00", "{day}T00:00:00.000Z"], ids=["date", "time", "javascript"]
)
def test_a_date_sent_as_iso_text_is_served(
    client: FlaskClient, champion: Champion, form: str
) -> None:
    dates = champion.features_of_type("date")
    stored = champion.test_rows(MAX_ROWS)
    for name in dates:
        stored[name] = stored[name].dt.normalize()  # midnight: every form names the same day
    expected = champion.predict(champion.records(stored))
    records = champion.records(stored)
    for record, (_, values) in zip(records, stored.iterrows(), strict=True):
        for name in dates:
            if pd.notna(values[name]):
                record[name] = form.format(day=values[name].date().isoformat())

    status, body = post(client, records)

    assert status == 200, body
    champion.assert_predictions(body["predictions"], expected)


def test_text_that_is_not_a_date_is_refused_by_the_model(
    client: FlaskClient, champion: Champion, row: Record
) -> None:
    name = champion.features_of_type("date")[0]

    status, body = post(client, {**row, name: "not a date"})

    assert status == 400
    assert body["error"] == "the model rejected the rows"
    assert body["problems"]


def test_an_unseen_category_is_served(
    client: FlaskClient, champion: Champion, trained_project: TrainedProject, rows: list[Record]
) -> None:
    categorical = champion.features_of_type("categorical")
    unseen = "a value never seen in training"
    assert not any((trained_project.train_set[name] == unseen).any() for name in categorical)
    records = [{**record, **dict.fromkeys(categorical, unseen)} for record in rows]

    status, body = post(client, records)

    assert status == 200, body
    champion.assert_valid(body["predictions"])
    champion.assert_predictions(body["predictions"], champion.predict(records))


def test_predictions_are_the_tasks(client: FlaskClient, champion: Champion) -> None:
    records = champion.records(champion.test_rows(MAX_ROWS))

    predictions = post(client, records)[1]["predictions"]

    assert len(predictions) == len(records)
    champion.assert_valid(predictions)  # regression: numbers; classification: known labels


def test_the_command_line_and_the_service_agree(
    registered_model: str, champion: Champion, tmp_path: Path
) -> None:
    stored = champion.rows_with_gaps(6)  # as stored, label included
    source = tmp_path / "batch.csv"
    stored.assign(note="not an input").to_csv(source, index=False)
    client = create_app(ServeSettings(registered_model)).test_client()

    assert main([str(source), "--output", str(tmp_path / "scored.parquet")]) == 0
    response = client.post("/predict", json=champion.records(stored))

    scored = pd.read_parquet(tmp_path / "scored.parquet")
    assert response.status_code == 200, response.get_json()
    assert list(scored.columns) == [*stored.columns, "note", "prediction"]  # others kept
    assert (scored["note"] == "not an input").all()
    champion.assert_predictions(scored["prediction"].tolist(), response.get_json()["predictions"])


@pytest.mark.parametrize(
    ("settings", "expected_version"),
    [({"model_version": "1"}, "1"), ({"model_alias": "champion"}, "1")],
)
def test_version_or_alias_selects_the_model(
    registered_model: str, settings: dict[str, str], expected_version: str
) -> None:
    client = create_app(ServeSettings(registered_model, **settings)).test_client()  # type: ignore[arg-type]

    assert client.get("/model").get_json()["version"] == expected_version


def test_a_local_model_folder_can_be_served(
    registered_model: str, tmp_path: Path, row: Record
) -> None:
    folder = mlflow.artifacts.download_artifacts(
        f"models:/{registered_model}/1", dst_path=str(tmp_path)
    )
    client = create_app(ServeSettings(registered_model, model_uri=folder)).test_client()

    assert post(client, row)[0] == 200
    assert client.get("/model").get_json()["uri"] == folder


def bad_body(case: str, champion: Champion, row: Record) -> tuple[Any, str]:
    """A body that breaks one rule, and the start of the problem the service names."""
    names, first = champion.names, champion.names[0]
    if case == "a missing column":
        return {k: v for k, v in row.items() if k != first}, f"missing column '{first}' in rows [0]"
    if case in ("text in a numeric column", "true in a numeric column"):
        name = champion.numeric_column()
        value, told = ("60", '"60"') if case.startswith("text") else (True, "true")
        problem = f"column '{name}' must be a number ({champion.types[name]}) or missing (null)"
        return {**row, name: value}, f"{problem}; rows [0] hold {told}"
    if case == "a number in a text column":
        name = champion.text_column()
        problem = f"column '{name}' must be a string or missing (null); rows [0] hold 42"
        return {**row, name: 42}, problem
    if case == "a split body without a column":
        columns = [*names[1:], "other"]
        body = {"columns": columns, "data": [[*(row[name] for name in names[1:]), 1]]}
        return body, f"missing column '{first}' in rows [0]"
    if case == "a split row of the wrong size":
        body = {"columns": names, "data": [[*row.values(), 1]]}
        return body, f"every row of 'data' must hold {len(names)} values"
    bodies = {
        "an empty batch": ([], "the batch is empty: send at least one row"),
        "too many rows": ([row] * 4, "the batch has 4 rows; at most 3 are allowed"),
        "a row that is not an object": ([row, 7], "every row must be a JSON object; rows [1]"),
        "text": ("text", "the body must be a JSON object (one row), an array of them, or {"),
    }
    return bodies[case]


@pytest.mark.parametrize(
    "case",
    [
        "a missing column",
        "text in a numeric column",
        "true in a numeric column",
        "a number in a text column",
        "an empty batch",
        "too many rows",
        "a row that is not an object",
        "text",
        "a split body without a column",
        "a split row of the wrong size",
    ],
)
def test_bad_rows_get_400_naming_the_problem(
    client: FlaskClient, champion: Champion, row: Record, case: str
) -> None:
    body, problem = bad_body(case, champion, row)

    status, answer = post(client, body)

    assert status == 400
    assert answer["error"] == "the rows do not match the model's input schema"
    assert [p for p in answer["problems"] if p.startswith(problem)], answer["problems"]
    assert answer["request_id"]


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_numbers_get_400(
    client: FlaskClient, champion: Champion, row: Record, literal: str
) -> None:
    name = champion.numeric_column()
    text = json.dumps({**row, name: "<number>"}).replace('"<number>"', literal)

    status, answer = post_text(client, text)

    assert status == 400
    told = {"1e999": "Infinity"}.get(literal, literal)  # read as the float it overflows to
    assert answer["problems"] == [f"column '{name}' {NOT_FINITE.format(0, told)}"]


def test_every_problem_of_a_batch_is_named_at_once(
    client: FlaskClient, champion: Champion, row: Record
) -> None:
    name = champion.numeric_column()
    kind = champion.types[name]
    rows = [{name: "x", "other": 1}, {**row, name: float("inf"), "other": 1}]

    status, answer = post_text(client, json.dumps(rows))

    assert status == 400
    assert answer["problems"] == [
        *(f"missing column '{other}' in rows [0]" for other in champion.names if other != name),
        f"column '{name}' must be a number ({kind}) or missing (null); rows [0] hold \"x\"",
        f"column '{name}' {NOT_FINITE.format(1, 'Infinity')}",
    ]


def test_invalid_json_gets_400(client: FlaskClient) -> None:
    response = client.post("/predict", data="{not json", content_type="application/json")

    assert response.status_code == 400
    assert response.get_json()["error"] == "the body is not valid JSON"


def test_body_over_the_limit_gets_413(client: FlaskClient, row: Record, body_limit: int) -> None:
    response = client.post("/predict", json=[row] * (body_limit // len(json.dumps(row)) + 1))

    assert response.status_code == 413
    assert f"limit of {body_limit} bytes" in response.get_json()["error"]


@pytest.mark.parametrize("content_type", ["text/csv", "application/x-www-form-urlencoded"])
def test_wrong_content_type_gets_415(client: FlaskClient, row: Record, content_type: str) -> None:
    response = client.post("/predict", data=json.dumps(row), content_type=content_type)

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


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/health"), ("GET", "/model"), ("GET", "/metrics"), ("GET", "/x")]
)
def test_every_answer_forbids_sniffing_and_caching(
    client: FlaskClient, method: str, path: str
) -> None:
    response = client.open(path, method=method)

    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"


def test_a_failing_model_gives_500_with_the_request_id(
    registered_model: str, monkeypatch: pytest.MonkeyPatch, row: Record
) -> None:
    def broken(self: ServedModel, frame: pd.DataFrame) -> list[Any]:
        raise RuntimeError("model exploded")

    monkeypatch.setattr(ServedModel, "predict", broken)
    client = create_app(ServeSettings(registered_model)).test_client()

    response = client.post("/predict", json=row, headers={"X-Request-ID": "req-42"})

    assert response.status_code == 500
    assert response.get_json()["request_id"] == "req-42"
    assert response.headers["X-Request-ID"] == "req-42"
    assert "app;dur=" in response.headers["Server-Timing"]


def test_non_finite_predictions_become_null(
    registered_model: str, monkeypatch: pytest.MonkeyPatch, rows: list[Record]
) -> None:
    def regressor(self: ServedModel, frame: pd.DataFrame) -> list[Any]:
        return [float("nan"), 1.5, float("inf")][: len(frame)]

    monkeypatch.setattr(ServedModel, "predict", regressor)
    client = create_app(ServeSettings(registered_model)).test_client()
    before = sample("model_output_non_null_fraction_sum")

    status, body = post(client, rows[:3])

    assert (status, body["predictions"]) == (200, [None, 1.5, None])
    assert sample("model_output_non_null_fraction_sum") - before == pytest.approx(1 / 3)


def test_metrics_count_requests_rows_and_quality(client: FlaskClient, rows: list[Record]) -> None:
    ok = {"endpoint": "/predict", "status": "200"}
    bad = {"endpoint": "/predict", "status": "400"}
    before = {
        "ok": sample("model_requests_total", ok),
        "bad": sample("model_requests_total", bad),
        "rows": sample("model_rows_predicted_total"),
        "missing": sample("model_input_missing_fraction_count"),
        "missing_sum": sample("model_input_missing_fraction_sum"),
        "latency": sample("model_request_latency_seconds_count", {"endpoint": "/predict"}),
    }

    post(client, rows[:3])
    post(client, rows[0])
    post(client, {"other": 1.0})  # every column missing: a bad row, counted too
    text = client.get("/metrics").get_data(as_text=True)

    assert sample("model_requests_total", ok) - before["ok"] == 2
    assert sample("model_requests_total", bad) - before["bad"] == 1
    assert sample("model_rows_predicted_total") - before["rows"] == 4
    assert sample("model_input_missing_fraction_count") - before["missing"] == 3
    expected = missing_fraction(rows[:3]) + missing_fraction(rows[:1]) + 1.0
    assert sample("model_input_missing_fraction_sum") - before["missing_sum"] == pytest.approx(
        expected
    )
    assert sample("model_request_latency_seconds_count", {"endpoint": "/predict"}) == (
        before["latency"] + 3
    )
    assert "# TYPE model_output_non_null_fraction histogram" in text


def test_openapi_describes_the_endpoints_and_the_input_schema(
    client: FlaskClient, champion: Champion
) -> None:
    document = client.get("/openapi.json").get_json()

    assert document["openapi"].startswith("3.")
    assert set(document["paths"]) == {
        "/health",
        "/ready",
        "/model",
        "/metrics",
        "/openapi.json",
        "/predict",
        "/",
        "/docs/",
    }
    row = document["components"]["schemas"]["Row"]
    assert row["required"] == champion.names
    assert row.get("additionalProperties", True) is not False  # other properties are ignored
    for name, kind in champion.types.items():
        expected = "string" if kind == "string" else "number"
        assert row["properties"][name] == {"type": expected, "nullable": True}
    batch = document["paths"]["/predict"]["post"]["requestBody"]["content"]["application/json"]
    assert batch["schema"]["oneOf"][1]["maxItems"] == MAX_ROWS
    split = document["components"]["schemas"]["Split"]["properties"]
    assert split["columns"]["items"] == {"type": "string"}  # other names are ignored
    assert split["columns"]["minItems"] == len(champion.names)
    assert split["data"]["maxItems"] == MAX_ROWS
    example = client.get("/model").get_json()["input_example"]
    assert batch["example"] == example  # Swagger UI's "Try it out" sends a valid row
    item = document["components"]["schemas"]["Predictions"]["properties"]["predictions"]["items"]
    answer = client.post("/predict", json=example).get_json()["predictions"]
    json_types = {str: "string", int: "integer", float: "number", bool: "boolean"}
    assert item["type"] in {json_types[type(answer[0])], "number"}  # an integer is a number too


def test_the_index_links_every_endpoint_and_names_the_model(
    client: FlaskClient, registered_model: str
) -> None:
    response = client.get("/")

    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert registered_model in page and "version 1" in page
    for path in ("/docs/", "/model", "/ready", "/health", "/metrics", "/openapi.json"):
        assert f'href="{path}"' in page
        assert client.get(path).status_code == 200, path


def test_the_docs_page_needs_nothing_from_the_internet(client: FlaskClient) -> None:
    page = client.get("/docs/").get_data(as_text=True)

    assert "/openapi.json" in page
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert assets and not [asset for asset in assets if "//" in asset]  # no other host
    for asset in assets:
        assert client.get(asset).status_code == 200, asset


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
    assert configured.prediction_log_dir == load_metadata().prediction_log_dir(
        configured.model_name
    )
    assert configured.uri.endswith("@champion")
    assert configured.merge_requests
    assert (overridden.model_version, overridden.max_body_bytes) == ("3", 999)
    assert not overridden.merge_requests
    assert overridden.uri.endswith("/3")


def test_the_configured_datasets_model_is_served(scratch_project: Path) -> None:
    metadata = load_metadata()
    dataset = str(compose_config().data.name)

    configured = load_settings(environ={})
    other = load_settings(["++data.name=other"], environ={})

    assert configured.model_name == metadata.registered_model_name(dataset)
    assert configured.model_name == f"{metadata.tracking.registered_model_name}-{dataset}"
    assert other.model_name == metadata.registered_model_name("other")


def test_each_answered_request_is_in_the_prediction_log(
    registered_model: str, rows: list[Record], champion: Champion, tmp_path: Path
) -> None:
    settings = ServeSettings(registered_model, prediction_log_dir=tmp_path / "log")
    client = create_app(settings).test_client()

    answers = [
        client.post("/predict", json=rows, headers={"X-Request-ID": f"req-{i}"}) for i in range(3)
    ]

    logged = read_logs(log_files(tmp_path / "log"), champion.project.experiment.features)
    assert sorted(set(logged.meta["request_id"])) == ["req-0", "req-1", "req-2"]
    assert len(logged) == 3 * len(rows)
    first = logged.where(logged.meta["request_id"] == "req-0")
    assert first.meta["prediction"].tolist() == answers[0].get_json()["predictions"]
    assert set(first.meta["model_version"]) == {"1"}
    assert list(first.inputs.columns) == champion.names


def test_a_prediction_log_that_cannot_be_written_never_fails_a_request(
    registered_model: str, row: Record, tmp_path: Path
) -> None:
    (tmp_path / "log").write_text("a file where the log folder should be", encoding="utf-8")
    settings = ServeSettings(registered_model, prediction_log_dir=tmp_path / "log" / "model")
    client = create_app(settings).test_client()
    dropped = sample("model_prediction_log_dropped_requests_total")

    status, _ = post(client, [row])

    assert status == 200
    assert sample("model_prediction_log_dropped_requests_total") == dropped + 1


def test_a_sample_rate_of_zero_logs_nothing(
    registered_model: str, row: Record, tmp_path: Path
) -> None:
    settings = ServeSettings(
        registered_model, prediction_log_dir=tmp_path / "log", log_sample_rate=0.0
    )
    assert post(create_app(settings).test_client(), [row])[0] == 200
    assert not (tmp_path / "log").exists()


@pytest.mark.usefixtures("scratch_project")
def test_bad_settings_are_named() -> None:
    with pytest.raises(SettingsError, match=r"MAX_BATCH_ROWS must be a number \(int\)"):
        load_settings(environ={"MAX_BATCH_ROWS": "many"})
    with pytest.raises(SettingsError, match="MERGE_REQUESTS must be true or false, got 'maybe'"):
        load_settings(environ={"MERGE_REQUESTS": "maybe"})
    with pytest.raises(SettingsError, match="max_batch_rows must be at least 1"):
        load_settings(["serve.max_batch_rows=0"], environ={})
    with pytest.raises(SettingsError, match="LOG_SAMPLE_RATE must be a number from 0 to 1"):
        load_settings(environ={"LOG_SAMPLE_RATE": "all"})
    with pytest.raises(SettingsError, match=r"log_sample_rate must be 0 to 1, got 1\.5"):
        load_settings(environ={"LOG_SAMPLE_RATE": "1.5"})


def test_logs_are_json_lines_with_extra_fields() -> None:
    record = logging.LogRecord("svc", logging.INFO, __file__, 1, "request", None, None)
    record.request_id = "abc"
    record.latency_ms = 1.5

    entry = json.loads(JsonFormatter().format(record))

    assert entry["message"] == "request"
    assert (entry["request_id"], entry["latency_ms"]) == ("abc", 1.5)
