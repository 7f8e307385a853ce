#!/usr/bin/env bash
# Try Kua without Telegram: the real bot against a local Bot API emulator, shown in the browser
# at http://127.0.0.1:8090/ (KUA_DEMO_PORT changes the port). No token, no network; the demo's
# data lives in a temporary directory that is removed when it stops (Ctrl-C).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m emulator.demo
