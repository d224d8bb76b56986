package torchpickle

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math/big"
)

// The legacy stream starts with these pickles (torch/serialization.py).
var legacyMagic, _ = new(big.Int).SetString("1950a86a20f9469cfc6c", 16)

const legacyProtocol = 1001

// legacyStream reads the pickles of a legacy file one after the other.
type legacyStream struct {
	path string
	r    io.ReaderAt
	size int64
	pos  int64
}

func (s *legacyStream) next(u *unpickling, what string) (any, error) {
	br := bufio.NewReader(io.NewSectionReader(s.r, s.pos, s.size-s.pos))
	n, err := pickleLength(br, s.size-s.pos)
	if err != nil {
		return nil, fmt.Errorf("%s: %s at byte %d: %w", s.path, what, s.pos, err)
	}
	data := make([]byte, n)
	if _, err := s.r.ReadAt(data, s.pos); err != nil {
		return nil, fmt.Errorf("%s: %s: %w", s.path, what, err)
	}
	v, err := u.load(data)
	if err != nil {
		return nil, err
	}
	s.pos += n
	return v, nil
}

// readLegacy reads a pre-1.6 torch.save stream: magic number, protocol
// version and system info pickles, the object pickle, the pickled list of
// storage keys, then for each key an int64 element count and the raw
// little-endian elements. Storage offsets come from walking those counts;
// the elements themselves are skipped.
func readLegacy(path string, r io.ReaderAt, size int64) (any, error) {
	s := &legacyStream{path: path, r: r, size: size}
	header := newUnpickling(path, true)
	magic, err := s.next(header, "magic number")
	if err != nil {
		return nil, err
	}
	if m, ok := magic.(*big.Int); !ok || m.Cmp(legacyMagic) != 0 {
		return nil, fmt.Errorf("%s: not a torch.save file: the first pickle is %v, not torch's magic number", path, magic)
	}
	if proto, err := s.next(header, "protocol version"); err != nil {
		return nil, err
	} else if proto != int64(legacyProtocol) {
		return nil, fmt.Errorf("%s: unsupported: legacy protocol version %v", path, proto)
	}
	info, err := s.next(header, "system info")
	if err != nil {
		return nil, err
	}
	if d, ok := info.(*Dict); !ok {
		return nil, fmt.Errorf("%s: malformed system info %v", path, info)
	} else if little, _ := d.Get("little_endian"); little != true {
		return nil, fmt.Errorf("%s: unsupported: written on a big-endian machine", path)
	}
	u := newUnpickling(path, true)
	root, err := s.next(u, "object pickle")
	if err != nil {
		return nil, err
	}
	keys, err := s.next(newUnpickling(path, true), "storage key list")
	if err != nil {
		return nil, err
	}
	list, ok := keys.(List)
	if !ok {
		return nil, fmt.Errorf("%s: malformed storage key list %v", path, keys)
	}
	if err := s.placeStorages(u, list); err != nil {
		return nil, err
	}
	return root, nil
}

// placeStorages walks the storage records in key-list order.
func (s *legacyStream) placeStorages(u *unpickling, keys List) error {
	placed := map[string]bool{}
	for _, k := range keys {
		key, _ := k.(string)
		st, ok := u.storages[key]
		if !ok || placed[key] {
			return fmt.Errorf("%s: storage key list names %v, which the object pickle does not use once", s.path, k)
		}
		placed[key] = true
		var count [8]byte
		if _, err := s.r.ReadAt(count[:], s.pos); err != nil {
			return fmt.Errorf("%s: truncated: storage %s has no element count at byte %d (file has %d bytes)", s.path, key, s.pos, s.size)
		}
		numel := int64(binary.LittleEndian.Uint64(count[:]))
		if numel != st.Numel {
			return fmt.Errorf("%s: storage %s: the file records %d elements, the pickle %d", s.path, key, numel, st.Numel)
		}
		elem := int64(st.DType.Size())
		left := s.size - s.pos - 8
		if numel > left/elem {
			return fmt.Errorf("%s: truncated: storage %s needs %d bytes at byte %d, the file has %d left", s.path, key, numel*elem, s.pos+8, left)
		}
		st.Offset = s.pos + 8
		s.pos += 8 + numel*elem
	}
	for _, st := range u.order {
		if !placed[st.Key] {
			return fmt.Errorf("%s: storage %s is not in the storage key list", s.path, st.Key)
		}
	}
	return nil
}
