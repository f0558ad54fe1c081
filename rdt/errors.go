package rdt

import (
	"errors"
	"fmt"
	"net"
)

// Errors returned by the transport. They are wrapped with detail; test
// with errors.Is.
var (
	// ErrClosed is returned by every call on a closed Transport and by
	// transfers that were pending when it closed. It wraps net.ErrClosed.
	ErrClosed = fmt.Errorf("rdt: transport closed: %w", net.ErrClosed)

	// ErrTimeout means a transfer made no progress for
	// Config.TransferTimeout.
	ErrTimeout = errors.New("rdt: transfer timed out")

	// ErrPeerUnreachable means the peer sent nothing at all for
	// Config.TransferTimeout while a transfer to it was pending. Errors
	// that match it also match ErrTimeout.
	ErrPeerUnreachable = errors.New("rdt: peer unreachable")

	// ErrAbandoned means a transfer was ended before it completed: by
	// Outgoing.Abandon, by a cancelled Send, by AbandonMessage, or by the
	// far end, which says with it that it needs no more of the share.
	ErrAbandoned = errors.New("rdt: transfer abandoned")

	// ErrPeerClosed means the session a transfer used was removed, by
	// RemovePeer or by a CLOSE from the peer.
	ErrPeerClosed = errors.New("rdt: peer session closed")

	// ErrUnknownPeer means no session exists for the address (and key id).
	ErrUnknownPeer = errors.New("rdt: unknown peer")

	// ErrPeerExists means AddPeer was called for an (address, key id) pair
	// that already has a session.
	ErrPeerExists = errors.New("rdt: peer session exists")

	// ErrTransferExists means an outgoing transfer with the same message
	// id, share index, source and destination is already pending on the
	// session.
	ErrTransferExists = errors.New("rdt: transfer already pending")

	// ErrShareTooLarge means a share is longer than Config.MaxShareLen.
	ErrShareTooLarge = errors.New("rdt: share too large")

	// ErrInvalidHeader means a VMDT header given to Send or OpenSend does
	// not encode to a valid header.
	ErrInvalidHeader = errors.New("rdt: invalid VMDT header")

	// ErrRange means an Outgoing.WriteAt fell outside the share.
	ErrRange = errors.New("rdt: write outside the share")

	// ErrKeyExhausted means a session used up its 2^32-1 sequence
	// numbers; the peer must be given a new key.
	ErrKeyExhausted = errors.New("rdt: session key exhausted")
)

// errUnreachable is the error of a transfer whose peer went silent.
var errUnreachable = fmt.Errorf("%w: %w", ErrPeerUnreachable, ErrTimeout)

var (
	errAbandonedLocally = fmt.Errorf("%w locally", ErrAbandoned)
	errAbandonedByPeer  = fmt.Errorf("%w by the peer", ErrAbandoned)
	errNoProgress       = fmt.Errorf("%w: no progress", ErrTimeout)
	errPeerRemoved      = fmt.Errorf("%w: removed locally", ErrPeerClosed)
	errPeerSentClose    = fmt.Errorf("%w: closed by the peer", ErrPeerClosed)
)
