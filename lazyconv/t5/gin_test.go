package t5

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const sampleGin = `import mesh_tensorflow.optimize
import t5.models.mesh_transformer

# Macros:
# ==============================================================================
d_ff = 3072
d_kv = 64
dropout_rate = 0.1
num_heads = 12
MIXTURE_NAME = 'all_mix # not a comment'

# Parameters for DenseReluDense:
DenseReluDense.activation = ['gelu', 'linear']
encoder/DenseReluDense.hidden_size = %d_ff
decoder/make_layer_stack.layers = \
    [@mesh_tensorflow.transformer.transformer_layers.SelfAttention,
     @mesh_tensorflow.transformer.transformer_layers.DenseReluDense]
run.sequence_length = {'inputs': 512,
                       'targets': 114}
encoder/transformer.Unitransformer.d_model = 768  # module-qualified
decoder/SelfAttention.num_heads = 16
SelfAttention.num_heads = %num_heads
`

func writeGin(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), GinFile)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestGinLookupPrefersTheScopeThenUnscopedAndResolvesMacros(t *testing.T) {
	g, err := ReadGin(writeGin(t, sampleGin))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ scope, configurable, param, want string }{
		{"encoder", "DenseReluDense", "hidden_size", "3072"},
		{"encoder", "DenseReluDense", "activation", "['gelu', 'linear']"},
		{"decoder", "SelfAttention", "num_heads", "16"},
		{"encoder", "SelfAttention", "num_heads", "12"},
		{"encoder", "Unitransformer", "d_model", "768"},
		{"", "run", "sequence_length", "{'inputs': 512, 'targets': 114}"},
	} {
		got, _, ok := g.Lookup(c.scope, c.configurable, c.param)
		if !ok || got != c.want {
			t.Errorf("Lookup(%s, %s.%s) = %q, %v; want %q", c.scope, c.configurable, c.param, got, ok, c.want)
		}
	}
	if v, ok := g.Macro("MIXTURE_NAME"); !ok || v != "'all_mix # not a comment'" {
		t.Errorf("a # inside a string was taken for a comment: %q", v)
	}
	if _, _, ok := g.Lookup("encoder", "DenseReluDense", "use_bias"); ok {
		t.Error("an unbound parameter was found")
	}
	layers, _, _ := g.Lookup("decoder", "make_layer_stack", "layers")
	if !strings.HasPrefix(layers, "[@mesh_tensorflow") || !strings.HasSuffix(layers, "DenseReluDense]") {
		t.Errorf("continued value %q", layers)
	}
}

func TestGinValues(t *testing.T) {
	if acts, err := ginStrings("['gelu', 'linear']"); err != nil || !slices.Equal(acts, []string{"gelu", "linear"}) {
		t.Errorf("list: %v %v", acts, err)
	}
	if acts, err := ginStrings(`"relu"`); err != nil || !slices.Equal(acts, []string{"relu"}) {
		t.Errorf("string: %v %v", acts, err)
	}
	if _, err := ginStrings("@mtf.relu"); err == nil {
		t.Error("a configurable reference was read as a string")
	}
	if b, err := ginBool("False"); err != nil || b {
		t.Errorf("False: %v %v", b, err)
	}
	if _, err := ginBool("false"); err == nil {
		t.Error("JSON's false accepted as Python's")
	}
	if f, err := ginFloat("1e-06"); err != nil || f != 1e-6 {
		t.Errorf("1e-06: %v %v", f, err)
	}
}

func TestGinErrorsNameTheFile(t *testing.T) {
	for _, text := range []string{
		"d_model = [512,\n",
		"name = 'unterminated\n",
		"just some words\n",
		"a = ]\n",
	} {
		path := writeGin(t, text)
		_, err := ReadGin(path)
		if err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%q: error %v should name %s", text, err, path)
		}
	}
	g, err := ReadGin(writeGin(t, "a = %b\nb = %a\nc = %missing\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := g.Macro("a"); ok {
		t.Error("a macro cycle resolved")
	}
	if _, ok := g.Macro("c"); ok {
		t.Error("an undefined macro resolved")
	}
}

func TestPyFloatSpellsAsPython(t *testing.T) {
	for f, want := range map[float64]string{0: "0.0", 0.1: "0.1", 1e-6: "1e-06", 1: "1.0", 1e-30: "1e-30", 0.0001: "0.0001", 123456.0: "123456.0"} {
		if got := pyFloat(f); got != want {
			t.Errorf("pyFloat(%v) = %s, want %s", f, got, want)
		}
	}
}
