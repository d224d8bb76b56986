package xlm

import (
	"math"
	"testing"

	"github.com/ckptfs/ckptfs/lazyconv/torchpickle"
)

// Expected strings are what CPython 3.11's json.dumps printed for the same
// values.

func TestPyFloat(t *testing.T) {
	for f, want := range map[float64]string{
		0.0001: "0.0001", 0.00001: "1e-05", 1.5e-5: "1.5e-05", 1e16: "1e+16", 1e15: "1000000000000000.0",
		123456789012345678.0: "1.2345678901234568e+17", 0.1: "0.1", math.Copysign(0, -1): "-0.0",
		0.02209708691207961: "0.02209708691207961", 1e-12: "1e-12", 5: "5.0", 1e22: "1e+22",
		-2.5e-7: "-2.5e-07", math.Inf(1): "Infinity", math.Inf(-1): "-Infinity", 1.0 / 3: "0.3333333333333333", 100: "100.0",
	} {
		if got := pyFloat(f); got != want {
			t.Errorf("pyFloat(%v) = %s, want %s", f, got, want)
		}
	}
	if got := pyFloat(math.NaN()); got != "NaN" {
		t.Errorf("pyFloat(NaN) = %s", got)
	}
}

func TestPyJSON(t *testing.T) {
	v := &torchpickle.Dict{Items: []torchpickle.Item{
		{Key: "a", Value: torchpickle.List{int64(1), torchpickle.List{}, &torchpickle.Dict{},
			&torchpickle.Dict{Items: []torchpickle.Item{{Key: "k", Value: torchpickle.Tuple{int64(1), nil}}}}}},
		{Key: int64(3), Value: true},
		{Key: 2.5, Value: "x"},
		{Key: nil, Value: false},
		{Key: true, Value: torchpickle.List{}},
		{Key: "s", Value: "saß😀\"\\\n\x01\x7f/<>&\t\u2028"},
	}}
	want := `{
  "a": [
    1,
    [],
    {},
    {
      "k": [
        1,
        null
      ]
    }
  ],
  "3": true,
  "2.5": "x",
  "null": false,
  "true": [],
  "s": "sa\u00df\ud83d\ude00\"\\\n\u0001\u007f/<>&\t\u2028"
}`
	got, err := pyJSON(v)
	if err != nil || string(got) != want {
		t.Errorf("pyJSON:\n%s\n%v\nwant\n%s", got, err, want)
	}
	for _, bad := range []any{torchpickle.Set{int64(1)}, []byte("x"), &torchpickle.Opaque{Class: "numpy.ndarray"},
		&torchpickle.Dict{Items: []torchpickle.Item{{Key: torchpickle.Tuple{"en", "fr"}, Value: "x"}}}} {
		if _, err := pyJSON(bad); err == nil {
			t.Errorf("pyJSON(%#v) rendered what json.dumps refuses", bad)
		}
	}
}
