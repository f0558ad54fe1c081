package bootstrap

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/vmdt/vmdt/dht/namerec"
)

func newHost(t testing.TB, priv crypto.PrivKey) host.Host {
	t.Helper()
	opts := []libp2p.Option{libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"), libp2p.DisableRelay()}
	if priv != nil {
		opts = append(opts, libp2p.Identity(priv))
	}
	h, err := libp2p.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func newKey(t testing.TB) crypto.PrivKey {
	t.Helper()
	k, _, err := crypto.GenerateEd25519Key(nil)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// exchange sends raw request bytes to the notary on h and returns the raw
// response.
func exchange(t testing.TB, from host.Host, notary host.Host, req []byte) ([]byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	from.Peerstore().AddAddrs(notary.ID(), notary.Addrs(), time.Hour)
	s, err := from.NewStream(ctx, notary.ID(), namerec.NotaryProtocol)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_ = s.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := s.Write(req); err != nil {
		return nil, err
	}
	if err := s.CloseWrite(); err != nil {
		return nil, err
	}
	return io.ReadAll(io.LimitReader(s, namerec.MaxResponseSize+1))
}

// claim asks the notary on h to hold name for owner for d.
func claim(t testing.TB, from, notary host.Host, owner crypto.PrivKey, name string, d time.Duration) *namerec.Response {
	t.Helper()
	q, err := namerec.NewClaimRequest(owner, notary.ID(), name, d)
	if err != nil {
		t.Fatal(err)
	}
	req, err := namerec.AppendRequest(nil, q)
	if err != nil {
		t.Fatal(err)
	}
	b, err := exchange(t, from, notary, req)
	if err != nil {
		t.Fatal(err)
	}
	r, err := namerec.ParseResponse(b, notary.ID())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// clock is a settable clock for notaries.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestNotaryFirstComeFirstServedAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	clk := &clock{now: time.Unix(1_800_000_000, 0).UTC()}
	nh, ch := newHost(t, nil), newHost(t, nil)
	n, err := NewNotaryWithConfig(nh, NotaryConfig{Dir: dir, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	auth, err := namerec.NewAuthorities([]peer.ID{nh.ID()})
	if err != nil {
		t.Fatal(err)
	}
	k1, k2 := newKey(t), newKey(t)
	k1pub, _ := crypto.MarshalPublicKey(k1.GetPublic())

	r := claim(t, ch, nh, k1, "alice", namerec.ClaimTTL)
	if r.Status != namerec.StatusGrantedNew {
		t.Fatalf("first claim: %+v", r)
	}
	// valid-until comes from the notary's clock; the claimant has no say.
	if want := clk.Now().Add(namerec.ClaimTTL); !r.Counter.ValidUntil.Equal(want) {
		t.Fatalf("valid-until %s, want notary's now + 7 days = %s", r.Counter.ValidUntil, want)
	}
	if err := auth.VerifyCounter(r.Counter, "alice", k1pub); err != nil {
		t.Fatal(err)
	}
	// A hold longer than 7 days is cut to 7 days.
	if r := claim(t, ch, nh, k1, "alice", 30*24*time.Hour); !r.Counter.ValidUntil.Equal(clk.Now().Add(namerec.ClaimTTL)) {
		t.Fatalf("30-day request got %s", r.Counter.ValidUntil)
	}
	held := clk.Now().Add(namerec.ClaimTTL)
	if r := claim(t, ch, nh, k2, "alice", time.Minute); r.Status != namerec.StatusHeld || !r.HeldUntil.Equal(held) {
		t.Fatalf("takeover attempt: %+v", r)
	}

	// Restart on the same directory: the claim survives.
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if err := n.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	clk.Add(6 * 24 * time.Hour)
	n2, err := NewNotaryWithConfig(nh, NotaryConfig{Dir: dir, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer n2.Close()
	if r := claim(t, ch, nh, k2, "alice", time.Minute); r.Status != namerec.StatusHeld || !r.HeldUntil.Equal(held) {
		t.Fatalf("takeover after restart: %+v", r)
	}
	if r := claim(t, ch, nh, k1, "alice", namerec.ClaimTTL); r.Status != namerec.StatusGrantedRenewed ||
		!r.Counter.ValidUntil.Equal(clk.Now().Add(namerec.ClaimTTL)) {
		t.Fatalf("renewal after restart: %+v", r)
	}
	// The owner goes away for 7 days: the name becomes free.
	clk.Add(namerec.ClaimTTL)
	if r := claim(t, ch, nh, k2, "alice", time.Minute); r.Status != namerec.StatusGrantedNew {
		t.Fatalf("claim after the owner left 7 days ago: %+v", r)
	}
}

func TestNotaryRefusesBadRequests(t *testing.T) {
	nh, other, ch := newHost(t, nil), newHost(t, nil), newHost(t, nil)
	n, err := NewNotaryWithConfig(nh, NotaryConfig{StreamTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	k := newKey(t)
	// Signed for another notary: replaying it here fails.
	q, err := namerec.NewClaimRequest(k, other.ID(), "alice", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	replayed, _ := namerec.AppendRequest(nil, q)
	cases := map[string]struct {
		req    []byte
		reason string
	}{
		"signed for another notary": {replayed, "bad owner signature"},
		"garbage":                   {[]byte("hello"), "malformed encoding"},
		"oversize":                  {bytes.Repeat([]byte{1}, namerec.MaxRequestSize+1), "request over 256 bytes"},
		"claimant timestamp":        {append(bytes.Clone(replayed), 0, 0, 0, 0, 0x65, 0, 0, 0), "trailing bytes"},
	}
	for name, c := range cases {
		b, err := exchange(t, ch, nh, c.req)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		r, err := namerec.ParseResponse(b, nh.ID())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if r.Status != namerec.StatusRefused || !strings.Contains(r.Reason, c.reason) {
			t.Errorf("%s: %+v, want refusal with %q", name, r, c.reason)
		}
	}
	if len(n.table.holds) != 0 {
		t.Fatalf("refused requests left holds: %+v", n.table.holds)
	}
}

// TestNotaryStalledClient checks that a client that never finishes its
// request is cut off by the notary's deadline instead of holding a slot.
func TestNotaryStalledClient(t *testing.T) {
	nh, ch := newHost(t, nil), newHost(t, nil)
	n, err := NewNotaryWithConfig(nh, NotaryConfig{StreamTimeout: 100 * time.Millisecond, MaxConcurrent: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ch.Peerstore().AddAddrs(nh.ID(), nh.Addrs(), time.Hour)
	s, err := ch.NewStream(ctx, nh.ID(), namerec.NotaryProtocol)
	if err != nil {
		t.Fatal(err)
	}
	s.Write([]byte{1, 1}) // and never more
	_ = s.SetReadDeadline(time.Now().Add(10 * time.Second))
	b, err := io.ReadAll(s)
	if err == nil && len(b) != 0 {
		t.Fatalf("stalled client got a response %x", b)
	}
	var ne interface{ Timeout() bool }
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("notary did not cut off the stalled stream")
	}
	// The only slot is free again.
	if r := claim(t, ch, nh, newKey(t), "bob", time.Minute); r.Status != namerec.StatusGrantedNew {
		t.Fatalf("after a stalled client: %+v", r)
	}
}

func TestNotaryRejectsNonEd25519Host(t *testing.T) {
	k, _, err := crypto.GenerateSecp256k1Key(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewNotary(newHost(t, k), ""); !errors.Is(err, namerec.ErrUnsupportedKey) {
		t.Fatalf("got %v, want ErrUnsupportedKey", err)
	}
}

// FuzzNotaryAnswer feeds arbitrary requests to the notary's decision path.
func FuzzNotaryAnswer(f *testing.F) {
	nh := newHost(f, nil)
	n, err := NewNotaryWithConfig(nh, NotaryConfig{MaxClaims: 64})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { n.Close() })
	k := newKey(f)
	q, err := namerec.NewClaimRequest(k, nh.ID(), "alice", time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	good, _ := namerec.AppendRequest(nil, q)
	f.Add(good)
	f.Add([]byte{1, 1, 1, 'a'})
	f.Fuzz(func(t *testing.T, b []byte) {
		r := n.answer(b)
		if _, err := namerec.AppendResponse(nil, r); err != nil {
			t.Fatalf("answer %+v does not encode: %v", r, err)
		}
		if r.Granted() && !bytes.Equal(b, good) {
			// Only a correctly signed request can be granted; the fuzzer
			// cannot forge a signature.
			if _, err := namerec.ParseRequest(b); err != nil {
				t.Fatalf("granted an unparsable request %x", b)
			}
		}
	})
}
