"""Fast tier: the generated project's git hooks, CI workflows, Dependabot and notebook."""

from __future__ import annotations

import json
import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import Bake
from tools.project import TOOLS_BIN

# Which dev-group package provides each command a pre-commit hook runs.
HOOK_TOOL_PACKAGES = {
    "ruff": "ruff",
    "mypy": "mypy",
    "nbstripout": "nbstripout",
    "check-yaml": "pre-commit-hooks",
    "check-toml": "pre-commit-hooks",
    "check-json": "pre-commit-hooks",
    "check-added-large-files": "pre-commit-hooks",
    "detect-secrets-hook": "detect-secrets",
    "dvc": "dvc",
}
NOTEBOOK = "notebooks/01-explore-data.ipynb"
EXAMPLE_NOTEBOOK = "notebooks/01-explore-activity.ipynb"


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def dev_group(project: Path) -> dict[str, Any]:
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    group: dict[str, Any] = pyproject["tool"]["poetry"]["group"]["dev"]["dependencies"]
    return group


def check_jsonschema(schema: str, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(TOOLS_BIN / "check-jsonschema"), "--builtin-schema", schema, str(path)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_pre_commit_hooks_are_local_and_pinned_by_the_lock_file(bake: Bake) -> None:
    project = bake()

    config = load_yaml(project / ".pre-commit-config.yaml")
    packages = dev_group(project)

    assert [repo["repo"] for repo in config["repos"]] == ["local"]
    hooks = config["repos"][0]["hooks"]
    for hook in hooks:
        assert hook["language"] == "unsupported", hook["id"]
        command = re.search(r"\bpoetry run (\S+)", hook["entry"])
        assert command is not None, f"{hook['id']}: not a tool of the Poetry environment"
        tool = command.group(1)
        assert HOOK_TOOL_PACKAGES[tool] in packages, f"{hook['id']}: {tool} not in the dev group"
    ids = {hook["id"] for hook in hooks}
    assert {"ruff-check", "ruff-format", "mypy", "nbstripout", "detect-secrets"} <= ids
    assert {"check-yaml", "check-toml", "check-json", "check-added-large-files"} <= ids
    assert "pre-commit" in packages
    # No hook needs the network: DVC's pre-push hook (`dvc push`) is left out.
    assert all("push" not in hook["entry"] for hook in hooks)


def test_secrets_baseline_is_valid_and_empty(bake: Bake) -> None:
    project = bake()

    baseline = json.loads((project / ".secrets.baseline").read_text(encoding="utf-8"))

    assert baseline["results"] == {}
    assert {"AWSKeyDetector", "KeywordDetector", "PrivateKeyDetector"} <= {
        plugin["name"] for plugin in baseline["plugins_used"]
    }


def test_no_generated_file_looks_like_a_secret(bake: Bake) -> None:
    project = bake()  # ci=github and the service: every optional file is there
    files = [  # the example data are numbers and words; the rest is what people write
        str(path.relative_to(project))
        for path in sorted(project.rglob("*"))
        if path.is_file() and not {".git", "data"} & set(path.relative_to(project).parts)
    ]

    result = subprocess.run(
        [str(TOOLS_BIN / "detect-secrets-hook"), "--baseline", ".secrets.baseline", *files],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_workflows_and_dependabot_match_githubs_schemas(bake: Bake) -> None:
    project = bake({"ci": "github"})

    workflows = sorted((project / ".github" / "workflows").glob("*.yml"))
    assert workflows
    for workflow in workflows:
        result = check_jsonschema("vendor.github-workflows", workflow)
        assert result.returncode == 0, result.stdout + result.stderr
    result = check_jsonschema("vendor.dependabot", project / ".github" / "dependabot.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ci_runs_every_check_and_reports_metrics_on_pull_requests(bake: Bake) -> None:
    project = bake()

    steps = load_yaml(project / ".github" / "workflows" / "ci.yml")["jobs"]["checks"]["steps"]
    commands = "\n".join(step.get("run", "") for step in steps)

    for command in ("pre-commit run --all-files", "make lint", "make test", "make pipeline"):
        assert command in commands
    assert "pytest --nbmake notebooks/" in commands
    assert "make docs" in commands
    assert 'dvc metrics diff "origin/$BASE_REF" --md' in commands
    assert "$GITHUB_STEP_SUMMARY" in commands
    dependabot = load_yaml(project / ".github" / "dependabot.yml")
    assert {update["package-ecosystem"] for update in dependabot["updates"]} == {
        "pip",
        "github-actions",
    }


def test_the_audit_checks_locked_packages_and_the_whole_history(bake: Bake) -> None:
    workflow = load_yaml(bake() / ".github" / "workflows" / "audit.yml")
    jobs = workflow["jobs"]
    dependencies = "\n".join(step.get("run", "") for step in jobs["dependencies"]["steps"])
    secrets = jobs["secrets"]["steps"]

    assert {"schedule", "pull_request", "push"} <= set(workflow[True])  # YAML reads `on` as true
    assert "poetry.lock" in workflow[True]["pull_request"]["paths"]
    assert dependencies.index("make install") < dependencies.index("pip-audit==")
    assert "--path" in dependencies  # the project's environment, not the runner's
    assert secrets[0]["with"]["fetch-depth"] == 0  # every commit
    assert "trufflehog" in secrets[1]["run"] and "--fail" in secrets[1]["run"]


def workflow_commands(path: Path) -> str:
    workflow = load_yaml(path)
    return "\n".join(
        step.get("run", "") for job in workflow["jobs"].values() for step in job["steps"]
    )


def test_every_make_target_a_workflow_runs_exists(bake: Bake) -> None:
    project = bake()
    makefile = (project / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"(?m)^([a-z][a-z-]*):", makefile))

    for workflow in sorted((project / ".github" / "workflows").glob("*.yml")):
        used = set(re.findall(r"\bmake ([a-z][a-z-]*)", workflow_commands(workflow)))
        assert used, workflow.name
        assert used <= targets, (workflow.name, used - targets)


def test_continuous_training_retrains_validates_and_proposes_a_pull_request(bake: Bake) -> None:
    workflows = bake() / ".github" / "workflows"
    retrain = load_yaml(workflows / "retrain.yml")
    commands = workflow_commands(workflows / "retrain.yml")

    assert {"schedule", "workflow_dispatch"} <= set(retrain[True])  # YAML reads `on` as true
    for command in (
        "dvc pull",
        "make fetch-logs",
        "make monitor",
        "make retrain CONF_ENV=staging",
    ):
        assert command in commands
    assert "dvc metrics diff origin/main --md" in commands
    steps = {step.get("name"): step for step in retrain["jobs"]["retrain"]["steps"]}
    pull_request = steps["Open the pull request"]
    assert pull_request["uses"].startswith("peter-evans/create-pull-request@")
    assert "steps.describe.outputs.passed == 'true'" in pull_request["if"]
    promote = load_yaml(workflows / "promote.yml")
    (job,) = promote["jobs"].values()
    assert job["environment"] == "production"
    assert 'make promote VERSION="$version" CONF_ENV=prod' in workflow_commands(
        workflows / "promote.yml"
    )


def test_the_workflows_read_the_fields_evaluate_writes(bake: Bake) -> None:
    project = bake()
    evaluate = next(project.glob("src/*/stages/evaluate.py")).read_text(encoding="utf-8")
    record = evaluate[evaluate.index("def validation_record(") :]
    written = set(re.findall(r'"([a-z_]+)": ', record[: record.index("\n\n\n")]))
    commands = workflow_commands(project / ".github" / "workflows" / "retrain.yml")

    read = set(re.findall(r"\(\.([a-z_]+)\)|jq -r \.([a-z_]+)", commands))
    fields = {name for pair in read for name in pair if name} - {"name", "detail"}
    assert fields and fields <= written, fields - written


@pytest.mark.parametrize("pipeline", ["tabular", "wearables", "skeleton"])
def test_notebooks_import_the_package_and_have_no_outputs(bake: Bake, pipeline: str) -> None:
    project = bake({"project_name": "Gait Lab", "pipeline": pipeline})
    notebooks = [NOTEBOOK, *([EXAMPLE_NOTEBOOK] if pipeline == "wearables" else [])]

    for name in notebooks:
        notebook = json.loads((project / name).read_text(encoding="utf-8"))
        code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
        assert code
        assert all(cell["outputs"] == [] and cell["execution_count"] is None for cell in code)
        source = "".join(line for cell in code for line in cell["source"])
        assert "from gait_lab import inference" in source
        assert "inference.load_model(" in source


def test_only_the_wearables_example_has_the_activity_notebook(bake: Bake) -> None:
    project = bake({"pipeline": "tabular"})

    assert not (project / EXAMPLE_NOTEBOOK).exists()
    assert (project / "notebooks" / "README.md").is_file()


def test_generated_project_opts_out_of_template_updates_to_git(bake: Bake) -> None:
    project = bake()

    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))

    assert ".git" in pyproject["tool"]["cruft"]["skip"]
