"""deploy/monitoring: the alert rules pass their promtool unit tests, and every query
of the rules and the dashboard names a metric the service exports."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from prometheus_client.metrics import MetricWrapperBase

from {{ cookiecutter.package_name }}.serving import metrics

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "monitoring"
PROMETHEUS = DEPLOY / "prometheus"
DASHBOARD = DEPLOY / "grafana" / "dashboards" / "model-service.json"
SAMPLE_SUFFIXES = {
    "counter": ("_total",),
    "histogram": ("_bucket", "_sum", "_count"),
    "gauge": ("",),
}
METRIC_NAME = re.compile(r"\b(model_[a-z_]+)\b")


def exported_samples() -> set[str]:
    """The names of the samples the service's metrics produce."""
    names = set()
    for value in vars(metrics).values():
        if isinstance(value, MetricWrapperBase):
            for family in value.describe():
                names |= {family.name + suffix for suffix in SAMPLE_SUFFIXES[family.type]}
    return names


def alert_expressions() -> dict[str, str]:
    groups = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text(encoding="utf-8"))["groups"]
    return {rule["alert"]: rule["expr"] for group in groups for rule in group["rules"]}


def dashboard_expressions() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


@pytest.mark.parametrize("source", ["alerts", "dashboard"])
def test_queries_name_metrics_the_service_exports(source: str) -> None:
    expressions = (
        list(alert_expressions().values()) if source == "alerts" else dashboard_expressions()
    )
    used = {name for expression in expressions for name in METRIC_NAME.findall(expression)}

    assert used, "no query names a model_ metric"
    assert used <= exported_samples(), sorted(used - exported_samples())


def test_the_dashboard_has_the_services_panels_on_the_provisioned_datasource() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    datasource = yaml.safe_load(
        (DEPLOY / "grafana" / "provisioning" / "datasources" / "prometheus.yml").read_text()
    )["datasources"][0]
    titles = [panel["title"] for panel in dashboard["panels"]]

    assert len({panel["id"] for panel in dashboard["panels"]}) == len(titles)
    for words in ("load", "missing", "non-null", "requests per second", "latency", "rows"):
        assert any(words in title.lower() for title in titles), words
    assert {panel["datasource"]["uid"] for panel in dashboard["panels"]} == {datasource["uid"]}


def test_every_alert_has_a_unit_test() -> None:
    tests = yaml.safe_load((PROMETHEUS / "alerts_test.yml").read_text(encoding="utf-8"))["tests"]
    firing = {
        case["alertname"]
        for test in tests
        for case in test["alert_rule_test"]
        if case.get("exp_alerts")
    }

    assert firing == set(alert_expressions())


def test_promtool_accepts_the_config_and_the_rules_pass_their_tests() -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed (Debian/Ubuntu: apt-get install prometheus)")
    for command in (
        [promtool, "check", "config", str(PROMETHEUS / "prometheus.yml")],
        [promtool, "test", "rules", str(PROMETHEUS / "alerts_test.yml")],
    ):
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stdout + result.stderr
