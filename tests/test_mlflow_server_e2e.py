"""Slow tier: the shipped team MLflow server, live on 127.0.0.1, as staging, and production.

The generated `deploy/mlflow-server/` files run as they are, only ports and paths
adapted: `mlflow-server.sh` from the project's venv (SQLite backend in a temporary
folder, artifacts proxied to a moto S3 bucket) behind nginx with
`nginx/mlflow.conf` (TLS with a throwaway certificate); MLflow's own sign-in
checks every request, with people added by `users.py`: two writers and a reader.
That server is staging: `make pipeline CONF_ENV=staging` trains, gates and
registers there, and the second writer retrains into the first one's experiment;
the reader reads everything and changes nothing. A second server from the same
script, with its own store and artifact root, is production: `make promote`
copies versions into it, `make serve` serves its champion with the reader's
password, `make rollback` moves it back. One installed project per module; the
tests run in file order and build on each other; every server is stopped by
process id.
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
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.checks import bake_for_e2e
from tests.servers import MOTO_KEYS, REGION, MotoServer
from tools.project import install, make, project_env
from tools.servers import Server, free_port, serve_and_predict, start

pytestmark = pytest.mark.e2e

BUCKET = "team-mlflow"
PREFIX = "wearables"
MODEL_NAME = "my-ml-project-churn"  # <project>-<dataset>: the example dataset's model
USER = "alice"  # a writer: trains, registers, promotes
PASSWORD = "correct-horse-battery-staple"
WRITER = ("bob", "bobs-long-password-1")  # a second writer
READER = ("carol", "carols-long-password-1")  # reads and serves, changes nothing
ADMIN = ("admin", "the-admins-password-1")
SECRET_KEY = "0123456789abcdef" * 4
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
            request.add_header("Authorization", basic_auth(auth))
        with urllib.request.urlopen(request, timeout=30, context=self.context) as response:
            return json.loads(response.read())

    def post(self, path: str, body: dict[str, Any], auth: tuple[str, str]) -> int:
        """POST ``body`` to ``path`` of MLflow's REST API through nginx; the status."""
        request = urllib.request.Request(
            f"{self.url}{path}",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "Authorization": basic_auth(auth)},
        )
        try:
            with urllib.request.urlopen(request, timeout=30, context=self.context) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            return error.code


def basic_auth(person: tuple[str, str]) -> str:
    """The Authorization header of HTTP basic auth for ``person`` (name, password)."""
    return "Basic " + base64.b64encode(f"{person[0]}:{person[1]}".encode()).decode()


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, moto: MotoServer) -> Path:
    """A project whose bucket is on the moto server, installed (no pipeline run yet)."""
    moto.client().create_bucket(Bucket=BUCKET)
    root = bake_for_e2e(
        tmp_path_factory.mktemp("mlflow-server"),
        {"s3_bucket": BUCKET, "s3_prefix": PREFIX, "s3_endpoint_url": moto.url},
    )
    install(root)
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
            "MLFLOW_FLASK_SERVER_SECRET_KEY": SECRET_KEY,
            "MLFLOW_AUTH_ADMIN_PASSWORD": ADMIN[1],
            "TMPDIR": str(folder),  # where the script writes MLflow's auth settings
            "MLFLOW_PORT": str(port),
            **({"MLFLOW_ARTIFACTS_DESTINATION": artifacts} if artifacts else {}),
            "AWS_DEFAULT_REGION": REGION,
            **MOTO_KEYS,
        },
        cwd=folder,
        timeout=300,  # MLflow takes a while to start on a busy machine
    )
    return server, url


def users(
    project: Path,
    url: str,
    *args: str,
    password: str = "",
    cert: Path | None = None,
    person: tuple[str, str] = ADMIN,
) -> subprocess.CompletedProcess[str]:
    """`deploy/mlflow-server/users.py args` run by ``person`` (the admin) at ``url``."""
    env = {
        "MLFLOW_TRACKING_URI": url,
        "MLFLOW_TRACKING_USERNAME": person[0],
        "MLFLOW_TRACKING_PASSWORD": person[1],
        **({"MLFLOW_TRACKING_SERVER_CERT_PATH": str(cert)} if cert else {}),
    }
    return subprocess.run(
        [str(project / ".venv/bin/python"), "deploy/mlflow-server/users.py", *args],
        cwd=project,
        env=project_env(env),
        input=f"{password}\n",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def add_people(project: Path, url: str, cert: Path | None = None) -> None:
    """alice and bob as writers, carol as a reader, on the server at ``url``."""
    for (name, password), role in (
        ((USER, PASSWORD), "writer"),
        (WRITER, "writer"),
        (READER, "reader"),
    ):
        added = users(project, url, "add", name, "--role", role, password=password, cert=cert)
        assert added.returncode == 0, added.stderr
        assert added.stdout.strip() == f"Added {name} as a {role}"


@pytest.fixture(scope="module")
def mlflow_server(
    tmp_path_factory: pytest.TempPathFactory, project: Path, moto: MotoServer
) -> Iterator[str]:
    """The team server of `deploy/mlflow-server/`; returns its URL."""
    server, url = start_mlflow(project, tmp_path_factory.mktemp("mlflow-backend"), moto)
    yield url
    server.stop()


@pytest.fixture(scope="module")
def tracking(
    tmp_path_factory: pytest.TempPathFactory, project: Path, mlflow_server: str
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
    http_port, https_port = free_port(), free_port()
    config = render_nginx(
        (project / "deploy/mlflow-server/nginx/mlflow.conf").read_text(),
        folder,
        {
            "listen 80;": f"listen 127.0.0.1:{http_port};",
            "listen 443 ssl;": f"listen 127.0.0.1:{https_port} ssl;",
            "/etc/nginx/tls/mlflow.crt": str(cert),
            "/etc/nginx/tls/mlflow.key": str(key),
            "http://127.0.0.1:5000": mlflow_server,
        },
    )
    context = ssl.create_default_context(cafile=str(cert))
    url = f"https://127.0.0.1:{https_port}"
    server: Server = start(
        "nginx",
        [NGINX, "-c", str(config), "-e", str(folder / "error.log"), "-g", "daemon off;"],
        folder / "nginx.out",
        ready_url=f"{url}/health",
        context=context,
    )
    add_people(project, url, cert)  # through nginx, as an admin would
    yield Tracking(url, http_port, cert, context)
    server.stop()


def test_requests_without_the_password_are_refused(tracking: Tracking) -> None:
    for auth in (None, (USER, "wrong-password"), ("mallory", PASSWORD), (READER[0], PASSWORD)):
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


def test_answers_pin_https_and_hide_the_nginx_version(tracking: Tracking) -> None:
    port = int(tracking.url.rsplit(":", 1)[1])
    connection = http.client.HTTPSConnection(
        "127.0.0.1", port, timeout=10, context=tracking.context
    )
    connection.request("GET", "/health")  # no password needed: a load balancer's check
    response = connection.getresponse()
    response.read()
    connection.close()

    assert response.status == 200
    assert response.getheader("Strict-Transport-Security") == "max-age=31536000"
    assert response.getheader("Server") == "nginx"  # no version number


def as_user(
    tracking: Tracking, person: tuple[str, str] = (USER, PASSWORD), **variables: str
) -> dict[str, str]:
    """What `make` needs to use the team server through nginx: its URL, password, CA."""
    return {
        "MLFLOW_TRACKING_URI": tracking.url,
        "MLFLOW_TRACKING_USERNAME": person[0],
        "MLFLOW_TRACKING_PASSWORD": person[1],
        "MLFLOW_TRACKING_SERVER_CERT_PATH": str(tracking.cert),
        **variables,
    }


def get_json(address: str) -> Any:
    """GET ``address`` (a server without nginx in front) as the reader; the parsed JSON."""
    request = urllib.request.Request(address, headers={"Authorization": basic_auth(READER)})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


class Registry:
    """Reads the example's registered model through MLflow's REST API, at one server."""

    def __init__(self, get: Callable[[str], Any]) -> None:
        self._get = get  # GETs a path of the API (after /api/2.0/mlflow/); returns JSON

    def call(self, path: str, **query: str) -> Any:
        return self._get(f"{path}?{urllib.parse.urlencode(query)}")

    def version(self, version: str) -> tuple[dict[str, str], str]:
        """The tags and description of ``version``."""
        found = self.call("model-versions/get", name=MODEL_NAME, version=version)
        found = found["model_version"]
        return {tag["key"]: tag["value"] for tag in found.get("tags", [])}, found["description"]

    def alias(self, name: str) -> str | None:
        """The version the alias ``name`` points at; None when it points nowhere."""
        try:
            found = self.call("registered-models/alias", name=MODEL_NAME, alias=name)
        except urllib.error.HTTPError as error:
            body = error.read()
            assert error.code in (400, 404) and b"not found" in body, body  # MLflow: 400
            return None
        return str(found["model_version"]["version"])

    def versions(self) -> list[str]:
        found = self.call("model-versions/search", filter=f"name='{MODEL_NAME}'")
        return sorted(version["version"] for version in found.get("model_versions", []))


@pytest.fixture(scope="module")
def staging(tracking: Tracking) -> Registry:
    """The team server behind nginx, in its role of staging."""
    return Registry(lambda path: tracking.get(f"/api/2.0/mlflow/{path}"))


def test_staging_trains_gates_and_registers_but_a_person_promotes(
    project: Path, tracking: Tracking, staging: Registry, moto: MotoServer
) -> None:
    result = make(project, "pipeline", env=as_user(tracking, CONF_ENV="staging"))

    assert not (project / "mlflow.db").exists()  # nothing went to the local store
    assert f"Registered {MODEL_NAME} version 1: validation passed" in result.stdout
    tags, description = staging.version("1")
    assert tags["validation_status"] == "passed"
    checks = {key for key, value in tags.items() if key.startswith("validation.")}
    assert checks and all(tags[key] == "true" for key in checks)
    verdict, *lines = description.splitlines()
    assert verdict.startswith(f"validation passed: {len(checks)} checks held")
    assert len([line for line in lines if ": passed (" in line]) == len(checks)
    assert (staging.alias("challenger"), staging.alias("champion")) == ("1", None)

    pages = moto.client().get_paginator("list_objects_v2")
    keys = [
        item["Key"]
        for page in pages.paginate(Bucket=BUCKET, Prefix=f"{PREFIX}/mlflow-artifacts/")
        for item in page.get("Contents", [])
    ]
    logged = {Path(key).name for key in keys if "/models/" in key}  # the logged model's files
    (weights,) = (project / "models/churn/model").glob("model.*")  # e.g. model.skops
    assert {"MLmodel", weights.name} <= logged, keys


def test_a_reader_reads_everything_and_changes_nothing(
    project: Path, tracking: Tracking, staging: Registry
) -> None:
    search = "/api/2.0/mlflow/experiments/search?max_results=10"
    (experiment,) = [
        e for e in tracking.get(search, auth=READER)["experiments"] if e["name"] != "Default"
    ]
    runs = tracking.post(
        "/api/2.0/mlflow/runs/search", {"experiment_ids": [experiment["experiment_id"]]}, READER
    )
    model = {"name": MODEL_NAME}
    changes = {
        "/api/2.0/mlflow/runs/create": {"experiment_id": experiment["experiment_id"]},
        "/api/2.0/mlflow/registered-models/alias": {**model, "alias": "champion", "version": "1"},
        "/api/2.0/mlflow/registered-models/delete": model,
        "/api/2.0/mlflow/experiments/delete": {"experiment_id": experiment["experiment_id"]},
    }

    refused = {path: tracking.post(path, body, READER) for path, body in changes.items()}
    bob_deletes = tracking.post(
        "/api/2.0/mlflow/experiments/delete", changes["/api/2.0/mlflow/experiments/delete"], WRITER
    )

    assert runs == 200
    assert refused == dict.fromkeys(changes, 403)
    assert bob_deletes == 403  # writers change, only an experiment's creator deletes it
    assert staging.versions() == ["1"] and staging.alias("champion") is None
    assert (
        tracking.get(
            f"/api/2.0/mlflow/experiments/get?experiment_id={experiment['experiment_id']}"
        )["experiment"]["lifecycle_stage"]
        == "active"
    )


def test_the_admin_changes_roles_and_the_script_names_its_errors(
    project: Path, tracking: Tracking
) -> None:
    promoted = users(project, tracking.url, "role", READER[0], "writer", cert=tracking.cert)
    demoted = users(project, tracking.url, "role", READER[0], "reader", cert=tracking.cert)
    short = users(project, tracking.url, "add", "dave", password="short", cert=tracking.cert)
    twice = users(project, tracking.url, "add", USER, password=PASSWORD, cert=tracking.cert)
    not_admin = users(
        project, tracking.url, "remove", WRITER[0], cert=tracking.cert, person=(USER, PASSWORD)
    )

    assert (promoted.stdout.strip(), demoted.stdout.strip()) == (
        f"{READER[0]} is now a writer",
        f"{READER[0]} is now a reader",
    )
    assert short.returncode == 2 and "at least 12 characters" in short.stderr
    assert twice.returncode == 1 and "already exists" in twice.stderr, twice.stderr
    assert not_admin.returncode == 1 and "run it as the admin" in not_admin.stderr, not_admin.stderr
    assert "Traceback" not in short.stderr + twice.stderr + not_admin.stderr


# Promotion to production, a server of its own (own store, own artifact root), which
# `make promote` copies versions into from the team's staging server above.


@pytest.fixture(scope="module")
def production(
    tmp_path_factory: pytest.TempPathFactory, project: Path, moto: MotoServer, tracking: Tracking
) -> Iterator[str]:
    """Production's MLflow server; its URL. conf/env/prod.yaml takes versions from staging."""
    folder = tmp_path_factory.mktemp("mlflow-prod")
    artifacts = f"s3://{BUCKET}/prod/mlflow-artifacts"
    server, url = start_mlflow(project, folder, moto, artifacts, "--workers", "1")
    try:
        add_people(project, url)
        prod_conf = project / "conf/env/prod.yaml"  # as a team sets it
        text = prod_conf.read_text()
        assert text.count("\npromote_from: null\n") == 1
        prod_conf.write_text(
            text.replace("\npromote_from: null\n", f"\npromote_from: {tracking.url}\n")
        )
        yield url
    finally:
        server.stop()


@pytest.fixture(scope="module")
def prod(production: str) -> Registry:
    """Production's registry, read through the REST API."""
    return Registry(lambda path: get_json(f"{production}/api/2.0/mlflow/{path}"))


def served_version(project: Path, url: str) -> str:
    """`make serve` against the registry at ``url``: the version that answered."""
    answer = serve_and_predict(
        project,
        env={
            "MLFLOW_TRACKING_URI": url,
            "MLFLOW_TRACKING_USERNAME": READER[0],  # serving needs to read, nothing more
            "MLFLOW_TRACKING_PASSWORD": READER[1],
        },
    )
    assert answer["predictions"][0] in {"yes", "no"}
    return str(answer["model"]["version"])


def test_promotion_copies_the_version_to_production_which_serves_it(
    project: Path, tracking: Tracking, staging: Registry, production: str, prod: Registry
) -> None:
    promote = as_user(tracking, MLFLOW_TRACKING_URI=production, CONF_ENV="prod", VERSION="1")

    result = make(project, "promote", env=promote)

    assert f"Copied version 1 from {tracking.url}: 1" in result.stdout
    tags, description = prod.version("1")
    assert tags["copied_from"] == f"{tracking.url} {MODEL_NAME} version 1"
    assert tags["validation_status"] == "passed"
    assert tags["promoted_by"] and tags["promoted_at"]
    assert description == staging.version("1")[1]
    assert prod.alias("champion") == "1"
    assert staging.alias("champion") is None  # staging's registry is left as it was
    assert served_version(project, production) == "1"


def test_a_second_version_is_promoted_then_rolled_back(
    project: Path, tracking: Tracking, staging: Registry, production: str, prod: Registry
) -> None:
    config = project / "conf/config.yaml"
    text = config.read_text()
    assert text.count("  - model: random_forest\n") == 1
    config.write_text(
        text.replace("  - model: random_forest\n", "  - model: logistic_regression\n")
    )
    # The second writer retrains (every stage again) into the first writer's experiment.
    make(project, "retrain", env=as_user(tracking, WRITER, CONF_ENV="staging"))
    assert staging.alias("challenger") == "2"

    make(
        project,
        "promote",
        env=as_user(tracking, MLFLOW_TRACKING_URI=production, CONF_ENV="prod", VERSION="2"),
    )
    assert (prod.versions(), prod.alias("champion")) == (["1", "2"], "2")
    assert served_version(project, production) == "2"

    rollback = as_user(tracking, MLFLOW_TRACKING_URI=production, CONF_ENV="prod")
    result = make(project, "rollback", env=rollback)

    assert "moved from version 2 to 1" in result.stdout
    assert prod.alias("champion") == "1"
    assert prod.version("2")[0]["rolled_back_by"]
    assert served_version(project, production) == "1"


def test_promotion_of_a_version_staging_does_not_have_is_refused(
    project: Path, tracking: Tracking, production: str, prod: Registry
) -> None:
    before = prod.versions()
    promote = as_user(tracking, MLFLOW_TRACKING_URI=production, CONF_ENV="prod", VERSION="9")

    result = make(project, "promote", env=promote, check=False)

    assert result.returncode != 0
    assert f"{MODEL_NAME} has no version 9" in result.stderr
    assert "Traceback" not in result.stderr
    assert prod.versions() == before
