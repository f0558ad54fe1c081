package consent

import (
	"errors"
	"testing"
	"time"

	"github.com/vmdt/vmdt/dht"
	"github.com/vmdt/vmdt/internal/p2ptest"
	"github.com/vmdt/vmdt/node/friends"
)

func TestRequestAcceptExchangesTokens(t *testing.T) {
	ctx := testCtx(t)
	names := newFakeNames()
	alice := newTestPeer(t, names, "alice", fastConfig())
	bob := newTestPeer(t, names, "bob", fastConfig())
	link(alice, bob)

	f, err := alice.svc.Request(ctx, "Bob")
	if err != nil {
		t.Fatal(err)
	}
	if f.Username != "bob" || f.Outgoing != friends.OutRequested || f.DDT != bob.ddt() {
		t.Fatalf("alice's record of bob after the request: %+v", f)
	}
	// The ack came after bob stored the request.
	got, ok := bob.store.Get("alice")
	if !ok || got.Incoming != friends.InPending || got.DDT != alice.ddt() || got.IsFriend() {
		t.Fatalf("bob's record of alice: %+v (found %v), want pending", got, ok)
	}

	f, delivered, err := bob.svc.Accept(ctx, "alice")
	if err != nil || delivered != Delivered {
		t.Fatalf("accept: delivered %v, err %v", delivered, err)
	}
	if !f.IsFriend() || f.Incoming != friends.InAccepted {
		t.Fatalf("bob's record of alice after accepting: %+v", f)
	}
	now := time.Now()
	// Alice holds bob's token: she may deposit shares for bob.
	tok, ok := alice.store.TokenFor(bob.ddt())
	if !ok {
		t.Fatal("alice has no token from bob")
	}
	if err := tok.Verify(alice.ddt(), bob.ddt(), now); err != nil {
		t.Fatalf("bob's token for alice: %v", err)
	}
	if fa, _ := alice.store.Get("bob"); fa.Outgoing != friends.OutAccepted || !alice.store.IsFriend(bob.ddt()) {
		t.Fatalf("alice's record of bob after the acceptance: %+v", fa)
	}
	// Bob got alice's token in her ack, before Accept returned.
	tok, ok = bob.store.TokenFor(alice.ddt())
	if !ok {
		t.Fatal("bob has no token from alice")
	}
	if err := tok.Verify(bob.ddt(), alice.ddt(), now); err != nil {
		t.Fatalf("alice's token for bob: %v", err)
	}
	if owed := bob.svc.Owed(); len(owed) != 0 {
		t.Fatalf("bob still owes responses to %v", owed)
	}
}

// TestMutualRequestsMakeFriends: alice asks bob, then bob asks alice
// before answering. Alice's node accepts at once (she asked first) and
// its outbox delivers the acceptance; tokens travel both ways.
func TestMutualRequestsMakeFriends(t *testing.T) {
	ctx := testCtx(t)
	names := newFakeNames()
	alice := newTestPeer(t, names, "alice", fastConfig())
	bob := newTestPeer(t, names, "bob", fastConfig())
	link(alice, bob)
	link(bob, alice)
	if _, err := alice.svc.Request(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.svc.Request(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if f, _ := alice.store.Get("bob"); f.Incoming != friends.InAccepted {
		t.Fatalf("alice's record of bob after his request: %+v, want accepted", f)
	}
	waitFor(t, "bob holds alice's token", func() bool { _, ok := bob.store.TokenFor(alice.ddt()); return ok })
	waitFor(t, "alice holds bob's token", func() bool { _, ok := alice.store.TokenFor(bob.ddt()); return ok })
	if !alice.store.IsFriend(bob.ddt()) || !bob.store.IsFriend(alice.ddt()) {
		t.Fatal("alice and bob are not friends")
	}
	if f, _ := bob.store.Get("alice"); f.Outgoing != friends.OutAccepted {
		t.Fatalf("bob's record of alice: %+v, want his request accepted", f)
	}
}

func TestDenyReachesRequester(t *testing.T) {
	ctx := testCtx(t)
	names := newFakeNames()
	alice := newTestPeer(t, names, "alice", fastConfig())
	bob := newTestPeer(t, names, "bob", fastConfig())
	link(alice, bob)
	if _, err := alice.svc.Request(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	f, delivered, err := bob.svc.Deny(ctx, "alice")
	if err != nil || delivered != Delivered || f.Incoming != friends.InDenied {
		t.Fatalf("deny: %+v, delivered %v, err %v", f, delivered, err)
	}
	fa, _ := alice.store.Get("bob")
	if fa.Outgoing != friends.OutDenied || fa.IsFriend() || fa.Token != nil {
		t.Fatalf("alice's record of bob after the denial: %+v", fa)
	}
	// Asking again is refused, and alice's record still says denied.
	if _, err := alice.svc.Request(ctx, "bob"); !errors.Is(err, friends.ErrDenied) || !errors.Is(err, ErrRefused) {
		t.Fatalf("request after denial: %v, want a refusal with friends.ErrDenied", err)
	}
	if fa, _ := alice.store.Get("bob"); fa.Outgoing != friends.OutDenied {
		t.Fatalf("alice's record of bob after the refused request: %+v", fa)
	}
}

func TestRequestsThatAreRefused(t *testing.T) {
	ctx := testCtx(t)
	names := newFakeNames()
	alice := newTestPeer(t, names, "alice", fastConfig())
	bob := newTestPeer(t, names, "bob", fastConfig())
	mallory := newTestPeer(t, names, "mallory", fastConfig())
	nameless := newTestPeer(t, names, "", fastConfig())
	for _, p := range []*testPeer{alice, mallory, nameless} {
		link(p, bob)
	}

	t.Run("in someone else's name", func(t *testing.T) {
		req, err := friends.NewFriendRequest(mallory.priv, "alice", "bob", bob.ddt(), time.Now(), nil)
		if err != nil {
			t.Fatal(err)
		}
		msg, _ := req.Marshal()
		_, err = Exchange(ctx, mallory.h, bob.h.ID(), msg, 10*time.Second)
		if !errors.Is(err, ErrNameNotOwned) {
			t.Fatalf("request signed by mallory as alice: %v, want ErrNameNotOwned", err)
		}
		if _, ok := bob.store.Get("alice"); ok {
			t.Fatal("bob recorded the forged request")
		}
	})
	t.Run("relayed by another peer", func(t *testing.T) {
		// A genuine request of alice, sent by mallory's node.
		req, err := friends.NewFriendRequest(alice.priv, "alice", "bob", bob.ddt(), time.Now(), nil)
		if err != nil {
			t.Fatal(err)
		}
		msg, _ := req.Marshal()
		if _, err := Exchange(ctx, mallory.h, bob.h.ID(), msg, 10*time.Second); !errors.Is(err, ErrNameNotOwned) {
			t.Fatalf("alice's request sent by mallory: %v, want ErrNameNotOwned", err)
		}
	})
	t.Run("replayed", func(t *testing.T) {
		req, err := friends.NewFriendRequest(alice.priv, "alice", "bob", bob.ddt(), time.Now(), nil)
		if err != nil {
			t.Fatal(err)
		}
		msg, _ := req.Marshal()
		if _, err := Exchange(ctx, alice.h, bob.h.ID(), msg, 10*time.Second); err != nil {
			t.Fatalf("first request: %v", err)
		}
		if _, err := Exchange(ctx, alice.h, bob.h.ID(), msg, 10*time.Second); !errors.Is(err, friends.ErrReplay) {
			t.Fatalf("replayed request: %v, want friends.ErrReplay", err)
		}
	})
	t.Run("stale", func(t *testing.T) {
		req, err := friends.NewFriendRequest(mallory.priv, "mallory", "bob", bob.ddt(), time.Now().Add(-time.Hour), nil)
		if err != nil {
			t.Fatal(err)
		}
		msg, _ := req.Marshal()
		if _, err := Exchange(ctx, mallory.h, bob.h.ID(), msg, 10*time.Second); !errors.Is(err, friends.ErrStale) {
			t.Fatalf("hour-old request: %v, want friends.ErrStale", err)
		}
	})
	t.Run("meant for another node", func(t *testing.T) {
		req, err := friends.NewFriendRequest(mallory.priv, "mallory", "bob", alice.ddt(), time.Now(), nil)
		if err != nil {
			t.Fatal(err)
		}
		msg, _ := req.Marshal()
		if _, err := Exchange(ctx, mallory.h, bob.h.ID(), msg, 10*time.Second); !errors.Is(err, friends.ErrWrongDestination) {
			t.Fatalf("request for alice's key sent to bob: %v, want friends.ErrWrongDestination", err)
		}
	})
	t.Run("unknown name", func(t *testing.T) {
		if _, err := alice.svc.Request(ctx, "nobody"); !errors.Is(err, dht.ErrNameNotFound) {
			t.Fatalf("request to nobody: %v, want dht.ErrNameNotFound", err)
		}
		if _, ok := alice.store.Get("nobody"); ok {
			t.Fatal("alice recorded a request to an unknown name")
		}
	})
	t.Run("no username", func(t *testing.T) {
		if _, err := nameless.svc.Request(ctx, "bob"); !errors.Is(err, ErrNoUsername) {
			t.Fatalf("request without a username: %v, want ErrNoUsername", err)
		}
	})
	t.Run("ourselves", func(t *testing.T) {
		if _, err := alice.svc.Request(ctx, "alice"); !errors.Is(err, friends.ErrState) {
			t.Fatalf("request to ourselves: %v, want friends.ErrState", err)
		}
	})
	t.Run("garbage", func(t *testing.T) {
		if _, err := Exchange(ctx, mallory.h, bob.h.ID(), []byte{1, 9, 9}, 10*time.Second); !errors.Is(err, friends.ErrMalformed) {
			t.Fatalf("garbage: %v, want friends.ErrMalformed", err)
		}
	})
	// After all this, bob still serves: a genuine request goes through.
	if _, err := mallory.svc.Request(ctx, "bob"); err != nil {
		t.Fatalf("genuine request after the refusals: %v", err)
	}
}

func TestRateLimitPerPeer(t *testing.T) {
	ctx := testCtx(t)
	names := newFakeNames()
	cfg := fastConfig()
	cfg.PeerBurst, cfg.PeerRate = 2, 0.001
	bob := newTestPeer(t, names, "bob", cfg)
	mallory := newTestPeer(t, names, "mallory", fastConfig())
	alice := newTestPeer(t, names, "alice", fastConfig())
	link(mallory, bob)
	link(alice, bob)
	for i := range 2 {
		if _, err := Exchange(ctx, mallory.h, bob.h.ID(), []byte{1, 9}, 10*time.Second); !errors.Is(err, friends.ErrMalformed) {
			t.Fatalf("message %d: %v, want a malformed refusal", i, err)
		}
	}
	if _, err := Exchange(ctx, mallory.h, bob.h.ID(), []byte{1, 9}, 10*time.Second); !errors.Is(err, ErrBusy) {
		t.Fatalf("third message: %v, want ErrBusy", err)
	}
	// Other peers are not affected.
	if _, err := alice.svc.Request(ctx, "bob"); err != nil {
		t.Fatalf("alice after mallory was limited: %v", err)
	}
}

// TestResponseReachesRequesterAfterRestart: bob accepts while alice's
// node is down; when alice's node is back (same key, same store), bob's
// outbox delivers the acceptance: at its next retry, or at once when
// alice connects (with retries too slow to matter).
func TestResponseReachesRequesterAfterRestart(t *testing.T) {
	for _, how := range []string{"retry", "connect"} {
		t.Run(how, func(t *testing.T) {
			ctx := testCtx(t)
			names := newFakeNames()
			cfg := fastConfig()
			if how == "connect" {
				cfg.RetryMin, cfg.RetryMax = time.Hour, time.Hour
			}
			alice := newTestPeer(t, names, "alice", fastConfig())
			bob := newTestPeer(t, names, "bob", cfg)
			link(alice, bob)
			if _, err := alice.svc.Request(ctx, "bob"); err != nil {
				t.Fatal(err)
			}
			alice.stop()
			_, delivered, err := bob.svc.Accept(ctx, "alice")
			if err != nil {
				t.Fatal(err)
			}
			if delivered != Queued {
				t.Fatalf("acceptance to a stopped node: %v, want queued", delivered)
			}
			if owed := bob.svc.Owed(); len(owed) != 1 || owed[0] != "alice" {
				t.Fatalf("bob owes %v, want [alice]", owed)
			}
			alice.start(t, names, fastConfig())
			if how == "connect" {
				link(alice, bob)
				if err := alice.h.Connect(ctx, bob.h.Peerstore().PeerInfo(bob.h.ID())); err != nil {
					t.Fatal(err)
				}
			} else {
				// What FindPeer would tell bob: alice's new addresses.
				link(bob, alice)
			}
			waitFor(t, "alice's node applies the acceptance", func() bool { return alice.store.IsFriend(bob.ddt()) })
			if _, ok := alice.store.TokenFor(bob.ddt()); !ok {
				t.Fatal("alice has no token from bob")
			}
			waitFor(t, "bob's outbox empties", func() bool { return len(bob.svc.Owed()) == 0 })
			if _, ok := bob.store.TokenFor(alice.ddt()); !ok {
				t.Fatal("bob has no token from alice")
			}
		})
	}
}

func TestCloseStopsServingAndFailsCalls(t *testing.T) {
	ctx := testCtx(t)
	names := newFakeNames()
	alice := newTestPeer(t, names, "alice", fastConfig())
	bob := newTestPeer(t, names, "bob", fastConfig())
	link(alice, bob)
	bob.svc.Close()
	bob.svc.Close()
	if _, err := bob.svc.Request(ctx, "alice"); !errors.Is(err, ErrClosed) {
		t.Fatalf("request on a closed service: %v, want ErrClosed", err)
	}
	if _, err := alice.svc.Request(ctx, "bob"); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("request to a closed service: %v, want ErrUnreachable", err)
	}
}

// TestRequestDialsPastBackoff: an earlier failed dial left bob's
// addresses on alice's dial backoff, and alice has no peer lookup to fall
// back on. Her request still reaches bob: the backoff refused the dial
// without trying it, so it is dialed anyway.
func TestRequestDialsPastBackoff(t *testing.T) {
	ctx := testCtx(t)
	names := newFakeNames()
	alice := newTestPeer(t, names, "alice", fastConfig())
	bob := newTestPeer(t, names, "bob", fastConfig())
	link(alice, bob)
	p2ptest.Backoff(t, ctx, alice.h, bob.h.ID())
	if _, err := alice.svc.Request(ctx, "bob"); err != nil {
		t.Fatalf("request to bob: %v", err)
	}
	if got, ok := bob.store.Get("alice"); !ok || got.Incoming != friends.InPending {
		t.Fatalf("bob's record of alice: %+v (found %v), want pending", got, ok)
	}
}
