"""Slow tier: the shipped team MLflow server, live on 127.0.0.1, used by `make pipeline`.

The generated `deploy/mlflow-server/` files run as they are, only ports and paths
adapted: `mlflow-server.sh` from the project's venv (SQLite backend in a temporary
folder, artifacts proxied to a moto S3 bucket) behind nginx with
`nginx/mlflow.conf` (TLS with a throwaway certificate, basic auth). One set of
servers and one installed project per module; every server is stopped by process id.
"""

from __future__ import annotations

import base64
import grp
import http.client
import json
import os
import pwd
import shutil
import ssl
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.checks import bake_for_e2e
from tests.servers import MOTO_KEYS, REGION, MotoServer
from tools.project import make, quick_install
from tools.servers import Server, free_port, serve_and_predict, start

pytestmark = pytest.mark.e2e

BUCKET = "team-mlflow"
PREFIX = "wearables"
MODEL_NAME = "my-ml-project-churn"  # <project>-<dataset>: the example dataset's model
USER = "alice"
PASSWORD = "correct-horse-battery-staple"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


@dataclass
class Tracking:
    """The nginx front of the MLflow server, as a client sees it."""

    url: str
    http_port: int
    cert: Path
    context: ssl.SSLContext

    def get(self, path: str, auth: tuple[str, str] | None = (USER, PASSWORD)) -> Any:
        """GET ``path`` of MLflow's REST API through nginx; return the parsed JSON."""
        request = urllib.request.Request(f"{self.url}{path}")
        if auth:
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            request.add_header("Authorization", f"Basic {token}")
        with urllib.request.urlopen(request, timeout=30, context=self.context) as response:
            return json.loads(response.read())


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, moto: MotoServer) -> Path:
    """A project whose bucket is on the moto server, installed (no pipeline run yet)."""
    moto.client().create_bucket(Bucket=BUCKET)
    root = bake_for_e2e(
        tmp_path_factory.mktemp("mlflow-server"),
        {"s3_bucket": BUCKET, "s3_prefix": PREFIX, "s3_endpoint_url": moto.url},
    )
    quick_install(root)
    return root


def openssl(*args: str, stdin: str | None = None) -> str:
    result = subprocess.run(
        ["openssl", *args], input=stdin, capture_output=True, text=True, check=True
    )
    return result.stdout


def render_nginx(shipped: str, folder: Path, replacements: dict[str, str]) -> Path:
    """The shipped site config with test ports and paths, inside a main config of its own.

    Every replaced string must occur exactly once, so a change to the shipped file
    that this adaptation would miss fails here instead of testing something else.
    """
    for old, new in replacements.items():
        assert shipped.count(old) == 1, f"nginx/mlflow.conf should contain {old!r} once"
        shipped = shipped.replace(old, new)
    (folder / "mlflow.conf").write_text(shipped)
    for temp in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (folder / temp).mkdir()
    # As root, nginx's workers would run as `nobody` and could not read the temp folder.
    user = (
        f"user {pwd.getpwuid(os.getuid()).pw_name} {grp.getgrgid(os.getgid()).gr_name};"
        if os.geteuid() == 0
        else ""
    )
    main = folder / "nginx.conf"
    main.write_text(
        f"""{user}
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log {folder}/access.log;
    client_body_temp_path {folder}/client_body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    include {folder}/mlflow.conf;
}}
"""
    )
    return main


def start_mlflow(
    project: Path, folder: Path, moto: MotoServer, artifacts: str | None = None, *args: str
) -> tuple[Server, str]:
    """The shipped start script, run from the project's venv with a SQLite store in
    ``folder`` (and the artifact root ``artifacts``, else the script's; ``args`` passed
    on to `mlflow server`); returns the server and its URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = start(
        "mlflow server",
        ["bash", str(project / "deploy/mlflow-server/mlflow-server.sh"), *args],
        folder / "mlflow.log",
        ready_url=f"{url}/health",
        env={
            "PATH": f"{project / '.venv/bin'}{os.pathsep}{os.environ['PATH']}",
            "MLFLOW_BACKEND_STORE_URI": f"sqlite:///{folder / 'mlflow.db'}",
            "MLFLOW_PORT": str(port),
            **({"MLFLOW_ARTIFACTS_DESTINATION": artifacts} if artifacts else {}),
            "AWS_DEFAULT_REGION": REGION,
            **MOTO_KEYS,
        },
        cwd=folder,
        timeout=300,  # MLflow takes a while to start on a busy machine
    )
    return server, url


@pytest.fixture(scope="module")
def mlflow_server(
    tmp_path_factory: pytest.TempPathFactory, project: Path, moto: MotoServer
) -> Iterator[int]:
    """The team server of `deploy/mlflow-server/`; returns its port."""
    server, url = start_mlflow(project, tmp_path_factory.mktemp("mlflow-backend"), moto)
    yield int(url.rsplit(":", 1)[1])
    server.stop()


@pytest.fixture(scope="module")
def tracking(
    tmp_path_factory: pytest.TempPathFactory, project: Path, mlflow_server: int
) -> Iterator[Tracking]:
    """nginx with the shipped config, TLS and a password file, in front of MLflow."""
    assert Path(NGINX).exists(), "nginx is not installed (.ci/run installs it with apt-get)"
    folder = tmp_path_factory.mktemp("nginx")
    cert, key = folder / "mlflow.crt", folder / "mlflow.key"
    openssl(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
        "-keyout", str(key), "-out", str(cert),
    )  # fmt: skip
    htpasswd = folder / "mlflow.htpasswd"
    htpasswd.write_text(f"{USER}:{openssl('passwd', '-apr1', '-stdin', stdin=PASSWORD).strip()}\n")
    http_port, https_port = free_port(), free_port()
    config = render_nginx(
        (project / "deploy/mlflow-server/nginx/mlflow.conf").read_text(),
        folder,
        {
            "listen 80;": f"listen 127.0.0.1:{http_port};",
            "listen 443 ssl;": f"listen 127.0.0.1:{https_port} ssl;",
            "/etc/nginx/tls/mlflow.crt": str(cert),
            "/etc/nginx/tls/mlflow.key": str(key),
            "/etc/nginx/mlflow.htpasswd": str(htpasswd),
            "http://127.0.0.1:5000": f"http://127.0.0.1:{mlflow_server}",
        },
    )
    context = ssl.create_default_context(cafile=str(cert))
    url = f"https://127.0.0.1:{https_port}"
    server: Server = start(
        "nginx",
        [NGINX, "-c", str(config), "-e", str(folder / "error.log"), "-g", "daemon off;"],
        folder / "nginx.out",
        ready_url=f"{url}/health",
        ready_statuses=(401,),
        context=context,
    )
    yield Tracking(url, http_port, cert, context)
    server.stop()


def test_requests_without_the_password_are_refused(tracking: Tracking) -> None:
    for auth in (None, (USER, "wrong-password"), ("mallory", PASSWORD)):
        with pytest.raises(urllib.error.HTTPError) as refused:
            tracking.get("/api/2.0/mlflow/experiments/search?max_results=1", auth=auth)
        assert refused.value.code == 401, auth


def test_plain_http_is_redirected_to_https(tracking: Tracking) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", tracking.http_port, timeout=10)
    connection.request("GET", "/api/2.0/mlflow/experiments/search")
    response = connection.getresponse()
    assert response.status == 301
    assert response.getheader("Location", "").startswith("https://127.0.0.1/")
    connection.close()


def test_with_the_password_the_api_answers(tracking: Tracking) -> None:
    experiments = tracking.get("/api/2.0/mlflow/experiments/search?max_results=10")
    assert [e["name"] for e in experiments["experiments"]] == ["Default"]


def test_pipeline_tracks_and_registers_its_model_on_the_server(
    project: Path, tracking: Tracking, moto: MotoServer
) -> None:
    make(
        project,
        "pipeline",
        env={
            "MLFLOW_TRACKING_URI": tracking.url,
            "MLFLOW_TRACKING_USERNAME": USER,
            "MLFLOW_TRACKING_PASSWORD": PASSWORD,
            "MLFLOW_TRACKING_SERVER_CERT_PATH": str(tracking.cert),
        },
    )
    assert not (project / "mlflow.db").exists()  # nothing went to the local store

    model = tracking.get(f"/api/2.0/mlflow/registered-models/get?name={MODEL_NAME}")
    assert model["registered_model"]["name"] == MODEL_NAME
    query = urllib.parse.urlencode({"name": MODEL_NAME, "alias": "champion"})
    champion = tracking.get(f"/api/2.0/mlflow/registered-models/alias?{query}")
    assert champion["model_version"]["version"] == "1"

    pages = moto.client().get_paginator("list_objects_v2")
    keys = [
        item["Key"]
        for page in pages.paginate(Bucket=BUCKET, Prefix=f"{PREFIX}/mlflow-artifacts/")
        for item in page.get("Contents", [])
    ]
    logged = {Path(key).name for key in keys if "/models/" in key}  # the logged model's files
    (weights,) = (project / "models/churn/model").glob("model.*")  # e.g. model.skops
    assert {"MLmodel", weights.name} <= logged, keys


# Promotion between two servers: staging validates, production serves. Each has its
# own store and artifact root; `make promote` copies a version from one to the other.


@pytest.fixture(scope="module")
def environments(
    tmp_path_factory: pytest.TempPathFactory, project: Path, moto: MotoServer
) -> Iterator[dict[str, str]]:
    """Staging's and production's MLflow servers; their URLs by environment name."""
    servers: dict[str, tuple[Server, str]] = {}
    try:
        for name in ("staging", "prod"):
            folder = tmp_path_factory.mktemp(f"mlflow-{name}")
            artifacts = f"s3://{BUCKET}/{name}/mlflow-artifacts"
            servers[name] = start_mlflow(project, folder, moto, artifacts, "--workers", "1")
        # Production takes versions from staging: conf/env/prod.yaml, as a team sets it.
        prod_conf = project / "conf/env/prod.yaml"
        text = prod_conf.read_text()
        assert text.count("\npromote_from: null\n") == 1
        prod_conf.write_text(
            text.replace("\npromote_from: null\n", f"\npromote_from: {servers['staging'][1]}\n")
        )
        yield {name: url for name, (_, url) in servers.items()}
    finally:
        for server, _ in servers.values():
            server.stop()


def api(url: str, path: str, **query: str) -> Any:
    """GET ``path`` of the MLflow REST API at ``url``; the parsed JSON."""
    address = f"{url}/api/2.0/mlflow/{path}?{urllib.parse.urlencode(query)}"
    with urllib.request.urlopen(address, timeout=30) as response:
        return json.loads(response.read())


def model_version(url: str, version: str) -> tuple[dict[str, str], str]:
    """The tags and description of ``version`` of the example's model at ``url``."""
    found = api(url, "model-versions/get", name=MODEL_NAME, version=version)["model_version"]
    return {tag["key"]: tag["value"] for tag in found.get("tags", [])}, found["description"]


def alias(url: str, name: str) -> str | None:
    """The version the alias ``name`` points at, at ``url``; None when it points nowhere."""
    try:
        found = api(url, "registered-models/alias", name=MODEL_NAME, alias=name)
    except urllib.error.HTTPError as error:
        body = error.read()
        assert error.code in (400, 404) and b"not found" in body, body  # MLflow answers 400
        return None
    return str(found["model_version"]["version"])


def versions(url: str) -> list[str]:
    found = api(url, "model-versions/search", filter=f"name='{MODEL_NAME}'")
    return sorted(version["version"] for version in found.get("model_versions", []))


def in_env(name: str, environments: dict[str, str], **variables: str) -> dict[str, str]:
    """What `make` needs to act in environment ``name``: its server and CONF_ENV."""
    return {"MLFLOW_TRACKING_URI": environments[name], "CONF_ENV": name, **variables}


def served_version(project: Path, url: str) -> str:
    """`make serve` against the registry at ``url``: the version that answered."""
    answer = serve_and_predict(project, env={"MLFLOW_TRACKING_URI": url})
    assert answer["predictions"][0] in {"yes", "no"}
    return str(answer["model"]["version"])


def test_staging_trains_and_gates_but_a_person_promotes(
    project: Path, environments: dict[str, str]
) -> None:
    staging = environments["staging"]

    result = make(project, "retrain", env=in_env("staging", environments))

    assert f"Registered {MODEL_NAME} version 1: validation passed" in result.stdout
    tags, description = model_version(staging, "1")
    assert tags["validation_status"] == "passed"
    checks = {key for key, value in tags.items() if key.startswith("validation.")}
    assert checks and all(tags[key] == "true" for key in checks)
    verdict, *lines = description.splitlines()
    assert verdict.startswith(f"validation passed: {len(checks)} checks held")
    assert len([line for line in lines if line.endswith(")") and ": passed (" in line]) == len(
        checks
    )
    assert (alias(staging, "challenger"), alias(staging, "champion")) == ("1", None)


def test_promotion_copies_the_version_to_production_which_serves_it(
    project: Path, environments: dict[str, str]
) -> None:
    staging, prod = environments["staging"], environments["prod"]

    result = make(project, "promote", env=in_env("prod", environments, VERSION="1"))

    assert f"Copied version 1 from {staging}: 1" in result.stdout
    tags, description = model_version(prod, "1")
    assert tags["copied_from"] == f"{staging} {MODEL_NAME} version 1"
    assert tags["validation_status"] == "passed"
    assert tags["promoted_by"] and tags["promoted_at"]
    assert description == model_version(staging, "1")[1]
    assert alias(prod, "champion") == "1"
    assert alias(staging, "champion") is None  # staging's registry is left as it was
    assert served_version(project, prod) == "1"


def test_a_second_version_is_promoted_then_rolled_back(
    project: Path, environments: dict[str, str]
) -> None:
    staging, prod = environments["staging"], environments["prod"]
    config = project / "conf/config.yaml"
    text = config.read_text()
    assert text.count("  - model: random_forest\n") == 1
    config.write_text(
        text.replace("  - model: random_forest\n", "  - model: logistic_regression\n")
    )
    make(project, "retrain", env=in_env("staging", environments))
    assert alias(staging, "challenger") == "2"

    make(project, "promote", env=in_env("prod", environments, VERSION="2"))
    assert (versions(prod), alias(prod, "champion")) == (["1", "2"], "2")
    assert served_version(project, prod) == "2"

    result = make(project, "rollback", env=in_env("prod", environments))

    assert "moved from version 2 to 1" in result.stdout
    assert alias(prod, "champion") == "1"
    assert model_version(prod, "2")[0]["rolled_back_by"]
    assert served_version(project, prod) == "1"


def test_promotion_of_a_version_staging_does_not_have_is_refused(
    project: Path, environments: dict[str, str]
) -> None:
    prod = environments["prod"]
    before = versions(prod)

    result = make(project, "promote", env=in_env("prod", environments, VERSION="9"), check=False)

    assert result.returncode != 0
    assert f"{MODEL_NAME} has no version 9" in result.stderr
    assert "Traceback" not in result.stderr
    assert versions(prod) == before
