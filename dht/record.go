package dht

import "github.com/vmdt/vmdt/dht/namerec"

// NameRecord binds a username to its owner's key, DDT address, peer ID and
// seal key. Its wire format and validity rules are in package namerec.
type NameRecord = namerec.Record

// Countersignature is one authority's hold on a (name, key) claim.
type Countersignature = namerec.Countersignature

// SealKeyLen is the size of an X25519 seal public key.
const SealKeyLen = namerec.SealKeyLen

// MaxNameLen is the longest username, in characters.
const MaxNameLen = namerec.MaxNameLen

// ErrInvalidName reports a username outside 1..16 characters of [a-z0-9_-].
var ErrInvalidName = namerec.ErrInvalidName

// NormalizeName folds ASCII upper case to lower case and checks that the
// result is 1 to 16 characters from [a-z0-9_-]; errors wrap ErrInvalidName.
func NormalizeName(s string) (string, error) { return namerec.NormalizeName(s) }
