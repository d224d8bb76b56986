#!/usr/bin/env bash
# The test command behind `make test`: sets up a fresh machine, then runs
# go vet, every Go test, and the Python interop tests against a real mount.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/ensure-fuse.sh

echo "== go vet"
go vet ./...
test -z "$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt needed:"; gofmt -l .; exit 1; }

echo "== go test"
go test -count=1 -timeout 20m ./...
echo "== go test -race"
go test -race -count=1 -timeout 20m ./...

echo "== interop (torch, safetensors, transformers against a real mount)"
go build -o bin/ckptfs ./cmd/ckptfs
venv=.venv
req=tests/interop/requirements.txt
stamp="$venv/.requirements.sha256"
want=$(sha256sum "$req" | cut -d' ' -f1)
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$req"
  echo "$want" > "$stamp"
fi
CKPTFS_BIN="$PWD/bin/ckptfs" "$venv/bin/python" -m pytest -q tests/interop
