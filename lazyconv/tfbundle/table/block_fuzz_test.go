package table

import (
	"bytes"
	"testing"

	"github.com/ckptfs/ckptfs/lazyconv/tfbundle/internal/tabletest"
)

// FuzzParseBlock reaches the entry decoder directly: in FuzzReadTable almost
// every mutation is stopped by a block checksum.
func FuzzParseBlock(f *testing.F) {
	kv := func(k string) tabletest.KV { return tabletest.KV{Key: []byte(k), Value: []byte("value")} }
	f.Add(tabletest.BuildBlock(nil, 1))
	f.Add(tabletest.BuildBlock([]tabletest.KV{kv(""), kv("bert/a"), kv("bert/ab"), kv("bert/b")}, 2))
	f.Fuzz(func(t *testing.T, b []byte) {
		entries, err := parseBlock(b)
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
