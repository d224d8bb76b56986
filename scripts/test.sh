#!/usr/bin/env bash
# The test command behind `make test`: sets up a fresh machine, then runs
# go vet, every Go test, and the Python interop tests against a real mount.
# Each step has a deadline (scripts/watchdog.sh): a hung FUSE test fails the
# run with a report of what was stuck instead of hanging it.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/watchdog.sh

bash scripts/ensure-fuse.sh
ensure_fusectl

echo "== go vet"
go vet ./...
test -z "$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt needed:"; gofmt -l .; exit 1; }

step "go test" 900 go test -count=1 -timeout 12m ./...
step "go test -race" 1500 go test -race -count=1 -timeout 20m ./...

go build -o bin/ckptfs ./cmd/ckptfs
step "python virtualenv" 900 bash scripts/venv.sh .venv tests/interop/requirements.txt
step "interop (torch, safetensors, transformers against a real mount)" 1200 \
  env CKPTFS_BIN="$PWD/bin/ckptfs" .venv/bin/python -m pytest -q tests/interop
