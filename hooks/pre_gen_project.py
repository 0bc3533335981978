"""Check every cookiecutter answer before any project file is written.

Cookiecutter renders this file with Jinja and runs it inside the freshly created
(still empty) project directory. When an answer is unusable the hook prints what
is wrong with *every* bad answer, with the rule it breaks and a valid example, and
exits with status 1; cookiecutter then deletes the project directory, so a bad
answer never leaves a half-generated project behind.

The answers reach the hook through ``ANSWERS_JSON``, the only line Jinja touches.
Jinja's ``tojson`` filter escapes apostrophes as ``\\u0027``, so the rendered
text is always a valid raw string literal. Everything else is plain Python, which
lets the unit tests import this module unrendered and call the validators.
"""

import json
import keyword
import os
import re
import shlex
import sys
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

# Rendered by Jinja; ''' because tojson escapes ' (never ") and fmt: skip stops ruff
# format from turning the quotes into """.
ANSWERS_JSON = r'''{{ cookiecutter | tojson }}'''  # fmt: skip

Rules = Callable[[str], list[str]]
"""A function returning the rules a value breaks, one sentence each (empty: valid)."""

SUPPORTED_PYTHON_VERSIONS = ("3.10", "3.11", "3.12", "3.13")
LICENSES = ("MIT", "Apache-2.0", "BSD-3-Clause", "Proprietary")

# Importable names a generated package must not take: with ``src/<package_name>``
# installed, ``import <name>`` would load the project instead of the real package.
RESERVED_PACKAGE_NAMES = frozenset(
    {
        # Project layout and test tooling.
        "test",
        "tests",
        "src",
        "setup",
        "conftest",
        "site",
        # Libraries the generated project depends on or that ML code commonly imports.
        "mlflow",
        "dvc",
        "hydra",
        "omegaconf",
        "optuna",
        "numpy",
        "pandas",
        "scipy",
        "sklearn",
        "torch",
        "tensorflow",
        "keras",
        "flask",
        "gunicorn",
        "pytest",
        "yaml",
        "pydantic",
        "pandera",
        "skops",
        "feature_engine",
        "msgspec",
        "sqlalchemy",
        "requests",
        "boto3",
        "botocore",
        "s3fs",
        "matplotlib",
        "seaborn",
        "jupyter",
        "notebook",
        "poetry",
        "ruff",
        "mypy",
        "prometheus_client",
        "werkzeug",
        "jinja2",
        "click",
        "joblib",
        "xgboost",
        "lightgbm",
        "transformers",
        "datasets",
        "polars",
        "pyarrow",
        "fastapi",
        "pip",
        "setuptools",
        "wheel",
    }
)

# ``type`` became a soft keyword in Python 3.12, newer than the interpreter that may
# run this hook; the generated project supports up to 3.13.
SOFT_KEYWORDS = frozenset(keyword.softkwlist) | {"match", "case", "type", "_"}

_SLUG_RE = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
_PACKAGE_RE = re.compile(r"[a-z][a-z0-9_]*")
_EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")
_REGION_RE = re.compile(r"[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}")
_PROFILE_RE = re.compile(r"[A-Za-z0-9_+=,.@-]+")
_IP_ADDRESS_RE = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")
_PREFIX_CHARS_RE = re.compile(r"[A-Za-z0-9._/-]*")
_SQL_STORE_RE = re.compile(r"(?:(?:postgresql|mysql)(?:\+\w+)?|mssql\+\w+)://(.*)", re.ASCII)
_DATABRICKS_RE = re.compile(r"databricks(?:://[^\s/]+)?")
_URI_SCHEME_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
_WINDOWS_PATH_RE = re.compile(r"[A-Za-z]:[\\/]")

_BUCKET_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_BUCKET_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")

_SHOWN_CHARS = 60

EXAMPLES: dict[str, str] = {
    "project_name": "Churn Prediction",
    "project_slug": "churn-model",
    "package_name": "churn_model",
    "description": "Predicts customer churn from product usage data.",
    "author_name": "Data Science Team",
    "author_email": "data-team@example.com",
    "python_version": "3.11",
    "license": "MIT",
    "s3_bucket": "my-team-ml-data",
    "s3_prefix": "team/churn-model",
    "aws_region": "eu-west-1",
    "aws_profile": "ml-team",
    "s3_endpoint_url": "http://127.0.0.1:9000",
    "mlflow_tracking_uri": "sqlite:///mlflow.db",
    "package_index_url": "https://pypi.example.com/simple/",
    "pipeline": "tabular",
    "serving": "flask",
    "ci": "github",
}
"""A valid value for each answer, shown when a repair of the bad value is not possible."""


@dataclass(frozen=True)
class Problem:
    """One broken rule: which answer, its value, the rule in words, a valid example."""

    field: str
    value: str
    rule: str
    example: str

    def __str__(self) -> str:
        return (
            f"{self.field}: {_show(self.value)} is not allowed. {self.rule} Example: {self.example}"
        )


def _show(value: str) -> str:
    """Quote ``value`` for a message, shortening long values."""
    if len(value) <= _SHOWN_CHARS:
        return repr(value)
    return f"{value[: _SHOWN_CHARS - 3]!r}... ({len(value)} characters)"


def _has_control_chars(value: str) -> bool:
    """Whether ``value`` holds a control character or a line/paragraph separator."""
    return any(unicodedata.category(char) in {"Cc", "Zl", "Zp"} for char in value)


def _problems(field: str, value: str, rules: Rules, candidates: Iterable[str]) -> list[Problem]:
    """Turn the rules ``value`` breaks into problems sharing one valid example.

    The example is the first candidate (usually ``value`` repaired) that differs
    from ``value`` and breaks no rule, else the field's entry in ``EXAMPLES``.
    """
    broken = rules(value)
    if not broken:
        return []
    example = next((c for c in candidates if c and c != value and not rules(c)), EXAMPLES[field])
    return [Problem(field, value, rule, example) for rule in broken]


def _one_line(value: str) -> str:
    """``value`` with every run of whitespace (newlines, tabs...) made one space."""
    return " ".join(value.split())


def _slugify(value: str, separator: str) -> str:
    """Lowercase ``value``, join its ASCII letter/digit runs with ``separator``."""
    words = re.findall(r"[a-z0-9]+", value.lower())
    return separator.join(words).lstrip("0123456789" + separator)


def _length_rule(value: str, low: int, high: int) -> list[str]:
    """The length rule, when ``value`` is not ``low`` to ``high`` characters long."""
    if low <= len(value) <= high:
        return []
    return [f"Use {low} to {high} characters (this one has {len(value)})."]


def _text_rules(value: str, *, what: str, max_len: int, required: bool) -> list[str]:
    """Rules for a free-text, one-line answer such as a name or a description."""
    rules = []
    if required and not value.strip():
        rules.append(f"Give {what}; it cannot be empty or only spaces.")
    if len(value) > max_len:
        rules.append(f"Use at most {max_len} characters (this one has {len(value)}).")
    if _has_control_chars(value):
        rules.append(
            "Write it on a single line, without newlines, tabs or other control characters."
        )
    return rules


def _choice_rules(value: str, choices: Iterable[str]) -> list[str]:
    """The rule for a multiple-choice answer outside its ``choices``."""
    choices = tuple(choices)
    if value in choices:
        return []
    return [f"Choose one of: {', '.join(choices)}."]


def _http_url_rules(value: str, *, allow_query: bool) -> list[str]:
    """Rules for an ``http://`` or ``https://`` URL naming a host."""
    if any(char.isspace() for char in value) or _has_control_chars(value):
        return ["Remove the spaces: a URL cannot contain whitespace or control characters."]
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        return [
            "Write a well-formed URL such as https://host:port/path (the port must be 0-65535)."
        ]
    if parts.scheme not in {"http", "https"}:
        return ["Start the URL with http:// or https://."]
    rules = []
    if not parts.hostname:
        rules.append("Put a host name after the scheme, as in http://host:port.")
    if not allow_query and ("?" in value or "#" in value):
        rules.append("Remove the query string (?...) and the fragment (#...).")
    return rules


def _url_candidates(value: str) -> list[str]:
    """Repairs to try for a URL: drop stray whitespace, or add or replace the scheme."""
    if "://" in value:
        rest = "".join(value.split()).split("://", 1)[1]
        return ["".join(value.split()), f"http://{rest}", f"https://{rest}"]
    if any(char.isspace() for char in value):
        return []
    return [f"http://{value}", f"https://{value}"]


# --- project_name, description, author_name ---------------------------------------------


def project_name_rules(value: str) -> list[str]:
    """Rules for ``project_name``: a non-empty, one-line name of at most 100 characters."""
    return _text_rules(value, what="the project a name", max_len=100, required=True)


def validate_project_name(value: str) -> list[Problem]:
    """Check ``project_name``."""
    candidates = [_one_line(value)] if len(_one_line(value)) <= 100 else []
    return _problems("project_name", value, project_name_rules, candidates)


def description_rules(value: str) -> list[str]:
    """Rules for ``description``: one line of at most 300 characters, any quoting allowed."""
    return _text_rules(value, what="a description", max_len=300, required=False)


def validate_description(value: str) -> list[Problem]:
    """Check ``description``."""
    candidates = [_one_line(value)] if len(_one_line(value)) <= 300 else []
    return _problems("description", value, description_rules, candidates)


def author_name_rules(value: str) -> list[str]:
    """Rules for ``author_name``: a non-empty, one-line name of at most 100 characters."""
    return _text_rules(value, what="the owner's name", max_len=100, required=True)


def validate_author_name(value: str) -> list[Problem]:
    """Check ``author_name``."""
    candidates = [_one_line(value)] if len(_one_line(value)) <= 100 else []
    return _problems("author_name", value, author_name_rules, candidates)


# --- project_slug, package_name ---------------------------------------------------------


# Names are typed in every import and command; longer ones also push generated
# lines past the 100-character limit the project's linter enforces.
MAX_NAME_LENGTH = 40


def project_slug_rules(value: str) -> list[str]:
    """Rules for ``project_slug``, the folder and repository name."""
    rules = _length_rule(value, 2, MAX_NAME_LENGTH)
    if not _SLUG_RE.fullmatch(value):
        rules.append(
            "Use lowercase letters, digits and single hyphens, starting with a letter "
            "(no spaces, underscores or slashes, no hyphen at either end)."
        )
    return rules


def validate_project_slug(value: str) -> list[Problem]:
    """Check ``project_slug``."""
    candidates = [_slugify(value, "-")[:MAX_NAME_LENGTH].rstrip("-")]
    return _problems("project_slug", value, project_slug_rules, candidates)


def package_name_rules(value: str) -> list[str]:
    """Rules for ``package_name``, the importable package under ``src/``."""
    if length_rules := _length_rule(value, 2, MAX_NAME_LENGTH):
        return length_rules
    if not _PACKAGE_RE.fullmatch(value):
        return [
            "Use lowercase letters, digits and underscores, starting with a letter, "
            "so that it is a valid Python package name (no hyphens, spaces or dots)."
        ]
    if keyword.iskeyword(value):
        return [f"It is a Python keyword, so 'import {value}' would be a syntax error."]
    if value in SOFT_KEYWORDS:
        return [
            f"It is a Python soft keyword ('{value}' acts as a keyword in some statements), "
            "which makes code importing it confusing to read and to lint."
        ]
    if value in sys.stdlib_module_names:
        return [
            f"It would shadow the standard-library module '{value}' on import, "
            "breaking every library that uses it."
        ]
    if value in RESERVED_PACKAGE_NAMES:
        return [
            f"It would shadow the package or tool named '{value}' on import "
            "(the project's own package would be imported instead)."
        ]
    return []


def validate_package_name(value: str) -> list[Problem]:
    """Check ``package_name``."""
    base = _slugify(value, "_")[:MAX_NAME_LENGTH].rstrip("_")
    candidates = [base, f"{base}_project", f"my_{base}"] if base else []
    return _problems("package_name", value, package_name_rules, candidates)


# --- author_email -----------------------------------------------------------------------


def author_email_rules(value: str) -> list[str]:
    """Rules for ``author_email``: one address such as name@example.com."""
    rules = []
    if not _EMAIL_RE.fullmatch(value) or _has_control_chars(value):
        rules.append(
            "Give one e-mail address of the form name@domain.tld, without spaces "
            "(the domain needs a dot and a top-level domain such as .com)."
        )
    if len(value) > 254:
        rules.append(f"Use at most 254 characters (this one has {len(value)}).")
    return rules


def validate_author_email(value: str) -> list[Problem]:
    """Check ``author_email``."""
    candidates = ["".join(value.split())]
    return _problems("author_email", value, author_email_rules, candidates)


# --- python_version, license and the other choices ---------------------------------------


def python_version_rules(value: str) -> list[str]:
    """Rules for ``python_version``: one of the supported versions."""
    if value in SUPPORTED_PYTHON_VERSIONS:
        return []
    return [f"Choose a supported Python version: {', '.join(SUPPORTED_PYTHON_VERSIONS)}."]


def validate_python_version(value: str) -> list[Problem]:
    """Check ``python_version``."""
    return _problems("python_version", value, python_version_rules, [])


def license_rules(value: str) -> list[str]:
    """Rules for ``license``: one of the licences the template ships texts for."""
    return _choice_rules(value, LICENSES)


def validate_license(value: str) -> list[Problem]:
    """Check ``license``."""
    return _problems("license", value, license_rules, [])


PIPELINES = ("tabular", "wearables", "skeleton")


def pipeline_rules(value: str) -> list[str]:
    """Rules for ``pipeline``: one of the pipelines the template ships."""
    return _choice_rules(value, PIPELINES)


def validate_pipeline(value: str) -> list[Problem]:
    """Check ``pipeline``."""
    return _problems("pipeline", value, pipeline_rules, [])


def serving_rules(value: str) -> list[str]:
    """Rules for ``serving``: flask or none."""
    return _choice_rules(value, ("flask", "none"))


def validate_serving(value: str) -> list[Problem]:
    """Check ``serving``."""
    return _problems("serving", value, serving_rules, [])


def ci_rules(value: str) -> list[str]:
    """Rules for ``ci``: github or none."""
    return _choice_rules(value, ("github", "none"))


def validate_ci(value: str) -> list[Problem]:
    """Check ``ci``."""
    return _problems("ci", value, ci_rules, [])


# --- S3 and AWS -------------------------------------------------------------------------


def s3_bucket_rules(value: str) -> list[str]:
    """Rules for ``s3_bucket``: AWS's naming rules for general-purpose buckets."""
    rules = _length_rule(value, 3, 63)
    if any(char.isupper() for char in value):
        rules.append(
            "Use lowercase letters only: S3 bucket names cannot contain uppercase letters."
        )
    if "_" in value:
        rules.append("Replace the underscores with hyphens: S3 bucket names cannot contain '_'.")
    others = sorted({c for c in value if not re.fullmatch(r"[a-z0-9.\-_]", c) and not c.isupper()})
    if others:
        found = ", ".join(repr(c) for c in others)
        rules.append(f"Use only lowercase letters, digits, dots and hyphens (found {found}).")
    if value and not (value[0].isalnum() and value[-1].isalnum()):
        rules.append("Begin and end the name with a letter or a digit.")
    if ".." in value:
        rules.append("Do not put two dots next to each other.")
    if _IP_ADDRESS_RE.fullmatch(value):
        rules.append("Do not format the name as an IP address (like 192.168.5.4).")
    for prefix in _BUCKET_RESERVED_PREFIXES:
        if value.startswith(prefix):
            rules.append(f"Do not start the name with '{prefix}': AWS reserves that prefix.")
    for suffix in _BUCKET_RESERVED_SUFFIXES:
        if value.endswith(suffix):
            rules.append(f"Do not end the name with '{suffix}': AWS reserves that suffix.")
    return rules


def validate_s3_bucket(value: str) -> list[Problem]:
    """Check ``s3_bucket``."""
    repaired = re.sub(r"[^a-z0-9.]+", "-", value.lower())
    repaired = re.sub(r"\.{2,}", ".", repaired).strip(".-")[:63].rstrip(".-")
    return _problems("s3_bucket", value, s3_bucket_rules, [repaired])


def s3_prefix_rules(value: str) -> list[str]:
    """Rules for ``s3_prefix``: empty (bucket root) or a clean relative key prefix."""
    if not value:
        return []
    rules = []
    if len(value) > 200:
        rules.append(f"Use at most 200 characters (this one has {len(value)}).")
    if not _PREFIX_CHARS_RE.fullmatch(value):
        rules.append("Use only letters, digits, '.', '_', '-' and '/' (no spaces).")
    if value.startswith("/") or value.endswith("/"):
        rules.append("Remove the leading and trailing '/': the prefix is relative to the bucket.")
    if "//" in value:
        rules.append("Do not put two slashes next to each other.")
    if any(part in {".", ".."} for part in value.split("/")):
        rules.append("Do not use '.' or '..' as a folder name.")
    return rules


def validate_s3_prefix(value: str) -> list[Problem]:
    """Check ``s3_prefix``."""
    cleaned = re.sub(r"[^A-Za-z0-9._/-]+", "-", value)
    parts = [part for part in cleaned.split("/") if part not in {"", ".", ".."}]
    repaired = "/".join(parts)[:200].strip("/")
    return _problems("s3_prefix", value, s3_prefix_rules, [repaired])


def aws_region_rules(value: str) -> list[str]:
    """Rules for ``aws_region``: a region code such as eu-west-1."""
    if _REGION_RE.fullmatch(value):
        return []
    return [
        "Give an AWS region code in lowercase, such as us-east-1, eu-central-1 or "
        "us-gov-west-1 (area, direction, number)."
    ]


def validate_aws_region(value: str) -> list[Problem]:
    """Check ``aws_region``."""
    candidates = [value.strip().lower()]
    return _problems("aws_region", value, aws_region_rules, candidates)


def aws_profile_rules(value: str) -> list[str]:
    """Rules for ``aws_profile``: empty (default credential chain) or a profile name."""
    if not value:
        return []
    rules = _length_rule(value, 1, 64)
    if not _PROFILE_RE.fullmatch(value):
        rules.append(
            "Use only letters, digits and the characters _ + = , . @ - (no spaces), "
            "or leave it blank for the default credential chain."
        )
    return rules


def validate_aws_profile(value: str) -> list[Problem]:
    """Check ``aws_profile``."""
    candidates = [re.sub(r"[^A-Za-z0-9_+=,.@-]+", "-", value.strip())[:64]]
    return _problems("aws_profile", value, aws_profile_rules, candidates)


def s3_endpoint_url_rules(value: str) -> list[str]:
    """Rules for ``s3_endpoint_url``: empty (AWS) or the http(s) URL of an S3-compatible store."""
    if not value:
        return []
    return _http_url_rules(value, allow_query=False)


def validate_s3_endpoint_url(value: str) -> list[Problem]:
    """Check ``s3_endpoint_url``."""
    return _problems("s3_endpoint_url", value, s3_endpoint_url_rules, _url_candidates(value))


# --- MLflow and the package index -------------------------------------------------------

_FILE_STORE_RULE = (
    "MLflow's file store (a local mlruns folder or file: URI) is deprecated; "
    "keep runs in a SQLite database instead, such as sqlite:///mlflow.db."
)
_TRACKING_FORMS_RULE = (
    "Use one of: sqlite:///<path>, http(s)://<host>, postgresql[+driver]://..., "
    "mysql[+driver]://..., mssql+<driver>://..., databricks or databricks://<profile>."
)


def _is_local_path(value: str) -> bool:
    """Whether ``value`` is a file: URI or a bare file-system path rather than a URI."""
    if value.lower().startswith("file:") or _WINDOWS_PATH_RE.match(value):
        return True
    return _URI_SCHEME_RE.match(value) is None


def mlflow_tracking_uri_rules(value: str) -> list[str]:
    """Rules for ``mlflow_tracking_uri``: a tracking server or a database store."""
    lowered = value.lower()
    if not value:
        return ["Give a tracking URI; it cannot be empty."]
    if any(char.isspace() for char in value) or _has_control_chars(value):
        return ["Remove the spaces: the tracking URI cannot contain whitespace."]
    if _DATABRICKS_RE.fullmatch(value):
        return []
    if _is_local_path(value):
        return [_FILE_STORE_RULE]
    if lowered.startswith("sqlite:"):
        if lowered.startswith("sqlite:///") and len(value) > len("sqlite:///"):
            return []
        return ["Name the database file after sqlite:///, as in sqlite:///mlflow.db."]
    if lowered.startswith(("http:", "https:")):
        return _http_url_rules(value, allow_query=True)
    sql_store = _SQL_STORE_RE.fullmatch(value)
    if sql_store:
        if sql_store.group(1):
            return []
        return ["Put the user, host and database after '://', as in postgresql://user@host/db."]
    if lowered.startswith("mssql:"):
        return ["Name the SQL Server driver in the scheme, as in mssql+pyodbc://..."]
    return [_TRACKING_FORMS_RULE]


def validate_mlflow_tracking_uri(value: str) -> list[Problem]:
    """Check ``mlflow_tracking_uri``."""
    candidates: list[str] = []
    if value and not _is_local_path(value):
        candidates = [
            "".join(value.split()),
            re.sub(r"^postgres:", "postgresql:", value),
            re.sub(r"^mssql:", "mssql+pyodbc:", value),
        ]
        if "://" not in value:
            candidates += _url_candidates(value)
    return _problems("mlflow_tracking_uri", value, mlflow_tracking_uri_rules, candidates)


def package_index_url_rules(value: str) -> list[str]:
    """Rules for ``package_index_url``: empty (PyPI) or the http(s) URL of a simple index."""
    if not value:
        return []
    return _http_url_rules(value, allow_query=True)


def validate_package_index_url(value: str) -> list[Problem]:
    """Check ``package_index_url``."""
    return _problems("package_index_url", value, package_index_url_rules, _url_candidates(value))


# --- all answers ------------------------------------------------------------------------

VALIDATORS: dict[str, Callable[[str], list[Problem]]] = {
    "project_name": validate_project_name,
    "project_slug": validate_project_slug,
    "package_name": validate_package_name,
    "description": validate_description,
    "author_name": validate_author_name,
    "author_email": validate_author_email,
    "python_version": validate_python_version,
    "license": validate_license,
    "s3_bucket": validate_s3_bucket,
    "s3_prefix": validate_s3_prefix,
    "aws_region": validate_aws_region,
    "aws_profile": validate_aws_profile,
    "s3_endpoint_url": validate_s3_endpoint_url,
    "mlflow_tracking_uri": validate_mlflow_tracking_uri,
    "package_index_url": validate_package_index_url,
    "pipeline": validate_pipeline,
    "serving": validate_serving,
    "ci": validate_ci,
}
"""Each answer's validator, in the order cookiecutter asks the questions."""


def validate(answers: Mapping[str, object]) -> list[Problem]:
    """Return every problem with ``answers`` (all of them, not just the first)."""
    problems: list[Problem] = []
    for field, validator in VALIDATORS.items():
        value = answers.get(field)
        if isinstance(value, str):
            problems.extend(validator(value))
        else:
            # Only a hand-edited replay file gets here: cookiecutter's answers are text.
            shown, rule = (
                ("", "The answer is missing.")
                if value is None
                else (
                    str(value),
                    "Give the answer as text.",
                )
            )
            problems.append(Problem(field, shown, rule, EXAMPLES[field]))
    return problems


def report(problems: list[Problem], answers: Mapping[str, object]) -> str:
    """The message shown when ``problems`` stop generation: what, why, how to re-run."""
    count = len({problem.field for problem in problems})
    noun = "answer needs" if count == 1 else "answers need"
    lines = [f"Cannot generate the project: {count} {noun} fixing.", ""]
    lines += [f"  - {problem}" for problem in problems]
    template = answers.get("_template")
    template = template if isinstance(template, str) and template else "<template>"
    repo_dir = answers.get("_repo_dir")
    # A relative repo dir was relative to where cookiecutter started, not to this hook's cwd.
    name = "<template folder name>"
    if isinstance(repo_dir, str) and os.path.isabs(repo_dir):
        name = os.path.basename(repo_dir.rstrip("/"))
    fixes = {problem.field: problem.example for problem in problems}
    # Every answer, the bad ones replaced by their suggested fix: nothing has to be typed again.
    kept = {
        field: str(answers[field])
        for field in VALIDATORS
        if isinstance(answers.get(field), str) and field not in fixes
    }
    rerun = " ".join(shlex.quote(f"{field}={value}") for field, value in {**kept, **fixes}.items())
    replay_file = f"~/.cookiecutter_replay/{name}.json"
    lines += [
        "",
        "Nothing was generated. Run cookiecutter again with every other answer kept and the",
        "suggested fixes (edit them first if they are not what you want):",
        f"  cookiecutter --no-input {shlex.quote(template)} {rerun}",
        f"or fix them in the saved answers ({replay_file} unless your cookiecutter",
        "config sets replay_dir) and replay that file:",
        f"  cookiecutter --replay-file {replay_file} {shlex.quote(template)}",
    ]
    return "\n".join(lines)


def main() -> int:
    """Validate the rendered answers; print a report and return 1 if any is unusable."""
    try:
        answers = json.loads(ANSWERS_JSON)
    except json.JSONDecodeError:
        print("pre_gen_project: run this hook through cookiecutter.", file=sys.stderr)
        return 2
    if not isinstance(answers, dict):
        print("pre_gen_project: the answers are not a JSON object.", file=sys.stderr)
        return 2
    problems = validate(answers)
    if not problems:
        return 0
    print(report(problems, answers), file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
