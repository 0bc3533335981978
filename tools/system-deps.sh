#!/usr/bin/env bash
# System programs the tests run besides Python packages: nginx and openssl (the team
# MLflow server behind nginx), PostgreSQL (a query source of a team's own data),
# Prometheus and promtool (the service's alerts), wrk (the serving benchmark's load
# generator), Java 17 (Spark, for batch scoring on Spark), git and make. Installed with apt-get when
# missing and running as root; otherwise the command to run is printed.
set -euo pipefail

missing=()
command -v git >/dev/null 2>&1 || missing+=(git)
command -v make >/dev/null 2>&1 || missing+=(make)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v nginx >/dev/null 2>&1 || [[ -x /usr/sbin/nginx ]] || missing+=(nginx)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || command -v initdb >/dev/null 2>&1 \
    || missing+=(postgresql)
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jre-headless)
((${#missing[@]})) || exit 0

if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing ${missing[*]} with apt-get (needed by the end-to-end tests)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
    echo "The end-to-end tests need: ${missing[*]}." >&2
    echo "Install them, e.g.: sudo apt-get install ${missing[*]}" >&2
    exit 1
fi
