package rdt

import (
	"context"
	"errors"
	"net"
	"testing"
	"testing/synctest"
	"time"

	"github.com/vmdt/vmdt/protocol"
	"github.com/vmdt/vmdt/rdt/rdttest"
)

var testKey = [32]byte{1, 2, 3, 4, 5, 6, 7, 8, 9}

// victim is a transport on a fake network with one session, for the peer
// at "a" under key id 1, and the keys that peer would seal with.
type victim struct {
	nw    *rdttest.Network
	tr    *Transport
	addr  net.Addr
	peer  net.Addr
	keys  *sessionKeys // the peer's side
	seq   uint32
	delay time.Duration
}

func newVictim(t testing.TB, cfg *Config) *victim {
	nw := rdttest.NewNetwork(5)
	c, err := nw.Listen("b")
	if err != nil {
		t.Fatal(err)
	}
	tr, err := New(c, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	peer := rdttest.Addr("a")
	if err := tr.AddPeer(peer, 1, testKey, false); err != nil {
		t.Fatal(err)
	}
	keys, err := newSessionKeys(testKey, 1, true)
	if err != nil {
		t.Fatal(err)
	}
	return &victim{nw: nw, tr: tr, addr: c.LocalAddr(), peer: peer, keys: keys}
}

// seal builds a datagram with the peer's keys: header flags and the next
// sequence number, then body.
func (v *victim) seal(flags uint8, body []byte) []byte {
	v.seq++
	d := protocol.AppendRDTHeader(make([]byte, 0, 2048), protocol.RDTHeader{Flags: flags, Window: 100, KeyID: 1, Seq: v.seq})
	d = append(d, body...)
	return v.keys.sealDatagram(new(nonce), d)
}

func (v *victim) inject(from net.Addr, d []byte) { v.nw.Inject(from, v.addr, d) }

func validShareHeader(shareLen uint32) protocol.VMDTHeader {
	return protocol.VMDTHeader{Type: protocol.TypeShare, ShareIndex: 1, N: 3, K: 2, ShareLen: shareLen}
}

func dataBody(h protocol.VMDTHeader, payload []byte) []byte {
	return append(protocol.AppendVMDTHeader(nil, h), payload...)
}

// requireNoState checks that the victim holds no transfer and no memory
// and has nothing to deliver.
func requireNoState(t *testing.T, tr *Transport) {
	t.Helper()
	st := tr.Stats()
	if st.InboundTransfers != 0 || st.ReassemblyBytes != 0 || st.SharesReceived != 0 {
		t.Fatalf("state created: %d inbound transfers, %d bytes reserved, %d shares", st.InboundTransfers, st.ReassemblyBytes, st.SharesReceived)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if d, err := tr.Receive(ctx); err == nil {
		t.Fatalf("delivered %+v", d.Header)
	}
}

func TestBogusDatagramsDropped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v := newVictim(t, &Config{MaxShareLen: 1 << 20})
		stranger := rdttest.Addr("x")
		good := protocol.AppendRDTHeader(nil, protocol.RDTHeader{Flags: protocol.FlagData, KeyID: 1, Seq: 1})

		// Dropped before any session is looked up.
		v.inject(v.peer, []byte{1, 2, 3})                               // too short
		v.inject(v.peer, append([]byte{2}, good[1:]...))                // RDT version 2
		v.inject(v.peer, append([]byte{1, 0x80}, good[2:]...))          // unknown flag
		v.inject(v.peer, append(append([]byte(nil), good...), 1, 2, 3)) // shorter than a tag
		v.inject(v.peer, make([]byte, 4000))                            // longer than MaxDatagram
		synctest.Wait()
		st := v.tr.Stats()
		if st.DroppedMalformed != 5 {
			t.Fatalf("DroppedMalformed = %d, want 5", st.DroppedMalformed)
		}

		// No session for the key id, or for the address.
		other := protocol.AppendRDTHeader(nil, protocol.RDTHeader{Flags: protocol.FlagData, KeyID: 77, Seq: 1})
		v.inject(v.peer, append(other, make([]byte, 100)...))
		v.inject(stranger, v.seal(protocol.FlagData, dataBody(validShareHeader(10), make([]byte, 10))))
		synctest.Wait()
		if st = v.tr.Stats(); st.DroppedUnknownPeer != 2 {
			t.Fatalf("DroppedUnknownPeer = %d, want 2", st.DroppedUnknownPeer)
		}

		// Right address and key id, but forged or damaged.
		forged := append(append([]byte(nil), good...), make([]byte, 200)...)
		v.inject(v.peer, forged)
		damaged := v.seal(protocol.FlagData, dataBody(validShareHeader(10), make([]byte, 10)))
		damaged[40] ^= 1
		v.inject(v.peer, damaged)
		other2 := v.seal(protocol.FlagPing, nil)
		other2[3] ^= 1 // the header is authenticated too (window)
		v.inject(v.peer, other2)
		synctest.Wait()
		if st = v.tr.Stats(); st.DroppedAuth != 3 {
			t.Fatalf("DroppedAuth = %d, want 3", st.DroppedAuth)
		}

		// Authentic but malformed bodies.
		bad := validShareHeader(10)
		bad.K = 9 // k > n
		indexZero := validShareHeader(10)
		indexZero.ShareIndex = 0 // Shamir's x = 0 would be the secret itself
		badSeqs := []uint32{}
		for _, d := range [][]byte{
			v.seal(protocol.FlagData, dataBody(bad, make([]byte, 10))),
			v.seal(protocol.FlagData, dataBody(indexZero, make([]byte, 10))),
			v.seal(protocol.FlagData, dataBody(validShareHeader(10), make([]byte, 11))),    // payload beyond the share
			v.seal(protocol.FlagData, dataBody(validShareHeader(2<<20), make([]byte, 10))), // above MaxShareLen
			v.seal(protocol.FlagData|protocol.FlagClose, dataBody(validShareHeader(10), make([]byte, 10))),
			v.seal(protocol.FlagData, make([]byte, 10)),     // shorter than a VMDT header
			v.seal(protocol.FlagAck, []byte{0, 0, 0, 0, 3}), // 3 ranges announced, none present
			v.seal(protocol.FlagPing, []byte{1}),
			v.seal(protocol.FlagClose, dataBody(validShareHeader(10), []byte{1})),
		} {
			badSeqs = append(badSeqs, v.seq)
			v.inject(v.peer, d)
		}
		synctest.Wait()
		if st = v.tr.Stats(); st.DroppedMalformed != 5+9 {
			t.Fatalf("DroppedMalformed = %d, want 14", st.DroppedMalformed)
		}
		requireNoState(t, v.tr)

		// A malformed datagram did not consume its sequence number: a
		// valid datagram under the same number is accepted.
		v.seq = badSeqs[0] - 1
		v.inject(v.peer, v.seal(protocol.FlagPing, nil))
		synctest.Wait()
		if st = v.tr.Stats(); st.DroppedReplay != 0 || st.AcksSent != 1 {
			t.Fatalf("valid PING after malformed: replay drops %d, ACKs %d; want 0, 1", st.DroppedReplay, st.AcksSent)
		}
	})
}

func TestReplayedDatagramsDropped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		nw := rdttest.NewNetwork(6)
		ca, _ := nw.Listen("a")
		cb, _ := nw.Listen("b")
		a, _ := New(ca, nil)
		b, _ := New(cb, nil)
		defer a.Close()
		defer b.Close()
		a.AddPeer(cb.LocalAddr(), 1, testKey, true)
		b.AddPeer(ca.LocalAddr(), 1, testKey, false)
		var captured [][]byte
		nw.SetTap(func(from, to net.Addr, d []byte) {
			if from.String() == "a" {
				captured = append(captured, d)
			}
		})
		h := validShareHeader(0)
		share := make([]byte, 50_000)
		for i := range share {
			share[i] = byte(i)
		}
		if err := a.Send(context.Background(), cb.LocalAddr(), h, share); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Receive(context.Background()); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		nw.SetTap(nil)
		before := b.Stats()
		for _, d := range captured {
			nw.Inject(ca.LocalAddr(), cb.LocalAddr(), d)
		}
		synctest.Wait()
		after := b.Stats()
		if got := after.DroppedReplay - before.DroppedReplay; got != uint64(len(captured)) {
			t.Fatalf("%d of %d replayed datagrams dropped as replays", got, len(captured))
		}
		if after.SharesReceived != 1 || after.InboundTransfers != 0 || after.DuplicateSegments != before.DuplicateSegments {
			t.Fatalf("replay changed state: %+v", after)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if _, err := b.Receive(ctx); err == nil {
			t.Fatal("a replayed share was delivered again")
		}
	})
}

// TestBogusDatagramsDoNotAllocate feeds the read path bogus datagrams of
// every kind that is dropped before the session lock and checks that
// nothing is allocated for them.
func TestBogusDatagramsDoNotAllocate(t *testing.T) {
	v := newVictim(t, nil)
	good := protocol.AppendRDTHeader(nil, protocol.RDTHeader{Flags: protocol.FlagData, KeyID: 1, Seq: 1})
	unknownKey := protocol.AppendRDTHeader(nil, protocol.RDTHeader{Flags: protocol.FlagData, KeyID: 77, Seq: 1})
	replayed := v.seal(protocol.FlagPing, nil)
	sc := &readScratch{key: make([]byte, 0, 64), ack: make([]byte, 0, 2048)}
	feed := func(from net.Addr, d []byte) {
		sc.key = appendAddrKey(sc.key[:0], from)
		v.tr.handleDatagram(append([]byte(nil), d...), sc)
	}
	feed(v.peer, replayed) // accepted once
	cases := map[string]struct {
		from net.Addr
		d    []byte
	}{
		"short":       {v.peer, []byte{1, 1}},
		"bad version": {v.peer, append([]byte{9}, good[1:]...)},
		"unknown key": {v.peer, append(unknownKey, make([]byte, 100)...)},
		"stranger":    {rdttest.Addr("x"), append(good, make([]byte, 100)...)},
		"forged":      {v.peer, append(good, make([]byte, 100)...)},
		"replayed":    {v.peer, replayed},
	}
	for name, c := range cases {
		buf := make([]byte, len(c.d))
		allocs := testing.AllocsPerRun(100, func() {
			copy(buf, c.d)
			sc.key = appendAddrKey(sc.key[:0], c.from)
			v.tr.handleDatagram(buf, sc)
		})
		if allocs != 0 {
			t.Errorf("%s: %.1f allocations per datagram", name, allocs)
		}
	}
	if st := v.tr.Stats(); st.InboundTransfers != 0 || st.ReassemblyBytes != 0 {
		t.Fatalf("state created: %+v", st)
	}
}

// A sender that abandons a transfer before any of it arrived sends a CLOSE
// carrying the transfer's header. The receiver reports it as a failed
// inbound transfer (a relay stops its forward on that) and refuses data of
// that transfer that arrives later.
func TestNoticeForUnseenTransfer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		failed := make(chan protocol.VMDTHeader, 4)
		v := newVictim(t, &Config{OnInboundFailed: func(_ net.Addr, h protocol.VMDTHeader, err error) {
			if !errors.Is(err, ErrAbandoned) {
				t.Errorf("OnInboundFailed err = %v, want ErrAbandoned", err)
			}
			failed <- h
		}})
		h := validShareHeader(10)
		h.MessageID = protocol.MessageID{7}
		v.inject(v.peer, v.seal(protocol.FlagClose, protocol.AppendVMDTHeader(nil, h)))
		synctest.Wait()
		select {
		case got := <-failed:
			if got.MessageID != h.MessageID || got.ShareIndex != h.ShareIndex {
				t.Fatalf("reported %+v, want the abandoned transfer %+v", got, h)
			}
		default:
			t.Fatal("abandoning an unseen transfer was not reported")
		}
		// The same notice again is not reported twice.
		v.inject(v.peer, v.seal(protocol.FlagClose, protocol.AppendVMDTHeader(nil, h)))
		// Data of the abandoned transfer arriving late is refused.
		v.inject(v.peer, v.seal(protocol.FlagData, dataBody(h, make([]byte, 10))))
		synctest.Wait()
		if len(failed) != 0 {
			t.Fatalf("%d more reports, want none", len(failed))
		}
		if st := v.tr.Stats(); st.DroppedAbandoned != 1 {
			t.Fatalf("DroppedAbandoned = %d, want 1", st.DroppedAbandoned)
		}
		requireNoState(t, v.tr)
	})
}
