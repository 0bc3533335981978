"""Fast tier: deploy/k8s (the service, its jobs) renders with kustomize into manifests
Kubernetes' schemas accept."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import Bake
from tools.project import TOOLS_BIN

KUBERNETES_VERSION = "1.30.0"  # the oldest release the manifests' API versions must fit


def rendered(project: Path, overlay: str) -> dict[str, dict[str, Any]]:
    """``kubectl kustomize`` of an overlay, checked strictly against Kubernetes' schemas."""
    return kustomized(project, Path("overlays") / overlay)


def kustomized(project: Path, kustomization: Path) -> dict[str, dict[str, Any]]:
    """``kubectl kustomize`` of a folder of deploy/k8s, checked against Kubernetes' schemas."""
    folder = project / "deploy" / "k8s" / kustomization
    overlay = kustomization.name
    manifest = subprocess.run(
        [str(TOOLS_BIN / "kubectl"), "kustomize", str(folder)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    path = project / f"{overlay}.yaml"
    path.write_text(manifest, encoding="utf-8")
    validation = subprocess.run(
        [
            str(TOOLS_BIN / "kubernetes-validate"),
            "--strict",
            "--kubernetes-version",
            KUBERNETES_VERSION,
            str(path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert validation.returncode == 0, validation.stdout + validation.stderr
    return {document["kind"]: document for document in yaml.safe_load_all(manifest)}


@pytest.fixture
def project(bake: Bake) -> Path:
    return bake({"project_name": "Churn Model"})


def test_production_runs_the_service_probed_secured_scaled_and_scraped(project: Path) -> None:
    resources = rendered(project, "prod")

    assert set(resources) == {
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
    }
    assert {resource["metadata"]["namespace"] for resource in resources.values()} == {"churn-model"}
    pod = resources["Deployment"]["spec"]["template"]
    (container,) = pod["spec"]["containers"]
    assert container["image"] == "ghcr.io/your-org/churn-model:latest"
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    assert container["resources"]["requests"] and container["resources"]["limits"]["memory"]
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert pod["metadata"]["annotations"]["prometheus.io/scrape"] == "true"
    labels = pod["metadata"]["labels"]
    assert resources["Service"]["spec"]["selector"] == labels
    assert resources["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"] == labels
    assert resources["HorizontalPodAutoscaler"]["spec"]["minReplicas"] == 2


def test_staging_is_smaller_and_has_its_own_namespace_and_image(project: Path) -> None:
    resources = rendered(project, "staging")

    assert "PodDisruptionBudget" not in resources
    assert resources["Service"]["metadata"]["namespace"] == "churn-model-staging"
    (container,) = resources["Deployment"]["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "ghcr.io/your-org/churn-model:staging"
    assert resources["HorizontalPodAutoscaler"]["spec"]["maxReplicas"] == 3


def test_batch_scoring_runs_nightly_on_the_champion_and_ships_its_log(project: Path) -> None:
    resources = kustomized(project, Path("jobs"))

    cron = resources["CronJob"]
    assert cron["metadata"]["namespace"] == "churn-model"
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    pod = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["image"] == "ghcr.io/your-org/churn-model:latest"  # the service's
    command = container["args"][0]
    assert "churn-model-predict" in command and "--log" in command
    assert command.endswith("churn-model-logs ship")
    env = {variable["name"]: variable.get("value") for variable in container["env"]}
    assert env["OUTPUT_PREFIX"].startswith("s3://")
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    mounts = {mount["mountPath"] for mount in container["volumeMounts"]}
    assert {"/app/monitoring", "/tmp"} <= mounts  # the log and the staged output


def test_sweep_workers_are_an_indexed_job_sharing_one_study(project: Path) -> None:
    job = kustomized(project, Path("jobs"))["Job"]

    assert job["spec"]["completionMode"] == "Indexed"  # JOB_COMPLETION_INDEX: the worker
    assert job["spec"]["parallelism"] < job["spec"]["completions"]
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["command"][:3] == ["python", "-m", "churn_model.sweeps"]
    assert "hparams_search=optuna" in container["command"]
    assert container["envFrom"] == [{"secretRef": {"name": "sweep-workers"}}]  # OPTUNA_STORAGE


def test_without_the_service_there_is_nothing_to_deploy(bake: Bake) -> None:
    project = bake({"serving": "none"})

    assert not (project / "deploy" / "k8s").exists()
    assert not (project / ".github" / "workflows" / "deliver.yml").exists()
    assert not (project / ".github" / "deploy.sh").exists()


def test_delivery_builds_scans_and_deploys_to_staging_then_after_approval_to_prod(
    project: Path,
) -> None:
    workflow = yaml.safe_load((project / ".github/workflows/deliver.yml").read_text())
    jobs = workflow["jobs"]
    image_steps = " ".join(str(step) for step in jobs["image"]["steps"])
    deploy = project / ".github" / "deploy.sh"

    assert "dvc pull train" in image_steps and "docker build" in image_steps
    assert "aquasecurity/trivy-action" in image_steps and "docker push" in image_steps
    assert (jobs["staging"]["needs"], jobs["staging"]["environment"]) == ("image", "staging")
    assert (jobs["production"]["needs"], jobs["production"]["environment"]) == (
        "staging",
        "production",
    )
    for job, overlay in (("staging", "staging"), ("production", "prod")):
        (step,) = [step for step in jobs[job]["steps"] if "run" in step]
        assert step["run"] == f'bash .github/deploy.sh {overlay} "$IMAGE:$GITHUB_SHA"'
        assert (project / "deploy/k8s/overlays" / overlay / "kustomization.yaml").is_file()
    assert subprocess.run(["bash", "-n", str(deploy)], check=False).returncode == 0
    script = deploy.read_text(encoding="utf-8")
    assert "kubectl rollout status" in script and "/ready" in script and "/predict" in script
