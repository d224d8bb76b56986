// Package bundlewrite writes TensorFlow V2 checkpoints (tensor bundles) from
// tensors held in memory: an `.index` table and one `.data-00000-of-00001`
// shard. Benchmarks and tests use it to build checkpoints of any shape
// without TensorFlow; the layout follows formats.md §1, as the reader in
// tfbundle expects it.
package bundlewrite

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/ckptfs/ckptfs/lazyconv/dtype"
	"github.com/ckptfs/ckptfs/lazyconv/tfbundle"
	"github.com/ckptfs/ckptfs/lazyconv/tfbundle/internal/tabletest"
	"github.com/ckptfs/ckptfs/lazyconv/tfbundle/pb"
)

// Var is one tensor to write. Data holds its little-endian bytes, exactly
// shape's element count times the dtype's size; several vars may share
// one backing array.
type Var struct {
	Name  string
	DType dtype.DType
	Shape []int64
	Data  []byte
}

// Write stores vars as prefix.index and prefix.data-00000-of-00001. Tensor
// bytes are written in name order, as TensorFlow's saver lays them out.
func Write(prefix string, vars []Var) error {
	sorted := slices.Clone(vars)
	slices.SortFunc(sorted, func(a, b Var) int { return strings.Compare(a.Name, b.Name) })
	header, err := proto.Marshal(&pb.BundleHeaderProto{NumShards: 1, Version: &pb.VersionDef{Producer: 1}})
	if err != nil {
		return err
	}
	kvs := []tabletest.KV{{Key: []byte{}, Value: header}}
	dataPath := prefix + ".data-00000-of-00001"
	f, err := os.Create(dataPath)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 4<<20)
	var off int64
	for i, v := range sorted {
		if i > 0 && sorted[i-1].Name == v.Name {
			f.Close()
			return fmt.Errorf("bundlewrite: duplicate variable %q", v.Name)
		}
		entry, err := encodeEntry(v, off)
		if err != nil {
			f.Close()
			return err
		}
		if _, err := w.Write(v.Data); err != nil {
			f.Close()
			return fmt.Errorf("%s: %w", dataPath, err)
		}
		off += int64(len(v.Data))
		kvs = append(kvs, tabletest.KV{Key: []byte(v.Name), Value: entry})
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", dataPath, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("%s: %w", dataPath, err)
	}
	return os.WriteFile(prefix+".index", tabletest.Write(kvs, tabletest.Options{BlockEntries: 64}), 0o644)
}

func encodeEntry(v Var, off int64) ([]byte, error) {
	tf, ok := tfDType(v.DType)
	if !ok {
		return nil, fmt.Errorf("bundlewrite: %s: dtype %s has no TensorFlow code", v.Name, v.DType)
	}
	n := int64(v.DType.Size())
	shape := &pb.TensorShapeProto{}
	for _, d := range v.Shape {
		n *= d
		shape.Dim = append(shape.Dim, &pb.TensorShapeProto_Dim{Size: d})
	}
	if n != int64(len(v.Data)) {
		return nil, fmt.Errorf("bundlewrite: %s: %d bytes for shape %v of %s, want %d", v.Name, len(v.Data), v.Shape, v.DType, n)
	}
	return proto.Marshal(&pb.BundleEntryProto{
		Dtype:  tf,
		Shape:  shape,
		Offset: off,
		Size:   n,
		Crc32C: tfbundle.MaskedCRC32C(v.Data),
	})
}

// tfDType finds the TensorFlow DataType code of d (codes are small).
func tfDType(d dtype.DType) (int32, bool) {
	for code := int32(1); code < 32; code++ {
		if got, err := dtype.FromTF(code); err == nil && got == d {
			return code, true
		}
	}
	return 0, false
}
