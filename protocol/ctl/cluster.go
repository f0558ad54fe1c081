package ctl

import (
	"encoding/hex"
	"fmt"

	"github.com/libp2p/go-libp2p/core/peer"
)

// ClusterIDLen is the size of a cluster id in bytes.
const ClusterIDLen = 16

// ClusterID names a cluster. Its creator draws it at random; knowing it is
// what lets a peer join, so it is shared like an invitation.
type ClusterID [ClusterIDLen]byte

// String returns the 32-character lower-case hex form.
func (id ClusterID) String() string { return hex.EncodeToString(id[:]) }

// IsZero reports whether id is all zeros, which no cluster uses.
func (id ClusterID) IsZero() bool { return id == ClusterID{} }

// ParseClusterID parses the 32-character lower-case hex form. Upper-case
// hex and the all-zero id are rejected.
func ParseClusterID(s string) (ClusterID, error) {
	var id ClusterID
	if err := parseLowerHex(s, id[:]); err != nil {
		return id, fmt.Errorf("cluster id: %w", err)
	}
	if id.IsZero() {
		return id, Errorf(CodeMalformed, "cluster id: all zero")
	}
	return id, nil
}

// MarshalText implements encoding.TextMarshaler.
func (id ClusterID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (id *ClusterID) UnmarshalText(b []byte) error {
	p, err := ParseClusterID(string(b))
	if err != nil {
		return err
	}
	*id = p
	return nil
}

// charterDomain separates charter signatures from every other use of a
// node's identity key.
const charterDomain = "vmdt/ctl/cluster-charter/v1\x00"

// AppendCharter appends the bytes a cluster's creator signs with its
// libp2p identity key:
//
//	"vmdt/ctl/cluster-charter/v1" 0x00 <cluster_id> "|" <n> "|" <k> "|" <creator_peer_id>
//
// with the id in lower-case hex, n and k in decimal and the peer id in its
// canonical base58 form. The signature binds a cluster's id and defaults
// to its creator, so no member can alter them.
func AppendCharter(b []byte, id ClusterID, n, k int, creator peer.ID) []byte {
	b = append(b, charterDomain...)
	b = append(b, id.String()...)
	b = appendUint(append(b, sep...), uint64(n))
	b = appendUint(append(b, sep...), uint64(k))
	b = append(b, sep...)
	return appendPeerID(b, creator)
}
