#!/usr/bin/env bash
# venv.sh DIR REQUIREMENTS: make DIR a virtualenv holding exactly the pinned
# REQUIREMENTS, reusing it when they have not changed since it was made.
set -euo pipefail
venv=$1 req=$2
stamp="$venv/.requirements.sha256"
want=$(sha256sum "$req" | cut -d' ' -f1)
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$req"
  echo "$want" > "$stamp"
fi
