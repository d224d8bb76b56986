"""A real ckptfs mount of testdata/store, shared by the interop tests.

The tests talk to the mount only through the file system, with the real
client libraries (torch, safetensors, transformers). A mount that cannot be
made fails the run: these tests are never skipped.
"""

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
STORE = REPO / "testdata" / "store"
GOLDENS = REPO / "testdata" / "goldens"


def golden_models():
    """Relative paths of the models that have goldens."""
    return sorted(str(p.parent.relative_to(GOLDENS)) for p in GOLDENS.rglob("golden.json"))


def load_golden(rel):
    return json.loads((GOLDENS / rel / "golden.json").read_text())


class Mount:
    def __init__(self, store, mountpoint, log, cache_size="64MiB"):
        self.mountpoint = Path(mountpoint)
        binary = os.environ.get("CKPTFS_BIN", str(REPO / "bin" / "ckptfs"))
        self.log = open(log, "w")
        self.proc = subprocess.Popen(
            [binary, "mount", "--cache-size", cache_size, str(store), str(mountpoint)],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        # "serving" is logged once go-fuse's own start-up check of the mount
        # is done; a signal before that would reach a half-started daemon.
        while not os.path.ismount(mountpoint) or "serving " not in Path(log).read_text():
            if self.proc.poll() is not None or time.time() > deadline:
                self.proc.kill()
                pytest.fail(f"ckptfs did not mount {store} at {mountpoint}: {Path(log).read_text()}")
            time.sleep(0.05)

    def path(self, rel):
        return self.mountpoint / rel

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=30)
        self.log.close()
        assert code == 0, f"ckptfs exited with {code}"
        assert not os.path.ismount(self.mountpoint), "SIGTERM left the mount in place"


@pytest.fixture(scope="session")
def mount(tmp_path_factory):
    base = tmp_path_factory.mktemp("mnt")
    mnt = base / "store"
    mnt.mkdir()
    m = Mount(STORE, mnt, base / "ckptfs.log")
    yield m
    m.stop()


@pytest.fixture(scope="session")
def second_mount(tmp_path_factory):
    base = tmp_path_factory.mktemp("mnt2")
    mnt = base / "store"
    mnt.mkdir()
    m = Mount(STORE, mnt, base / "ckptfs.log")
    yield m
    m.stop()


@pytest.fixture
def fresh_mount(tmp_path):
    """A mount of its own, with a cache small enough to force eviction, whose
    files nobody has read yet (so the kernel's page cache is empty)."""
    mnt = tmp_path / "store"
    mnt.mkdir()
    m = Mount(STORE, mnt, tmp_path / "ckptfs.log", cache_size="1KiB")
    yield m
    m.stop()
