"""The one way the project talks to S3: the bucket, region and endpoint of ``metadata.yaml``."""

from __future__ import annotations

import os
from typing import Any

from .metadata import Storage

S3_SCHEME = "s3://"


def s3_client(storage: Storage) -> Any:
    """A boto3 S3 client for the project's storage (``AWS_ENDPOINT_URL_S3`` wins).

    Credentials come the usual boto3 way: a profile, ``AWS_ACCESS_KEY_ID`` and
    ``AWS_SECRET_ACCESS_KEY``, or the machine's role.
    """
    import boto3  # imported here: only commands that use S3 pay for the import

    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or storage.endpoint_url or None
    return boto3.client("s3", region_name=storage.region, endpoint_url=endpoint)


def split_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/some/key`` as ``("bucket", "some/key")``."""
    bucket, _, key = uri.removeprefix(S3_SCHEME).partition("/")
    return bucket, key
