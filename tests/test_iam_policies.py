"""The generated IAM policies: least privilege, for the answered bucket and prefix.

Each policy is linted with parliament (Duo Labs' IAM linter) and must produce no
finding at all; the tests also pin down what each group may and may not do.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

PARLIAMENT = Path(sys.executable).parent / "parliament"
POLICIES = ("data-readers", "data-writers", "data-admins")
BUCKET_SETTINGS = ("versioning", "public-access-block", "encryption", "policy")
ANSWERS = [
    pytest.param(
        {"s3_bucket": "acme-ml-data", "s3_prefix": "team/churn-model"}, id="nested-prefix"
    ),
    pytest.param({"s3_bucket": "wearables-2024", "s3_prefix": ""}, id="bucket-root"),
    pytest.param({}, id="defaults"),
]


def parliament_findings(policies: list[Path]) -> str:
    """Parliament's report on the policies, one finding a line; empty when it finds nothing.

    Parliament reads a policy from stdin whenever stdin is not a terminal, and then
    refuses files, so stdin is closed. ``--files`` lints all of them in one start.
    """
    result = subprocess.run(
        [str(PARLIAMENT), "--files", ",".join(str(path) for path in policies)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode in (0, 1), result.stderr
    return result.stdout.strip()


def test_parliament_reports_a_careless_policy(tmp_path: Path) -> None:
    careless = tmp_path / "careless.json"
    careless.write_text(
        '{"Version": "2012-10-17", "Statement": '
        '[{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}'
    )
    assert "Unnecessary use of Resource *" in parliament_findings([careless])


def statements(policy: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from policy["Statement"]


def actions(policy: dict[str, Any]) -> set[str]:
    return {
        action
        for statement in statements(policy)
        for action in (
            [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
        )
    }


@pytest.mark.parametrize("answers", ANSWERS)
def test_policies_pass_parliament_without_findings(
    bake: Callable[..., Path], answers: dict[str, str]
) -> None:
    iam = bake(answers) / "deploy/aws/iam"
    policies = [iam / f"{name}.json" for name in (*POLICIES, "mlflow-server", "bucket/policy")]
    assert parliament_findings(policies) == ""


@pytest.mark.parametrize("answers", ANSWERS)
def test_policies_are_scoped_to_the_bucket_and_prefix(
    bake: Callable[..., Path], answers: dict[str, str]
) -> None:
    project = bake(answers)
    bucket = answers.get("s3_bucket", "my-ml-project-data")
    prefix = answers.get("s3_prefix", "my-ml-project")
    objects = f"arn:aws:s3:::{bucket}/{prefix + '/' if prefix else ''}*"
    for name in POLICIES:
        policy = json.loads((project / f"deploy/aws/iam/{name}.json").read_text())
        for statement in statements(policy):
            assert statement["Effect"] == "Allow"
            assert statement["Resource"] in (f"arn:aws:s3:::{bucket}", objects), name
            if "s3:ListBucket" in statement["Action"]:
                condition = statement.get("Condition")
                if prefix:
                    assert condition == {"StringLike": {"s3:prefix": [prefix, f"{prefix}/*"]}}
                else:
                    assert condition is None
    for name in BUCKET_SETTINGS:
        json.loads((project / f"deploy/aws/iam/bucket/{name}.json").read_text())


def test_each_group_gets_only_what_it_needs(bake: Callable[..., Path]) -> None:
    iam = bake() / "deploy/aws/iam"
    readers, writers, admins = (
        actions(json.loads((iam / f"{name}.json").read_text())) for name in POLICIES
    )
    assert readers < writers < admins
    assert "s3:GetObject" in readers and "s3:PutObject" not in readers
    assert "s3:PutObject" in writers
    assert not {"s3:DeleteObject", "s3:DeleteObjectVersion"} & writers
    assert {"s3:DeleteObjectVersion", "s3:PutBucketVersioning"} <= admins
    assert not any("*" in action for action in admins)
    assert "s3:PutBucketPolicy" not in admins  # would let an admin grant anyone anything

    settings = {
        name: json.loads((iam / f"bucket/{name}.json").read_text()) for name in BUCKET_SETTINGS
    }
    assert settings["versioning"] == {"Status": "Enabled"}
    assert all(settings["public-access-block"].values())
    assert len(settings["public-access-block"]) == 4
    rule = settings["encryption"]["Rules"][0]["ApplyServerSideEncryptionByDefault"]
    assert rule["SSEAlgorithm"] in {"AES256", "aws:kms"}


@pytest.mark.parametrize("answers", ANSWERS)
def test_the_mlflow_server_reaches_only_its_artifacts(
    bake: Callable[..., Path], answers: dict[str, str]
) -> None:
    project = bake(answers)
    bucket = answers.get("s3_bucket", "my-ml-project-data")
    prefix = answers.get("s3_prefix", "my-ml-project")
    artifacts = f"{prefix}/mlflow-artifacts" if prefix else "mlflow-artifacts"
    policy = json.loads((project / "deploy/aws/iam/mlflow-server.json").read_text())
    resources = {statement["Resource"] for statement in statements(policy)}

    assert resources == {f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/{artifacts}/*"}
    listing = next(s for s in statements(policy) if "s3:ListBucket" in s["Action"])
    assert listing["Condition"] == {"StringLike": {"s3:prefix": [artifacts, f"{artifacts}/*"]}}
    assert "s3:DeleteObject" in actions(policy)  # artifacts of deleted runs; not DVC's data
