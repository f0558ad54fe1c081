package sharepool

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"time"

	"github.com/vmdt/vmdt/protocol"
)

// Entry file format, version 1. See the package doc for the layout.
const (
	fileMagic   = "VSPL"
	fileVersion = 1
	fileExt     = ".share"
	// HeaderLen is the length of an entry file before its data.
	HeaderLen = 4 + 1 + 8 + 20 + 20 + 3 + 8 + 8 + 4
	// TrailerLen is the length of the checksum after the data.
	TrailerLen = 4
	// MaxDataLen is the longest share an entry file may hold, whatever
	// the limits say: 64 MiB, the longest share RDT carries, so that a
	// relay can hold a whole sealed envelope (package node/delivery).
	MaxDataLen = 64 << 20
	// MaxFileLen is the longest valid entry file.
	MaxFileLen = HeaderLen + MaxDataLen + TrailerLen
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func fileLen(dataLen int) int { return HeaderLen + dataLen + TrailerLen }

// appendEntryFile appends the file encoding of e to b.
func appendEntryFile(b []byte, e *Entry) []byte {
	start := len(b)
	b = append(b, fileMagic...)
	b = append(b, fileVersion)
	b = append(b, e.MsgID[:]...)
	b = append(b, e.Src[:]...)
	b = append(b, e.Dst[:]...)
	b = append(b, e.ShareIndex, e.N, e.K)
	b = binary.BigEndian.AppendUint64(b, uint64(e.Added.UnixNano()))
	b = binary.BigEndian.AppendUint64(b, uint64(e.Expires.UnixNano()))
	b = binary.BigEndian.AppendUint32(b, uint32(len(e.Data)))
	b = append(b, e.Data...)
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b[start:], castagnoli))
}

// parseEntryFile decodes and validates an entry file. The returned Data
// aliases b. Errors wrap ErrCorrupt.
func parseEntryFile(b []byte) (Entry, error) {
	var e Entry
	if len(b) < HeaderLen+TrailerLen {
		return e, fmt.Errorf("%w: %d bytes, shorter than header and checksum", ErrCorrupt, len(b))
	}
	if string(b[:4]) != fileMagic {
		return e, fmt.Errorf("%w: bad magic %q", ErrCorrupt, b[:4])
	}
	if b[4] != fileVersion {
		return e, fmt.Errorf("%w: unknown version %d", ErrCorrupt, b[4])
	}
	n := binary.BigEndian.Uint32(b[72:76])
	if n == 0 || n > MaxDataLen || int(n) != len(b)-HeaderLen-TrailerLen {
		return e, fmt.Errorf("%w: data length %d in a file of %d bytes", ErrCorrupt, n, len(b))
	}
	body := b[:len(b)-TrailerLen]
	if want, got := binary.BigEndian.Uint32(b[len(body):]), crc32.Checksum(body, castagnoli); want != got {
		return e, fmt.Errorf("%w: checksum %08x, want %08x", ErrCorrupt, got, want)
	}
	copy(e.MsgID[:], b[5:13])
	e.Src = protocol.DDTAddr(b[13:33])
	e.Dst = protocol.DDTAddr(b[33:53])
	e.ShareIndex, e.N, e.K = b[53], b[54], b[55]
	added := int64(binary.BigEndian.Uint64(b[56:64]))
	expires := int64(binary.BigEndian.Uint64(b[64:72]))
	if added <= 0 || expires <= added {
		return e, fmt.Errorf("%w: added %d, expires %d", ErrCorrupt, added, expires)
	}
	e.Added, e.Expires = time.Unix(0, added), time.Unix(0, expires)
	e.Data = body[HeaderLen:]
	if err := e.checkShape(); err != nil {
		return e, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return e, nil
}
