package envelope

import "errors"

// Errors of this package; test with errors.Is. Every error caused by the
// input (keys, shares, bytes) wraps one of them, with detail.
var (
	// ErrInvalidInput: Seal was given something it cannot seal: shares
	// that are not one message's n shares in index order, a key that is
	// not Ed25519 or X25519, inconsistent chunk fields.
	ErrInvalidInput = errors.New("envelope: invalid input")
	// ErrMalformed: bytes that are not a version-1 prefix: unknown version,
	// fields out of range, lengths that disagree, a non-canonical key.
	ErrMalformed = errors.New("envelope: malformed prefix")
	// ErrWrongSender: the sender key in the manifest does not hash to the
	// expected source DDT address.
	ErrWrongSender = errors.New("envelope: sender key does not match the source address")
	// ErrWrongDestination: the manifest names another destination.
	ErrWrongDestination = errors.New("envelope: wrong destination")
	// ErrShareMismatch: the share's index, tag and sealed key share do not
	// hash to the manifest's digest for that index: they were altered or
	// taken from another share or message.
	ErrShareMismatch = errors.New("envelope: share does not match the manifest")
	// ErrManifestMismatch: a prefix's manifest differs from the one
	// already verified for the message.
	ErrManifestMismatch = errors.New("envelope: manifest differs from the verified one")
	// ErrBadSignature: the manifest signature does not verify.
	ErrBadSignature = errors.New("envelope: bad signature")
	// ErrSeal: a sealed key share does not open with the given key: sealed
	// to someone else, or altered.
	ErrSeal = errors.New("envelope: cannot open sealed key share")
)
