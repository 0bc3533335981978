"""The served model: its first call made on its example before any request comes."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from {{ cookiecutter.package_name }}.inputs import Row
from {{ cookiecutter.package_name }}.serving.model import ServedModel, load_served_model
from {{ cookiecutter.package_name }}.serving.settings import ServeSettings


class RecordingModel(ServedModel):
    """The served model, keeping the rows of each call."""

    calls: list[list[Row]]

    def predict(self, rows: list[Row]) -> list[Any]:
        self.calls.append(rows)
        return super().predict(rows)


class FailingModel(ServedModel):
    """A served model that fails on any row."""

    def predict(self, rows: list[Row]) -> list[Any]:
        raise RuntimeError("the model exploded")


def test_warm_up_calls_the_model_once_on_its_example(registered_model: str) -> None:
    loaded = load_served_model(ServeSettings(registered_model))
    model = RecordingModel(loaded.model, loaded.card)
    model.calls = []

    model.warm_up()

    names = [column.name for column in loaded.card.columns]
    example = [[record.get(name) for name in names] for record in loaded.card.input_example]
    assert model.calls == [example]


def test_a_model_that_fails_on_its_example_is_logged_not_fatal(
    registered_model: str, caplog: pytest.LogCaptureFixture
) -> None:
    loaded = load_served_model(ServeSettings(registered_model))
    model = FailingModel(loaded.model, loaded.card)

    with caplog.at_level(logging.WARNING):
        model.warm_up()

    assert "the model failed on its input example" in caplog.text
    assert "the model exploded" in caplog.text
