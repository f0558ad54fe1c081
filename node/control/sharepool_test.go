package control

import (
	"context"
	"fmt"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/vmdt/vmdt/protocol"
	"github.com/vmdt/vmdt/protocol/ctl"
)

// poolDelivery is a fakeDelivery with a share pool: it records deposits
// and claims and lists held.
type poolDelivery struct {
	fakeDelivery
	mode     string
	held     []ctl.HeldShare
	adds     []*ctl.SharePoolAdd
	claims   []*ctl.SharePoolClaim
	addError error
}

func (p *poolDelivery) RelayOpenMode(ctx context.Context, from peer.ID, cmd *ctl.RelayOpen) (string, error) {
	if err := p.RelayOpen(ctx, from, cmd); err != nil {
		return "", err
	}
	return p.mode, nil
}

func (p *poolDelivery) SharePoolAdd(_ context.Context, _ peer.ID, cmd *ctl.SharePoolAdd) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.addError != nil {
		return p.addError
	}
	p.adds = append(p.adds, cmd)
	return nil
}

func (p *poolDelivery) SharePoolClaim(_ context.Context, _ peer.ID, cmd *ctl.SharePoolClaim) ([]ctl.HeldShare, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.claims = append(p.claims, cmd)
	return p.held, nil
}

func TestSharePoolCommands(t *testing.T) {
	ctx := testCtx(t)
	a, b := newNode(t, 0, nil), newNode(t, 0, nil)
	connect(t, a.h, b.h)
	mid := protocol.MessageID{1, 2}
	req := ctl.RelayOpen{MessageID: mid, Dst: a.addr(t), DstPeer: a.h.ID(),
		Index: 2, N: 6, K: 3, ShareLen: 1000, Token: []byte("token")}
	add := ctl.SharePoolAdd(req)

	// A plain Delivery has no share pool.
	b.s.SetDelivery(&fakeDelivery{})
	if _, err := a.s.SharePoolClaim(ctx, b.h.ID(), nil); remoteCode(err) != ctl.CodeNotImplemented {
		t.Fatalf("SHARE_POOL_CLAIM without a pool: %v, want ERR|501", err)
	}
	if err := a.s.SharePoolAdd(ctx, b.h.ID(), add); remoteCode(err) != ctl.CodeNotImplemented {
		t.Fatalf("SHARE_POOL_ADD without a pool: %v, want ERR|501", err)
	}
	if mode, err := a.s.RelayOpenMode(ctx, b.h.ID(), req); err != nil || mode != ctl.RelayModeForward {
		t.Fatalf("plain delivery: mode %q, %v", mode, err)
	}

	held := []ctl.HeldShare{{MessageID: mid, Src: b.addr(t), Index: 1, N: 6, K: 3, ShareLen: 1 << 20},
		{MessageID: mid, Src: b.addr(t), Index: 4, N: 6, K: 3, ShareLen: 1 << 20}}
	p := &poolDelivery{mode: ctl.RelayModePool, held: held}
	b.s.SetDelivery(p)
	if mode, err := a.s.RelayOpenMode(ctx, b.h.ID(), req); err != nil || mode != ctl.RelayModePool {
		t.Fatalf("pooling delivery: mode %q, %v", mode, err)
	}
	if err := a.s.SharePoolAdd(ctx, b.h.ID(), add); err != nil {
		t.Fatalf("SHARE_POOL_ADD: %v", err)
	}
	got, err := a.s.SharePoolClaim(ctx, b.h.ID(), &mid)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != held[0] || got[1] != held[1] {
		t.Fatalf("claimed %+v, want %+v", got, held)
	}
	p.mu.Lock()
	if len(p.adds) != 1 || p.adds[0].ClientID != a.addr(t) || p.adds[0].Dst != add.Dst || p.adds[0].ShareLen != 1000 {
		t.Errorf("deposits seen: %+v", p.adds)
	}
	if len(p.claims) != 1 || p.claims[0].ClientID != a.addr(t) || p.claims[0].Any || p.claims[0].MessageID != mid {
		t.Errorf("claims seen: %+v", p.claims)
	}
	// A pool that lists a share of another message than asked is a bug:
	// the server answers 500 rather than passing it on.
	p.held = []ctl.HeldShare{{MessageID: protocol.MessageID{9}, Src: b.addr(t), Index: 1, N: 2, K: 2, ShareLen: 1}}
	p.addError = ctl.Errorf(ctl.CodeTooLarge, "per-recipient limit")
	p.mu.Unlock()
	if _, err := a.s.SharePoolClaim(ctx, b.h.ID(), &mid); remoteCode(err) != ctl.CodeInternal {
		t.Fatalf("claim answered with another message: %v, want ERR|500", err)
	}
	if err := a.s.SharePoolAdd(ctx, b.h.ID(), add); remoteCode(err) != ctl.CodeTooLarge {
		t.Fatalf("full pool: %v, want ERR|413", err)
	}
}

// Deposits and claims must speak for the stream's peer.
func TestSharePoolForAnotherClientIsRefused(t *testing.T) {
	a, b, c := newNode(t, 0, nil), newNode(t, 0, nil), newNodeSeed(t, 77, 0, nil)
	connect(t, a.h, b.h)
	p := &poolDelivery{}
	b.s.SetDelivery(p)
	r := openRaw(t, a.h, b.h)
	r.write(fmt.Sprintf("SHARE_POOL_CLAIM|*|%s\n", c.addr(t)))
	r.expectErr(ctl.CodeWrongClient)
	r.write(fmt.Sprintf("SHARE_POOL_ADD|0102030405060708|%s|%s|%s|1|2|2|4096|AA\n", c.addr(t), b.addr(t), b.h.ID()))
	r.expectErr(ctl.CodeWrongClient)
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.adds) != 0 || len(p.claims) != 0 {
		t.Fatalf("pool saw %d deposits and %d claims, want none", len(p.adds), len(p.claims))
	}
}
