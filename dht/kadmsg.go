package dht

import (
	"context"
	"fmt"
	"time"

	pb "github.com/libp2p/go-libp2p-kad-dht/pb"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-msgio"
	"github.com/libp2p/go-msgio/pbio"
	"google.golang.org/protobuf/proto"
)

// kadTimeout bounds one direct DHT request when ctx has no deadline.
const kadTimeout = 10 * time.Second

// kadSender sends single DHT messages to one peer on a fresh stream each.
// RegisterName uses it to ask the closest peers directly whether they hold
// a record, bypassing the local store that kad-dht's own lookups consult.
type kadSender struct{ h host.Host }

var _ pb.MessageSender = (*kadSender)(nil)

func (s *kadSender) open(ctx context.Context, p peer.ID) (network.Stream, error) {
	st, err := s.h.NewStream(ctx, p, kadProtocol)
	if err != nil {
		return nil, err
	}
	dl, ok := ctx.Deadline()
	if !ok {
		dl = time.Now().Add(kadTimeout)
	}
	_ = st.SetDeadline(dl)
	return st, nil
}

// SendRequest sends pmes to p and reads one response.
func (s *kadSender) SendRequest(ctx context.Context, p peer.ID, pmes *pb.Message) (*pb.Message, error) {
	st, err := s.open(ctx, p)
	if err != nil {
		return nil, err
	}
	if err := pbio.NewDelimitedWriter(st).WriteMsg(pmes); err != nil {
		_ = st.Reset()
		return nil, err
	}
	r := msgio.NewVarintReaderSize(st, network.MessageSizeMax)
	b, err := r.ReadMsg()
	if err != nil {
		_ = st.Reset()
		return nil, fmt.Errorf("read DHT response from %s: %w", p, err)
	}
	resp := new(pb.Message)
	err = proto.Unmarshal(b, resp)
	r.ReleaseMsg(b)
	if err != nil {
		_ = st.Reset()
		return nil, err
	}
	_ = st.Close()
	return resp, nil
}

// SendMessage sends pmes to p without waiting for a response.
func (s *kadSender) SendMessage(ctx context.Context, p peer.ID, pmes *pb.Message) error {
	st, err := s.open(ctx, p)
	if err != nil {
		return err
	}
	if err := pbio.NewDelimitedWriter(st).WriteMsg(pmes); err != nil {
		_ = st.Reset()
		return err
	}
	return st.Close()
}
