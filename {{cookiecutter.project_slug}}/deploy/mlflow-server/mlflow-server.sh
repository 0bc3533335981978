#!/usr/bin/env bash
# Start the team's MLflow tracking server on 127.0.0.1; nginx (nginx/mlflow.conf) in
# front of it adds TLS and the password. Settings come from the environment: systemd
# reads them from /etc/mlflow/mlflow.env (see mlflow.env.example), docker-compose.yml
# from its `environment:`. Extra arguments are passed on to `mlflow server`.
set -euo pipefail

: "${MLFLOW_BACKEND_STORE_URI:?set it, e.g. postgresql://mlflow@127.0.0.1:5432/mlflow (password in PGPASSWORD)}"
artifacts="${MLFLOW_ARTIFACTS_DESTINATION:-s3://{{ cookiecutter.s3_bucket }}/{% if cookiecutter.s3_prefix %}{{ cookiecutter.s3_prefix }}/{% endif %}mlflow-artifacts}"
{%- if cookiecutter.s3_endpoint_url %}
export MLFLOW_S3_ENDPOINT_URL="${MLFLOW_S3_ENDPOINT_URL:-{{ cookiecutter.s3_endpoint_url }}}"
{%- endif %}

# Host headers MLflow answers (DNS-rebinding protection): the public name nginx
# forwards, and this machine's own addresses with any port, for local clients and
# health checks (http://127.0.0.1:5000/health).
exec mlflow server \
    --host 127.0.0.1 \
    --port "${MLFLOW_PORT:-5000}" \
    --backend-store-uri "$MLFLOW_BACKEND_STORE_URI" \
    --serve-artifacts \
    --artifacts-destination "$artifacts" \
    --allowed-hosts "${MLFLOW_SERVER_NAME:-mlflow.example.com},localhost,localhost:*,127.0.0.1,127.0.0.1:*" \
    "$@"
