#!/usr/bin/env bash
# Set everything up and run the whole test suite. pytest's own exit code is kept: 5 ("no tests
# ran") fails like any other non-zero code.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# Two workers (pytest-xdist): most of the suite drives a real bot and a fake Telegram, and two
# processes keep both cores busy. `--dist worksteal`: a worker that runs out takes tests queued
# for the other, so the long ones (browser, kill, install) do not leave a core idle at the end
# (236 s with `loadgroup`, 204 s with it, same machine and hour).
# KUA_TEST_WORKERS=0 runs everything in this one process (e.g. for a debugger).
exec .venv/bin/python -m pytest -n "${KUA_TEST_WORKERS:-2}" --dist worksteal "$@"
