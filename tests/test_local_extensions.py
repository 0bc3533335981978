"""The ``quote`` filter writes any answer as a string that TOML and YAML read back unchanged."""

from __future__ import annotations

import tomllib

import pytest
import yaml

from local_extensions import quote

AWKWARD_STRINGS = [
    "",
    "plain",
    "O'Neil's \"quoted\" model",
    "back\\slash and \\n literally",
    "tab\there, newline\nthere, carriage\rreturn",
    "bell \a, escape \x1b, delete \x7f, nul \x00",
    "naïve Zoë Šimić 北京 😀",
    "non-breaking\u00a0space and line\u2028separator",
    "# not a comment: {not: a mapping}, [not, a, list], &anchor *alias",
    "yes",
    "null",
    "1.0",
    "---",
]


@pytest.mark.parametrize("value", AWKWARD_STRINGS)
def test_toml_reads_the_quoted_value_back(value: str) -> None:
    assert tomllib.loads(f"key = {quote(value)}")["key"] == value


@pytest.mark.parametrize("value", AWKWARD_STRINGS)
def test_yaml_reads_the_quoted_value_back(value: str) -> None:
    assert yaml.safe_load(f"key: {quote(value)}")["key"] == value


def test_printable_text_stays_readable() -> None:
    assert quote("Zoë 😀") == '"Zoë 😀"'
