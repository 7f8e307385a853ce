#!/usr/bin/env bash
# Re-extract msgids from the code into locales/messages.pot and merge them into kk, ru, en.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
"$PY" -m babel.messages.frontend extract -F babel.cfg -k _ -k __ -k N_ -k ngettext:1,2 \
    --no-location --sort-output --omit-header -o locales/messages.pot . >/dev/null 2>&1
for loc in kk ru en; do
  po="locales/$loc/LC_MESSAGES/messages.po"
  if [ -f "$po" ]; then
    "$PY" -m babel.messages.frontend update -i locales/messages.pot -d locales -D messages -l "$loc" \
        --no-fuzzy-matching --ignore-obsolete >/dev/null 2>&1
  else
    "$PY" -m babel.messages.frontend init -i locales/messages.pot -d locales -D messages -l "$loc" >/dev/null 2>&1
  fi
done
echo "extracted $(grep -c '^msgid ' locales/messages.pot) msgids"
# English is the source language: an empty English entry takes its msgid (a copy editor may
# still change the English wording in the catalog without touching code).
"$PY" scripts/fill_source_catalog.py locales/en/LC_MESSAGES/messages.po
