package layout

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"testing"

	"github.com/ckptfs/ckptfs/lazyconv/dtype"
	"github.com/ckptfs/ckptfs/lazyconv/tensor"
)

func TestPickleInts(t *testing.T) {
	cases := []struct {
		v    int64
		want string
	}{
		{0, "4b00"},
		{255, "4bff"},
		{256, "4d0001"},
		{65535, "4dffff"},
		{65536, "4a00000100"},
		{-1, "4affffffff"},
		{1<<31 - 1, "4affffff7f"},
		{1 << 31, "8a050000008000"}, // needs a sign byte
		{1<<32 + 3, "8a050300000001"},
		{1<<40 - 1, "8a06ffffffffff00"},
		{-1 << 31, "4a00000080"},
		{-1<<31 - 1, "8a05ffffff7fff"},
	}
	for _, c := range cases {
		p := &pickler{memo: map[string]uint64{}}
		p.int(c.v)
		if got := hex.EncodeToString(p.buf); got != c.want {
			t.Errorf("int(%d) = %s, want %s", c.v, got, c.want)
		}
	}
}

func TestPickleMemoPastByteSlots(t *testing.T) {
	p := &pickler{memo: map[string]uint64{}}
	for range 256 {
		p.str("")
	}
	p.buf = nil
	p.sharedStr("x", "x")
	p.sharedStr("x", "x")
	// slot 256 needs LONG_BINPUT / LONG_BINGET
	if got, want := hex.EncodeToString(p.buf), "58010000007872000100006a00010000"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// torchPickle builds data.pkl through the same path TorchZip uses.
func torchPickle(t *testing.T, tensors []*tensor.Tensor, keys []Key) []byte {
	t.Helper()
	entries, _, err := stateEntries(tensors, keys)
	if err != nil {
		t.Fatal(err)
	}
	pkl, err := statePickle(entries)
	if err != nil {
		t.Fatal(err)
	}
	return pkl
}

// The expected bytes below were written by torch.save (torch 2.15).
func TestStatePickleMatchesTorchSmall(t *testing.T) {
	// torch.save(OrderedDict())
	if got := torchPickle(t, nil, nil); string(got) != "\x80\x02ccollections\nOrderedDict\nq\x00)Rq\x01." {
		t.Errorf("empty state dict: %q", got)
	}
	// torch.save(OrderedDict(w=torch.zeros(2, 3, 4, 5))): one item uses
	// SETITEM, a 4-d shape a MARKed tuple.
	w := declaredTensor("w", dtype.F32, 2, 3, 4, 5)
	want := "\x80\x02ccollections\nOrderedDict\nq\x00)Rq\x01X\x01\x00\x00\x00wq\x02ctorch._utils\n_rebuild_tensor_v2\nq\x03((X\x07\x00\x00\x00storageq\x04ctorch\nFloatStorage\nq\x05X\x01\x00\x00\x000q\x06X\x03\x00\x00\x00cpuq\x07Kxtq\x08QK\x00(K\x02K\x03K\x04K\x05tq\t(K<K\x14K\x05K\x01tq\n\x89h\x00)Rq\x0btq\x0cRq\rs."
	if got := torchPickle(t, []*tensor.Tensor{w}, []Key{{"w", 0}}); string(got) != want {
		t.Errorf("single tensor:\n got %q\nwant %q", got, want)
	}
}

// TestStatePickleMatchesTorchZip64 compares with the data.pkl torch.save
// wrote for tensors of 2^30+5 float32 and 2^32+3 uint8 elements
// (testdata/torch_zip64.pkl; numel past 2^31 is a LONG1).
func TestStatePickleMatchesTorchZip64(t *testing.T) {
	want, err := os.ReadFile("testdata/torch_zip64.pkl")
	if err != nil {
		t.Fatal(err)
	}
	tensors, keys := zip64Tensors()
	if got := torchPickle(t, tensors, keys); !bytes.Equal(got, want) {
		t.Errorf("data.pkl differs from torch's:\n got %q\nwant %q", got, want)
	}
}

// TestStatePickleMatchesTorchMany covers two SETITEMS batches, memo slots
// past 255, tied keys, BININT and LONG1 sizes. The digest is of the data.pkl
// written by torch 2.15 for:
//
//	dts = [torch.float32, torch.float16, torch.int64]
//	sd, prev = OrderedDict(), None
//	for i in range(1001):
//	    if i % 5 == 4: t = prev.detach()
//	    else: t = torch.zeros([[i + 1], [2, i % 7], [], [1, 2, 3, 4]][i % 4], dtype=dts[i % 3])
//	    sd[f"k{i}"] = t; prev = t
//	sd["mid"] = torch.zeros(70000)
//	sd["huge"] = torch.empty(3, 2**31, dtype=torch.uint8)
func TestStatePickleMatchesTorchMany(t *testing.T) {
	dts := []dtype.DType{dtype.F32, dtype.F16, dtype.I64}
	var tensors []*tensor.Tensor
	var keys []Key
	for i := range 1001 {
		if i%5 == 4 {
			keys = append(keys, Key{fmt.Sprintf("k%d", i), len(tensors) - 1})
			continue
		}
		shape := [][]int64{{int64(i + 1)}, {2, int64(i % 7)}, {}, {1, 2, 3, 4}}[i%4]
		keys = append(keys, Key{fmt.Sprintf("k%d", i), len(tensors)})
		tensors = append(tensors, declaredTensor(fmt.Sprintf("t%d", i), dts[i%3], shape...))
	}
	keys = append(keys, Key{"mid", len(tensors)}, Key{"huge", len(tensors) + 1})
	tensors = append(tensors,
		declaredTensor("mid", dtype.F32, 70000),
		declaredTensor("huge", dtype.U8, 3, 1<<31))

	got := torchPickle(t, tensors, keys)
	sum := sha256.Sum256(got)
	if len(got) != 85243 || hex.EncodeToString(sum[:]) != "a716e42f29346a301b251346aa3c743f814407a66a7e7be2570e260ea4448996" {
		t.Errorf("data.pkl (%d bytes, sha256 %x) differs from torch's (85243 bytes)", len(got), sum)
	}
}
