package table_test

import "github.com/ckptfs/ckptfs/lazyconv/tfbundle/internal/crc32c"

func maskedCRC(b []byte) uint32 { return crc32c.Mask(crc32c.Value(b)) }
