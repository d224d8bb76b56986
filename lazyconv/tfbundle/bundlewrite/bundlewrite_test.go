package bundlewrite

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ckptfs/ckptfs/lazyconv/dtype"
	"github.com/ckptfs/ckptfs/lazyconv/tfbundle"
)

func TestWrittenBundleReadsBack(t *testing.T) {
	prefix := filepath.Join(t.TempDir(), "model.ckpt")
	kernel := make([]byte, 2*3*4)
	for i := range kernel {
		kernel[i] = byte(i * 7)
	}
	vars := []Var{
		{Name: "b/kernel", DType: dtype.F32, Shape: []int64{2, 3}, Data: kernel},
		{Name: "a/bias", DType: dtype.BF16, Shape: []int64{2}, Data: []byte{1, 2, 3, 4}},
	}
	if err := Write(prefix, vars); err != nil {
		t.Fatal(err)
	}
	c, err := tfbundle.Open(prefix)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Entries) != 2 || c.Entries[0].Name != "a/bias" || c.Entries[1].Name != "b/kernel" {
		t.Fatalf("entries %+v", c.Entries)
	}
	e, _ := c.Lookup("b/kernel")
	if e.Offset != 4 || e.Size != 24 || e.CRC32C != tfbundle.MaskedCRC32C(kernel) {
		t.Errorf("kernel entry %+v", e)
	}
	if d, err := dtype.FromTF(e.TFDType); err != nil || d != dtype.F32 {
		t.Errorf("kernel dtype %v, %v", d, err)
	}
	if !slices.Equal(e.Shape, []int64{2, 3}) {
		t.Errorf("kernel shape %v", e.Shape)
	}
	data, err := os.ReadFile(c.ShardPath(0))
	if err != nil || !bytes.Equal(data[e.Offset:e.Offset+e.Size], kernel) {
		t.Errorf("kernel bytes in the shard differ (%v)", err)
	}
}

func TestWriteRejectsDataOfTheWrongSize(t *testing.T) {
	err := Write(filepath.Join(t.TempDir(), "m"), []Var{{Name: "w", DType: dtype.F32, Shape: []int64{3}, Data: make([]byte, 8)}})
	if err == nil || !strings.Contains(err.Error(), "w:") {
		t.Errorf("error %v should name the variable", err)
	}
}
