package transfoxl

import (
	"encoding/binary"
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
	tfFloat = 1
	tfInt64 = 9
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
	ck := &tfbundle.Checkpoint{Prefix: filepath.Join(t.TempDir(), "model.ckpt-0"), NumShards: 1}
	var off int64
	for _, v := range vars {
		size := tensor.NumElements(v.shape) * 4
		if v.dtype == tfInt64 {
			size *= 2
		}
		ck.Entries = append(ck.Entries, tfbundle.Entry{Name: v.name, TFDType: v.dtype, Shape: v.shape, Offset: off, Size: size})
		off += size
	}
	if err := os.WriteFile(ck.ShardPath(0), make([]byte, off), 0o644); err != nil {
		t.Fatal(err)
	}
	return ck
}

// testCorpus is wt103's corpus-info.json scaled down: 30 tokens in clusters
// [0, 10), [10, 18), [18, 30).
func testCorpus() *CorpusInfo {
	return &CorpusInfo{Path: "/data/corpus-info.json", VocabSize: 30, Cutoffs: []int64{10, 18}}
}

// releaseVars are the variables tf/model.py creates for testCorpus with
// d_model 8, d_embed 8, div_val 2, 2 heads of 3, d_inner 5, 2 layers,
// untie_r, and proj_share_all_but_first (only cluster 0 has a softmax proj).
func releaseVars() []variable {
	vs := []variable{f32(rwBias, 2, 2, 3), f32(rrBias, 2, 2, 3), f32(clusterW, 2, 8), f32(clusterB, 2), f32(softmaxProj(0), 8, 8)}
	for i, rows := range []int64{10, 8, 12} {
		width := int64(8) >> i
		vs = append(vs, f32(embedTable(i), rows, width), f32(embedProj(i), width, 8), f32(softmaxBias(i), rows))
	}
	for i := range int64(2) {
		p := layerScope(i)
		vs = append(vs,
			f32(p+"rel_attn/qkv/kernel", 8, 18), f32(p+"rel_attn/r/kernel", 8, 6), f32(p+"rel_attn/o/kernel", 6, 8),
			f32(p+"rel_attn/LayerNorm/gamma", 8), f32(p+"rel_attn/LayerNorm/beta", 8),
			f32(p+"ff/layer_1/kernel", 8, 5), f32(p+"ff/layer_1/bias", 5),
			f32(p+"ff/layer_2/kernel", 5, 8), f32(p+"ff/layer_2/bias", 8),
			f32(p+"ff/LayerNorm/gamma", 8), f32(p+"ff/LayerNorm/beta", 8))
	}
	return vs
}

func without(vs []variable, names ...string) []variable {
	return slices.DeleteFunc(slices.Clone(vs), func(v variable) bool { return slices.Contains(names, v.name) })
}

func replaced(vs []variable, v variable) []variable { return append(without(vs, v.name), v) }

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

type stEntry struct {
	DType   string   `json:"dtype"`
	Shape   []int64  `json:"shape"`
	Offsets [2]int64 `json:"data_offsets"`
}

// splitSafetensors splits a safetensors file into its tensors' bytes.
func splitSafetensors(t *testing.T, data []byte) map[string][]byte {
	t.Helper()
	n := binary.LittleEndian.Uint64(data)
	var header map[string]json.RawMessage
	if err := json.Unmarshal(data[8:8+n], &header); err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for k, v := range header {
		if k == "__metadata__" {
			continue
		}
		var e stEntry
		if err := json.Unmarshal(v, &e); err != nil {
			t.Fatal(err)
		}
		body := data[8+n:]
		out[k] = body[e.Offsets[0]:e.Offsets[1]]
		out[k+"#meta"] = []byte(fmt.Sprint(e.DType, e.Shape))
	}
	return out
}
