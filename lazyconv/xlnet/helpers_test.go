package xlnet

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ckptfs/ckptfs/lazyconv/tensor"
	"github.com/ckptfs/ckptfs/lazyconv/tfbundle"
)

// TensorFlow DataType values the tests use.
const (
	tfFloat  = 1
	tfString = 7
	tfInt64  = 9
	tfHalf   = 19
)

type variable struct {
	name  string
	dtype int32
	shape []int64
}

func f32(name string, shape ...int64) variable { return variable{name, tfFloat, shape} }

// fakeCheckpoint is an index describing vars over one zero-filled data
// shard: enough for Map, which reads no tensor bytes.
func fakeCheckpoint(t *testing.T, vars []variable) *tfbundle.Checkpoint {
	t.Helper()
	vars = slices.Clone(vars)
	slices.SortFunc(vars, func(a, b variable) int { return strings.Compare(a.name, b.name) })
	ck := &tfbundle.Checkpoint{Prefix: filepath.Join(t.TempDir(), "model.ckpt-7"), NumShards: 1}
	var off int64
	for _, v := range vars {
		size := tensor.NumElements(v.shape) * 4
		if v.dtype == tfInt64 {
			size = tensor.NumElements(v.shape) * 8
		}
		if v.dtype == tfHalf {
			size = tensor.NumElements(v.shape) * 2
		}
		if v.dtype == tfString {
			size = 3
		}
		ck.Entries = append(ck.Entries, tfbundle.Entry{Name: v.name, TFDType: v.dtype, Shape: v.shape, Offset: off, Size: size})
		off += size
	}
	if err := os.WriteFile(ck.ShardPath(0), make([]byte, off), 0o644); err != nil {
		t.Fatal(err)
	}
	return ck
}

// testConfig is a small XLNet: 2 layers, d_model 8, 2 heads of 4, d_inner 5,
// 11 tokens.
func testConfig() *Config {
	return &Config{Path: "/cfg/xlnet_config.json", NToken: 11, DModel: 8, NLayer: 2, NHead: 2, DHead: 4, DInner: 5,
		raw: map[string]json.RawMessage{"n_token": json.RawMessage(`11`), "d_model": json.RawMessage(`8`),
			"n_layer": json.RawMessage(`2`), "n_head": json.RawMessage(`2`), "d_head": json.RawMessage(`4`),
			"d_inner": json.RawMessage(`5`), "ff_activation": json.RawMessage(`"gelu"`), "untie_r": json.RawMessage(`true`)}}
}

// transformerVars are the variables modeling.transformer_xl creates for c
// (untie_r, segment ids), without mask_emb, which only pre-training's
// two-stream graph creates.
func transformerVars(c *Config) []variable {
	D, H, Dh, I, L := c.DModel, c.NHead, c.DHead, c.DInner, c.NLayer
	vs := []variable{
		f32("model/transformer/word_embedding/lookup_table", c.NToken, D),
		f32("model/transformer/r_w_bias", L, H, Dh), f32("model/transformer/r_r_bias", L, H, Dh),
		f32("model/transformer/r_s_bias", L, H, Dh), f32("model/transformer/seg_embed", L, 2, H, Dh),
	}
	for i := int64(0); i < L; i++ {
		p := fmt.Sprintf("model/transformer/layer_%d/", i)
		for _, proj := range []string{"q", "k", "v", "o", "r"} {
			vs = append(vs, f32(p+"rel_attn/"+proj+"/kernel", D, H, Dh))
		}
		vs = append(vs,
			f32(p+"rel_attn/LayerNorm/gamma", D), f32(p+"rel_attn/LayerNorm/beta", D),
			f32(p+"ff/layer_1/kernel", D, I), f32(p+"ff/layer_1/bias", I),
			f32(p+"ff/layer_2/kernel", I, D), f32(p+"ff/layer_2/bias", D),
			f32(p+"ff/LayerNorm/gamma", D), f32(p+"ff/LayerNorm/beta", D))
	}
	return vs
}

// pretrained is a release checkpoint: the transformer, mask_emb and the LM
// output bias.
func pretrained(c *Config) []variable {
	return append(transformerVars(c), f32("model/transformer/mask_emb/mask_emb", 1, 1, c.DModel), f32(lmBias, c.NToken))
}

// withAdam adds tf.train.AdamOptimizer's slots and powers and the step.
func withAdam(vs []variable) []variable {
	out := slices.Clone(vs)
	for _, v := range vs {
		out = append(out, f32(v.name+"/Adam", v.shape...), f32(v.name+"/Adam_1", v.shape...))
	}
	return append(out, f32("beta1_power"), f32("beta2_power"), variable{"global_step", tfInt64, nil})
}

func keyNames(m *Mapping) []string {
	var names []string
	for _, k := range m.Keys {
		names = append(names, k.Name)
	}
	return names
}

func tensorByKey(t *testing.T, m *Mapping, key string) *tensor.Tensor {
	t.Helper()
	for _, k := range m.Keys {
		if k.Name == key {
			return m.Tensors[k.Tensor]
		}
	}
	t.Fatalf("no key %s", key)
	return nil
}
