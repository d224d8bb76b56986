"""Current transformers pointed at the mount: config, tokenizer, and a model
whose outputs match the reference conversion's."""

import json

import pytest
import torch
import transformers
from safetensors.torch import load_file
from transformers import AutoConfig, AutoTokenizer

from conftest import GOLDENS, golden_models, load_golden

# Families current transformers no longer ships (Transformer-XL, removed in
# transformers 5) are held to the goldens by test_weights.py and by
# test_config_without_transformers below; test_not_loadable_is_really_gone
# checks that the reason they are left out here still holds.
LOADABLE = [rel for rel in golden_models() if load_golden(rel)["loads_with_current_transformers"]]
NOT_LOADABLE = [rel for rel in golden_models() if rel not in LOADABLE]


def test_transformer_xl_is_held_to_the_goldens():
    assert any(load_golden(rel)["model_type"] == "transfo-xl" for rel in NOT_LOADABLE), NOT_LOADABLE


@pytest.mark.parametrize("rel", NOT_LOADABLE)
def test_not_loadable_is_really_gone(rel):
    golden = load_golden(rel)
    assert not hasattr(transformers, golden["architecture"]), (
        f"transformers {transformers.__version__} has {golden['architecture']}: load {rel} with it")
    with pytest.raises((KeyError, ValueError)):
        AutoConfig.for_model(golden["model_type"])


@pytest.mark.parametrize("rel", NOT_LOADABLE)
def test_config_without_transformers(mount, rel):
    golden = load_golden(rel)
    want = json.loads((GOLDENS / rel / "config.json").read_text())
    got = json.loads((mount.path(rel) / "config.json").read_text())
    assert got["model_type"] == golden["model_type"]
    assert got["architectures"] == [golden["architecture"]]
    for key in golden["config_checks"]:
        assert got[key] == want[key], key


@pytest.mark.parametrize("rel", LOADABLE)
def test_config(mount, rel):
    golden = load_golden(rel)
    want = json.loads((GOLDENS / rel / "config.json").read_text())
    cfg = AutoConfig.from_pretrained(mount.path(rel))
    assert cfg.model_type == golden["model_type"]
    assert cfg.architectures == [golden["architecture"]]
    got = cfg.to_dict()
    for key in golden["config_checks"]:
        assert got[key] == want[key], key
    assert cfg.num_labels == len(want["id2label"])


@pytest.mark.parametrize("rel", LOADABLE)
@pytest.mark.parametrize("use_safetensors", [True, False])
def test_from_pretrained_outputs(mount, rel, use_safetensors):
    golden = load_golden(rel)
    cls = getattr(transformers, golden["architecture"])
    model, info = cls.from_pretrained(
        mount.path(rel),
        attn_implementation="eager",
        dtype=torch.float32,
        use_safetensors=use_safetensors,
        output_loading_info=True,
    )
    # Every parameter comes from the mount: transformers initialises nothing.
    assert not info["missing_keys"], info
    assert not info["unexpected_keys"], info
    assert not info.get("mismatched_keys"), info
    model.eval()
    inputs = {k: torch.tensor(v) for k, v in golden["input"].items()}
    want = load_file(str(GOLDENS / rel / "outputs.safetensors"))
    with torch.no_grad():
        out = model(**inputs)
    for name in golden["outputs"]:
        torch.testing.assert_close(getattr(out, name), want[name], rtol=0, atol=golden["atol"])


@pytest.mark.parametrize("rel", [rel for rel in LOADABLE if load_golden(rel)["tokenizer"]])
def test_tokenizer(mount, rel):
    expected = load_golden(rel)["tokenizer"]
    tok = AutoTokenizer.from_pretrained(mount.path(rel))
    assert tok(expected["text"])["input_ids"] == expected["input_ids"]
