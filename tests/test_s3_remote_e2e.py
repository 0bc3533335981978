"""Slow tier: the generated project's DVC remote, against a real S3 API on 127.0.0.1.

One moto server and one baked, installed project (after `make pipeline`) per
module. The tests run in file order: a push/pull round trip, access control
with the rendered IAM policies, and last a push with the server stopped.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from botocore.exceptions import ClientError

from tests.checks import bake_for_e2e
from tests.servers import MOTO_KEYS, REGION, MotoServer, tree_hashes
from tools.project import install, make, run

pytestmark = pytest.mark.e2e

BUCKET = "team-data"
PREFIX = "wearables/activity"
ENV = {**MOTO_KEYS, "AWS_DEFAULT_REGION": REGION}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, moto: MotoServer) -> Path:
    """A project whose DVC remote is the moto server, installed, after `make pipeline`."""
    root = bake_for_e2e(
        tmp_path_factory.mktemp("s3"),
        {"s3_bucket": BUCKET, "s3_prefix": PREFIX, "s3_endpoint_url": moto.url},
    )
    moto.client().create_bucket(Bucket=BUCKET)
    install(root, env=ENV)
    make(root, "pipeline", env=ENV)
    return root


def stage_outputs(project: Path) -> list[str]:
    """The cached outputs of every stage, from dvc.lock (metrics and plots stay in git)."""
    lock = yaml.safe_load((project / "dvc.lock").read_text())
    return sorted(
        out["path"]
        for stage in lock["stages"].values()
        for out in stage.get("outs", [])
        if not out["path"].startswith("results/")
    )


def remote_keys(moto: MotoServer) -> list[str]:
    pages = moto.client().get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
    return [item["Key"] for page in pages for item in page.get("Contents", [])]


def test_committed_config_names_the_remote_and_no_credentials(
    project: Path, moto: MotoServer
) -> None:
    config = (project / ".dvc/config").read_text()
    assert f"url = s3://{BUCKET}/{PREFIX}/dvc" in config
    assert f"endpointurl = {moto.url}" in config
    assert "secret" not in config and "access_key" not in config
    assert "verify = true" in config  # pulls re-hash what they download
    assert ".dvc/config.local" in (project / ".gitignore").read_text()


def test_push_then_pull_restores_every_output_byte_for_byte(
    project: Path, moto: MotoServer
) -> None:
    outputs = stage_outputs(project)
    assert len(outputs) == 5, outputs  # four data stages and the model
    before = tree_hashes(project, outputs)
    assert len(before) > 12  # every stage's files and the model's

    make(project, "data-push", env=ENV)
    assert all(key.startswith(f"{PREFIX}/dvc/") for key in remote_keys(moto))
    assert "in sync" in make(project, "data-status", env=ENV).stdout

    shutil.rmtree(project / ".dvc/cache")
    for output in outputs:
        shutil.rmtree(project / output)
    make(project, "data-pull", env=ENV)

    assert tree_hashes(project, outputs) == before


def iam_user(moto: MotoServer, project: Path, group: str, user: str = "") -> dict[str, str]:
    """An IAM user in a group holding the project's rendered policy; returns its keys."""
    iam = moto.client("iam")
    user = user or f"{group}-user"
    if not any(g["GroupName"] == f"data-{group}" for g in iam.list_groups()["Groups"]):
        policy = (project / f"deploy/aws/iam/data-{group}.json").read_text()
        iam.create_group(GroupName=f"data-{group}")
        iam.put_group_policy(GroupName=f"data-{group}", PolicyName=group, PolicyDocument=policy)
    iam.create_user(UserName=user)
    iam.add_user_to_group(GroupName=f"data-{group}", UserName=user)
    key: dict[str, Any] = iam.create_access_key(UserName=user)["AccessKey"]
    return {
        "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
    }


def test_readers_pull_but_cannot_push_and_writers_cannot_delete(
    project: Path, moto: MotoServer
) -> None:
    reader = iam_user(moto, project, "readers")
    writer = iam_user(moto, project, "writers")
    new_file = project / "data/raw/churn/added-by-hand.txt"  # the example dataset's snapshot
    moto.client().put_object(Bucket=BUCKET, Key="another-project/notes.txt", Body=b"theirs")
    moto.enforce_iam()
    try:
        shutil.rmtree(project / ".dvc/cache")
        make(project, "data-pull", env={**ENV, **reader})
        assert "in sync" in make(project, "data-status", env={**ENV, **reader}).stdout
        reader_s3 = moto.client(
            aws_access_key_id=reader["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=reader["AWS_SECRET_ACCESS_KEY"],
        )
        with pytest.raises(ClientError, match="AccessDenied"):  # outside the project's prefix
            reader_s3.get_object(Bucket=BUCKET, Key="another-project/notes.txt")

        new_file.write_text("a new recording\n")
        run(["poetry", "run", "dvc", "commit", "--force", "ingest"], project, env=ENV)
        denied = make(project, "data-push", env={**ENV, **reader}, check=False)
        assert denied.returncode != 0
        assert "AccessDenied" in denied.stdout + denied.stderr

        make(project, "data-push", env={**ENV, **writer})
        assert "in sync" in make(project, "data-status", env={**ENV, **writer}).stdout

        writer_s3 = moto.client(
            aws_access_key_id=writer["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=writer["AWS_SECRET_ACCESS_KEY"],
        )
        key = next(k for k in remote_keys_as(writer_s3) if k.startswith(PREFIX))
        with pytest.raises(ClientError, match="AccessDenied"):
            writer_s3.delete_object(Bucket=BUCKET, Key=key)
        with pytest.raises(ClientError, match="InvalidAccessKeyId"):
            moto.client().list_objects_v2(Bucket=BUCKET)  # keys IAM does not know
    finally:
        moto.enforce_iam(False)


def remote_keys_as(s3: Any) -> list[str]:
    contents: list[dict[str, Any]] = s3.list_objects_v2(Bucket=BUCKET, Prefix=f"{PREFIX}/")[
        "Contents"
    ]
    return [item["Key"] for item in contents]


def test_an_object_replaced_on_the_remote_is_refused_by_the_pull(
    project: Path, moto: MotoServer
) -> None:
    output = project / next(out for out in stage_outputs(project) if out.startswith("data/raw/"))
    snapshot = next(path for path in sorted(output.rglob("*")) if path.is_file())
    original = snapshot.read_bytes()
    digest = hashlib.md5(original).hexdigest()  # DVC's content address
    key = f"{PREFIX}/dvc/files/md5/{digest[:2]}/{digest[2:]}"
    writer = iam_user(moto, project, "writers", "another-writer")
    writer_s3 = moto.client(
        aws_access_key_id=writer["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=writer["AWS_SECRET_ACCESS_KEY"],
    )
    moto.enforce_iam()
    try:  # a writer may overwrite an object: S3 cannot refuse it without breaking dvc push
        writer_s3.put_object(Bucket=BUCKET, Key=key, Body=b"poisoned,rows\n1,2\n")
    finally:
        moto.enforce_iam(False)
    shutil.rmtree(project / ".dvc/cache")
    shutil.rmtree(output)

    pulled = make(project, "data-pull", env=ENV, check=False)

    assert pulled.returncode != 0
    printed = pulled.stdout + pulled.stderr
    assert f"Checkout failed for following targets:\n{output.relative_to(project)}" in printed
    assert "does not match dvc.lock, so it was refused" in pulled.stderr
    assert not snapshot.exists()  # the poisoned content was not checked out
    moto.client().put_object(Bucket=BUCKET, Key=key, Body=original)  # repaired
    make(project, "data-pull", env=ENV)
    assert snapshot.read_bytes() == original


def test_push_without_the_server_fails_clearly_and_keeps_the_cache(
    project: Path, moto: MotoServer
) -> None:
    cache = project / ".dvc/cache"
    before = tree_hashes(project, [".dvc/cache"])
    moto.stop()

    result = make(project, "data-push", env=ENV, check=False, timeout=300)

    assert result.returncode != 0
    message = result.stdout + result.stderr
    assert "Could not connect to the endpoint URL" in message, message
    assert moto.url in message
    assert cache.is_dir() and tree_hashes(project, [".dvc/cache"]) == before
