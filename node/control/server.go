package control

import (
	"bufio"
	"errors"
	"io"
	"net"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/vmdt/vmdt/protocol"
	"github.com/vmdt/vmdt/protocol/ctl"
)

// servedStream is one stream the server is answering.
type servedStream struct {
	st     network.Stream
	peer   peer.ID
	client protocol.DDTAddr // DDT address of peer, the only client it may name
	ps     *peerState
}

// handleStream serves one control stream: a line in, a reply out, until
// the peer closes its side, a deadline passes, or the stream has earned
// MaxErrors error replies.
func (s *Service) handleStream(st network.Stream) {
	p := st.Conn().RemotePeer()
	ps, refuse, ok := s.enter(st, p)
	if !ok {
		_ = st.Reset()
		return
	}
	defer s.leave(st, ps)
	if refuse == nil {
		if err := st.Scope().SetService(serviceName); err != nil {
			log.Debugf("stream from %s: resource scope: %v", p, err)
			refuse = ctl.Errorf(ctl.CodeRateLimited, "resource limit")
		}
	}
	client, err := ddtAddrOf(p)
	if refuse == nil && err != nil {
		refuse = ctl.Errorf(ctl.CodeWrongClient, "peer id embeds no public key")
	}
	if refuse != nil {
		s.closeWithError(st, refuse)
		return
	}
	s.serveStream(&servedStream{st: st, peer: p, client: client, ps: ps})
}

func (s *Service) serveStream(c *servedStream) {
	r := bufio.NewReaderSize(c.st, ctl.MaxLineLen)
	errs := 0
	for {
		_ = c.st.SetReadDeadline(time.Now().Add(s.cfg.LineTimeout))
		raw, err := r.ReadSlice('\n')
		switch {
		case err == nil:
		case errors.Is(err, bufio.ErrBufferFull):
			s.closeWithError(c.st, ctl.Errorf(ctl.CodeTooLarge, "line exceeds %d bytes", ctl.MaxLineLen))
			return
		case isTimeout(err):
			s.closeWithError(c.st, ctl.Errorf(ctl.CodeTimeout, "no line within %v", s.cfg.LineTimeout))
			return
		case errors.Is(err, io.EOF) && len(raw) == 0:
			_ = c.st.Close() // the peer is done
			return
		case errors.Is(err, io.EOF):
			s.closeWithError(c.st, ctl.Errorf(ctl.CodeMalformed, "line not terminated by newline"))
			return
		default:
			log.Debugf("stream from %s: %v", c.peer, err)
			_ = c.st.Reset()
			return
		}
		reply, err := s.serveLine(c, string(raw[:len(raw)-1]))
		if err != nil {
			errs++
			if errs >= s.cfg.MaxErrors {
				s.closeWithError(c.st, err)
				return
			}
			reply = ctl.AppendError(reply[:0], err)
		}
		if err := s.writeReply(c.st, reply); err != nil {
			log.Debugf("stream from %s: %v", c.peer, err)
			_ = c.st.Reset()
			return
		}
	}
}

// serveLine parses and answers one line. It returns the reply lines, or
// the error to answer with.
func (s *Service) serveLine(c *servedStream, line string) ([]byte, error) {
	if !c.ps.lines.Allow() {
		return nil, ctl.Errorf(ctl.CodeRateLimited, "too many lines")
	}
	cmd, err := ctl.ParseCommand(line)
	if err != nil {
		return nil, err
	}
	if cmd.Client() != c.client {
		return nil, ctl.Errorf(ctl.CodeWrongClient, "line speaks for %s, stream is from %s", cmd.Client(), c.client)
	}
	switch cmd := cmd.(type) {
	case *ctl.RegisterP2PPort:
		return s.serveRegister(c, cmd)
	case *ctl.GetClientInfo:
		return s.serveClientInfo(cmd)
	case *ctl.CreateCluster:
		return s.serveCreateCluster(c, cmd)
	case *ctl.JoinCluster:
		return s.serveJoinCluster(c, cmd)
	case *ctl.LeaveCluster:
		return s.serveLeaveCluster(c, cmd)
	case *ctl.SharePoolAdd:
		return s.serveSharePoolAdd(c, cmd)
	case *ctl.SharePoolClaim:
		return s.serveSharePoolClaim(c, cmd)
	case *ctl.RelayOpen:
		return s.serveRelayOpen(c, cmd)
	case *ctl.Delivered:
		return s.serveDelivered(c, cmd)
	case *ctl.FileStatus:
		return s.serveFileStatus(c, cmd)
	}
	return nil, ctl.Errorf(ctl.CodeNotImplemented, "%s not served", cmd.Verb())
}

func (s *Service) writeReply(st network.Stream, reply []byte) error {
	_ = st.SetWriteDeadline(time.Now().Add(s.cfg.WriteTimeout))
	_, err := st.Write(reply)
	return err
}

// closeWithError sends a final ERR reply and closes the stream, so the
// peer reads the reason and then end of stream. If the reply cannot be
// written the stream is reset.
func (s *Service) closeWithError(st network.Stream, err error) {
	if werr := s.writeReply(st, ctl.AppendError(nil, err)); werr != nil {
		_ = st.Reset()
		return
	}
	_ = st.Close()
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
