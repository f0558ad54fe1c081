package control

import (
	"context"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/vmdt/vmdt/protocol/ctl"
)

// fileDelivery is a fakeDelivery that also serves FILE_STATUS.
type fileDelivery struct {
	fakeDelivery
	asked []*ctl.FileStatus
}

func (f *fileDelivery) FileStatus(_ context.Context, from peer.ID, cmd *ctl.FileStatus) (ctl.FileStatusReply, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, cmd)
	f.from = append(f.from, from)
	if cmd.FileID[0] == 0xee {
		return ctl.FileStatusReply{}, ctl.Errorf(ctl.CodeUnknown, "no such file")
	}
	return ctl.FileStatusReply{Count: 11, First: cmd.First, Bitmap: []byte{0x81, 0x20}}, nil
}

func TestFileStatus(t *testing.T) {
	ctx := testCtx(t)
	a, b := newNode(t, 0, nil), newNode(t, 0, nil)
	connect(t, a.h, b.h)
	id := [ctl.FileIDLen]byte{1, 2, 3}

	b.s.SetDelivery(&fakeDelivery{})
	if _, err := a.s.FileStatus(ctx, b.h.ID(), id, 0); remoteCode(err) != ctl.CodeNotImplemented {
		t.Fatalf("engine without files: %v, want ERR|501", err)
	}
	f := &fileDelivery{}
	b.s.SetDelivery(f)
	r, err := a.s.FileStatus(ctx, b.h.ID(), id, 0)
	if err != nil {
		t.Fatal(err)
	}
	if r.Count != 11 || !r.Has(0) || !r.Has(7) || !r.Has(10) || r.Has(1) || r.Has(8) {
		t.Fatalf("reply %+v", r)
	}
	if _, err := a.s.FileStatus(ctx, b.h.ID(), [ctl.FileIDLen]byte{0xee}, 0); remoteCode(err) != ctl.CodeUnknown {
		t.Fatalf("unknown file: %v, want ERR|404", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.asked) != 2 || f.asked[0].FileID != id || f.asked[0].ClientID != a.addr(t) || f.from[0] != a.h.ID() {
		t.Fatalf("asked %+v from %v", f.asked, f.from)
	}
}
