package table_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/ckptfs/ckptfs/lazyconv/tfbundle/internal/tabletest"
	"github.com/ckptfs/ckptfs/lazyconv/tfbundle/table"
)

// FuzzReadTable checks that no input panics, and that whatever is accepted
// is in strictly increasing key order.
func FuzzReadTable(f *testing.F) {
	f.Add(tabletest.Write(nil, tabletest.Options{}))
	f.Add(tabletest.Write(sampleKVs(5), tabletest.Options{}))
	f.Add(tabletest.Write(sampleKVs(12), tabletest.Options{BlockEntries: 4, RestartInterval: 3}))
	f.Add(tabletest.Write(sampleKVs(12), tabletest.Options{BlockEntries: 5, Snappy: true}))
	// Indexes written by TensorFlow itself.
	tfWritten, _ := filepath.Glob("../testdata/tf/*/*.index")
	for _, path := range tfWritten {
		if data, err := os.ReadFile(path); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, err := table.Read(bytes.NewReader(data), int64(len(data)), "fuzz.index")
		if err != nil {
			return
		}
		for i := 1; i < len(entries); i++ {
			if bytes.Compare(entries[i-1].Key, entries[i].Key) >= 0 {
				t.Fatalf("accepted keys %q, %q out of order", entries[i-1].Key, entries[i].Key)
			}
		}
	})
}
