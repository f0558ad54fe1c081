package sharepool

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/vmdt/vmdt/protocol"
)

// Entry is one share held for an offline receiver.
type Entry struct {
	MsgID      protocol.MessageID
	Src        protocol.DDTAddr // who deposited it
	Dst        protocol.DDTAddr // who may claim it
	ShareIndex uint8            // 1..N
	N, K       uint8            // 2 <= K <= N
	Data       []byte           // 1..Limits.MaxShareLen bytes
	// Added and Expires are set by Add: Added is the pool's clock, Expires
	// is Added+TTL, or the entry's own Expires when that is earlier (but
	// still after Added).
	Added, Expires time.Time
}

// key identifies an entry: depositing a share with the same key again is a
// duplicate.
type key struct {
	dst   protocol.DDTAddr
	src   protocol.DDTAddr
	msg   protocol.MessageID
	index uint8
}

func (e *Entry) key() key {
	return key{dst: e.Dst, src: e.Src, msg: e.MsgID, index: e.ShareIndex}
}

const fileNameDomain = "vmdt/sharepool/name/v1\x00"

// fileName is the entry's file name: 32 hex characters of a hash of the
// key, so a directory listing reveals neither addresses nor message ids.
func (k key) fileName() string {
	h := sha256.New()
	h.Write([]byte(fileNameDomain))
	h.Write(k.dst[:])
	h.Write(k.src[:])
	h.Write(k.msg[:])
	h.Write([]byte{k.index})
	return hex.EncodeToString(h.Sum(nil)[:16]) + fileExt
}

// checkShape reports whether the fixed fields are in range.
func (e *Entry) checkShape() error {
	switch {
	case e.K < 2 || e.N < e.K:
		return fmt.Errorf("%w: n=%d k=%d, want 2 <= k <= n", ErrInvalid, e.N, e.K)
	case e.ShareIndex < 1 || e.ShareIndex > e.N:
		return fmt.Errorf("%w: share index %d, want 1..%d", ErrInvalid, e.ShareIndex, e.N)
	case e.Src.IsZero() || e.Dst.IsZero():
		return fmt.Errorf("%w: zero source or destination address", ErrInvalid)
	case len(e.Data) == 0 || len(e.Data) > MaxDataLen:
		return fmt.Errorf("%w: share of %d bytes, want 1..%d", ErrInvalid, len(e.Data), MaxDataLen)
	}
	return nil
}

// BlockSize is the unit entries are charged in: one file costs at least a
// file-system block, whatever its length.
const BlockSize = 4096

// EntryCost is the size charged against the limits for a share of
// dataLen bytes: its file length rounded up to BlockSize. A share of up
// to BlockSize-80 bytes costs one block.
func EntryCost(dataLen int) int64 {
	n := int64(fileLen(dataLen))
	return (n + BlockSize - 1) / BlockSize * BlockSize
}

func (e *Entry) clone() Entry {
	c := *e
	c.Data = append([]byte(nil), e.Data...)
	return c
}
