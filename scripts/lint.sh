#!/usr/bin/env bash
# Lint, format check and type check, with the settings in pyproject.toml. Runs all three and
# fails if any of them found something. Needs the dev requirements (scripts/setup.sh).
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
status=0
echo "== ruff check";        "$BIN/ruff" check . || status=1
echo "== ruff format --check"; "$BIN/ruff" format --check . || status=1
echo "== mypy";              "$BIN/mypy" || status=1
exit $status
