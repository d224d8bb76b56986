package openaigpt

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// blockNames are the variables train.py creates in each block h<i>, in
// creation order: the order of the block's arrays in the flat vector.
var blockNames = [arraysPerBlock]string{
	"attn/c_attn/w", "attn/c_attn/b", "attn/c_proj/w", "attn/c_proj/b", "ln_1/g", "ln_1/b",
	"mlp/c_fc/w", "mlp/c_fc/b", "mlp/c_proj/w", "mlp/c_proj/b", "ln_2/g", "ln_2/b",
}

// trainNames are train.py's trainable variables in creation order, as
// parameters_names.json lists them: the joint embedding model/we, the
// blocks, and the classifier (which has no array in the release).
func trainNames(layers int64) []string {
	names := []string{"model/we:0"}
	for i := int64(0); i < layers; i++ {
		for _, n := range blockNames {
			names = append(names, fmt.Sprintf("model/h%d/%s:0", i, n))
		}
	}
	return append(names, "model/clf/w:0", "model/clf/b:0")
}

// array is one array of the flat vector as the conversion uses it.
type array struct {
	key    string // Hugging Face key the reference assigns it to
	origin string // what train.py calls it, for `ckptfs inspect`
}

// arrayKeys pairs the arrays with keys as the reference loader does: array
// 1 is tokens_embed, array 0 positions_embed, and the block arrays are
// zipped with the names after the first (model/we), each name walked to a
// key. The names are those of parameters_names.json when the folder has
// one (the file the reference reads), else train.py's order, which that
// file records. Every key must be assigned exactly once: a key the
// reference would leave randomly initialised cannot be served.
func arrayKeys(dir string, d Dims, params []param) ([]array, error) {
	names, source := trainNames(d.Layers), "train.py's variable order"
	path := filepath.Join(dir, NamesFile)
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		names, source = nil, path
		if err := json.Unmarshal(data, &names); err != nil {
			return nil, fmt.Errorf("%s: not a JSON list of names: %w", path, err)
		}
	case !errors.Is(err, fs.ErrNotExist):
		return nil, err
	}
	blocks := int(d.Layers) * arraysPerBlock
	if len(names)-1 < blocks {
		return nil, fmt.Errorf("%s: names %d block arrays after the embedding, %s has %d", source, max(len(names)-1, 0), ShapesFile, blocks)
	}
	want := map[string]bool{}
	for _, p := range params {
		want[p.key] = true
	}
	arrays := []array{{"positions_embed.weight", "model/we, position rows"}, {"tokens_embed.weight", "model/we, token rows"}}
	assigned := map[string]string{arrays[0].key: "array 0", arrays[1].key: "array 1"}
	for _, name := range names[1 : 1+blocks] {
		key, err := hfName(name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", source, err)
		}
		if !want[key] {
			return nil, fmt.Errorf("%s: %s names %s, which OpenAIGPTModel with %d layers does not have", source, name, key, d.Layers)
		}
		if prev, dup := assigned[key]; dup {
			return nil, fmt.Errorf("%s: %s and %s both name %s", source, prev, name, key)
		}
		assigned[key] = name
		arrays = append(arrays, array{key, strings.TrimSuffix(name, ":0")})
	}
	return arrays, nil
}

// scoped matches a scope with a numeric suffix, such as "h11".
var scoped = regexp.MustCompile(`^([A-Za-z]+)(\d+)$`)

// hfName is the reference loader's walk from a TensorFlow variable name to
// a key: drop "model/" and ":0", "hN" becomes "h.N", "w" and "g" become
// weight, "b" becomes bias.
func hfName(name string) (string, error) {
	rest, ok := strings.CutPrefix(name, "model/")
	if !ok {
		return "", fmt.Errorf("name %q does not start with model/", name)
	}
	if rest, ok = strings.CutSuffix(rest, ":0"); !ok {
		return "", fmt.Errorf("name %q does not end with :0", name)
	}
	var out []string
	for _, part := range strings.Split(rest, "/") {
		attr, num := part, ""
		if m := scoped.FindStringSubmatch(part); m != nil {
			attr, num = m[1], m[2]
		}
		switch attr {
		case "w", "g":
			attr = "weight"
		case "b":
			attr = "bias"
		}
		out = append(out, attr)
		if num != "" {
			n, err := strconv.Atoi(num)
			if err != nil {
				return "", fmt.Errorf("name %q: index %s is out of range", name, num)
			}
			out = append(out, strconv.Itoa(n))
		}
	}
	return strings.Join(out, "."), nil
}

type param struct {
	key   string
	shape []int64
}

// stateDict lists OpenAIGPTModel's parameters in state-dict order (module
// registration order; its buffers are not persistent).
func stateDict(d Dims) []param {
	E := d.Embd
	ps := []param{{"tokens_embed.weight", []int64{d.Vocab, E}}, {"positions_embed.weight", []int64{d.Positions, E}}}
	for i := int64(0); i < d.Layers; i++ {
		p := fmt.Sprintf("h.%d.", i)
		ps = append(ps,
			param{p + "attn.c_attn.weight", []int64{E, 3 * E}}, param{p + "attn.c_attn.bias", []int64{3 * E}},
			param{p + "attn.c_proj.weight", []int64{E, E}}, param{p + "attn.c_proj.bias", []int64{E}},
			param{p + "ln_1.weight", []int64{E}}, param{p + "ln_1.bias", []int64{E}},
			param{p + "mlp.c_fc.weight", []int64{E, 4 * E}}, param{p + "mlp.c_fc.bias", []int64{4 * E}},
			param{p + "mlp.c_proj.weight", []int64{4 * E, E}}, param{p + "mlp.c_proj.bias", []int64{E}},
			param{p + "ln_2.weight", []int64{E}}, param{p + "ln_2.bias", []int64{E}},
		)
	}
	return ps
}
