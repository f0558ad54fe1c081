package control

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
	"github.com/vmdt/vmdt/protocol"
	"github.com/vmdt/vmdt/protocol/ctl"
)

// knownClient is a client that registered its RDT port with this node.
type knownClient struct {
	peer peer.ID
	ip   netip.Addr // from the libp2p connection it registered over
	port uint16
	seq  uint64 // registration order, for eviction
}

// serveRegister answers REGISTER_P2P_PORT: it generates a session key,
// installs it with this node as initiator, remembers the client's
// endpoint and returns its own port with the key.
func (s *Service) serveRegister(c *servedStream, cmd *ctl.RegisterP2PPort) ([]byte, error) {
	if s.dp == nil {
		return nil, ctl.Errorf(ctl.CodeNotImplemented, "no data plane")
	}
	ip, err := remoteIP(c.st)
	if err != nil {
		return nil, err
	}
	reply := ctl.PortReply{Port: uint16(s.dp.UDPPort())}
	if int(reply.Port) != s.dp.UDPPort() || reply.Port == 0 {
		return nil, ctl.Errorf(ctl.CodeUnavailable, "data plane has no port")
	}
	if reply.KeyID, reply.Key, err = newSessionKey(); err != nil {
		return nil, err
	}
	addr := &net.UDPAddr{IP: ip.AsSlice(), Port: int(cmd.Port)}
	if err := s.dp.AddPeer(addr, reply.KeyID, reply.Key, true); err != nil {
		log.Warnf("data plane refused peer %s at %s: %v", c.peer, addr, err)
		return nil, ctl.Errorf(ctl.CodeInternal, "data plane refused the peer")
	}
	s.remember(c.client, c.peer, ip, cmd.Port)
	return reply.Append(nil)
}

// serveClientInfo answers GET_CLIENT_INFO from what this node knows. It
// never returns keys.
func (s *Service) serveClientInfo(cmd *ctl.GetClientInfo) ([]byte, error) {
	r := ctl.ClientInfoReply{ClientID: cmd.Target}
	switch {
	case cmd.Target == s.self:
		r.PeerID = s.h.ID()
		if s.dp != nil && s.dp.UDPPort() > 0 && s.dp.UDPPort() <= 65535 {
			r.Port = uint16(s.dp.UDPPort())
		}
	default:
		s.mu.Lock()
		if k, ok := s.known[cmd.Target]; ok {
			r.PeerID, r.IP, r.Port = k.peer, k.ip, k.port
		} else {
			r.PeerID = s.clusterMemberLocked(cmd.Target)
		}
		s.mu.Unlock()
		if r.PeerID == "" {
			return nil, ctl.Errorf(ctl.CodeUnknown, "client %s not known", cmd.Target)
		}
	}
	return r.Append(nil)
}

// remember records a client's RDT endpoint, forgetting the oldest when
// MaxKnownClients is reached.
func (s *Service) remember(client protocol.DDTAddr, p peer.ID, ip netip.Addr, port uint16) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.known[client]; !ok && len(s.known) >= s.cfg.MaxKnownClients {
		var oldest protocol.DDTAddr
		first := true
		for a, k := range s.known {
			if first || k.seq < s.known[oldest].seq {
				oldest, first = a, false
			}
		}
		delete(s.known, oldest)
	}
	s.knownSeq++
	s.known[client] = &knownClient{peer: p, ip: ip, port: port, seq: s.knownSeq}
}

// ConnectDataPlane sets up the RDT hop to p: it sends REGISTER_P2P_PORT
// with this node's UDP port, receives p's port and the session key p
// generated (p has installed it as initiator), and installs the key as
// responder. p's IP is the one the libp2p connection reaches it at.
func (s *Service) ConnectDataPlane(ctx context.Context, p peer.ID) (PeerEndpoint, error) {
	if s.dp == nil {
		return PeerEndpoint{}, ctl.Errorf(ctl.CodeNotImplemented, "no data plane")
	}
	port := s.dp.UDPPort()
	if port <= 0 || port > 65535 {
		return PeerEndpoint{}, ctl.Errorf(ctl.CodeUnavailable, "data plane has no port")
	}
	ddt, err := ddtAddrOf(p)
	if err != nil {
		return PeerEndpoint{}, err
	}
	c, err := s.Dial(ctx, p)
	if err != nil {
		return PeerEndpoint{}, err
	}
	defer c.Close()
	ip, err := remoteIP(c.st)
	if err != nil {
		return PeerEndpoint{}, err
	}
	r, err := c.RegisterP2PPort(ctx, uint16(port))
	if err != nil {
		return PeerEndpoint{}, err
	}
	addr := &net.UDPAddr{IP: ip.AsSlice(), Port: int(r.Port)}
	if err := s.dp.AddPeer(addr, r.KeyID, r.Key, false); err != nil {
		return PeerEndpoint{}, fmt.Errorf("control: data plane refused %s at %s: %w", p, addr, err)
	}
	s.remember(ddt, p, ip, r.Port)
	return PeerEndpoint{PeerID: p, DDTAddr: ddt, UDPAddr: addr, KeyID: r.KeyID}, nil
}

// GetClientInfo asks p what it knows about target and checks that the
// peer id in the answer owns target's address.
func (s *Service) GetClientInfo(ctx context.Context, p peer.ID, target protocol.DDTAddr) (ClientInfo, error) {
	c, err := s.Dial(ctx, p)
	if err != nil {
		return ClientInfo{}, err
	}
	defer c.Close()
	r, err := c.GetClientInfo(ctx, target)
	if err != nil {
		return ClientInfo{}, err
	}
	info := ClientInfo{PeerID: r.PeerID, DDTAddr: r.ClientID}
	ip := r.IP
	if !ip.IsValid() && r.PeerID == p {
		if ip, err = remoteIP(c.st); err != nil {
			ip = netip.Addr{}
		}
	}
	if ip.IsValid() && r.Port != 0 {
		info.UDPAddr = &net.UDPAddr{IP: ip.AsSlice(), Port: int(r.Port)}
	}
	return info, nil
}

// RegisterP2PPort sends REGISTER_P2P_PORT with port and returns the
// peer's answer. The caller installs the key.
func (c *Client) RegisterP2PPort(ctx context.Context, port uint16) (ctl.PortReply, error) {
	var r ctl.PortReply
	err := c.exchange(ctx, &ctl.RegisterP2PPort{ClientID: c.s.self, Port: port}, func(next func() (string, error)) error {
		line, err := next()
		if err != nil {
			return err
		}
		r, err = ctl.ParsePortReply(line)
		return err
	})
	return r, err
}

// GetClientInfo sends GET_CLIENT_INFO for target. It fails with
// CodeMalformed if the answer names a peer whose key does not own target.
func (c *Client) GetClientInfo(ctx context.Context, target protocol.DDTAddr) (ctl.ClientInfoReply, error) {
	var r ctl.ClientInfoReply
	err := c.exchange(ctx, &ctl.GetClientInfo{ClientID: c.s.self, Target: target}, func(next func() (string, error)) error {
		line, err := next()
		if err != nil {
			return err
		}
		if r, err = ctl.ParseClientInfoReply(line); err != nil {
			return err
		}
		if r.ClientID != target {
			return ctl.Errorf(ctl.CodeMalformed, "answer about %s, asked about %s", r.ClientID, target)
		}
		if a, err := ddtAddrOf(r.PeerID); err != nil || a != target {
			return ctl.Errorf(ctl.CodeMalformed, "answer names peer %s, which does not own %s", r.PeerID, target)
		}
		return nil
	})
	return r, err
}

// remoteIP returns the IP the stream's connection reaches the peer at. It
// fails for relayed connections, whose remote address is not the peer's.
func remoteIP(st network.Stream) (netip.Addr, error) {
	a := st.Conn().RemoteMultiaddr()
	if _, err := a.ValueForProtocol(ma.P_CIRCUIT); err == nil {
		return netip.Addr{}, ctl.Errorf(ctl.CodeUnavailable, "relayed connection has no direct address")
	}
	ip, err := manet.ToIP(a)
	if err != nil {
		return netip.Addr{}, ctl.Errorf(ctl.CodeUnavailable, "connection address %s has no IP", a)
	}
	addr, ok := netip.AddrFromSlice(ip)
	if !ok {
		return netip.Addr{}, ctl.Errorf(ctl.CodeUnavailable, "connection address %s has no IP", a)
	}
	return addr.Unmap(), nil
}

// newSessionKey draws a random non-zero key id and a random 32-byte key.
func newSessionKey() (uint32, [32]byte, error) {
	var key [32]byte
	var id [4]byte
	for {
		if _, err := rand.Read(id[:]); err != nil {
			return 0, key, err
		}
		if binary.BigEndian.Uint32(id[:]) != 0 {
			break
		}
	}
	_, err := rand.Read(key[:])
	return binary.BigEndian.Uint32(id[:]), key, err
}
