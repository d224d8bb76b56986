// Package layout lays out the virtual files ckptfs serves — a PyTorch zip
// checkpoint (what torch.save writes for pytorch_model.bin) and a
// safetensors file — as index plans, from tensor metadata alone.
package layout

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ckptfs/ckptfs/lazyconv/index"
	"github.com/ckptfs/ckptfs/lazyconv/tensor"
)

// TorchArchive is the folder torch.save puts the records of
// pytorch_model.bin under (see TorchArchiveName).
const TorchArchive = "pytorch_model"

// Key is one state-dict entry: its name and the index of the tensor it
// holds. Several keys may hold the same tensor (tied weights).
type Key struct {
	Name   string
	Tensor int
}

// TorchZip lays out what torch.save(state_dict, "pytorch_model.bin") writes,
// for a state dict holding keys in the given order. Each tensor that keys
// refer to is stored once, contiguous, in order of first use; keys naming the
// same tensor share its storage, as tied parameters do.
func TorchZip(tensors []*tensor.Tensor, keys []Key) (*index.Plan, error) {
	return TorchZipArchive(TorchArchive, tensors, keys)
}

// TorchArchiveName is the archive folder torch.save uses for a file name:
// the base name without its last extension ("pytorch_model-00001-of-00002").
// It is empty when torch.save would refuse the name.
func TorchArchiveName(fileName string) string {
	base := fileName[strings.LastIndexAny(fileName, `/\`)+1:]
	if dot := strings.LastIndexByte(base, '.'); dot >= 0 {
		base = base[:dot]
	}
	return base
}

// TorchZipArchive is TorchZip with the archive folder named explicitly.
func TorchZipArchive(archive string, tensors []*tensor.Tensor, keys []Key) (*index.Plan, error) {
	if archive == "" || strings.ContainsAny(archive, `/\`) || !utf8.ValidString(archive) {
		return nil, fmt.Errorf("invalid archive folder name %q", archive)
	}
	entries, storages, err := stateEntries(tensors, keys)
	if err != nil {
		return nil, err
	}
	pkl, err := statePickle(entries)
	if err != nil {
		return nil, err
	}

	// Records in the order torch.save writes them (checked on torch 2.15): _save writes
	// data.pkl, .format_version, .storage_alignment, byteorder and the
	// storages; closing the writer adds version and serialization_id.
	// .format_version "1" promises storages in numeric key order, which lets
	// torch.load compute storage offsets instead of reading headers.
	prefix := archive + "/"
	w := &zipWriter{b: index.NewBuilder(tensors)}
	literals := []struct{ name, data string }{
		{"data.pkl", string(pkl)},
		{".format_version", "1"},
		{".storage_alignment", strconv.Itoa(storageAlignment)},
		{"byteorder", "little"},
	}
	for _, l := range literals {
		if err := w.literal(prefix+l.name, []byte(l.data)); err != nil {
			return nil, err
		}
	}
	for key, i := range storages {
		if err := w.tensor(prefix+"data/"+strconv.Itoa(key), i, tensors[i].Bytes()); err != nil {
			return nil, err
		}
	}
	if err := w.literal(prefix+"version", []byte("3\n")); err != nil {
		return nil, err
	}
	if err := w.literal(prefix+".data/serialization_id", serializationID(w.records)); err != nil {
		return nil, err
	}
	if err := w.finish(); err != nil {
		return nil, err
	}
	return w.b.Plan(), nil
}

// stateEntries checks keys and assigns storage keys "0", "1", … to tensors in
// order of first use. storages[k] is the tensor stored as data/<k>.
func stateEntries(tensors []*tensor.Tensor, keys []Key) (entries []stateEntry, storages []int, err error) {
	storageOf := map[int]string{}
	seen := map[string]bool{}
	for _, k := range keys {
		if !utf8.ValidString(k.Name) {
			return nil, nil, fmt.Errorf("state-dict key %q is not valid UTF-8", k.Name)
		}
		if seen[k.Name] {
			return nil, nil, fmt.Errorf("state-dict key %s appears twice", k.Name)
		}
		seen[k.Name] = true
		if k.Tensor < 0 || k.Tensor >= len(tensors) {
			return nil, nil, fmt.Errorf("state-dict key %s: no tensor %d (have %d)", k.Name, k.Tensor, len(tensors))
		}
		storage, ok := storageOf[k.Tensor]
		if !ok {
			if err := checkTensor(k.Tensor, tensors[k.Tensor]); err != nil {
				return nil, nil, fmt.Errorf("state-dict key %s: %w", k.Name, err)
			}
			storage = strconv.Itoa(len(storages))
			storageOf[k.Tensor] = storage
			storages = append(storages, k.Tensor)
		}
		entries = append(entries, stateEntry{name: k.Name, tensor: tensors[k.Tensor], storage: storage})
	}
	return entries, storages, nil
}

// serializationID stands in for the 40-digit id torch's writer derives from
// its record names and data CRCs (informational only: torch.load merely logs
// it). This one is a deterministic function of the records written so far,
// in the same shape: two zero-padded 20-digit numbers.
func serializationID(records []zipRecord) []byte {
	names, contents := fnv.New64a(), fnv.New64a()
	for _, r := range records {
		names.Write([]byte(r.name))
		names.Write([]byte{0})
		fmt.Fprintf(contents, "%d:%d:%d;", r.size, r.crc, r.offset)
	}
	return fmt.Appendf(nil, "%020d%020d", names.Sum64(), contents.Sum64())
}
