package openaigpt

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/ckptfs/ckptfs/lazyconv/tensor"
)

// arraysPerBlock is how many arrays train.py creates per transformer block.
const arraysPerBlock = 12

// readShapes reads params_shapes.json: one shape per array, in the order
// the arrays follow each other in the flat vector.
func readShapes(path string) ([][]int64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var shapes [][]int64
	if err := json.Unmarshal(data, &shapes); err != nil {
		return nil, fmt.Errorf("%s: not a JSON list of shapes: %w", path, err)
	}
	var total int64
	for i, s := range shapes {
		n := int64(1)
		for _, d := range s {
			if d < 0 || d > 1<<40 || (d > 0 && n > (1<<40)/d) {
				return nil, fmt.Errorf("%s: array %d has shape %s, which is negative or too large", path, i, tensor.FormatShape(s))
			}
			n *= d
		}
		if total += n; total > 1<<40 {
			return nil, fmt.Errorf("%s: the arrays hold more than 2^40 values", path)
		}
	}
	return shapes, nil
}

// Dims are the sizes the release's shapes tell.
type Dims struct {
	Positions, Vocab, Embd, Layers int64
}

// dimsFromShapes reads the model's sizes off the shapes, as the reference
// would find them: array 0 is the position embedding [n_ctx, n_embd],
// array 1 the token embedding [n_vocab, n_embd], then 12 arrays per block.
// Every array's shape is checked against these sizes later, by key.
func dimsFromShapes(path string, shapes [][]int64) (Dims, error) {
	if len(shapes) < 2+arraysPerBlock || (len(shapes)-2)%arraysPerBlock != 0 {
		return Dims{}, fmt.Errorf("%s: lists %d arrays; OpenAI GPT has 2 embeddings and %d arrays per block", path, len(shapes), arraysPerBlock)
	}
	pos, tok := shapes[0], shapes[1]
	if len(pos) != 2 || len(tok) != 2 || pos[1] != tok[1] || pos[0] == 0 || tok[0] == 0 || pos[1] == 0 {
		return Dims{}, fmt.Errorf("%s: arrays 0 and 1 have shapes %s and %s; want the position and token embeddings [n_ctx, n_embd] and [n_vocab, n_embd]",
			path, tensor.FormatShape(pos), tensor.FormatShape(tok))
	}
	return Dims{Positions: pos[0], Vocab: tok[0], Embd: pos[1], Layers: int64(len(shapes)-2) / arraysPerBlock}, nil
}
