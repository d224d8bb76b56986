package tfbundle

import (
	"fmt"
	"slices"

	"google.golang.org/protobuf/proto"

	"github.com/ckptfs/ckptfs/lazyconv/tfbundle/pb"
)

// readerVersion is the bundle format version this reader implements, as
// TensorFlow's kTensorBundleVersion.
const readerVersion = 1

// decodeHeader checks the header value and returns the number of shards.
func decodeHeader(indexPath string, value []byte) (int, error) {
	// A V1 checkpoint's header is a SavedTensorSlices message, whose field 1
	// is a message (tag 0x0a); a bundle header's field 1 is a varint (0x08).
	if len(value) > 0 && value[0] == 0x0a {
		return 0, v1Error(indexPath)
	}
	var h pb.BundleHeaderProto
	if err := proto.Unmarshal(value, &h); err != nil {
		return 0, fmt.Errorf("%s: bad bundle header: %w", indexPath, err)
	}
	switch h.Endianness {
	case pb.BundleHeaderProto_LITTLE:
	case pb.BundleHeaderProto_BIG:
		return 0, fmt.Errorf("%w: big-endian checkpoint %s", ErrUnsupported, indexPath)
	default:
		return 0, fmt.Errorf("%w: checkpoint %s has unknown endianness %d", ErrUnsupported, indexPath, h.Endianness)
	}
	// Bundles from before 2016-09 have no version; they count as producer 0.
	if v := h.Version; v != nil {
		if v.MinConsumer > readerVersion {
			return 0, fmt.Errorf("%w: checkpoint %s needs a reader of format version %d or newer; ckptfs implements version %d", ErrUnsupported, indexPath, v.MinConsumer, readerVersion)
		}
		if slices.Contains(v.BadConsumers, readerVersion) {
			return 0, fmt.Errorf("%w: checkpoint %s disallows readers of format version %d", ErrUnsupported, indexPath, readerVersion)
		}
		if v.Producer < 0 {
			return 0, fmt.Errorf("%s: bad bundle header: producer version %d", indexPath, v.Producer)
		}
	}
	if h.NumShards < 0 {
		return 0, fmt.Errorf("%s: bad bundle header: %d shards", indexPath, h.NumShards)
	}
	return int(h.NumShards), nil
}
