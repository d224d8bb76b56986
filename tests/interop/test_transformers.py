"""Current transformers pointed at the mount: config, tokenizer, and a model
whose outputs match the reference conversion's."""

import json

import pytest
import torch
import transformers
from safetensors.torch import load_file
from transformers import AutoConfig, AutoTokenizer

from conftest import GOLDENS, STORE, golden_models, load_golden

MODELS = golden_models()

# Keys of the golden config that describe the library that wrote it rather
# than the model.
VOLATILE = {"transformers_version", "_name_or_path", "torch_dtype", "dtype", "_attn_implementation_autoset"}


@pytest.mark.parametrize("rel", MODELS)
def test_config(mount, rel):
    golden = load_golden(rel)
    want = json.loads((GOLDENS / rel / "config.json").read_text())
    original = json.loads((STORE / rel / "bert_config.json").read_text())
    cfg = AutoConfig.from_pretrained(mount.path(rel))
    assert cfg.model_type == "bert"
    assert cfg.architectures == [golden["architecture"]]
    got = cfg.to_dict()
    for key in original:
        assert got[key] == want[key], key
    for key in ("num_labels", "layer_norm_eps", "pad_token_id"):
        if key in want:
            assert getattr(cfg, key) == want[key], key


@pytest.mark.parametrize("rel", MODELS)
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
        torch.testing.assert_close(getattr(out, name), want[name], rtol=0, atol=1e-5)


@pytest.mark.parametrize("rel", MODELS)
def test_tokenizer(mount, rel):
    tok = AutoTokenizer.from_pretrained(mount.path(rel))
    vocab = (STORE / rel / "vocab.txt").read_text().split("\n")
    ids = tok("the")["input_ids"]
    assert ids[0] == vocab.index("[CLS]") and ids[-1] == vocab.index("[SEP]")
    lower = "uncased" in rel.split("/")[-1]
    assert (tok.tokenize("THE") == tok.tokenize("the")) == lower
