package control

import (
	"context"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/vmdt/vmdt/protocol/ctl"
)

// FileStatuser serves FILE_STATUS. The delivery engine given to
// SetDelivery provides it if it implements this interface too; otherwise
// FILE_STATUS is answered ERR|501. The server has checked that
// cmd.ClientID is from's DDT address.
type FileStatuser interface {
	// FileStatus says which chunks of file cmd.FileID from cmd.ClientID
	// this node holds, from chunk cmd.First on.
	FileStatus(ctx context.Context, from peer.ID, cmd *ctl.FileStatus) (ctl.FileStatusReply, error)
}

func (s *Service) serveFileStatus(c *servedStream, cmd *ctl.FileStatus) ([]byte, error) {
	fs, ok := s.delivery().(FileStatuser)
	if !ok {
		return nil, ctl.Errorf(ctl.CodeNotImplemented, "no file transfers")
	}
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.RequestTimeout)
	defer cancel()
	r, err := fs.FileStatus(ctx, c.peer, cmd)
	if err != nil {
		return nil, err
	}
	return r.Append(nil)
}

// FileStatus asks p, the receiver of file id, which of its chunks it
// holds from chunk first on (a multiple of 8).
func (s *Service) FileStatus(ctx context.Context, p peer.ID, id [ctl.FileIDLen]byte, first int) (ctl.FileStatusReply, error) {
	c, err := s.Dial(ctx, p)
	if err != nil {
		return ctl.FileStatusReply{}, err
	}
	defer c.Close()
	var r ctl.FileStatusReply
	err = c.exchange(ctx, &ctl.FileStatus{ClientID: s.self, FileID: id, First: first}, func(next func() (string, error)) error {
		line, err := next()
		if err != nil {
			return err
		}
		r, err = ctl.ParseFileStatusReply(line)
		if err == nil && r.First != first {
			err = ctl.Errorf(ctl.CodeMalformed, "file status from chunk %d, asked from %d", r.First, first)
		}
		return err
	})
	return r, err
}
