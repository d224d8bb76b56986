# ckptfs — see README.md. `make run` and `make test` set up everything they
# need on a fresh machine.

GO       ?= go
BIN      := bin/ckptfs
STORE    ?= testdata/store
MNT      ?= mnt

.PHONY: build run test bench microbench fixtures vet clean

build:
	$(GO) build -o $(BIN) ./cmd/ckptfs

# Mount the bundled sample store at ./mnt in the foreground; Ctrl-C unmounts.
run: build
	@bash scripts/ensure-fuse.sh
	@mkdir -p $(MNT)
	@echo "Mounting $(STORE) at $(MNT). In another shell, with transformers installed"
	@echo "(make test leaves one in .venv: use .venv/bin/python), for example:"
	@echo "  python -c 'from transformers import BertForPreTraining as M; M.from_pretrained(\"$(MNT)/google/uncased_L-2_H-32_A-4\")'"
	@echo "Press Ctrl-C to unmount."
	$(BIN) mount $(STORE) $(MNT)

# Install what the tests need (fuse3, Go modules, a Python virtualenv from
# pinned requirements), then run go vet, the Go tests and the interop tests.
test:
	bash scripts/test.sh

# The figures of issue 5 against baselines measured in the same run (root:
# cold figures drop the page cache). BENCH_ARGS='-only B1,B9' runs a subset;
# B7 runs when CKPTFS_FIXTURES_VENV names the fixtures' venv.
VENV       ?= .venv
BENCH_ARGS ?=
bench: build
	$(GO) build -o bin/bench ./tools/bench
	bin/bench -ckptfs $(BIN) -venv $(VENV) $(BENCH_ARGS)

# Go micro-benchmarks of single packages.
microbench:
	$(GO) test -run '^$$' -bench . -benchtime 2x ./...

# Regenerate testdata/ with TensorFlow and transformers 4.x (the oracle).
fixtures:
	bash scripts/fixtures.sh

vet:
	$(GO) vet ./...

clean:
	rm -rf bin
