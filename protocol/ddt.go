package protocol

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// DDTAddrLen is the size of a DDT address in bytes (160 bits).
const DDTAddrLen = 20

// DDTAddr is a node's 160-bit DDT address, derived from its public key.
type DDTAddr [DDTAddrLen]byte

const ddtDomain = "vmdt/ddt/v1\x00"

// DDTAddrFromPublicKey derives the DDT address of a marshaled public key
// (for libp2p keys, the output of crypto.MarshalPublicKey).
func DDTAddrFromPublicKey(pub []byte) DDTAddr {
	h := sha256.New()
	h.Write([]byte(ddtDomain))
	h.Write(pub)
	var a DDTAddr
	copy(a[:], h.Sum(nil))
	return a
}

// String returns the 40-character lower-case hex form.
func (a DDTAddr) String() string { return hex.EncodeToString(a[:]) }

// IsZero reports whether a is the all-zero address, which no key has.
func (a DDTAddr) IsZero() bool { return a == DDTAddr{} }

// ParseDDTAddr parses the 40-hex-character form; case is ignored.
func ParseDDTAddr(s string) (DDTAddr, error) {
	var a DDTAddr
	if len(s) != 2*DDTAddrLen {
		return a, fmt.Errorf("%w: DDT address must be %d hex characters, got %d", ErrInvalid, 2*DDTAddrLen, len(s))
	}
	if _, err := hex.Decode(a[:], []byte(strings.ToLower(s))); err != nil {
		return a, fmt.Errorf("%w: DDT address: %v", ErrInvalid, err)
	}
	return a, nil
}

// MarshalText implements encoding.TextMarshaler (for JSON).
func (a DDTAddr) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (a *DDTAddr) UnmarshalText(b []byte) error {
	p, err := ParseDDTAddr(string(b))
	if err != nil {
		return err
	}
	*a = p
	return nil
}
