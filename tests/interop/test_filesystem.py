"""The mount as a file system: originals untouched, read-only, and many
concurrent readers getting the same bytes as one sequential reader."""

import errno
import os
import random
import threading

import pytest

from conftest import STORE, golden_models

MODELS = golden_models()


def test_originals_are_byte_identical(mount):
    count = 0
    for path in STORE.rglob("*"):
        if path.is_file():
            rel = path.relative_to(STORE)
            assert (mount.path(rel)).read_bytes() == path.read_bytes(), rel
            count += 1
    assert count > 10


def test_model_folder_lists_generated_files(mount):
    for rel in MODELS:
        names = set(os.listdir(mount.path(rel)))
        originals = set(os.listdir(STORE / rel))
        assert {"config.json", "pytorch_model.bin", "model.safetensors"} | originals <= names


def test_non_model_folder_passes_through(mount):
    names = os.listdir(mount.path("notes"))
    assert "pytorch_model.bin" not in names and "README.txt" in names


def test_writes_are_refused(mount):
    rel = MODELS[0]
    original = sorted(os.listdir(STORE / rel))[0]
    for name in ("model.safetensors", original, "new-file"):
        with pytest.raises(OSError) as e:
            open(mount.path(rel) / name, "r+b" if name != "new-file" else "wb")
        assert e.value.errno in (errno.EROFS, errno.EACCES), name
    with pytest.raises(OSError):
        os.rename(mount.path(rel) / original, mount.path(rel) / "renamed")


@pytest.mark.parametrize("name", ["model.safetensors", "pytorch_model.bin"])
def test_concurrent_random_reads(fresh_mount, name):
    path = fresh_mount.path(MODELS[0]) / name
    size_total = os.stat(path).st_size
    reads, errors = [], []

    def reader(seed):
        rnd = random.Random(seed)
        try:
            with open(path, "rb", buffering=0) as f:
                for _ in range(200):
                    off = rnd.randrange(size_total)
                    size = rnd.choice([1, 7, 4096, 65536, 1 << 20])
                    reads.append((off, size, os.pread(f.fileno(), size, off)))
        except OSError as e:
            errors.append((seed, e))

    threads = [threading.Thread(target=reader, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    # Only now read the file once, sequentially, as the reference.
    whole = path.read_bytes()
    assert len(whole) == size_total
    bad = [(off, size) for off, size, got in reads if got != whole[off:off + size]]
    assert bad == [] and len(reads) == 16 * 200
