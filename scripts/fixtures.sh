#!/usr/bin/env bash
# Regenerate testdata/ with the reference tools (TensorFlow's saver,
# transformers 4.x's conversion) in their own pinned virtualenv.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=tools/fixtures/.venv
bash scripts/venv.sh "$venv" tools/fixtures/requirements.txt
TF_CPP_MIN_LOG_LEVEL=2 "$venv/bin/python" tools/fixtures/make_fixtures.py --out testdata
