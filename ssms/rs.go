package ssms

import (
	"sync"

	"github.com/klauspost/reedsolomon"
)

// Reed-Solomon encoders are costly to build and safe for concurrent use, so
// a few are kept. The cache is small and bounded because n and k of shares
// arriving from the network are chosen by the sender.
//
// Only the library's default code is used: a systematic Vandermonde-derived
// matrix over GF(2^8). It works byte position by byte position, so byte p
// of every parity fragment depends only on byte p of the data fragments.
// Options that would change that (Leopard GF(2^16), shard size multiples)
// must not be enabled. The inversion cache is off because its memory grows
// with every distinct set of missing shards a sender can make us decode.
const maxEncoders = 16

var encoders struct {
	sync.Mutex
	m map[[2]uint8]reedsolomon.Encoder
}

// encoder returns the encoder for k data and n−k parity fragments; n > k.
func encoder(n, k int) (reedsolomon.Encoder, error) {
	key := [2]uint8{uint8(n), uint8(k)}
	encoders.Lock()
	enc, ok := encoders.m[key]
	encoders.Unlock()
	if ok {
		return enc, nil
	}
	enc, err := reedsolomon.New(k, n-k, reedsolomon.WithInversionCache(false))
	if err != nil {
		return nil, err
	}
	encoders.Lock()
	defer encoders.Unlock()
	if encoders.m == nil || len(encoders.m) >= maxEncoders {
		encoders.m = make(map[[2]uint8]reedsolomon.Encoder, maxEncoders)
	}
	encoders.m[key] = enc
	return enc, nil
}
