package control

import (
	"context"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/vmdt/vmdt/protocol"
	"github.com/vmdt/vmdt/protocol/ctl"
)

// poolDelivery is a fakeDelivery that pools and answers POOL_FETCH.
type poolDelivery struct {
	fakeDelivery
	mode    string
	held    []ctl.HeldShare
	fetched []protocol.DDTAddr
}

func (p *poolDelivery) RelayOpenMode(ctx context.Context, from peer.ID, cmd *ctl.RelayOpen) (string, error) {
	if err := p.RelayOpen(ctx, from, cmd); err != nil {
		return "", err
	}
	return p.mode, nil
}

func (p *poolDelivery) PoolFetch(_ context.Context, _ peer.ID, cmd *ctl.PoolFetch) ([]ctl.HeldShare, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fetched = append(p.fetched, cmd.ClientID)
	return p.held, nil
}

func TestRelayOpenModeAndPoolFetch(t *testing.T) {
	ctx := testCtx(t)
	a, b := newNode(t, 0, nil), newNode(t, 0, nil)
	connect(t, a.h, b.h)
	req := ctl.RelayOpen{MessageID: protocol.MessageID{1, 2}, Dst: a.addr(t), DstPeer: a.h.ID(),
		Index: 2, N: 6, K: 3, ShareLen: 1000, Token: []byte("token")}

	// A plain Delivery cannot serve POOL_FETCH.
	b.s.SetDelivery(&fakeDelivery{})
	if _, err := a.s.PoolFetch(ctx, b.h.ID()); remoteCode(err) != ctl.CodeNotImplemented {
		t.Fatalf("POOL_FETCH without a pool: %v, want ERR|501", err)
	}
	if mode, err := a.s.RelayOpenMode(ctx, b.h.ID(), req); err != nil || mode != ctl.RelayModeForward {
		t.Fatalf("plain delivery: mode %q, %v", mode, err)
	}

	held := []ctl.HeldShare{{MessageID: req.MessageID, Src: b.addr(t), Index: 1, N: 6, K: 3, ShareLen: 1 << 20},
		{MessageID: req.MessageID, Src: b.addr(t), Index: 4, N: 6, K: 3, ShareLen: 1 << 20}}
	p := &poolDelivery{mode: ctl.RelayModePool, held: held}
	b.s.SetDelivery(p)
	if mode, err := a.s.RelayOpenMode(ctx, b.h.ID(), req); err != nil || mode != ctl.RelayModePool {
		t.Fatalf("pooling delivery: mode %q, %v", mode, err)
	}
	if err := a.s.RelayOpen(ctx, b.h.ID(), req); err != nil {
		t.Fatalf("RelayOpen on a pooling relay: %v", err)
	}
	got, err := a.s.PoolFetch(ctx, b.h.ID())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != held[0] || got[1] != held[1] {
		t.Fatalf("fetched %+v, want %+v", got, held)
	}
	p.mu.Lock()
	if len(p.fetched) != 1 || p.fetched[0] != a.addr(t) {
		t.Errorf("fetch seen for %v", p.fetched)
	}
	p.mu.Unlock()

	p.mu.Lock()
	p.refuse = ctl.Errorf(ctl.CodeTooLarge, "pool full")
	p.mu.Unlock()
	if _, err := a.s.RelayOpenMode(ctx, b.h.ID(), req); remoteCode(err) != ctl.CodeTooLarge {
		t.Fatalf("full pool: %v, want ERR|413", err)
	}
}
