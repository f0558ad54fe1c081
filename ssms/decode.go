package ssms

import (
	"crypto/cipher"
	"fmt"
)

// decode rebuilds the ciphertext from the k authentic shares at positions
// used (in Index order) and decrypts it.
func decode(shares []Share, used []int, m messageKey, mk *messageKeys) ([]byte, error) {
	n, k := int(m.n), int(m.k)
	fragSize := len(shares[used[0]].Fragment)
	if fragSize == 0 {
		return []byte{}, nil // the empty message: nothing to decode
	}
	data := make([][]byte, k)
	if int(shares[used[k-1]].Index) == k {
		// Shares 1..k: the fragments are the ciphertext.
		for i, pos := range used {
			data[i] = shares[pos].Fragment
		}
	} else {
		enc, err := encoder(n, k)
		if err != nil {
			return nil, fmt.Errorf("ssms: erasure code: %w", err)
		}
		frags := make([][]byte, n)
		for _, pos := range used {
			frags[shares[pos].Index-1] = shares[pos].Fragment
		}
		missing := 0
		for _, f := range frags[:k] {
			if f == nil {
				missing++
			}
		}
		spare := make([]byte, missing*fragSize)
		for i, f := range frags[:k] {
			if f == nil {
				frags[i] = spare[:0:fragSize]
				spare = spare[fragSize:]
			}
		}
		if err := enc.ReconstructData(frags); err != nil {
			return nil, fmt.Errorf("ssms: erasure code: %w", err)
		}
		copy(data, frags[:k])
	}

	// Bytes past the message in the last data fragments are zero padding;
	// anything else means the shares were not made by Split.
	msgLen := int(m.msgLen)
	for i, f := range data {
		start := max(0, min(fragSize, msgLen-i*fragSize))
		for _, c := range f[start:] {
			if c != 0 {
				return nil, fmt.Errorf("%w: non-zero padding in fragment %d", ErrIntegrity, i+1)
			}
		}
	}

	msg := make([]byte, msgLen)
	ctr := cipher.NewCTR(mk.enc, zeroIV[:])
	for i, off := 0, 0; off < msgLen; i++ {
		end := min(off+fragSize, msgLen)
		ctr.XORKeyStream(msg[off:end], data[i][:end-off])
		off = end
	}
	return msg, nil
}
