package ctl

import (
	"github.com/vmdt/vmdt/protocol"
)

// Store-and-forward additions for large shares (package node/delivery).
//
//	RELAY_OPEN|…                          -> OK|forward or OK|pool
//	POOL_FETCH|<client_id>                -> OK|<count>, then count lines
//	HELD|<msg_id>|<src_client_id>|<share_index>|<n>|<k>|<share_len>
//
// A relay that cannot reach the receiver answers RELAY_OPEN with OK|pool:
// it takes the whole share and keeps it in its share pool. POOL_FETCH is
// the receiver's claim: the relay lists what it holds for client_id (at
// most MaxHeldShares) and then pushes each listed share to it over RDT,
// with the VMDT FlagPool set, deleting it once the transfer completed.
// Shares travel over RDT because they may be MiBs long; SHARE_POOL_CLAIM
// carries only small shares inside its text lines.
const (
	VerbPoolFetch   = "POOL_FETCH"
	RelayModePool   = "pool"
	heldWord        = "HELD"
	MaxHeldShares   = 64
	maxHeldShareLen = 1<<32 - 1
)

// PoolFetch asks a relay to push the shares it holds for ClientID.
//
//	POOL_FETCH|<client_id>
type PoolFetch struct {
	ClientID protocol.DDTAddr
}

func (*PoolFetch) Verb() string                   { return VerbPoolFetch }
func (c *PoolFetch) Client() protocol.DDTAddr     { return c.ClientID }
func (c *PoolFetch) valid() bool                  { return true }
func (c *PoolFetch) appendFields(b []byte) []byte { return append(b, c.ClientID.String()...) }

func parsePoolCommand(verb, line string) (cmd Command, ok bool, err error) {
	if verb != VerbPoolFetch {
		return nil, false, nil
	}
	f, err := splitFields(line, 2)
	if err != nil {
		return nil, true, err
	}
	c := &PoolFetch{}
	if c.ClientID, err = parseClient("client id", f[1]); err != nil {
		return nil, true, err
	}
	return c, true, nil
}

// HeldShare describes a share a relay holds for the claimant.
//
//	HELD|<msg_id>|<src_client_id>|<share_index>|<n>|<k>|<share_len>
type HeldShare struct {
	MessageID protocol.MessageID
	Src       protocol.DDTAddr
	Index     int // 1..N
	N, K      int // 2 <= K <= N <= 255
	ShareLen  uint32
}

func (s *HeldShare) valid() bool {
	return checkNK(s.N, s.K) && s.Index >= 1 && s.Index <= s.N && s.ShareLen != 0
}

// AppendPoolFetchReply appends the POOL_FETCH reply: "OK|<count>" and
// one HELD line per share. It fails with CodeMalformed if there are more
// than MaxHeldShares or one is out of bounds.
func AppendPoolFetchReply(b []byte, held []HeldShare) ([]byte, error) {
	if len(held) > MaxHeldShares {
		return b, Errorf(CodeMalformed, "%d held shares, at most %d", len(held), MaxHeldShares)
	}
	b = append(appendUint(append(b, okWord+sep...), uint64(len(held))), '\n')
	for i := range held {
		s := &held[i]
		if !s.valid() {
			return b, Errorf(CodeMalformed, "held share fields out of bounds")
		}
		b = append(b, heldWord+sep...)
		b = append(b, s.MessageID.String()...)
		b = append(append(b, sep...), s.Src.String()...)
		b = appendUint(append(b, sep...), uint64(s.Index))
		b = appendUint(append(b, sep...), uint64(s.N))
		b = appendUint(append(b, sep...), uint64(s.K))
		b = appendUint(append(b, sep...), uint64(s.ShareLen))
		b = append(b, '\n')
	}
	return b, nil
}

// ParsePoolFetchCount parses the first line of the POOL_FETCH reply and
// returns how many HELD lines follow. An ERR line returns its *Error.
func ParsePoolFetchCount(line string) (int, error) {
	f, err := replyFields(line, 1)
	if err != nil {
		return 0, err
	}
	n, err := parseUint("held count", f[0], 0, MaxHeldShares)
	if err != nil {
		return 0, err
	}
	return int(n), nil
}

// ParseHeldLine parses a HELD line.
func ParseHeldLine(line string) (HeldShare, error) {
	if err := checkLine(line); err != nil {
		return HeldShare{}, err
	}
	f, err := splitFields(line, 7)
	if err != nil {
		return HeldShare{}, err
	}
	if f[0] != heldWord {
		return HeldShare{}, Errorf(CodeMalformed, "want a HELD line")
	}
	var s HeldShare
	if s.MessageID, err = parseMessageID(f[1]); err != nil {
		return HeldShare{}, err
	}
	if s.Src, err = parseClient("source client id", f[2]); err != nil {
		return HeldShare{}, err
	}
	if s.N, s.K, err = parseNK(f[4], f[5]); err != nil {
		return HeldShare{}, err
	}
	idx, err := parseUint("share index", f[3], 1, uint64(s.N))
	if err != nil {
		return HeldShare{}, err
	}
	s.Index = int(idx)
	sl, err := parseUint("share length", f[6], 1, maxHeldShareLen)
	if err != nil {
		return HeldShare{}, err
	}
	s.ShareLen = uint32(sl)
	return s, nil
}

// AppendRelayReplyMode appends the RELAY_OPEN reply "OK|<mode>\n", mode
// being RelayModeForward or RelayModePool.
func AppendRelayReplyMode(b []byte, mode string) []byte {
	return append(b, okWord+sep+mode+"\n"...)
}

// ParseRelayReplyMode parses the RELAY_OPEN reply and returns its mode,
// RelayModeForward or RelayModePool. An ERR line is returned as its *Error.
func ParseRelayReplyMode(line string) (string, error) {
	f, err := replyFields(line, 1)
	if err != nil {
		return "", err
	}
	if f[0] != RelayModeForward && f[0] != RelayModePool {
		return "", Errorf(CodeMalformed, "relay mode %q", f[0])
	}
	return f[0], nil
}
