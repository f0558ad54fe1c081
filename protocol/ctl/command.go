package ctl

import (
	"github.com/vmdt/vmdt/protocol"
)

// Verbs, the first field of a command line.
const (
	VerbCreateCluster   = "CREATE_CLUSTER"
	VerbJoinCluster     = "JOIN_CLUSTER"
	VerbLeaveCluster    = "LEAVE_CLUSTER"
	VerbGetClientInfo   = "GET_CLIENT_INFO"
	VerbRegisterP2PPort = "REGISTER_P2P_PORT"
	VerbSharePoolAdd    = "SHARE_POOL_ADD"
	VerbSharePoolClaim  = "SHARE_POOL_CLAIM"
)

// Command is one parsed command line. The concrete types are the structs
// below; the set is closed.
type Command interface {
	// Verb returns the command's first field.
	Verb() string
	// Client returns the client the line speaks for. A server accepts the
	// line only if it equals the DDT address of the stream's peer.
	Client() protocol.DDTAddr
	// valid reports whether the fields are within the grammar's bounds.
	valid() bool
	appendFields(b []byte) []byte
}

// CreateCluster asks the receiver to create a cluster with itself as
// creator and the sender as its second member.
//
//	CREATE_CLUSTER|<client_id>|<n>|<k>
type CreateCluster struct {
	ClientID protocol.DDTAddr
	N, K     int // 2 <= K <= N <= 255
}

// JoinCluster asks the receiver, a member, to add the sender to a cluster.
//
//	JOIN_CLUSTER|<client_id>|<cluster_id>
type JoinCluster struct {
	ClientID protocol.DDTAddr
	Cluster  ClusterID
}

// LeaveCluster tells the receiver that the sender has left a cluster.
//
//	LEAVE_CLUSTER|<client_id>|<cluster_id>
type LeaveCluster struct {
	ClientID protocol.DDTAddr
	Cluster  ClusterID
}

// GetClientInfo asks what the receiver knows about Target.
//
//	GET_CLIENT_INFO|<client_id>|<target_client_id>
type GetClientInfo struct {
	ClientID protocol.DDTAddr
	Target   protocol.DDTAddr
}

// RegisterP2PPort tells the receiver the sender's RDT UDP port and asks for
// a fresh per-hop session key.
//
//	REGISTER_P2P_PORT|<client_id>|<port>
type RegisterP2PPort struct {
	ClientID protocol.DDTAddr
	Port     uint16 // 1..65535
}

func (*CreateCluster) Verb() string   { return VerbCreateCluster }
func (*JoinCluster) Verb() string     { return VerbJoinCluster }
func (*LeaveCluster) Verb() string    { return VerbLeaveCluster }
func (*GetClientInfo) Verb() string   { return VerbGetClientInfo }
func (*RegisterP2PPort) Verb() string { return VerbRegisterP2PPort }

func (c *CreateCluster) Client() protocol.DDTAddr   { return c.ClientID }
func (c *JoinCluster) Client() protocol.DDTAddr     { return c.ClientID }
func (c *LeaveCluster) Client() protocol.DDTAddr    { return c.ClientID }
func (c *GetClientInfo) Client() protocol.DDTAddr   { return c.ClientID }
func (c *RegisterP2PPort) Client() protocol.DDTAddr { return c.ClientID }

func (c *CreateCluster) valid() bool   { return checkNK(c.N, c.K) }
func (c *JoinCluster) valid() bool     { return !c.Cluster.IsZero() }
func (c *LeaveCluster) valid() bool    { return !c.Cluster.IsZero() }
func (c *GetClientInfo) valid() bool   { return true }
func (c *RegisterP2PPort) valid() bool { return c.Port != 0 }

func (c *CreateCluster) appendFields(b []byte) []byte {
	b = append(b, c.ClientID.String()...)
	b = append(appendUint(append(b, sep...), uint64(c.N)), sep...)
	return appendUint(b, uint64(c.K))
}

func (c *JoinCluster) appendFields(b []byte) []byte {
	return append(append(append(b, c.ClientID.String()...), sep...), c.Cluster.String()...)
}

func (c *LeaveCluster) appendFields(b []byte) []byte {
	return append(append(append(b, c.ClientID.String()...), sep...), c.Cluster.String()...)
}

func (c *GetClientInfo) appendFields(b []byte) []byte {
	return append(append(append(b, c.ClientID.String()...), sep...), c.Target.String()...)
}

func (c *RegisterP2PPort) appendFields(b []byte) []byte {
	return appendUint(append(append(b, c.ClientID.String()...), sep...), uint64(c.Port))
}

// AppendCommand appends c's line, including the final "\n", to b. It
// returns an *Error with CodeMalformed if a field is out of bounds, so that
// a node never sends a line its peer must reject.
func AppendCommand(b []byte, c Command) ([]byte, error) {
	if c == nil || !c.valid() {
		return b, Errorf(CodeMalformed, "command fields out of bounds")
	}
	b = append(b, c.Verb()...)
	b = append(b, sep...)
	b = c.appendFields(b)
	b = append(b, '\n')
	if len(b) > MaxLineLen {
		return b, Errorf(CodeTooLarge, "%s line exceeds %d bytes", c.Verb(), MaxLineLen)
	}
	return b, nil
}

// ParseCommand parses one command line, without its "\n". Errors are
// *Error values: CodeTooLarge for an over-long line, CodeMalformed for
// everything else, including unknown verbs.
func ParseCommand(line string) (Command, error) {
	if err := checkLine(line); err != nil {
		return nil, err
	}
	verb, _, _ := cut(line)
	switch verb {
	case VerbCreateCluster:
		f, err := splitFields(line, 4)
		if err != nil {
			return nil, err
		}
		c := &CreateCluster{}
		if c.ClientID, err = parseClient("client id", f[1]); err != nil {
			return nil, err
		}
		if c.N, c.K, err = parseNK(f[2], f[3]); err != nil {
			return nil, err
		}
		return c, nil
	case VerbJoinCluster, VerbLeaveCluster:
		f, err := splitFields(line, 3)
		if err != nil {
			return nil, err
		}
		client, err := parseClient("client id", f[1])
		if err != nil {
			return nil, err
		}
		id, err := ParseClusterID(f[2])
		if err != nil {
			return nil, err
		}
		if verb == VerbJoinCluster {
			return &JoinCluster{ClientID: client, Cluster: id}, nil
		}
		return &LeaveCluster{ClientID: client, Cluster: id}, nil
	case VerbGetClientInfo:
		f, err := splitFields(line, 3)
		if err != nil {
			return nil, err
		}
		c := &GetClientInfo{}
		if c.ClientID, err = parseClient("client id", f[1]); err != nil {
			return nil, err
		}
		if c.Target, err = parseClient("target client id", f[2]); err != nil {
			return nil, err
		}
		return c, nil
	case VerbRegisterP2PPort:
		f, err := splitFields(line, 3)
		if err != nil {
			return nil, err
		}
		c := &RegisterP2PPort{}
		if c.ClientID, err = parseClient("client id", f[1]); err != nil {
			return nil, err
		}
		port, err := parseUint("port", f[2], 1, 65535)
		if err != nil {
			return nil, err
		}
		c.Port = uint16(port)
		return c, nil
	}
	if c, ok, err := parseDeliveryCommand(verb, line); ok {
		return c, err
	}
	if c, ok, err := parsePoolCommand(verb, line); ok {
		return c, err
	}
	if c, ok, err := parseFileCommand(verb, line); ok {
		return c, err
	}
	return nil, Errorf(CodeMalformed, "unknown command")
}

// cut returns the first field of line and the rest after the separator.
func cut(line string) (first, rest string, found bool) {
	for i := 0; i < len(line); i++ {
		if line[i] == '|' {
			return line[:i], line[i+1:], true
		}
	}
	return line, "", false
}
