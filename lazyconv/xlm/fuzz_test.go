package xlm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ckptfs/ckptfs/lazyconv/internal/fuzzdir"
	"github.com/ckptfs/ckptfs/lazyconv/torchpickle"
)

// FuzzParams converts the XLM fixtures with fuzzed training flags: XLM's
// config is the `params` dict inside the dump, so the input is that dict
// as JSON (seeded with each fixture's own params), decoded in order into
// the values the unpickler hands out, and the release's whole conversion
// runs with it.
func FuzzParams(f *testing.F) {
	type fixture struct {
		r     *Release
		codes string
	}
	var fixtures []fixture
	for i, rel := range []string{"xlm/mlm_en-tiny", "xlm/mlm_ende-tiny"} {
		dir := fuzzdir.Fixture(rel)
		pth, codes, err := releaseFiles(dir)
		if err != nil {
			f.Fatal(err)
		}
		r, err := ReadRelease(pth)
		if err != nil {
			f.Fatal(err)
		}
		if _, err := convertRelease(r, codes); err != nil {
			f.Fatalf("the intact fixture does not convert: %v", err)
		}
		// Flags JSON cannot hold (tensors, sets) are left out of the seed.
		jsonable := &torchpickle.Dict{}
		for _, it := range r.Params.Items {
			if _, err := pyJSON(&torchpickle.Dict{Items: []torchpickle.Item{it}}); err == nil {
				jsonable.Items = append(jsonable.Items, it)
			}
		}
		seed, err := pyJSON(jsonable)
		if err != nil {
			f.Fatal(err)
		}
		decoded, err := decodeParams(seed)
		if err != nil {
			f.Fatal(err)
		}
		seeded := *r
		seeded.Params = decoded
		if _, err := convertRelease(&seeded, codes); err != nil {
			f.Fatalf("the seed params do not convert: %v", err)
		}
		f.Add(uint8(i), seed)
		fixtures = append(fixtures, fixture{r, codes})
	}
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		params, err := decodeParams(data)
		if err != nil {
			return
		}
		fx := fixtures[int(which)%len(fixtures)]
		r := *fx.r
		r.Params = params
		conv, err := convertRelease(&r, fx.codes)
		if err != nil {
			if !strings.Contains(err.Error(), filepath.Base(r.Path)) {
				t.Errorf("error does not name the dump: %v", err)
			}
			return
		}
		fuzzdir.Check(t, conv)
	})
}

// decodeParams reads a JSON object into a *torchpickle.Dict, keeping key
// order; integers become int64 as the unpickler makes them.
func decodeParams(data []byte) (*torchpickle.Dict, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decodeValue(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("data after the object")
	}
	d, ok := v.(*torchpickle.Dict)
	if !ok {
		return nil, fmt.Errorf("not an object")
	}
	return d, nil
}

func decodeValue(dec *json.Decoder, depth int) (any, error) {
	if depth > 32 {
		return nil, fmt.Errorf("too deep")
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch x := tok.(type) {
	case json.Delim:
		switch x {
		case '{':
			d := &torchpickle.Dict{}
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return nil, err
				}
				v, err := decodeValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				d.Items = append(d.Items, torchpickle.Item{Key: k, Value: v})
			}
			_, err := dec.Token()
			return d, err
		case '[':
			var l torchpickle.List
			for dec.More() {
				v, err := decodeValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				l = append(l, v)
			}
			_, err := dec.Token()
			return l, err
		}
		return nil, fmt.Errorf("unexpected %v", x)
	case json.Number:
		if n, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return n, nil
		}
		return strconv.ParseFloat(string(x), 64)
	}
	return tok, nil // string, bool or nil
}
