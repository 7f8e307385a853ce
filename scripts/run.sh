#!/usr/bin/env bash
# Set everything up and run the bot (polling, SQLite by default). The token comes from
# KUA_TELEGRAM__TOKEN or config.toml (see config.example.toml).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/migrate.sh
exec .venv/bin/python -m bot
