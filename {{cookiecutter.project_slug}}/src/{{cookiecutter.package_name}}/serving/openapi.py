"""The OpenAPI 3 document of the service, with the model's input columns as a schema."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..inputs import Column

OPENAPI_TYPES = {
    "double": "number",
    "float": "number",
    "long": "integer",
    "integer": "integer",
    "string": "string",
    "boolean": "boolean",
}
# numpy dtype names of a tensor output, by prefix, as JSON types; "object" is text.
TENSOR_TYPES = [
    ("float", "number"),
    ("int", "integer"),
    ("uint", "integer"),
    ("bool", "boolean"),
    ("object", "string"),
    ("str", "string"),
]


def _json(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    body = {"schema": schema or {"$ref": "#/components/schemas/Error"}}
    return {"description": description, "content": {"application/json": body}}


def _get(summary: str, schema: dict[str, Any], *codes: int) -> dict[str, Any]:
    responses = {"200": _json("OK", schema)}
    for code in codes:
        responses[str(code)] = _json("Not ready: the model is still loading")
    return {"get": {"summary": summary, "responses": responses}}


def _page(summary: str) -> dict[str, Any]:
    page = {"description": "HTML", "content": {"text/html": {"schema": {"type": "string"}}}}
    return {"get": {"summary": summary, "responses": {"200": page}}}


def _row_schema(columns: Sequence[Column]) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    for column in columns:
        kind = OPENAPI_TYPES.get(column.type, "string")
        # The service accepts any finite number in numeric columns; it casts them.
        # null is a missing value, which the model imputes.
        properties[column.name] = {"type": "number" if column.numeric else kind, "nullable": True}
    return {
        "type": "object",
        "description": "One row; properties the model does not take are ignored.",
        "properties": properties,
        "required": [column.name for column in columns if column.required],
    }


def _split_schema(columns: Sequence[Column], max_batch_rows: int) -> dict[str, Any]:
    # Columns the model does not take are ignored, so neither the names in `columns`
    # nor the type of a row's n-th value is known in advance: the service checks them.
    required = sum(column.required for column in columns)
    return {
        "type": "object",
        "description": "pandas' split orientation: DataFrame.to_json(orient='split')",
        "properties": {
            "columns": {
                "type": "array",
                "description": (
                    "the names of each row's values: every input column, in any order; "
                    "other columns are ignored"
                ),
                "items": {"type": "string"},
                "uniqueItems": True,
                "minItems": required,
            },
            "data": {
                "type": "array",
                "description": "the rows, each an array of one value per name in `columns`",
                "items": {"type": "array", "minItems": required},
                "minItems": 1,
                "maxItems": max_batch_rows,
            },
            "index": {"description": "the row labels pandas writes; ignored, whatever it holds"},
        },
        "required": ["columns", "data"],
        "additionalProperties": False,
    }


def prediction_schema(info: dict[str, Any]) -> dict[str, Any]:
    """The JSON type of one prediction, from the signature's outputs in ``info``.

    A label is text or a number as the model gives it; anything the signature does
    not pin down is left open. ``null`` stands for a prediction that is not finite.
    """
    outputs = (info.get("signature") or {}).get("outputs") or []
    if len(outputs) != 1:
        return {}
    output = outputs[0]
    if output.get("type") == "tensor":
        dtype = str(output.get("tensor-spec", {}).get("dtype", ""))
        kind = next((name for prefix, name in TENSOR_TYPES if dtype.startswith(prefix)), None)
    else:
        kind = OPENAPI_TYPES.get(str(output.get("type")))
    return {"type": kind, "nullable": True} if kind else {}


def openapi_document(
    columns: Sequence[Column],
    info: dict[str, Any],
    max_batch_rows: int,
    input_example: list[dict[str, Any]],
) -> dict[str, Any]:
    """Describe every endpoint and the rows ``POST /predict`` accepts, with an example."""
    row = {"$ref": "#/components/schemas/Row"}
    split = {"$ref": "#/components/schemas/Split"}
    free_object: dict[str, Any] = {"type": "object"}
    bad_request = (
        "Invalid input: `problems` names every broken rule, or the model's own objection "
        "to values it cannot use (text that is not a date in a date column, say)"
    )
    predictions = {"$ref": "#/components/schemas/Predictions"}
    return {
        "openapi": "3.0.3",
        "info": {
            "title": f"{info.get('name', 'model')} prediction service",
            "version": str(info.get("version") or "unversioned"),
        },
        "paths": {
            "/health": _get("The process is alive", free_object),
            "/ready": _get("The model is loaded", free_object, 503),
            "/model": _get(
                "The served model: name, version, signature, input example", free_object
            ),
            "/metrics": {
                "get": {
                    "summary": "Prometheus metrics",
                    "responses": {
                        "200": {
                            "description": "Prometheus text format",
                            "content": {"text/plain": {"schema": {"type": "string"}}},
                        }
                    },
                }
            },
            "/openapi.json": _get("This document", free_object),
            "/": _page("This service's index: links to the endpoints and the docs"),
            "/docs/": _page("This document in Swagger UI (served from the package: no CDN)"),
            "/predict": {
                "post": {
                    "summary": "Predict one row or a batch of rows",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "example": input_example,
                                "schema": {
                                    "oneOf": [
                                        row,
                                        {
                                            "type": "array",
                                            "items": row,
                                            "minItems": 1,
                                            "maxItems": max_batch_rows,
                                        },
                                        split,
                                    ]
                                },
                            }
                        },
                    },
                    "responses": {
                        "200": _json("One prediction per row", predictions),
                        "400": _json(bad_request),
                        "408": _json("The body did not arrive within the time limit"),
                        "413": _json("The body is larger than the configured limit"),
                        "415": _json("The body is not application/json"),
                        "503": _json("Not ready: the model is still loading"),
                    },
                }
            },
        },
        "components": {
            "schemas": {
                "Row": _row_schema(columns),
                "Split": _split_schema(columns, max_batch_rows),
                "Predictions": {
                    "type": "object",
                    "properties": {
                        "predictions": {"type": "array", "items": prediction_schema(info)},
                        "model": free_object,
                        "request_id": {"type": "string"},
                    },
                    "required": ["predictions"],
                },
                "Error": {
                    "type": "object",
                    "properties": {
                        "error": {"type": "string"},
                        "problems": {"type": "array", "items": {"type": "string"}},
                        "request_id": {"type": "string"},
                    },
                    "required": ["error"],
                },
            }
        },
    }
