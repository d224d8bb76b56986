package tfbundle

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ckptfs/ckptfs/lazyconv/dtype"
)

// Checkpoints written by TensorFlow itself: small ones of this package
// (testdata/tf/gen.py) and the project's model fixtures, which the
// CKPTFS_TF_FIXTURES environment variable can replace.
const ownFixtures = "testdata/tf"

func storeFixtures() string {
	if dir := os.Getenv("CKPTFS_TF_FIXTURES"); dir != "" {
		return dir
	}
	return filepath.Join("..", "..", "testdata", "store")
}

// TestTensorFlowFixtures opens every TensorFlow-written index and checks each
// servable tensor's bytes against the CRC TensorFlow recorded: the CRCs are
// the oracle for offsets, sizes and the table decoding.
func TestTensorFlowFixtures(t *testing.T) {
	for _, root := range []string{ownFixtures, storeFixtures()} {
		var indexes []string
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(path, ".index") {
				indexes = append(indexes, path)
			}
			return err
		})
		if len(indexes) == 0 {
			t.Logf("no TensorFlow checkpoints under %s (%v)", root, err)
		}
		for _, index := range indexes {
			t.Run(index, func(t *testing.T) { verifyAllCRCs(t, strings.TrimSuffix(index, ".index")) })
		}
	}
}

func verifyAllCRCs(t *testing.T, prefix string) {
	c, err := Open(prefix)
	if err != nil {
		t.Fatal(err)
	}
	verified := 0
	for _, list := range [][]Entry{c.Entries, c.SliceEntries} {
		for i := range list {
			src, err := c.Source(&list[i])
			if errors.Is(err, ErrUnsupported) {
				t.Logf("skipped: %v", err)
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := MaskedCRC32C(readExtents(t, src)); got != src.CRC32C {
				t.Fatalf("%s: data CRC %#08x, TensorFlow recorded %#08x", src.Name, got, src.CRC32C)
			}
			verified++
		}
	}
	if verified == 0 {
		t.Fatal("no tensor could be verified")
	}
	t.Logf("%d tensors verified in %d shards", verified, c.NumShards)
}

// TestTensorFlowWrittenDetails checks what gen.py wrote beyond the CRCs.
func TestTensorFlowWrittenDetails(t *testing.T) {
	t.Run("dtypes", func(t *testing.T) {
		c, err := Open(ownFixtures + "/tf2/ckpt")
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{
			"_CHECKPOINTABLE_OBJECT_GRAPH": "unsupported: TensorFlow dtype string",
			"b":                            "bool", "bf16": "bfloat16", "c64": "unsupported: TensorFlow dtype complex64",
			"empty": "float32", "f16": "float16", "f32": "float32", "f64": "float64",
			"i64": "int64", "i8": "int8", "s": "unsupported: TensorFlow dtype string", "u8": "uint8",
		}
		if len(c.Entries) != len(want) || len(c.SliceEntries) != 0 {
			t.Fatalf("%d entries, %d slice entries", len(c.Entries), len(c.SliceEntries))
		}
		for _, e := range c.Entries {
			short := strings.TrimSuffix(strings.TrimPrefix(e.Name, "model/"), "/.ATTRIBUTES/VARIABLE_VALUE")
			got := ""
			if d, err := dtype.FromTF(e.TFDType); err != nil {
				got = err.Error()
			} else {
				got = d.String()
			}
			if got != want[short] {
				t.Errorf("%s: %s, want %s", e.Name, got, want[short])
			}
		}
		e, _ := c.Lookup("model/f32/.ATTRIBUTES/VARIABLE_VALUE")
		src, err := c.Source(e)
		if err != nil {
			t.Fatal(err)
		}
		var arange []float32
		for i := range 12 {
			arange = append(arange, float32(i))
		}
		if !bytes.Equal(readExtents(t, src), floats(arange...)) {
			t.Error("f32 bytes are not arange(12)")
		}
		e, _ = c.Lookup("model/empty/.ATTRIBUTES/VARIABLE_VALUE")
		if src, err := c.Source(e); err != nil || src.Bytes() != 0 {
			t.Errorf("empty tensor: %+v, %v", src, err)
		}
	})
	t.Run("sharded", func(t *testing.T) {
		c, err := Open(ownFixtures + "/sharded/ckpt")
		if err != nil || c.NumShards != 2 {
			t.Fatalf("%+v, %v", c, err)
		}
	})
	t.Run("TF1 saver, partitioned variable", func(t *testing.T) {
		dir := ownFixtures + "/tf1"
		// The state file names /tmp/<gone>/model.ckpt-2.
		prefix, err := FindPrefix(dir)
		if err != nil || prefix != filepath.Join(dir, "model.ckpt-2") {
			t.Fatalf("FindPrefix = %q, %v", prefix, err)
		}
		c, err := Open(prefix)
		if err != nil {
			t.Fatal(err)
		}
		part, ok := c.Lookup("part")
		if !ok || !part.Sliced || len(part.Shape) != 2 || part.Shape[0] != 10 || len(c.SliceEntries) != 2 {
			t.Fatalf("part = %+v, slice entries %+v", part, c.SliceEntries)
		}
		if _, err := c.Source(part); err == nil || !strings.Contains(err.Error(), `unsupported: partitioned (sliced) variable "part"`) {
			t.Fatalf("Source(part): %v", err)
		}
	})
	t.Run("V1", func(t *testing.T) {
		dir := ownFixtures + "/v1"
		if _, err := FindPrefix(dir); err == nil || !strings.HasPrefix(err.Error(), "unsupported: TensorFlow V1 checkpoint") {
			t.Fatalf("FindPrefix: %v", err)
		}
		if _, err := Open(dir + "/model.ckpt"); err == nil || !strings.HasPrefix(err.Error(), "unsupported: TensorFlow V1 checkpoint") {
			t.Fatalf("Open: %v", err)
		}
	})
}
