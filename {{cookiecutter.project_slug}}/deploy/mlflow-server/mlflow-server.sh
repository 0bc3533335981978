#!/usr/bin/env bash
# Start the team's MLflow tracking server on 127.0.0.1, with MLflow's own sign-in and
# permissions (its `basic-auth` app); nginx (nginx/mlflow.conf) in front of it adds
# TLS. Settings come from the environment: systemd reads them from
# /etc/mlflow/mlflow.env (see mlflow.env.example), docker-compose.yml from its
# `environment:`. Extra arguments are passed on to `mlflow server`.
set -euo pipefail

: "${MLFLOW_BACKEND_STORE_URI:?set it, e.g. postgresql://mlflow@127.0.0.1:5432/mlflow (password in PGPASSWORD)}"
: "${MLFLOW_FLASK_SERVER_SECRET_KEY:?set it to a long random string, e.g. the output of: openssl rand -hex 32}"
artifacts="${MLFLOW_ARTIFACTS_DESTINATION:-s3://{{ cookiecutter.s3_bucket }}/{% if cookiecutter.s3_prefix %}{{ cookiecutter.s3_prefix }}/{% endif %}mlflow-artifacts}"
{%- if cookiecutter.s3_endpoint_url %}
export MLFLOW_S3_ENDPOINT_URL="${MLFLOW_S3_ENDPOINT_URL:-{{ cookiecutter.s3_endpoint_url }}}"
{%- endif %}

# Users, their passwords (hashed) and permissions live in the same database as the
# runs, in tables of their own. Every signed-in user may read everything
# (default_permission); writing takes the `writers` role (users.py). The admin is
# created on the first start, with the password in MLFLOW_AUTH_ADMIN_PASSWORD.
# MLflow reads these settings from a file only, so the file is written here from
# the environment (it holds no password).
if [[ -z "${MLFLOW_AUTH_CONFIG_PATH:-}" ]]; then
    MLFLOW_AUTH_CONFIG_PATH="$(mktemp "${TMPDIR:-/tmp}/mlflow-auth.XXXXXX")"
    cat > "$MLFLOW_AUTH_CONFIG_PATH" <<EOF
[mlflow]
default_permission = READ
database_uri = ${MLFLOW_AUTH_DATABASE_URI:-$MLFLOW_BACKEND_STORE_URI}
admin_username = ${MLFLOW_AUTH_ADMIN_USERNAME:-admin}
authorization_function = mlflow.server.auth:authenticate_request_basic_auth
EOF
    export MLFLOW_AUTH_CONFIG_PATH
fi

# Host headers MLflow answers (DNS-rebinding protection): the public name nginx
# forwards, and this machine's own addresses with any port, for local clients and
# health checks (http://127.0.0.1:5000/health).
exec mlflow server \
    --app-name basic-auth \
    --host 127.0.0.1 \
    --port "${MLFLOW_PORT:-5000}" \
    --backend-store-uri "$MLFLOW_BACKEND_STORE_URI" \
    --serve-artifacts \
    --artifacts-destination "$artifacts" \
    --allowed-hosts "${MLFLOW_SERVER_NAME:-mlflow.example.com},localhost,localhost:*,127.0.0.1,127.0.0.1:*" \
    "$@"
