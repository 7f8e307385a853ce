#!/usr/bin/env bash
# Create .venv with the pinned dependencies (reinstalling only when the pins change) and compile
# the message catalogs. Needs Python >= 3.11 as python3 (or set PYTHON_BIN).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON_BIN=${PYTHON_BIN:-python3}
"$PYTHON_BIN" - <<'PY'
import sys
if sys.version_info < (3, 11):
    sys.exit(f"kua: Python 3.11 or newer is needed, found {sys.version.split()[0]}")
PY
want="$(cat requirements/base.txt requirements/dev.txt | sha256sum | cut -d' ' -f1)"
if [ ! -x .venv/bin/python ] || [ "$(cat .venv/.pins 2>/dev/null)" != "$want" ]; then
  echo "kua: installing pinned dependencies into .venv"
  "$PYTHON_BIN" -m venv .venv
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements/dev.txt
  echo "$want" > .venv/.pins
fi
PYTHON=.venv/bin/python bash scripts/compile-catalogs.sh >/dev/null
