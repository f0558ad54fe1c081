package ctl

// Limits of the grammar. A line breaking one is rejected.
const (
	// MaxLineLen caps a line, counting its final "\n".
	MaxLineLen = 4096
	// MinShares and MaxShares bound n and k: 2 <= k <= n <= 255.
	MinShares = 2
	MaxShares = 255
	// MaxClusterMembers caps a cluster's member list.
	MaxClusterMembers = 255
	// MaxReasonLen caps the reason of an ERR reply.
	MaxReasonLen = 200
	// MaxPeerIDLen caps a peer id field.
	MaxPeerIDLen = 128
	// MaxSignatureLen caps the decoded bytes of a charter signature.
	MaxSignatureLen = 512
)

const sep = "|"
