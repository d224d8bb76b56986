package npy

import (
	"slices"
	"testing"
)

// Headers Python's ast.literal_eval and NumPy's checks accept, in the
// spellings other writers use.
func TestParsePyHeaderReadsWhatNumPyReads(t *testing.T) {
	for text, want := range map[string]pyHeader{
		"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }  \n":                 {"<f4", false, []int64{2, 3}},
		"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)}\n":                     {"<f4", false, []int64{2, 3}},
		`{"descr": "<f8", "fortran_order": True, "shape": ()}`:                            {"<f8", true, []int64{}},
		"{'shape': (7,), 'descr': '<i' '8', 'fortran_order': False,}":                     {"<i8", false, []int64{7}},
		"  {'descr': '|u1', # a comment\n 'fortran_order': False, 'shape': (1_000, + 2)}": {"|u1", false, []int64{1000, 2}},
	} {
		got, err := parsePyHeader(text)
		if err != nil {
			t.Errorf("%q: %v", text, err)
			continue
		}
		if got.descr != want.descr || got.fortran != want.fortran || !slices.Equal(got.shape, want.shape) {
			t.Errorf("%q: got %+v, want %+v", text, got, want)
		}
	}
}

func TestParsePyHeaderRefusesWhatNumPyRefuses(t *testing.T) {
	for _, text := range []string{
		"{'descr': '<f4', 'fortran_order': False, 'shape': [2, 3]}", // a list, not a tuple
		"{'descr': '<f4', 'fortran_order': False, 'shape': (2,,)}",  // syntax
		"{'descr': '<f4', 'fortran_order': False, 'shape': (02,)}",  // leading zero
		"{'descr': '<f4', 'fortran_order': False, 'shape': (2_,)}",  // trailing underscore
		"{'descr': '<f4', 'fortran_order': 'no', 'shape': (2,)}",    // not a bool
		"{'descr': '<f4', 'fortran_order': False, 'shape': (2,)",    // unclosed
		"{'descr': '<f4', 'fortran_order': False, 'shape': ((((((((((((((((((((((((((((((((((1,),),),),),),),),),),),),),),),),),),),),),),),),),),),),),),),),),),),)}",
		"{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}", // out of range
		"['descr', 'fortran_order', 'shape']",
	} {
		if h, err := parsePyHeader(text); err == nil {
			t.Errorf("%q: accepted as %+v", text, h)
		}
	}
}
