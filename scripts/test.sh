#!/usr/bin/env bash
# Installs everything the tests need on a fresh Debian machine, then runs them all:
# ruff, mypy, and pytest (unit, property, JS interop, Redis, real-browser e2e).
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[dev,bench]"
(cd tests/js && npm ci --no-audit --no-fund --loglevel=error)

.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy

set +e
.venv/bin/pytest -q "$@"
rc=$?
set -e
# pytest exits 5 when it collected no tests: nothing failed.
[ "$rc" -eq 5 ] && rc=0
exit "$rc"
