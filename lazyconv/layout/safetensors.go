package layout

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"unicode/utf8"

	"github.com/ckptfs/ckptfs/lazyconv/index"
	"github.com/ckptfs/ckptfs/lazyconv/tensor"
)

// safetensorsMaxHeader is the largest header the safetensors reader accepts.
const safetensorsMaxHeader = 100_000_000

// safetensorsRank orders dtype codes as the safetensors crate declares its
// Dtype enum (by increasing alignment); its writer stores tensors by
// descending rank, then by name.
var safetensorsRank = map[string]int{
	"BOOL": 0, "U8": 1, "I8": 2, "I16": 3, "F16": 4, "BF16": 5,
	"I32": 6, "F32": 7, "F64": 8, "I64": 9,
}

// Safetensors lays out a safetensors file holding tensors the way the
// reference writer (safetensors.torch.save_file with metadata
// {"format": "pt"}) does: data sorted by descending dtype alignment then
// name, so every tensor is aligned to its element size; a compact JSON
// header with __metadata__ first, padded with spaces to a multiple of 8.
func Safetensors(tensors []*tensor.Tensor) (*index.Plan, error) {
	seen := map[string]bool{}
	for i, t := range tensors {
		if err := checkTensor(i, t); err != nil {
			return nil, err
		}
		if _, ok := safetensorsRank[t.DType.Safetensors()]; !ok {
			return nil, fmt.Errorf("tensor %s: safetensors has no code for dtype %s", t.Name, t.DType)
		}
		if !utf8.ValidString(t.Name) {
			return nil, fmt.Errorf("tensor %q: name is not valid UTF-8", t.Name)
		}
		if t.Name == "__metadata__" {
			return nil, errors.New("a tensor cannot be named __metadata__ in safetensors")
		}
		if seen[t.Name] {
			return nil, fmt.Errorf("tensor name %s appears twice", t.Name)
		}
		seen[t.Name] = true
	}

	order := make([]int, len(tensors))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool {
		ta, tb := tensors[order[a]], tensors[order[b]]
		ra, rb := safetensorsRank[ta.DType.Safetensors()], safetensorsRank[tb.DType.Safetensors()]
		if ra != rb {
			return ra > rb
		}
		return ta.Name < tb.Name
	})

	header := []byte(`{"__metadata__":{"format":"pt"}`)
	var offset int64
	for _, i := range order {
		t := tensors[i]
		header = append(header, ',')
		header = appendJSONString(header, t.Name)
		header = append(header, `:{"dtype":`...)
		header = appendJSONString(header, t.DType.Safetensors())
		header = append(header, `,"shape":[`...)
		for d, n := range t.Shape {
			if d > 0 {
				header = append(header, ',')
			}
			header = strconv.AppendInt(header, n, 10)
		}
		header = append(header, `],"data_offsets":[`...)
		header = strconv.AppendInt(header, offset, 10)
		header = append(header, ',')
		if offset+t.Bytes() < offset {
			return nil, errors.New("tensors are too large together")
		}
		offset += t.Bytes()
		header = strconv.AppendInt(header, offset, 10)
		header = append(header, "]}"...)
	}
	header = append(header, '}')
	for len(header)%8 != 0 {
		header = append(header, ' ')
	}
	if len(header) > safetensorsMaxHeader {
		return nil, fmt.Errorf("safetensors header of %d bytes exceeds the readers' limit of %d", len(header), safetensorsMaxHeader)
	}

	b := index.NewBuilder(tensors)
	b.Literal(append(binary.LittleEndian.AppendUint64(nil, uint64(len(header))), header...))
	for _, i := range order {
		b.Tensor(i)
	}
	return b.Plan(), nil
}
