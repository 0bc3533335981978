"""Pages for people: an index at ``/`` and the OpenAPI document in Swagger UI at ``/docs/``.

Swagger UI's scripts and styles come from the ``flask-swagger-ui`` package, served
by the service itself: the pages work offline and behind a firewall, with no CDN.
"""

from __future__ import annotations

from html import escape
from typing import Any

from flask import Blueprint
from flask_swagger_ui import get_swaggerui_blueprint

DOCS_PATH = "/docs"
OPENAPI_PATH = "/openapi.json"
# (path, what a person finds there), in the order the index lists them.
LINKS = [
    (f"{DOCS_PATH}/", "API documentation: every endpoint, tried from the browser"),
    ("/model", "the model card: name, version, signature and an input example"),
    ("/ready", "readiness: 200 once the model is loaded"),
    ("/health", "liveness: 200 while the process runs"),
    ("/metrics", "Prometheus metrics"),
    (OPENAPI_PATH, "the OpenAPI document"),
]


def docs_blueprint(title: str) -> Blueprint:
    """Swagger UI at ``/docs/`` for ``/openapi.json``, assets from the installed package."""
    blueprint: Blueprint = get_swaggerui_blueprint(
        DOCS_PATH, OPENAPI_PATH, config={"app_name": title}
    )
    return blueprint


def index_page(info: dict[str, Any] | None) -> str:
    """The HTML index: which model is served (if loaded) and links to every endpoint."""
    if info is None:
        model = "The model is still loading."
    else:
        version = info.get("version") or "unversioned"
        model = f"Serving <b>{escape(str(info.get('name')))}</b>, version {escape(str(version))}."
    items = "\n".join(
        f'<li><a href="{path}">{escape(path)}</a>: {escape(text)}</li>' for path, text in LINKS
    )
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>Prediction service</title></head>\n<body>\n<h1>Prediction service</h1>\n"
        f"<p>{model} POST rows as JSON to <code>/predict</code>.</p>\n<ul>\n{items}\n</ul>\n"
        "</body></html>\n"
    )
