"""The one way the project talks to S3: the bucket, region and endpoint of ``metadata.yaml``."""

from __future__ import annotations

import os
import re
from pathlib import PurePath
from typing import Any

from .metadata import Storage

S3_SCHEME = "s3://"
S3_SCHEMES = (S3_SCHEME, "s3a://")  # s3a://: how Hadoop and Spark users write the same
# Answers that mean "these credentials may not do this", whatever S3 calls them.
REFUSALS = {
    "AccessDenied",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "InvalidToken",
    "AllAccessDisabled",
}
# Arrow (the AWS SDK for C++) names the same answers in capitals: "AWS Error ACCESS_DENIED".
ARROW_CODES = [re.sub("(?<=.)([A-Z])", r"_\1", code).upper() for code in sorted(REFUSALS)]
ARROW_REFUSAL = re.compile(f"AWS Error ({'|'.join(ARROW_CODES)})")
ARROW_OBJECT = re.compile(r"key '([^']*)' in bucket '([^']*)'")  # which object Arrow names
# Where boto3 found the credentials it used (``Credentials.method``), in words.
CREDENTIAL_SOURCES = {
    "env": "AWS_ACCESS_KEY_ID from the environment",
    "shared-credentials-file": "~/.aws/credentials",
    "config-file": "~/.aws/config",
    "assume-role": "a role assumed from ~/.aws/config",
    "sso": "AWS SSO",
    "iam-role": "this machine's IAM role",
    "container-role": "the container's IAM role",
}


def s3_endpoint(storage: Storage) -> str | None:
    """The S3 endpoint to talk to: ``AWS_ENDPOINT_URL_S3``, else metadata's, else AWS's own."""
    return os.environ.get("AWS_ENDPOINT_URL_S3") or storage.endpoint_url or None


def s3_client(storage: Storage) -> Any:
    """A boto3 S3 client for the project's storage.

    Credentials come the usual boto3 way: a profile, ``AWS_ACCESS_KEY_ID`` and
    ``AWS_SECRET_ACCESS_KEY``, or the machine's role.
    """
    import boto3  # imported here: only commands that use S3 pay for the import

    return boto3.client("s3", region_name=storage.region, endpoint_url=s3_endpoint(storage))


def is_s3(uri: str | PurePath) -> bool:
    """Whether ``uri`` names an object in S3 (``s3://``, or Hadoop's ``s3a://``)."""
    return str(uri).startswith(S3_SCHEMES)


def s3_path(uri: str) -> str:
    """``s3://bucket/key`` as Arrow's file systems name it: ``bucket/key``."""
    return uri.split("://", 1)[1].rstrip("/")


def s3_filesystem(storage: Storage) -> Any:
    """Arrow's S3 client (``pyarrow.fs.S3FileSystem``) with the project's region and endpoint.

    Credentials come as for boto3, but from this machine's environment only (a profile
    or the machine's role included), never sent along with a task to another machine.
    """
    from pyarrow import fs

    return fs.S3FileSystem(region=storage.region, endpoint_override=s3_endpoint(storage))


def split_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/some/key`` as ``("bucket", "some/key")``."""
    bucket, _, key = uri.removeprefix(S3_SCHEME).partition("/")
    return bucket, key


def credentials_in_use() -> str:
    """Which AWS credentials boto3 picks up here, without revealing the secret."""
    import boto3

    session = boto3.Session()
    credentials = session.get_credentials()
    if credentials is None:
        return "none were found"
    key = credentials.access_key or ""
    source = CREDENTIAL_SOURCES.get(credentials.method, credentials.method)
    profile = f", profile {session.profile_name!r}" if "file" in credentials.method else ""
    return f"access key {key[:4]}...{key[-4:]} ({source}{profile})"


def arrow_refusal(message: str) -> str | None:
    """The refusal an Arrow S3 error message names (``ACCESS_DENIED``, say), if any."""
    found = ARROW_REFUSAL.search(message)
    return found.group(1) if found else None


def explain_s3_error(error: Exception, uri: str) -> str:
    """One sentence on what went wrong with ``uri`` and what to check.

    A refusal (403, a key S3 does not know, a bad signature), from boto3 or from
    Arrow, says it is a credentials or permissions problem and names the
    credentials that were used; Arrow's message also names the object refused.
    """
    from botocore.exceptions import ClientError, NoCredentialsError

    if isinstance(error, NoCredentialsError):
        return (
            f"cannot read or write {uri}: no AWS credentials were found. Set AWS_PROFILE, "
            "or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (see .env.example)."
        )
    refusal = None
    if isinstance(error, ClientError):
        code = str(error.response.get("Error", {}).get("Code", ""))
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if status == 403 or code in REFUSALS:
            refusal = code or str(status)
    else:  # Arrow tells its refusals, and the object refused, in its message
        refusal = arrow_refusal(str(error))
        named = ARROW_OBJECT.search(str(error))
        uri = f"{S3_SCHEME}{named.group(2)}/{named.group(1)}" if named else uri
    if refusal:
        return (
            f"S3 refused access to {uri} ({refusal}): a credentials or permissions "
            f"problem. Used: {credentials_in_use()}. Check the keys or profile, and that "
            "their IAM user is in a group allowed on this bucket and prefix."
        )
    return (
        f"cannot reach {uri}: {error}. Check the AWS credentials and `storage` in "
        "metadata.yaml (bucket, region, endpoint_url)."
    )
