#!/usr/bin/env bash
# Bring the configured database (database.url; SQLite under ./data by default) to the latest schema.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python -m bot.migrate upgrade "$@"
