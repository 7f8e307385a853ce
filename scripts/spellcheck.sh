#!/usr/bin/env bash
# Spell-check the kk and ru catalogs' msgstr with hunspell (kk_KZ, ru_RU) and print every word
# the dictionaries do not know, one per line with the first msgid it appears in. Words that are
# correct but missing from the dictionaries (inflected forms, loanwords such as бот or чат,
# abbreviations) go in locales/<lang>/spelling.txt, one per line; lines starting with # are
# comments. Only words with Cyrillic letters are checked: Latin names (Telegram, Facebook) and
# placeholders, commands and web addresses are not Kazakh or Russian spelling.
#
#   scripts/spellcheck.sh [kk] [ru]     exit 0: no unknown words; 1: some; 2: hunspell missing
#
# hunspell and its dictionaries come from Debian packages; as root the script installs them
# when missing (apt-get install hunspell hunspell-kk hunspell-ru).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
export LC_ALL=C.UTF-8  # hunspell reads the word lists in the locale's encoding
export HOME=${HOME:-/tmp}  # without HOME hunspell silently ignores the word list (-p)
LANGS=("$@")
[ ${#LANGS[@]} -eq 0 ] && LANGS=(kk ru)

have_dicts() {
  command -v hunspell >/dev/null 2>&1 || return 1
  local dicts
  dicts=$(hunspell -D 2>&1 </dev/null || true)
  for lang in "${LANGS[@]}"; do
    case $lang in kk) d=kk_KZ ;; ru) d=ru_RU ;; *) echo "unknown language: $lang" >&2; exit 2 ;; esac
    grep -q "/$d\$" <<<"$dicts" || return 1
  done
}

if ! have_dicts; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing hunspell hunspell-kk hunspell-ru ..." >&2
    apt-get update -qq >/dev/null && apt-get install -y -qq hunspell hunspell-kk hunspell-ru >/dev/null
  fi
  if ! have_dicts; then
    echo "hunspell with the kk_KZ and ru_RU dictionaries is not installed:" \
         "apt-get install hunspell hunspell-kk hunspell-ru" >&2
    exit 2
  fi
fi

status=0
for lang in "${LANGS[@]}"; do
  case $lang in kk) dict=kk_KZ ;; ru) dict=ru_RU ;; esac
  po="locales/$lang/LC_MESSAGES/messages.po"
  words=$(mktemp) personal=$(mktemp)
  # The word list without its comments (hunspell's personal dictionary has no comment syntax).
  grep -v '^[[:space:]]*\(#\|$\)' "locales/$lang/spelling.txt" 2>/dev/null | sed 's/[[:space:]]*$//' >"$personal" || true
  "$PY" - "$po" >"$words" <<'PYEOF'
import re
import sys

from babel.messages.pofile import read_po

NOISE = re.compile(r"\{\w*\}|/\w+|\S+\.(kz|org|com|ru)\S*|https?://\S+")
WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")
CYRILLIC = re.compile(r"[\u0400-\u04FF]")
LATIN = re.compile(r"[A-Za-z]")

with open(sys.argv[1], "rb") as fh:
    catalog = read_po(fh)
seen: dict[str, str] = {}
for message in catalog:
    if not message.id:
        continue
    msgid = message.id if isinstance(message.id, str) else message.id[0]
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    for text in strings:
        for word in WORD.findall(NOISE.sub(" ", text or "")):
            if CYRILLIC.search(word) and not LATIN.search(word):
                seen.setdefault(word, msgid)
for word, msgid in seen.items():
    print(word + "\t" + " ".join(msgid.split())[:60])
PYEOF
  unknown=$(cut -f1 "$words" | hunspell -i UTF-8 -d "$dict" -p "$personal" -l | sort -u || true)
  if [ -n "$unknown" ]; then
    status=1
    while IFS= read -r word; do
      printf '%s: %s\t(in "%s")\n' "$lang" "$word" "$(awk -F'\t' -v w="$word" '$1 == w {print $2; exit}' "$words")"
    done <<<"$unknown"
  fi
  rm -f "$words" "$personal"
done
exit $status
