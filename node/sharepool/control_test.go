package sharepool_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/vmdt/vmdt/node/control"
	"github.com/vmdt/vmdt/node/sharepool"
	"github.com/vmdt/vmdt/protocol"
	"github.com/vmdt/vmdt/protocol/ctl"
)

var _ control.SharePool = (*sharepool.ControlPool)(nil)

func TestControlPool(t *testing.T) {
	p, err := sharepool.Open(t.TempDir(), sharepool.Limits{PerSender: 2 * sharepool.BlockSize, SweepInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	src, dst, stranger := protocol.DDTAddr{1}, protocol.DDTAddr{2}, protocol.DDTAddr{3}
	cp := &sharepool.ControlPool{Pool: p, Admit: func(_ context.Context, s *ctl.PoolShare) error {
		if s.Src == stranger {
			return errors.New("no friend token")
		}
		return nil
	}}
	ctx := context.Background()
	m1, m2 := protocol.MessageID{1}, protocol.MessageID{2}
	want := []ctl.PoolShare{
		{MessageID: m1, Src: src, Dst: dst, Index: 1, N: 3, K: 2, Data: []byte("one")},
		{MessageID: m2, Src: src, Dst: dst, Index: 3, N: 3, K: 2, Data: make([]byte, ctl.MaxShareLen)},
	}
	for _, s := range want {
		if err := cp.Add(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	s3 := want[0]
	s3.MessageID = protocol.MessageID{3}
	err = cp.Add(ctx, s3)
	if ctl.CodeOf(err) != ctl.CodeTooLarge || !errors.Is(err, sharepool.ErrFull) {
		t.Fatalf("full: %v", err)
	}
	s3.Src = stranger
	if err := cp.Add(ctx, s3); ctl.CodeOf(err) != ctl.CodeForbidden {
		t.Fatalf("stranger: %v", err)
	}
	diff := want[0]
	diff.Data = []byte("changed")
	if err := cp.Add(ctx, diff); ctl.CodeOf(err) != ctl.CodeConflict {
		t.Fatalf("conflict: %v", err)
	}
	bad := want[0]
	bad.Index = 256
	if err := cp.Add(ctx, bad); ctl.CodeOf(err) != ctl.CodeMalformed {
		t.Fatalf("bad index: %v", err)
	}

	got, err := cp.Claim(ctx, dst, &m2, ctl.MaxClaimShares)
	if err != nil || !reflect.DeepEqual(got, want[1:]) {
		t.Fatalf("claim m2: %+v, %v", got, err)
	}
	got, err = cp.Claim(ctx, dst, nil, ctl.MaxClaimShares)
	if err != nil || !reflect.DeepEqual(got, want[:1]) {
		t.Fatalf("claim any: %+v, %v", got, err)
	}
	// Claims take: nothing is left.
	if got, err := cp.Claim(ctx, dst, nil, ctl.MaxClaimShares); err != nil || len(got) != 0 {
		t.Fatalf("second claim: %+v, %v", got, err)
	}
	p.Close()
	if err := cp.Add(ctx, want[0]); ctl.CodeOf(err) != ctl.CodeUnavailable {
		t.Fatalf("closed: %v", err)
	}
}
