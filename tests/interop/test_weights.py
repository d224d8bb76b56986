"""The virtual weight files against the goldens of transformers 4.x's own
conversion: same keys, bit-identical tensors, through every reader."""

import os

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file

from conftest import GOLDENS, STORE, golden_models, load_golden

MODELS = golden_models()


def golden_tensors(rel):
    return load_file(str(GOLDENS / rel / "tensors.safetensors"))


def assert_bit_identical(name, got, want):
    assert got.dtype == want.dtype, f"{name}: dtype {got.dtype} != {want.dtype}"
    assert got.shape == want.shape, f"{name}: shape {tuple(got.shape)} != {tuple(want.shape)}"
    got_bytes = got.contiguous().view(torch.uint8) if got.numel() else got
    want_bytes = want.contiguous().view(torch.uint8) if want.numel() else want
    assert torch.equal(got_bytes, want_bytes), f"{name}: values differ"


def test_goldens_present():
    assert len(MODELS) >= 5, MODELS


@pytest.mark.parametrize("rel", MODELS)
@pytest.mark.parametrize("mmap", [False, True])
def test_torch_load(mount, rel, mmap):
    golden = load_golden(rel)
    want = golden_tensors(rel)
    sd = torch.load(mount.path(rel) / "pytorch_model.bin", weights_only=True, mmap=mmap, map_location="cpu")
    assert list(sd.keys()) == golden["state_dict_keys"]
    for name, tensor in sd.items():
        assert_bit_identical(name, tensor, want[name])
    # Tied weights share one storage, as in torch.save of the reference model.
    for group in golden["tied_groups"]:
        ptrs = {sd[k].untyped_storage().data_ptr() for k in group}
        assert len(ptrs) == 1, f"{group} do not share storage"


@pytest.mark.parametrize("rel", MODELS)
def test_safetensors(mount, rel):
    golden = load_golden(rel)
    want = golden_tensors(rel)
    path = mount.path(rel) / "model.safetensors"
    got = load_file(str(path))
    assert set(got) == set(golden["safetensors_keys"])
    for name, tensor in got.items():
        assert_bit_identical(name, tensor, want[name])
    with safe_open(str(path), framework="pt") as f:
        assert f.metadata() == {"format": "pt"}


@pytest.mark.parametrize("rel", MODELS)
def test_two_mounts_serve_identical_bytes(mount, second_mount, rel):
    originals = set(os.listdir(STORE / rel))
    generated = [n for n in os.listdir(mount.path(rel)) if n not in originals]
    assert {"pytorch_model.bin", "model.safetensors", "config.json"} <= set(generated)
    for name in generated:
        a = (mount.path(rel) / name).read_bytes()
        b = (second_mount.path(rel) / name).read_bytes()
        assert a == b, f"{rel}/{name} differs between mounts"
