package ctl

import (
	"encoding/hex"
	"net/netip"
	"strings"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/vmdt/vmdt/protocol"
)

// Reply and item line prefixes.
const (
	okWord     = "OK"
	errWord    = "ERR"
	memberWord = "MEMBER"
)

// AppendOK appends the bare reply "OK\n".
func AppendOK(b []byte) []byte { return append(b, okWord+"\n"...) }

// AppendError appends "ERR|<code>|<reason>\n" for err, with the code from
// CodeOf and the reason made to fit the grammar.
func AppendError(b []byte, err error) []byte {
	code := CodeOf(err)
	if code == 0 {
		code = CodeInternal
	}
	b = append(b, errWord+sep...)
	b = appendUint(b, uint64(code))
	b = append(b, sep...)
	b = append(b, sanitizeReason(reasonOf(err), code)...)
	return append(b, '\n')
}

// replyFields checks a reply line and returns the fields after "OK". An
// ERR line is returned as its *Error, whose Code and Reason are the
// remote's. want is the number of fields after OK.
func replyFields(line string, want int) ([]string, error) {
	if err := checkLine(line); err != nil {
		return nil, err
	}
	first, rest, found := cut(line)
	switch first {
	case okWord:
		if want == 0 {
			if found {
				return nil, Errorf(CodeMalformed, "OK takes no fields")
			}
			return nil, nil
		}
		if !found {
			return nil, Errorf(CodeMalformed, "OK reply takes %d fields, got 0", want)
		}
		f := strings.Split(rest, sep)
		if len(f) != want {
			return nil, Errorf(CodeMalformed, "OK reply takes %d fields, got %d", want, len(f))
		}
		return f, nil
	case errWord:
		remote, err := parseErrorLine(line)
		if err != nil {
			return nil, err
		}
		return nil, remote
	}
	return nil, Errorf(CodeMalformed, "reply is neither OK nor ERR")
}

// parseErrorLine parses "ERR|<code>|<reason>" into the remote's *Error.
// A line that breaks the grammar yields a CodeMalformed grammar error.
func parseErrorLine(line string) (*Error, error) {
	f, err := splitFields(line, 3)
	if err != nil {
		return nil, err
	}
	if f[0] != errWord {
		return nil, Errorf(CodeMalformed, "not an ERR line")
	}
	if len(f[1]) != 3 {
		return nil, Errorf(CodeMalformed, "error code must be 3 digits")
	}
	code, err := parseUint("error code", f[1], 400, 599)
	if err != nil {
		return nil, err
	}
	if len(f[2]) == 0 || len(f[2]) > MaxReasonLen {
		return nil, Errorf(CodeMalformed, "error reason of %d bytes", len(f[2]))
	}
	return &Error{Code: Code(code), Reason: f[2], Remote: true}, nil
}

// ParseOK parses a bare "OK" reply. An ERR line returns its *Error.
func ParseOK(line string) error {
	_, err := replyFields(line, 0)
	return err
}

// ParseError parses an "ERR|<code>|<reason>" line into the remote's error.
// err is a grammar error if the line is not a valid ERR line.
func ParseError(line string) (remote *Error, err error) {
	if err := checkLine(line); err != nil {
		return nil, err
	}
	return parseErrorLine(line)
}

// PortReply answers REGISTER_P2P_PORT: the receiver's RDT UDP port and the
// per-hop session key it generated.
//
//	OK|<udp_port>|<key_id>|<key: 64 lower-case hex characters>
type PortReply struct {
	Port  uint16   // 1..65535
	KeyID uint32   // 1..2^32-1
	Key   [32]byte // AES-256 session key
}

// Append appends r's line, including "\n". It fails with CodeMalformed if
// Port or KeyID is zero.
func (r *PortReply) Append(b []byte) ([]byte, error) {
	if r.Port == 0 || r.KeyID == 0 {
		return b, Errorf(CodeMalformed, "port reply fields out of bounds")
	}
	b = append(b, okWord+sep...)
	b = appendUint(b, uint64(r.Port))
	b = appendUint(append(b, sep...), uint64(r.KeyID))
	b = append(b, sep...)
	b = hex.AppendEncode(b, r.Key[:])
	return append(b, '\n'), nil
}

// ParsePortReply parses a PortReply line. An ERR line returns its *Error.
func ParsePortReply(line string) (PortReply, error) {
	var r PortReply
	f, err := replyFields(line, 3)
	if err != nil {
		return r, err
	}
	port, err := parseUint("port", f[0], 1, 65535)
	if err != nil {
		return r, err
	}
	keyID, err := parseUint("key id", f[1], 1, 1<<32-1)
	if err != nil {
		return r, err
	}
	if err := parseLowerHex(f[2], r.Key[:]); err != nil {
		return r, Errorf(CodeMalformed, "key: %w", err)
	}
	r.Port, r.KeyID = uint16(port), uint32(keyID)
	return r, nil
}

// ClientInfoReply answers GET_CLIENT_INFO: what the receiver knows about a
// client. IP is the zero netip.Addr ("-" on the wire) when unknown, which
// includes the case where the client is the receiver itself (the asker
// already knows the address it reached the receiver at). Port is 0 when
// unknown.
//
//	OK|<client_id>|<peer_id>|<ip or ->|<udp_port>
type ClientInfoReply struct {
	ClientID protocol.DDTAddr
	PeerID   peer.ID
	IP       netip.Addr
	Port     uint16 // 0..65535
}

func (r *ClientInfoReply) valid() bool {
	return r.PeerID != "" && len(r.PeerID.String()) <= MaxPeerIDLen
}

// Append appends r's line, including "\n". It fails with CodeMalformed if
// a field is out of bounds.
func (r *ClientInfoReply) Append(b []byte) ([]byte, error) {
	if !r.valid() {
		return b, Errorf(CodeMalformed, "client info fields out of bounds")
	}
	b = append(b, okWord+sep...)
	b = append(b, r.ClientID.String()...)
	b = appendPeerID(append(b, sep...), r.PeerID)
	b = appendIP(append(b, sep...), r.IP)
	b = appendUint(append(b, sep...), uint64(r.Port))
	return append(b, '\n'), nil
}

// ParseClientInfoReply parses a ClientInfoReply line. An ERR line returns
// its *Error.
func ParseClientInfoReply(line string) (ClientInfoReply, error) {
	var r ClientInfoReply
	f, err := replyFields(line, 4)
	if err != nil {
		return r, err
	}
	if r.ClientID, err = parseClient("client id", f[0]); err != nil {
		return r, err
	}
	if r.PeerID, err = parsePeerID("peer id", f[1]); err != nil {
		return r, err
	}
	if r.IP, err = parseIP(f[2]); err != nil {
		return r, err
	}
	port, err := parseUint("port", f[3], 0, 65535)
	if err != nil {
		return r, err
	}
	r.Port = uint16(port)
	return r, nil
}

// ClusterReply answers CREATE_CLUSTER and JOIN_CLUSTER. It is followed by
// Members lines of the form "MEMBER|<peer_id>" (see MemberLine).
//
//	OK|<cluster_id>|<n>|<k>|<creator_peer_id>|<charter signature, base64url>|<member count>
type ClusterReply struct {
	Cluster   ClusterID
	N, K      int     // 2 <= K <= N <= 255
	Creator   peer.ID // signs the charter
	Signature []byte  // 1..MaxSignatureLen bytes, the creator's signature over the charter
	Members   int     // 1..MaxClusterMembers lines follow
}

func (r *ClusterReply) valid() bool {
	return !r.Cluster.IsZero() && checkNK(r.N, r.K) && r.Creator != "" &&
		len(r.Signature) >= 1 && len(r.Signature) <= MaxSignatureLen &&
		r.Members >= 1 && r.Members <= MaxClusterMembers
}

// Append appends r's line, including "\n". It fails with CodeMalformed if
// a field is out of bounds.
func (r *ClusterReply) Append(b []byte) ([]byte, error) {
	if !r.valid() {
		return b, Errorf(CodeMalformed, "cluster reply fields out of bounds")
	}
	b = append(b, okWord+sep...)
	b = append(b, r.Cluster.String()...)
	b = appendUint(append(b, sep...), uint64(r.N))
	b = appendUint(append(b, sep...), uint64(r.K))
	b = appendPeerID(append(b, sep...), r.Creator)
	b = appendBase64(append(b, sep...), r.Signature)
	b = appendUint(append(b, sep...), uint64(r.Members))
	return append(b, '\n'), nil
}

// ParseClusterReply parses a ClusterReply line. An ERR line returns its
// *Error.
func ParseClusterReply(line string) (ClusterReply, error) {
	var r ClusterReply
	f, err := replyFields(line, 6)
	if err != nil {
		return r, err
	}
	if r.Cluster, err = ParseClusterID(f[0]); err != nil {
		return r, err
	}
	if r.N, r.K, err = parseNK(f[1], f[2]); err != nil {
		return r, err
	}
	if r.Creator, err = parsePeerID("creator", f[3]); err != nil {
		return r, err
	}
	if r.Signature, err = parseBase64("signature", f[4], MaxSignatureLen); err != nil {
		return r, err
	}
	count, err := parseUint("member count", f[5], 1, MaxClusterMembers)
	if err != nil {
		return r, err
	}
	r.Members = int(count)
	return r, nil
}

// AppendMemberLine appends "MEMBER|<peer_id>\n".
func AppendMemberLine(b []byte, id peer.ID) []byte {
	b = append(b, memberWord+sep...)
	return append(appendPeerID(b, id), '\n')
}

// ParseMemberLine parses a "MEMBER|<peer_id>" line.
func ParseMemberLine(line string) (peer.ID, error) {
	if err := checkLine(line); err != nil {
		return "", err
	}
	f, err := splitFields(line, 2)
	if err != nil {
		return "", err
	}
	if f[0] != memberWord {
		return "", Errorf(CodeMalformed, "want a MEMBER line")
	}
	return parsePeerID("member", f[1])
}
