package ssms

import (
	"crypto/cipher"
	"crypto/rand"
	"fmt"
	"io"

	"github.com/hashicorp/vault/shamir"
)

// randReader supplies message keys. Tests replace it to make known-answer
// vectors; nothing else may.
var randReader io.Reader = rand.Reader

// Split encrypts msg under a fresh random key and returns n shares of it,
// any k of which Combine turns back into msg. It needs 2 <= k <= n <= 255
// and fails with ErrInvalidParams otherwise. msg may be empty. msg is not
// retained; the shares' Fragment slices share one backing array.
func Split(msg []byte, n, k int) ([]Share, error) {
	return splitWith(msg, n, k, randReader)
}

func splitWith(msg []byte, n, k int, rnd io.Reader) ([]Share, error) {
	if k < 2 || n < k || n > 255 {
		return nil, fmt.Errorf("%w: need 2 <= k <= n <= 255, have n=%d k=%d", ErrInvalidParams, n, k)
	}
	var key [keySize]byte
	defer clear(key[:])
	if _, err := io.ReadFull(rnd, key[:]); err != nil {
		return nil, fmt.Errorf("ssms: reading message key: %w", err)
	}
	mk, err := deriveKeys(key[:])
	if err != nil {
		return nil, fmt.Errorf("ssms: deriving keys: %w", err)
	}
	keyShares, err := shamir.Split(key[:], n, k)
	if err != nil {
		return nil, fmt.Errorf("ssms: splitting key: %w", err)
	}

	// The ciphertext is written straight into the k data fragments, which
	// sit back to back in one buffer followed by the n−k parity fragments.
	// The tail of the last data fragment stays zero. Each data fragment is
	// MACed right after it is encrypted, while it is still in cache.
	fragSize := int(FragmentSize(uint64(len(msg)), k))
	buf := make([]byte, n*fragSize)
	frags := make([][]byte, n)
	for i := range frags {
		frags[i] = buf[i*fragSize : (i+1)*fragSize : (i+1)*fragSize]
	}
	fragMACs := make([][fragMACSize]byte, n)
	ctr := cipher.NewCTR(mk.enc, zeroIV[:])
	for i, off := 0, 0; i < k; i++ {
		end := min(off+fragSize, len(msg))
		ctr.XORKeyStream(buf[off:end], msg[off:end])
		off = end
		fragMACs[i] = mk.fragMAC(uint8(i+1), frags[i])
	}
	if fragSize > 0 && n > k {
		enc, err := encoder(n, k)
		if err != nil {
			return nil, fmt.Errorf("ssms: erasure code: %w", err)
		}
		if err := enc.Encode(frags); err != nil {
			return nil, fmt.Errorf("ssms: erasure code: %w", err)
		}
	}
	for i := k; i < n; i++ {
		fragMACs[i] = mk.fragMAC(uint8(i+1), frags[i])
	}

	shares := make([]Share, n)
	for i := range shares {
		s := &shares[i]
		*s = Share{
			Index:    uint8(i + 1),
			N:        uint8(n),
			K:        uint8(k),
			MsgLen:   uint64(len(msg)),
			MsgID:    mk.id,
			KeyShare: keyShares[i],
			Fragment: frags[i],
		}
		s.Tag = mk.tagWith(s, &fragMACs[i])
	}
	return shares, nil
}
