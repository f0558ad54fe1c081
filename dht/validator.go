package dht

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/vmdt/vmdt/dht/namerec"
)

// NameNamespace is the DHT key namespace of username records. The DHT key
// of a name is "/vmdtname/" + the normalized name itself: a name maps to
// its record and nothing maps back.
const NameNamespace = "vmdtname"

// NameKey returns the DHT key of a normalized name.
func NameKey(name string) string { return "/" + NameNamespace + "/" + name }

// Errors of record validation, re-exported from namerec for errors.Is.
var (
	ErrKeyMismatch      = errors.New("dht: record name does not match its DHT key")
	ErrRecordTooLarge   = namerec.ErrRecordTooLarge
	ErrMalformed        = namerec.ErrMalformed
	ErrBadSignature     = namerec.ErrBadSignature
	ErrExpired          = namerec.ErrExpired
	ErrAddrMismatch     = namerec.ErrAddrMismatch
	ErrPeerIDMismatch   = namerec.ErrPeerIDMismatch
	ErrNoQuorum         = namerec.ErrNoQuorum
	ErrDuplicateCounter = namerec.ErrDuplicateCounter
	ErrUnknownAuthority = namerec.ErrUnknownAuthority
	ErrBadCountersig    = namerec.ErrBadCountersig
	ErrNoAuthorities    = namerec.ErrNoAuthorities
)

// NameValidator is the record.Validator every VMDT DHT node applies to
// keys under NameNamespace, both before storing a record and before
// accepting one it fetched.
type NameValidator struct {
	auth *namerec.Authorities
	now  func() time.Time
}

// NewNameValidator returns the validator for a network's authorities,
// judging expiry by now (nil = time.Now).
func NewNameValidator(authorities []peer.ID, now func() time.Time) (*NameValidator, error) {
	auth, err := namerec.NewAuthorities(authorities)
	if err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	return &NameValidator{auth: auth, now: now}, nil
}

// Check parses and verifies value stored under key and returns the record
// with its effective expiry (the earlier of the owner's expiry and the
// lapse of the authorities' quorum).
func (v *NameValidator) Check(key string, value []byte) (*NameRecord, time.Time, error) {
	name, ok := strings.CutPrefix(key, "/"+NameNamespace+"/")
	if !ok {
		return nil, time.Time{}, fmt.Errorf("%w: key %q outside /%s/", ErrKeyMismatch, key, NameNamespace)
	}
	r, err := namerec.ParseRecord(value)
	if err != nil {
		return nil, time.Time{}, err
	}
	if r.Name != name {
		return nil, time.Time{}, fmt.Errorf("%w: record for %q under key %q", ErrKeyMismatch, r.Name, key)
	}
	until, err := v.auth.Verify(r, v.now())
	if err != nil {
		return nil, time.Time{}, err
	}
	return r, until, nil
}

// Validate implements record.Validator.
func (v *NameValidator) Validate(key string, value []byte) error {
	_, _, err := v.Check(key, value)
	return err
}

// Select implements record.Validator: it returns the index of the best
// valid record by namerec.Better, or an error if none is valid.
func (v *NameValidator) Select(key string, values [][]byte) (int, error) {
	best := -1
	var br *NameRecord
	var bu time.Time
	for i, val := range values {
		r, until, err := v.Check(key, val)
		if err != nil {
			continue
		}
		if best < 0 || namerec.Better(r, br, until, bu, val, values[best]) {
			best, br, bu = i, r, until
		}
	}
	if best < 0 {
		return 0, fmt.Errorf("dht: none of %d records for %q is valid", len(values), key)
	}
	return best, nil
}
