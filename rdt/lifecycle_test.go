package rdt_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"testing/synctest"
	"time"

	"github.com/vmdt/vmdt/protocol"
	"github.com/vmdt/vmdt/rdt"
	"github.com/vmdt/vmdt/rdt/rdttest"
)

// TestPerPeerCap: a share larger than the per-peer reassembly cap is
// never admitted; the sender times out (the peer is alive, so not
// ErrPeerUnreachable) and the receiver holds nothing.
func TestPerPeerCap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		nw := rdttest.NewNetwork(11)
		const timeout = 2 * time.Second
		a := newEndpoint(t, nw, "a", &rdt.Config{TransferTimeout: timeout})
		b := newEndpoint(t, nw, "b", &rdt.Config{MaxReassemblyPerPeer: 64 << 10, TransferTimeout: timeout})
		connect(t, a, b, 1)
		stop, stopped := make(chan struct{}), make(chan struct{})
		go func() {
			// Keep the peer audibly alive: small shares that fit.
			defer close(stopped)
			for i := 0; ; i++ {
				a.Send(context.Background(), b.addr, shareHeader(uint64(500+i), 1), []byte("ping"))
				b.Receive(context.Background())
				select {
				case <-stop:
					return
				case <-time.After(200 * time.Millisecond):
				}
			}
		}()
		err := a.Send(context.Background(), b.addr, shareHeader(1, 1), randomShare(12, 100<<10))
		close(stop)
		<-stopped
		if !errors.Is(err, rdt.ErrTimeout) || errors.Is(err, rdt.ErrPeerUnreachable) {
			t.Fatalf("Send over the cap: %v, want ErrTimeout without ErrPeerUnreachable", err)
		}
		st := b.Stats()
		if st.DroppedOverCap == 0 {
			t.Fatal("no datagram dropped over the cap")
		}
		if st.ReassemblyBytes > 64<<10 {
			t.Fatalf("%d bytes reserved, over the cap", st.ReassemblyBytes)
		}
	})
}

// TestTotalCapAndBackpressure: two peers each send a share that fits the
// per-peer cap, but together they exceed the total cap. The receiving
// application does not read at first, so the second share waits (its
// sender probes the closed window) and completes once the first is taken.
func TestTotalCapAndBackpressure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		nw := rdttest.NewNetwork(12)
		nw.SetDefault(rdttest.Link{Delay: 5 * time.Millisecond})
		const share = 200 << 10
		b := newEndpoint(t, nw, "b", &rdt.Config{MaxReassemblyPerPeer: 300 << 10, MaxReassemblyTotal: 300 << 10})
		a1 := newEndpoint(t, nw, "a1", nil)
		a2 := newEndpoint(t, nw, "a2", nil)
		connect(t, a1, b, 1)
		connect(t, a2, b, 2)
		d1, d2 := randomShare(13, share), randomShare(14, share)
		h1, h2 := shareHeader(1, 1), shareHeader(2, 1)
		if err := a1.Send(context.Background(), b.addr, h1, d1); err != nil {
			t.Fatal(err)
		}
		done2 := make(chan error, 1)
		go func() { done2 <- a2.Send(context.Background(), b.addr, h2, d2) }()
		time.Sleep(3 * time.Second) // fake time
		select {
		case err := <-done2:
			t.Fatalf("second share completed (%v) while the first fills the cap", err)
		default:
		}
		st := b.Stats()
		if st.ReassemblyBytes > 300<<10 || st.DroppedOverCap == 0 {
			t.Fatalf("receiver: %d bytes reserved, %d over-cap drops", st.ReassemblyBytes, st.DroppedOverCap)
		}
		receiveShare(t, b, d1, h1)
		if err := <-done2; err != nil {
			t.Fatalf("second share after the first was taken: %v", err)
		}
		receiveShare(t, b, d2, h2)
	})
}

// TestZeroWindowProbe: a receiver whose memory is full of a share the
// application has not taken advertises a zero window; the sender probes it
// and resumes when the application reads.
func TestZeroWindowProbe(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		nw := rdttest.NewNetwork(13)
		nw.SetDefault(rdttest.Link{Delay: 5 * time.Millisecond})
		// Room for exactly one 100 KiB share with its bookkeeping.
		b := newEndpoint(t, nw, "b", &rdt.Config{MaxReassemblyPerPeer: 100<<10 + 256})
		a := newEndpoint(t, nw, "a", nil)
		connect(t, a, b, 1)
		d1, d2 := randomShare(15, 100<<10), randomShare(16, 100<<10)
		if err := a.Send(context.Background(), b.addr, shareHeader(1, 1), d1); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- a.Send(context.Background(), b.addr, shareHeader(2, 1), d2) }()
		time.Sleep(2 * time.Second)
		if st := a.Stats(); st.PingsSent == 0 || st.DataSent != 93 {
			t.Fatalf("sender with a closed window: %d probes, %d data datagrams (want > 0, 93)", st.PingsSent, st.DataSent)
		}
		receiveShare(t, b, d1, shareHeader(1, 1))
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		receiveShare(t, b, d2, shareHeader(2, 1))
	})
}

// TestInboundExpiry: a sender that vanishes mid-transfer leaves a partial
// share that the receiver frees after TransferTimeout and reports.
func TestInboundExpiry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		nw := rdttest.NewNetwork(14)
		nw.SetDefault(rdttest.Link{Delay: 5 * time.Millisecond, Rate: 1 << 20})
		const timeout = 4 * time.Second
		failed := make(chan error, 1)
		b := newEndpoint(t, nw, "b", &rdt.Config{
			TransferTimeout: timeout,
			OnInboundFailed: func(_ net.Addr, _ protocol.VMDTHeader, err error) { failed <- err },
		})
		a := newEndpoint(t, nw, "a", &rdt.Config{TransferTimeout: time.Hour})
		connect(t, a, b, 1)
		go a.Send(context.Background(), b.addr, shareHeader(1, 1), randomShare(17, 1<<20))
		time.Sleep(200 * time.Millisecond)
		nw.SetLink(a.addr, b.addr, rdttest.Link{Loss: 1})
		cut := time.Now()
		err := <-failed
		if !errors.Is(err, rdt.ErrTimeout) {
			t.Fatalf("inbound failure %v, want ErrTimeout", err)
		}
		if el := time.Since(cut); el < timeout || el > timeout+500*time.Millisecond {
			t.Fatalf("freed %v after the sender vanished, want about %v", el, timeout)
		}
		if st := b.Stats(); st.InboundExpired != 1 || st.InboundTransfers != 0 || st.ReassemblyBytes != 0 {
			t.Fatalf("receiver after expiry: %+v", st)
		}
	})
}

// TestRekeyUsesNewestKey: with two keys for one address, Send uses the one
// added last; removing the old key leaves the new one working.
func TestRekeyUsesNewestKey(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		nw := rdttest.NewNetwork(15)
		a := newEndpoint(t, nw, "a", nil)
		b := newEndpoint(t, nw, "b", nil)
		connect(t, a, b, 1)
		connect(t, a, b, 2)
		h := shareHeader(1, 1)
		if err := a.Send(context.Background(), b.addr, h, []byte("new key")); err != nil {
			t.Fatal(err)
		}
		d := receiveShare(t, b, []byte("new key"), h)
		if d.KeyID != 2 {
			t.Fatalf("share arrived under key %d, want 2", d.KeyID)
		}
		a.RemovePeer(b.addr, 1)
		synctest.Wait()
		if sa, sb := a.Stats(), b.Stats(); sa.Peers != 1 || sb.Peers != 1 {
			t.Fatalf("after removing key 1: %d and %d sessions, want 1 and 1 (CLOSE reached b)", sa.Peers, sb.Peers)
		}
		h2 := shareHeader(2, 1)
		if err := a.Send(context.Background(), b.addr, h2, []byte("still")); err != nil {
			t.Fatal(err)
		}
		receiveShare(t, b, []byte("still"), h2)
		a.RemovePeer(b.addr, 2)
		if err := a.Send(context.Background(), b.addr, h2, []byte("x")); !errors.Is(err, rdt.ErrUnknownPeer) {
			t.Fatalf("Send without a session: %v, want ErrUnknownPeer", err)
		}
		if err := a.AddPeer(b.addr, 3, [32]byte{}, true); err != nil {
			t.Fatal(err)
		}
		if err := a.AddPeer(b.addr, 3, [32]byte{}, true); !errors.Is(err, rdt.ErrPeerExists) {
			t.Fatalf("second AddPeer: %v, want ErrPeerExists", err)
		}
	})
}

// TestRemovePeerFailsTransfers: removing a peer fails its pending sends
// with ErrPeerClosed, and the CLOSE makes the far end drop its partial
// share too.
func TestRemovePeerFailsTransfers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		nw := rdttest.NewNetwork(16)
		nw.SetDefault(rdttest.Link{Delay: 5 * time.Millisecond, Rate: 1 << 20})
		failed := make(chan error, 1)
		b := newEndpoint(t, nw, "b", &rdt.Config{
			OnInboundFailed: func(_ net.Addr, _ protocol.VMDTHeader, err error) { failed <- err },
		})
		a := newEndpoint(t, nw, "a", nil)
		connect(t, a, b, 1)
		done := make(chan error, 1)
		go func() { done <- a.Send(context.Background(), b.addr, shareHeader(1, 1), randomShare(18, 1<<20)) }()
		time.Sleep(100 * time.Millisecond)
		a.RemovePeer(b.addr, 1)
		if err := <-done; !errors.Is(err, rdt.ErrPeerClosed) {
			t.Fatalf("Send: %v, want ErrPeerClosed", err)
		}
		if err := <-failed; !errors.Is(err, rdt.ErrPeerClosed) {
			t.Fatalf("far end reported %v, want ErrPeerClosed", err)
		}
		synctest.Wait()
		if st := b.Stats(); st.Peers != 0 || st.ReassemblyBytes != 0 {
			t.Fatalf("far end after CLOSE: %+v", st)
		}
	})
}

// TestCloseFailsPending: Close fails pending Sends and Receives with an
// error wrapping net.ErrClosed, and is idempotent.
func TestCloseFailsPending(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		nw := rdttest.NewNetwork(17)
		a := newEndpoint(t, nw, "a", nil)
		b := newEndpoint(t, nw, "b", nil)
		connect(t, a, b, 1)
		nw.SetLink(a.addr, b.addr, rdttest.Link{Loss: 1})
		sendDone := make(chan error, 1)
		go func() { sendDone <- a.Send(context.Background(), b.addr, shareHeader(1, 1), randomShare(19, 10_000)) }()
		recvDone := make(chan error, 1)
		go func() {
			_, err := a.Receive(context.Background())
			recvDone <- err
		}()
		time.Sleep(time.Second)
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
		if err := a.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		for _, err := range []error{<-sendDone, <-recvDone} {
			if !errors.Is(err, net.ErrClosed) || !errors.Is(err, rdt.ErrClosed) {
				t.Fatalf("pending call returned %v, want net.ErrClosed", err)
			}
		}
		if err := a.Send(context.Background(), b.addr, shareHeader(2, 1), nil); !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Send after Close: %v", err)
		}
		if err := a.AddPeer(b.addr, 9, [32]byte{}, true); !errors.Is(err, net.ErrClosed) {
			t.Fatalf("AddPeer after Close: %v", err)
		}
	})
}

func TestInvalidArguments(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		nw := rdttest.NewNetwork(18)
		a := newEndpoint(t, nw, "a", &rdt.Config{MaxShareLen: 1000})
		b := newEndpoint(t, nw, "b", nil)
		connect(t, a, b, 1)
		bad := shareHeader(1, 1)
		bad.K = 1
		if err := a.Send(context.Background(), b.addr, bad, []byte("x")); !errors.Is(err, rdt.ErrInvalidHeader) {
			t.Fatalf("bad header: %v", err)
		}
		if err := a.Send(context.Background(), b.addr, shareHeader(1, 1), make([]byte, 1001)); !errors.Is(err, rdt.ErrShareTooLarge) {
			t.Fatalf("large share: %v", err)
		}
		if _, err := rdt.New(nil, &rdt.Config{MaxDatagram: 100}); err == nil {
			t.Fatal("MaxDatagram 100 accepted")
		}
		h := shareHeader(2, 1)
		h.ShareLen = 10
		o, err := a.OpenSend(b.addr, h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.OpenSend(b.addr, h); !errors.Is(err, rdt.ErrTransferExists) {
			t.Fatalf("second OpenSend of one transfer: %v", err)
		}
		if _, err := o.WriteAt([]byte("x"), -1); !errors.Is(err, rdt.ErrRange) {
			t.Fatalf("negative offset: %v", err)
		}
		o.Abandon()
		if err := o.Wait(context.Background()); !errors.Is(err, rdt.ErrAbandoned) {
			t.Fatalf("abandoned transfer: %v", err)
		}
		if _, err := o.WriteAt([]byte("x"), 0); !errors.Is(err, rdt.ErrAbandoned) {
			t.Fatalf("write after abandon: %v", err)
		}
	})
}
