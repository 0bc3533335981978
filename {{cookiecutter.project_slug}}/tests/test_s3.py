"""S3 errors in words: refusals name the credentials used, other failures the settings."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

from {{ cookiecutter.package_name }}.metadata import load_metadata
from {{ cookiecutter.package_name }}.s3 import explain_s3_error, s3_filesystem

URI = "s3://team-bucket/data/raw"


def s3_answer(status: int, code: str) -> ClientError:
    """The error botocore raises for an S3 answer with this status and error code."""
    response: Any = {
        "Error": {"Code": code, "Message": code},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return ClientError(response, "GetObject")


@pytest.fixture
def keys_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEKEY1234")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-a-real-secret")


@pytest.mark.usefixtures("keys_in_environment")
@pytest.mark.parametrize(
    ("status", "code"),
    [(403, "AccessDenied"), (403, "InvalidAccessKeyId"), (403, "SignatureDoesNotMatch"), (403, "")],
)
def test_a_refusal_is_a_credentials_problem_naming_the_keys_used(status: int, code: str) -> None:
    message = explain_s3_error(s3_answer(status, code), URI)

    assert URI in message and "credentials or permissions problem" in message
    assert "AKIA...1234" in message and "AWS_ACCESS_KEY_ID" in message
    assert "not-a-real-secret" not in message


def test_missing_credentials_say_how_to_give_them() -> None:
    message = explain_s3_error(NoCredentialsError(), URI)

    assert "no AWS credentials" in message and "AWS_PROFILE" in message


def test_other_failures_point_at_the_storage_settings() -> None:
    error = EndpointConnectionError(endpoint_url="http://127.0.0.1:9")

    message = explain_s3_error(error, URI)

    assert URI in message and "127.0.0.1:9" in message and "metadata.yaml" in message
    assert "permissions" not in message


@pytest.mark.usefixtures("iam_checks")
def test_a_refusal_to_arrow_names_the_object_and_the_keys_used() -> None:
    storage = load_metadata().storage

    with pytest.raises(OSError, match="AWS Error") as refused:
        s3_filesystem(storage).get_file_info(f"{storage.bucket}/data/table.parquet")
    message = explain_s3_error(refused.value, URI)

    assert f"s3://{storage.bucket}/data/table.parquet" in message
    assert "credentials or permissions problem" in message and "test...ting" in message
