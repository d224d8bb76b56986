package conversion

import (
	"strings"
	"testing"

	"github.com/ckptfs/ckptfs/lazyconv/dtype"
	"github.com/ckptfs/ckptfs/lazyconv/tensor"
)

func TestAssembleOrdersChecksAndTies(t *testing.T) {
	mk := func(name string, shape ...int64) *tensor.Tensor {
		return &tensor.Tensor{Name: name, DType: dtype.F32, Shape: shape, Src: &tensor.Source{File: "f.index", Name: "tf/" + name}}
	}
	params := []Param{
		{Key: "emb", Shape: []int64{4, 2}},
		{Key: "absent", Shape: []int64{1}},
		{Key: "bias", Shape: []int64{4}},
		{Key: "decoder", TiedTo: "emb"},
		{Key: "decoder_bias", TiedTo: "absent"},
	}
	byKey := map[string]*tensor.Tensor{"bias": mk("bias", 4), "emb": mk("emb", 4, 2)}
	tensors, keys, err := Assemble(params, byKey, "config.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(tensors) != 2 || tensors[0].Name != "emb" || tensors[1].Name != "bias" {
		t.Errorf("tensors %v", tensors)
	}
	want := []string{"emb:0", "bias:1", "decoder:0"}
	if len(keys) != len(want) {
		t.Fatalf("keys %v", keys)
	}
	for i, k := range keys {
		if got := k.Name + ":" + string(rune('0'+k.Tensor)); got != want[i] {
			t.Errorf("key %d = %s, want %s", i, got, want[i])
		}
	}
	byKey["bias"] = mk("bias", 5)
	if _, _, err := Assemble(params, byKey, "config.json"); err == nil || !strings.Contains(err.Error(), "tf/bias") || !strings.Contains(err.Error(), "config.json") {
		t.Errorf("shape mismatch error: %v", err)
	}
}
