package friends

import "errors"

// Errors of the parsers, Verify methods and the Store; test with
// errors.Is. Parse errors wrap ErrMalformed or ErrUnsupportedKey.
var (
	// ErrMalformed reports bytes that are not a valid encoding.
	ErrMalformed = errors.New("malformed encoding")
	// ErrUnsupportedKey reports a public key that is not Ed25519.
	ErrUnsupportedKey = errors.New("unsupported key type (want Ed25519)")
	// ErrBadSignature reports a signature that does not verify.
	ErrBadSignature = errors.New("bad signature")
	// ErrStale reports a request or response whose time lies outside the
	// accepted window around now.
	ErrStale = errors.New("stale or future timestamp")
	// ErrReplay reports a request nonce seen before.
	ErrReplay = errors.New("replayed request")
	// ErrBusy reports that the replay window is full of live nonces; the
	// request is refused rather than risk accepting a replay.
	ErrBusy = errors.New("too many recent requests")
	// ErrExpired reports a token past its expiry.
	ErrExpired = errors.New("token expired")
	// ErrNotYetValid reports a token issued in the future.
	ErrNotYetValid = errors.New("token not yet valid")
	// ErrWrongSource reports a token held by another sender, or a
	// response to another requester.
	ErrWrongSource = errors.New("wrong source address")
	// ErrWrongDestination reports a token whose issuer key is not the
	// destination's (its DDT address differs), or a request meant for
	// another node.
	ErrWrongDestination = errors.New("wrong destination address")
	// ErrKeyMismatch reports a known username presenting another key, or
	// a response signed by a key other than the one asked.
	ErrKeyMismatch = errors.New("public key does not match the known one")

	// ErrUnknown reports a username or address the Store has no record of.
	ErrUnknown = errors.New("unknown user")
	// ErrState reports an operation the record's state does not allow,
	// such as accepting a request that was never received.
	ErrState = errors.New("not allowed in this state")
	// ErrDenied reports a request from a user we denied.
	ErrDenied = errors.New("user denied")
	// ErrFull reports that the Store holds as many records or pending
	// requests as its Config allows.
	ErrFull = errors.New("too many friend records")
	// ErrCorrupt reports a state file that cannot be loaded.
	ErrCorrupt = errors.New("corrupt friends file")
)
