package rdt_test

import (
	"bytes"
	"context"
	"math/rand/v2"
	"net"
	"testing"
	"time"

	"github.com/vmdt/vmdt/protocol"
	"github.com/vmdt/vmdt/rdt"
	"github.com/vmdt/vmdt/rdt/rdttest"
)

// endpoint is a transport under test and the address peers reach it at.
type endpoint struct {
	*rdt.Transport
	addr net.Addr
}

// newEndpoint starts a transport on a fresh Conn of nw and closes it when
// the test ends.
func newEndpoint(t testing.TB, nw *rdttest.Network, name string, cfg *rdt.Config) *endpoint {
	t.Helper()
	c, err := nw.Listen(name)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := rdt.New(c, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	return &endpoint{Transport: tr, addr: c.LocalAddr()}
}

// connect gives a and b a session with a key derived from keyID.
func connect(t testing.TB, a, b *endpoint, keyID uint32) {
	t.Helper()
	var key [32]byte
	copy(key[:], randomShare(uint64(keyID)+1000, 32))
	if err := a.AddPeer(b.addr, keyID, key, true); err != nil {
		t.Fatal(err)
	}
	if err := b.AddPeer(a.addr, keyID, key, false); err != nil {
		t.Fatal(err)
	}
}

// shareHeader returns a valid VMDT header for share index idx of message
// msg.
func shareHeader(msg uint64, idx uint8) protocol.VMDTHeader {
	h := protocol.VMDTHeader{Type: protocol.TypeShare, ShareIndex: idx, N: 5, K: 3}
	for i := range h.MessageID {
		h.MessageID[i] = byte(msg >> (8 * i))
	}
	h.Src[0], h.Dst[0] = 0xAA, 0xBB
	return h
}

// randomShare returns n pseudo-random bytes.
func randomShare(seed uint64, n int) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(seed, 7))
	for i := 0; i < n; i += 8 {
		v := r.Uint64()
		for j := i; j < n && j < i+8; j++ {
			b[j] = byte(v >> (8 * (j - i)))
		}
	}
	return b
}

// receiveShare waits for the next delivery and checks it against want.
func receiveShare(t testing.TB, ep *endpoint, want []byte, h protocol.VMDTHeader) rdt.Delivery {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	d, err := ep.Receive(ctx)
	if err != nil {
		t.Fatalf("Receive: %v", err)
	}
	checkDelivery(t, d, want, h)
	return d
}

func checkDelivery(t testing.TB, d rdt.Delivery, want []byte, h protocol.VMDTHeader) {
	t.Helper()
	if d.Header.MessageID != h.MessageID || d.Header.ShareIndex != h.ShareIndex || d.Header.ShareLen != uint32(len(want)) {
		t.Fatalf("delivery header %+v, want message %v share %d len %d", d.Header, h.MessageID, h.ShareIndex, len(want))
	}
	if !bytes.Equal(d.Share, want) {
		t.Fatalf("share of %d bytes differs from the %d sent", len(d.Share), len(want))
	}
}
