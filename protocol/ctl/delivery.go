package ctl

import (
	"strings"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/vmdt/vmdt/protocol"
)

// Verbs of the multipath delivery commands (package node/delivery).
//
//	RELAY_OPEN|<client_id>|<msg_id>|<dst_client_id>|<dst_peer_id>|<share_index>|<n>|<k>|<share_len>|<token> -> OK|forward
//	DELIVERED|<client_id>|<msg_id>|<shares_used>                                                            -> OK
//
// share_len is decimal, 1..4294967295; token is unpadded base64url of
// 1..MaxTokenLen bytes (a friend token, package node/friends);
// shares_used is 1..255 share indexes, each 1..255, strictly ascending,
// separated by ",".
const (
	VerbRelayOpen = "RELAY_OPEN"
	VerbDelivered = "DELIVERED"
)

// MaxTokenLen caps the decoded bytes of a RELAY_OPEN friend token.
const MaxTokenLen = 512

// RelayModeForward is the word of the RELAY_OPEN reply: the relay will
// forward the share to the receiver as it arrives.
const RelayModeForward = "forward"

// RelayOpen announces one share transfer to a relay: the sender (ClientID)
// will send share Index of message MessageID, ShareLen bytes, over RDT, and
// asks the relay to forward it to Dst, whose libp2p peer is DstPeer. Token
// is Dst's permission for the sender.
//
//	RELAY_OPEN|<client_id>|<msg_id>|<dst_client_id>|<dst_peer_id>|<share_index>|<n>|<k>|<share_len>|<token>
type RelayOpen struct {
	ClientID  protocol.DDTAddr
	MessageID protocol.MessageID
	Dst       protocol.DDTAddr
	DstPeer   peer.ID
	Index     int // 1..N
	N, K      int // 2 <= K <= N <= 255
	ShareLen  uint32
	Token     []byte // 1..MaxTokenLen bytes
}

// Delivered tells the sender of a message that its receiver (ClientID)
// decoded it from the shares Used.
//
//	DELIVERED|<client_id>|<msg_id>|<shares_used>
type Delivered struct {
	ClientID  protocol.DDTAddr
	MessageID protocol.MessageID
	Used      []int // 1..255 indexes, strictly ascending, each 1..255
}

func (*RelayOpen) Verb() string { return VerbRelayOpen }
func (*Delivered) Verb() string { return VerbDelivered }

func (c *RelayOpen) Client() protocol.DDTAddr { return c.ClientID }
func (c *Delivered) Client() protocol.DDTAddr { return c.ClientID }

func (c *RelayOpen) valid() bool {
	return checkNK(c.N, c.K) && c.Index >= 1 && c.Index <= c.N && c.ShareLen != 0 &&
		c.DstPeer != "" && len(c.DstPeer.String()) <= MaxPeerIDLen &&
		len(c.Token) >= 1 && len(c.Token) <= MaxTokenLen
}

func (c *Delivered) valid() bool {
	if len(c.Used) == 0 || len(c.Used) > MaxShares {
		return false
	}
	for i, u := range c.Used {
		if u < 1 || u > MaxShares || (i > 0 && u <= c.Used[i-1]) {
			return false
		}
	}
	return true
}

func (c *RelayOpen) appendFields(b []byte) []byte {
	b = append(b, c.ClientID.String()...)
	b = append(append(b, sep...), c.MessageID.String()...)
	b = append(append(b, sep...), c.Dst.String()...)
	b = appendPeerID(append(b, sep...), c.DstPeer)
	b = appendUint(append(b, sep...), uint64(c.Index))
	b = appendUint(append(b, sep...), uint64(c.N))
	b = appendUint(append(b, sep...), uint64(c.K))
	b = appendUint(append(b, sep...), uint64(c.ShareLen))
	return appendBase64(append(b, sep...), c.Token)
}

func (c *Delivered) appendFields(b []byte) []byte {
	b = append(b, c.ClientID.String()...)
	b = append(append(b, sep...), c.MessageID.String()...)
	b = append(b, sep...)
	for i, u := range c.Used {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendUint(b, uint64(u))
	}
	return b
}

// parseDeliveryCommand parses the commands of this file. ok is false for
// other verbs.
func parseDeliveryCommand(verb, line string) (cmd Command, ok bool, err error) {
	switch verb {
	case VerbRelayOpen:
		c, err := parseRelayOpen(line)
		if err != nil {
			return nil, true, err
		}
		return c, true, nil
	case VerbDelivered:
		c, err := parseDelivered(line)
		if err != nil {
			return nil, true, err
		}
		return c, true, nil
	}
	return nil, false, nil
}

func parseRelayOpen(line string) (*RelayOpen, error) {
	f, err := splitFields(line, 10)
	if err != nil {
		return nil, err
	}
	return parseRelayOpenFields(f)
}

// parseRelayOpenFields parses the ten fields of a RELAY_OPEN line (verb
// first); SHARE_POOL_ADD shares them.
func parseRelayOpenFields(f []string) (*RelayOpen, error) {
	var err error
	c := &RelayOpen{}
	if c.ClientID, err = parseClient("client id", f[1]); err != nil {
		return nil, err
	}
	if c.MessageID, err = parseMessageID(f[2]); err != nil {
		return nil, err
	}
	if c.Dst, err = parseClient("destination client id", f[3]); err != nil {
		return nil, err
	}
	if c.DstPeer, err = parsePeerID("destination peer id", f[4]); err != nil {
		return nil, err
	}
	if c.N, c.K, err = parseNK(f[6], f[7]); err != nil {
		return nil, err
	}
	idx, err := parseUint("share index", f[5], 1, uint64(c.N))
	if err != nil {
		return nil, err
	}
	c.Index = int(idx)
	sl, err := parseUint("share length", f[8], 1, 1<<32-1)
	if err != nil {
		return nil, err
	}
	c.ShareLen = uint32(sl)
	if c.Token, err = parseBase64("token", f[9], MaxTokenLen); err != nil {
		return nil, err
	}
	return c, nil
}

func parseDelivered(line string) (*Delivered, error) {
	f, err := splitFields(line, 4)
	if err != nil {
		return nil, err
	}
	c := &Delivered{}
	if c.ClientID, err = parseClient("client id", f[1]); err != nil {
		return nil, err
	}
	if c.MessageID, err = parseMessageID(f[2]); err != nil {
		return nil, err
	}
	if c.Used, err = parseIndexList(f[3]); err != nil {
		return nil, err
	}
	return c, nil
}

// parseIndexList parses 1..255 strictly ascending decimal indexes 1..255
// separated by ",".
func parseIndexList(s string) ([]int, error) {
	parts := strings.Split(s, ",")
	if len(parts) > MaxShares {
		return nil, Errorf(CodeMalformed, "shares used: %d indexes", len(parts))
	}
	out := make([]int, 0, len(parts))
	for _, p := range parts {
		v, err := parseUint("share index", p, 1, MaxShares)
		if err != nil {
			return nil, err
		}
		if len(out) > 0 && int(v) <= out[len(out)-1] {
			return nil, Errorf(CodeMalformed, "shares used: not strictly ascending")
		}
		out = append(out, int(v))
	}
	return out, nil
}

// AppendRelayReply appends the RELAY_OPEN reply "OK|forward\n".
func AppendRelayReply(b []byte) []byte { return append(b, okWord+sep+RelayModeForward+"\n"...) }

// ParseRelayReply parses the RELAY_OPEN reply. An ERR line is returned as
// its *Error.
func ParseRelayReply(line string) error {
	f, err := replyFields(line, 1)
	if err != nil {
		return err
	}
	if f[0] != RelayModeForward {
		return Errorf(CodeMalformed, "relay mode %q", f[0])
	}
	return nil
}
