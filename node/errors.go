package node

import (
	"errors"

	"github.com/vmdt/vmdt/node/consent"
)

var (
	// ErrRepoExists reports that a repository already holds an identity;
	// InitRepo never overwrites one.
	ErrRepoExists = errors.New("node: repository already initialized")
	// ErrNoRepo reports a directory without an initialized repository.
	ErrNoRepo = errors.New("node: repository not initialized (run vmdt init)")
	// ErrRepoPerms reports a secret file or the repository directory that
	// others than its owner can read or write.
	ErrRepoPerms = errors.New("node: repository permissions too open")
	// ErrRepoLocked reports that another process runs a node on the
	// repository.
	ErrRepoLocked = errors.New("node: repository in use by another process")
	// ErrDaemonNotRunning reports that no daemon serves the repository's
	// API (no "api" file, or nothing listens at its address).
	ErrDaemonNotRunning = errors.New("node: daemon not running")
	// ErrBadConfig reports an invalid configuration value.
	ErrBadConfig = errors.New("node: bad configuration")
	// ErrUnauthorized reports an API request without a valid token.
	ErrUnauthorized = errors.New("node: unauthorized")
	// ErrNoDataPlane reports an operation that needs the data plane on a
	// node without one (a bootstrap node).
	ErrNoDataPlane = errors.New("node: no data plane on this node")
	// ErrClosed reports an operation on a closed node.
	ErrClosed = errors.New("node: closed")
	// ErrNoFriends reports a friend operation on a node without a friend
	// store (a bootstrap node).
	ErrNoFriends = errors.New("node: no friend requests on this node")
	// ErrNotFriends reports a user who is not a friend: no request
	// between us was accepted.
	ErrNotFriends = errors.New("node: not friends")
	// ErrNoUsername reports a friend request from a node that has no
	// registered username.
	ErrNoUsername = consent.ErrNoUsername
	// ErrUnknownCluster reports a cluster id this node is not a member
	// of.
	ErrUnknownCluster = errors.New("node: not a member of that cluster")
)
