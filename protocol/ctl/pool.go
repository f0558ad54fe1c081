package ctl

import (
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/vmdt/vmdt/protocol"
)

// Share pool commands (store and forward for offline receivers; package
// node/delivery serves them).
//
//	SHARE_POOL_ADD|<msg_id>|<client_id>|<dst_client_id>|<dst_peer_id>|<share_index>|<n>|<k>|<share_len>|<token> -> OK
//	SHARE_POOL_CLAIM|<msg_id or *>|<client_id> -> OK|<count>, then count lines
//	HELD|<msg_id>|<src_client_id>|<share_index>|<n>|<k>|<share_len>
//
// SHARE_POOL_ADD is a deposit: the sender (client_id) asks the relay to
// keep share share_index of message msg_id, share_len bytes, for the
// receiver dst_client_id (whose libp2p peer is dst_peer_id), without trying
// to forward it; the share's bytes follow over RDT. token is the
// receiver's friend token for the sender, as in RELAY_OPEN.
//
// SHARE_POOL_CLAIM is the receiver's claim: the relay lists the shares it
// holds for client_id (of message msg_id, or of any message with "*"), at
// most MaxHeldShares, and then pushes each listed share to the claimant
// over RDT with the VMDT FlagPool set. Shares travel over RDT because
// they may be MiBs long.
//
// RELAY_OPEN may also be answered "OK|pool": the relay cannot reach the
// receiver and keeps the share as if it had been deposited.
const (
	RelayModePool   = "pool"
	heldWord        = "HELD"
	MaxHeldShares   = 64
	maxHeldShareLen = 1<<32 - 1
)

// SharePoolAdd deposits one share with a relay for an offline receiver.
// Its fields are those of RelayOpen, so one converts to the other.
//
//	SHARE_POOL_ADD|<msg_id>|<client_id>|<dst_client_id>|<dst_peer_id>|<share_index>|<n>|<k>|<share_len>|<token>
type SharePoolAdd struct {
	ClientID  protocol.DDTAddr // the sender
	MessageID protocol.MessageID
	Dst       protocol.DDTAddr
	DstPeer   peer.ID
	Index     int // 1..N
	N, K      int // 2 <= K <= N <= 255
	ShareLen  uint32
	Token     []byte // 1..MaxTokenLen bytes
}

// SharePoolClaim asks a relay for the shares it holds for ClientID: those
// of one message, or, when Any is set, of any message.
//
//	SHARE_POOL_CLAIM|<msg_id or *>|<client_id>
type SharePoolClaim struct {
	MessageID protocol.MessageID // ignored when Any is set
	Any       bool
	ClientID  protocol.DDTAddr
}

func (*SharePoolAdd) Verb() string                 { return VerbSharePoolAdd }
func (*SharePoolClaim) Verb() string               { return VerbSharePoolClaim }
func (c *SharePoolAdd) Client() protocol.DDTAddr   { return c.ClientID }
func (c *SharePoolClaim) Client() protocol.DDTAddr { return c.ClientID }
func (c *SharePoolAdd) valid() bool                { r := RelayOpen(*c); return r.valid() }
func (c *SharePoolClaim) valid() bool              { return true }

func (c *SharePoolAdd) appendFields(b []byte) []byte {
	b = append(b, c.MessageID.String()...)
	b = append(append(b, sep...), c.ClientID.String()...)
	b = append(append(b, sep...), c.Dst.String()...)
	b = appendPeerID(append(b, sep...), c.DstPeer)
	b = appendUint(append(b, sep...), uint64(c.Index))
	b = appendUint(append(b, sep...), uint64(c.N))
	b = appendUint(append(b, sep...), uint64(c.K))
	b = appendUint(append(b, sep...), uint64(c.ShareLen))
	return appendBase64(append(b, sep...), c.Token)
}

func (c *SharePoolClaim) appendFields(b []byte) []byte {
	if c.Any {
		b = append(b, '*')
	} else {
		b = append(b, c.MessageID.String()...)
	}
	return append(append(b, sep...), c.ClientID.String()...)
}

// parsePoolCommand parses the commands of this file. ok is false for
// other verbs.
func parsePoolCommand(verb, line string) (cmd Command, ok bool, err error) {
	switch verb {
	case VerbSharePoolAdd:
		f, err := splitFields(line, 10)
		if err != nil {
			return nil, true, err
		}
		// The fields of RELAY_OPEN with msg_id and client_id swapped.
		f[1], f[2] = f[2], f[1]
		r, err := parseRelayOpenFields(f)
		if err != nil {
			return nil, true, err
		}
		c := SharePoolAdd(*r)
		return &c, true, nil
	case VerbSharePoolClaim:
		f, err := splitFields(line, 3)
		if err != nil {
			return nil, true, err
		}
		c := &SharePoolClaim{}
		if f[1] == "*" {
			c.Any = true
		} else if c.MessageID, err = parseMessageID(f[1]); err != nil {
			return nil, true, err
		}
		if c.ClientID, err = parseClient("client id", f[2]); err != nil {
			return nil, true, err
		}
		return c, true, nil
	}
	return nil, false, nil
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

// AppendClaimReply appends the SHARE_POOL_CLAIM reply: "OK|<count>" and
// one HELD line per share. It fails with CodeMalformed if there are more
// than MaxHeldShares or one is out of bounds.
func AppendClaimReply(b []byte, held []HeldShare) ([]byte, error) {
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

// ParseClaimCount parses the first line of the SHARE_POOL_CLAIM reply and
// returns how many HELD lines follow. An ERR line returns its *Error.
func ParseClaimCount(line string) (int, error) {
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
