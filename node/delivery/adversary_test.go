package delivery

import (
	"bytes"
	"context"
	"errors"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/vmdt/vmdt/node/delivery/envelope"
	"github.com/vmdt/vmdt/protocol"
	"github.com/vmdt/vmdt/rdt"
)

// shareTap records, on relays, every share they are asked to forward, as
// it arrived from the sender, and lets a test make a relay alter what it
// forwards: tamper runs on the relay's real forwarding path, between its
// transport and its engine.
type shareTap struct {
	mu     sync.Mutex
	envs   map[protocol.MessageID]map[uint8][]byte
	got    map[protocol.MessageID]map[uint8]int
	tamper map[*testNode]func(s *rdt.Segment)
}

func newShareTap(t *testing.T, relays ...*testNode) *shareTap {
	tap := &shareTap{envs: map[protocol.MessageID]map[uint8][]byte{}, got: map[protocol.MessageID]map[uint8]int{},
		tamper: map[*testNode]func(*rdt.Segment){}}
	for _, r := range relays {
		setHook(t, r, func(s *rdt.Segment) bool {
			h := s.Header
			tap.mu.Lock()
			if tap.envs[h.MessageID] == nil {
				tap.envs[h.MessageID] = map[uint8][]byte{}
				tap.got[h.MessageID] = map[uint8]int{}
			}
			env := tap.envs[h.MessageID][h.ShareIndex]
			if env == nil {
				env = make([]byte, h.ShareLen)
				tap.envs[h.MessageID][h.ShareIndex] = env
			}
			if int64(h.Offset)+int64(len(s.Payload)) <= int64(len(env)) {
				copy(env[h.Offset:], s.Payload)
				tap.got[h.MessageID][h.ShareIndex] += len(s.Payload)
			}
			f := tap.tamper[r]
			tap.mu.Unlock()
			if f != nil {
				s.Payload = slices.Clone(s.Payload)
				f(s)
			}
			return false
		})
	}
	return tap
}

func (tap *shareTap) setTamper(r *testNode, f func(s *rdt.Segment)) {
	tap.mu.Lock()
	defer tap.mu.Unlock()
	if f == nil {
		delete(tap.tamper, r)
	} else {
		tap.tamper[r] = f
	}
}

// complete returns the envelopes of message id the relays received in
// full, by share index.
func (tap *shareTap) complete(id protocol.MessageID) map[uint8][]byte {
	tap.mu.Lock()
	defer tap.mu.Unlock()
	out := map[uint8][]byte{}
	for i, env := range tap.envs[id] {
		if tap.got[id][i] == len(env) {
			out[i] = slices.Clone(env)
		}
	}
	return out
}

// indexOf returns the share index the report gives relay r.
func indexOf(rep Report, r *testNode) int {
	for _, s := range rep.Shares {
		if s.RelayPeer == r.h.ID() {
			return s.Index
		}
	}
	return 0
}

// headerRewriter is a relay's transport that opens its forward transfers
// under another VMDT header.
type headerRewriter struct {
	*rdt.Transport
	rewrite func(h protocol.VMDTHeader) protocol.VMDTHeader
}

func (w headerRewriter) OpenSend(to net.Addr, h protocol.VMDTHeader) (*rdt.Outgoing, error) {
	return w.Transport.OpenSend(to, w.rewrite(h))
}

// deliveredTap is a Control that reports the DELIVERED it sends.
type deliveredTap struct {
	Control
	sent chan protocol.MessageID
}

func (d deliveredTap) Delivered(ctx context.Context, p peer.ID, id protocol.MessageID, used []int) error {
	d.sent <- id
	return d.Control.Delivered(ctx, p, id, used)
}

// Relays that replay shares of an old message, rewrite share indexes or
// forward under VMDT share index 0 are rejected, and the message is
// delivered through the others; a whole message replayed, before and
// after the receiver restarts, creates no second inbox entry.
func TestMaliciousRelays(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	reg := c.bob.eng.cfg.Names.(*names)
	tap := newShareTap(t, c.relays...)
	const msgLen = 16 << 10
	msg1 := randomBytes(t, msgLen)
	rep1, err := c.alice.eng.Send(ctx, "bob", msg1, 6, 3)
	if err != nil {
		t.Fatalf("send: %v (%+v)", err, rep1)
	}
	checkDelivered(t, c, rep1, msg1, 6, 3)
	old := tap.complete(rep1.ID)
	if len(old) < 3 {
		t.Fatalf("the relays hold %d complete envelopes of the first message, want at least 3", len(old))
	}

	// sendWith delivers a new message while the relays misbehave as set,
	// and returns the report and bob's entry.
	sendWith := func(t *testing.T) (Report, Entry) {
		t.Helper()
		msg := randomBytes(t, msgLen)
		rep, err := c.alice.eng.Send(ctx, "bob", msg, 6, 3)
		if err != nil {
			t.Fatalf("send: %v (%+v)", err, rep)
		}
		return rep, checkDelivered(t, c, rep, msg, 6, 3)
	}
	// requireRejected checks that share idx was not used and that only
	// bad shares were rejected. (The message may decode before a bad
	// share's prefix is whole, and then it is never looked at.)
	requireRejected := func(t *testing.T, ent Entry, idx int, what string, bad ...int) {
		t.Helper()
		if slices.Contains(ent.Used, idx) {
			t.Fatalf("share %d (%s) used: used %v, rejected %v", idx, what, ent.Used, ent.Rejected)
		}
		for _, r := range ent.Rejected {
			if r != idx && !slices.Contains(bad, r) {
				t.Fatalf("share %d rejected, but only %d and %v were bad", r, idx, bad)
			}
		}
		t.Logf("share %d (%s): used %v, rejected %v", idx, what, ent.Used, ent.Rejected)
	}

	t.Run("OldShareMixedIn", func(t *testing.T) {
		// Relay 1 forwards, in place of its share, the envelope of the
		// same index of the first message (same length), byte for byte.
		bad := c.relays[0]
		tap.setTamper(bad, func(s *rdt.Segment) {
			if env := old[s.Header.ShareIndex]; env != nil && s.Header.MessageID != rep1.ID {
				copy(s.Payload, env[s.Header.Offset:])
			} else if s.Header.MessageID != rep1.ID {
				for _, env := range old { // another index's: wrong index too
					copy(s.Payload, env[s.Header.Offset:])
					break
				}
			}
		})
		defer tap.setTamper(bad, nil)
		rep, ent := sendWith(t)
		requireRejected(t, ent, indexOf(rep, bad), "an old message's")
	})

	t.Run("EnvelopeIndexRewritten", func(t *testing.T) {
		// Relay 1 sets the envelope's share index to 0, relay 2 to the
		// next index; the VMDT header is left alone.
		n := 6
		at := envelope.PrefixLen(n) - 1 - 16 - envelope.SealedKeyShareSize // the index byte
		for i, bad := range c.relays[:2] {
			tap.setTamper(bad, func(s *rdt.Segment) {
				if off := at - int(s.Header.Offset); off >= 0 && off < len(s.Payload) {
					if i == 0 {
						s.Payload[off] = 0
					} else {
						s.Payload[off] = s.Header.ShareIndex%uint8(n) + 1
					}
				}
			})
			defer tap.setTamper(bad, nil)
		}
		rep, ent := sendWith(t)
		i0, i1 := indexOf(rep, c.relays[0]), indexOf(rep, c.relays[1])
		requireRejected(t, ent, i0, "envelope index 0", i1)
		requireRejected(t, ent, i1, "envelope index changed", i0)
	})

	t.Run("VMDTIndexZero", func(t *testing.T) {
		// The header codec refuses share index 0, so a datagram carrying
		// it is dropped; rdt will not even open such a transfer.
		h := protocol.VMDTHeader{Type: protocol.TypeShare, ShareIndex: 0, N: 6, K: 3, ShareLen: 100}
		if _, _, err := protocol.ParseVMDTHeader(protocol.AppendVMDTHeader(nil, h)); !errors.Is(err, protocol.ErrInvalid) {
			t.Fatalf("VMDT header with share index 0 parsed: %v", err)
		}
		bad := c.relays[2]
		restartEngine(t, bad, reg, func(cfg *Config) {
			cfg.Transport = headerRewriter{bad.tr, func(h protocol.VMDTHeader) protocol.VMDTHeader {
				h.ShareIndex = 0
				return h
			}}
		})
		defer restartEngine(t, bad, reg, nil)
		rep, _ := sendWith(t)
		for _, s := range rep.Shares {
			if s.RelayPeer == bad.h.ID() && s.Outcome != OutcomeRefused && s.Outcome != OutcomeCancelled {
				t.Fatalf("share %d through the relay forwarding under index 0: %q", s.Index, s.Outcome)
			}
		}
	})

	t.Run("VMDTIndexRewritten", func(t *testing.T) {
		// The relay forwards its share under the next share index.
		bad := c.relays[3]
		restartEngine(t, bad, reg, func(cfg *Config) {
			cfg.Transport = headerRewriter{bad.tr, func(h protocol.VMDTHeader) protocol.VMDTHeader {
				h.ShareIndex = h.ShareIndex%h.N + 1
				return h
			}}
		})
		defer restartEngine(t, bad, reg, nil)
		rep, ent := sendWith(t)
		if i := indexOf(rep, bad); slices.Contains(ent.Used, i) {
			t.Fatalf("share %d used, but its relay forwarded it under another index", i)
		}
	})

	t.Run("WholeMessageReplayed", func(t *testing.T) {
		var replayed atomic.Int64 // bytes of the first message bob's engine was handed
		setHook(t, c.bob, func(s *rdt.Segment) bool {
			if s.Header.MessageID == rep1.ID {
				replayed.Add(int64(len(s.Payload)))
			}
			return false
		})
		before, _ := c.bob.eng.Inbox().List()
		ent1, _, err := c.bob.eng.Inbox().Get(rep1.ID.String())
		if err != nil {
			t.Fatal(err)
		}
		// Mallory relays the complete envelopes of the first message to
		// bob again, over a data-plane session of its own.
		replay := func(t *testing.T) {
			t.Helper()
			ep, err := c.mallory.eng.endpoint(ctx, c.bob.h.ID())
			if err != nil {
				t.Fatal(err)
			}
			sent := 0
			for i, env := range old {
				h := protocol.VMDTHeader{Type: protocol.TypeShare, ShareIndex: i, N: 6, K: 3, MessageID: rep1.ID,
					Src: c.alice.ddt, Dst: c.bob.ddt}
				err := c.mallory.tr.Send(ctx, ep.UDPAddr, h, env)
				if errors.Is(err, rdt.ErrAbandoned) && sent >= 3 {
					break // bob decoded the message from the first three
				}
				if err != nil {
					t.Fatalf("replaying share %d after %d: %v", i, sent, err)
				}
				sent++
			}
			want := int64(sent * len(old[firstKey(old)]))
			waitFor(t, ctx, "bob's engine handed the replayed shares", func() bool { return replayed.Load() >= want })
			replayed.Store(0)
		}
		checkInbox := func(t *testing.T) {
			t.Helper()
			after, _ := c.bob.eng.Inbox().List()
			if len(after) != len(before) {
				t.Fatalf("bob's inbox held %d messages, now %d", len(before), len(after))
			}
			ent, body, err := c.bob.eng.Inbox().Get(rep1.ID.String())
			if err != nil || !bytes.Equal(body, msg1) || !ent.Received.Equal(ent1.Received) {
				t.Fatalf("first message in bob's inbox changed: %+v, %v", ent, err)
			}
		}

		// While bob remembers the message, its segments are dropped.
		replay(t)
		checkInbox(t)

		// After a restart bob decodes it again, but the inbox refuses the
		// id it holds: no new entry, no OnMessage; DELIVERED is resent.
		got := make(chan Entry, 1)
		sent := make(chan protocol.MessageID, 8)
		dir := c.bob.eng.cfg.Dir
		restartEngine(t, c.bob, reg, func(cfg *Config) {
			cfg.Dir = dir
			cfg.OnMessage = func(e Entry) { got <- e }
			cfg.Control = deliveredTap{cfg.Control, sent}
		})
		restartEngine(t, c.mallory, reg, nil) // a new data-plane session
		replay(t)
		select {
		case id := <-sent:
			if id != rep1.ID {
				t.Fatalf("DELIVERED for %s, want %s", id, rep1.ID)
			}
		case <-ctx.Done():
			t.Fatal("the replayed message was not decoded after bob's restart")
		}
		select {
		case e := <-got:
			t.Fatalf("replayed message stored again: %+v", e)
		default:
		}
		checkInbox(t)
	})
}

func firstKey(m map[uint8][]byte) uint8 {
	for k := range m {
		return k
	}
	return 0
}
