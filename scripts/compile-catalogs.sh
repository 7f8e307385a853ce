#!/usr/bin/env bash
# Compile locales/*/LC_MESSAGES/messages.po to .mo (fails on a broken catalog).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
"$PY" -m babel.messages.frontend compile -d locales -D messages --statistics 2>&1 | sed 's/^/  /'
