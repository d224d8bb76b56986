package bundlewrite

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/ckptfs/ckptfs/lazyconv/tfbundle"
	"github.com/ckptfs/ckptfs/lazyconv/tfbundle/pb"
)

func TestWriteThenEditEntry(t *testing.T) {
	dir := t.TempDir()
	b := New(1)
	b.Add("a", 0, 1, []int64{2}, make([]byte, 8))
	b.Add("b", 0, 1, []int64{1}, make([]byte, 4))
	prefix, err := b.Write(dir, "ckpt")
	if err != nil {
		t.Fatal(err)
	}
	if err := EditEntry(prefix+".index", "b", func(e *pb.BundleEntryProto) { e.Shape = Shape(3) }); err != nil {
		t.Fatal(err)
	}
	ck, err := tfbundle.Open(prefix)
	if err != nil {
		t.Fatal(err)
	}
	e, ok := ck.Lookup("b")
	if !ok || len(e.Shape) != 1 || e.Shape[0] != 3 {
		t.Fatalf("edited entry b = %+v", e)
	}
	if _, err := ck.Source(e); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Fatalf("edited size check: %v", err)
	}
}

func TestWriteIndexKeepsTheGivenOrder(t *testing.T) {
	dir := t.TempDir()
	b := New(1)
	b.Add("a", 0, 1, []int64{1}, make([]byte, 4))
	b.Add("b", 0, 1, []int64{1}, make([]byte, 4))
	prefix, err := b.Write(dir, "ckpt")
	if err != nil {
		t.Fatal(err)
	}
	records, err := ReadIndex(prefix + ".index")
	if err != nil {
		t.Fatal(err)
	}
	records[1], records[2] = records[2], records[1]
	if err := WriteIndex(filepath.Join(dir, "ckpt.index"), records, Layout{}); err != nil {
		t.Fatal(err)
	}
	if _, err := tfbundle.Open(prefix); err == nil {
		t.Fatal("an index with keys out of order opened")
	}
}
