package control

import (
	"context"
	"sync"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/vmdt/vmdt/protocol"
	"github.com/vmdt/vmdt/protocol/ctl"
)

type fakeDelivery struct {
	mu        sync.Mutex
	opens     []*ctl.RelayOpen
	delivered []*ctl.Delivered
	from      []peer.ID
	refuse    error
}

func (f *fakeDelivery) RelayOpen(_ context.Context, from peer.ID, cmd *ctl.RelayOpen) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.refuse != nil {
		return f.refuse
	}
	f.opens = append(f.opens, cmd)
	f.from = append(f.from, from)
	return nil
}

func (f *fakeDelivery) Delivered(_ context.Context, from peer.ID, cmd *ctl.Delivered) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.delivered = append(f.delivered, cmd)
	f.from = append(f.from, from)
	return nil
}

func TestRelayOpenAndDelivered(t *testing.T) {
	ctx := testCtx(t)
	a, b := newNode(t, 0, nil), newNode(t, 0, nil)
	connect(t, a.h, b.h)
	req := ctl.RelayOpen{MessageID: protocol.MessageID{1, 2}, Dst: a.addr(t), DstPeer: a.h.ID(),
		Index: 2, N: 6, K: 3, ShareLen: 1000, Token: []byte("token")}

	if err := a.s.RelayOpen(ctx, b.h.ID(), req); remoteCode(err) != ctl.CodeNotImplemented {
		t.Fatalf("without a delivery engine: %v, want ERR|501", err)
	}

	f := &fakeDelivery{}
	b.s.SetDelivery(f)
	if err := a.s.RelayOpen(ctx, b.h.ID(), req); err != nil {
		t.Fatal(err)
	}
	if err := a.s.Delivered(ctx, b.h.ID(), req.MessageID, []int{1, 4, 6}); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	if len(f.opens) != 1 || f.opens[0].ClientID != a.addr(t) || f.opens[0].Index != 2 || string(f.opens[0].Token) != "token" {
		t.Errorf("relay open seen as %+v", f.opens)
	}
	if len(f.delivered) != 1 || f.delivered[0].MessageID != req.MessageID || len(f.delivered[0].Used) != 3 {
		t.Errorf("delivered seen as %+v", f.delivered)
	}
	for _, p := range f.from {
		if p != a.h.ID() {
			t.Errorf("from %s, want %s", p, a.h.ID())
		}
	}
	f.refuse = ctl.Errorf(ctl.CodeForbidden, "no token")
	f.mu.Unlock()
	if err := a.s.RelayOpen(ctx, b.h.ID(), req); remoteCode(err) != ctl.CodeForbidden {
		t.Fatalf("refused relay: %v, want ERR|403", err)
	}
}

func TestRelayOpenWrongClient(t *testing.T) {
	a, b := newNode(t, 0, nil), newNode(t, 0, nil)
	connect(t, a.h, b.h)
	b.s.SetDelivery(&fakeDelivery{})
	r := openRaw(t, a.h, b.h)
	// Speaks for b, but the stream is from a.
	r.write("DELIVERED|" + b.addr(t).String() + "|0102030405060708|1,2\n")
	r.expectErr(ctl.CodeWrongClient)
}
