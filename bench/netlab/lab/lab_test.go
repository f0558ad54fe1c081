package lab

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/vmdt/vmdt/bench/netlab/emu"
)

func TestHopParamsCompose(t *testing.T) {
	p := PathProfile{RTT: 20 * time.Millisecond, Loss: 0.06, Rate: 20e6}
	hop := HopParams(p, 2)
	if hop.Delay != 5*time.Millisecond || hop.Rate != 20e6 {
		t.Errorf("hop %+v", hop)
	}
	if got := 1 - (1-hop.Loss)*(1-hop.Loss); math.Abs(got-0.06) > 1e-12 {
		t.Errorf("two hops compose to loss %v, want 0.06", got)
	}
	if d := HopParams(p, 1); d.Delay != 10*time.Millisecond || math.Abs(d.Loss-0.06) > 1e-12 {
		t.Errorf("direct %+v", d)
	}
}

func TestLinkNaming(t *testing.T) {
	if relayIndex(emu.LinkKey{From: "sender", To: "relay7"}) != 7 || relayIndex(emu.LinkKey{From: "relay3", To: "receiver"}) != 3 {
		t.Error("relayIndex")
	}
	if relayIndex(emu.LinkKey{From: "sender", To: "receiver"}) != 0 || !IsDirect(emu.LinkKey{From: "receiver", To: "sender"}) {
		t.Error("direct link")
	}
	if IsDirect(emu.LinkKey{From: "sender", To: "relay1"}) {
		t.Error("relay link taken as direct")
	}
}

func TestProbeLossEstimates(t *testing.T) {
	r := ProbeResult{Sent: 1000, Received: 884} // 11.6% round trip = 6% each way
	if got := r.OneWayLoss(); math.Abs(got-0.06) > 0.001 {
		t.Errorf("one-way loss %v", got)
	}
	if (ProbeResult{}).RoundTripLoss() != 0 {
		t.Error("empty probe")
	}
}

// newTestLab builds a lab or skips the test when this machine cannot.
func newTestLab(t *testing.T, relays int) *Lab {
	t.Helper()
	if err := Check(); err != nil {
		t.Skipf("skipping root-only lab test: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	l, err := New(ctx, Spec{Relays: relays, Seed: 1, Prefix: "vmdtlabtest"})
	if errors.Is(err, ErrUnsupported) {
		t.Skipf("skipping: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestSmokeTwoHostLab is the root-only end-to-end check: it builds a
// sender and a receiver joined by the TUN emulator at 20 ms RTT and 6%
// loss, checks the achieved RTT and loss are near what was configured,
// moves 70 KB over TCP and tears the lab down.
func TestSmokeTwoHostLab(t *testing.T) {
	l := newTestLab(t, 0)
	names := []string{l.Sender.NetnsPath(), l.Receiver.NetnsPath()}
	defer func() {
		if err := l.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
		for _, n := range names {
			if _, err := os.Stat(n); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("namespace %s still exists after Close", n)
			}
		}
	}()
	const loss = 0.06
	if err := l.SetPaths(Paths{Direct: PathProfile{RTT: 20 * time.Millisecond, Loss: loss}}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	before := l.Stats()
	pr, err := l.Probe(ctx, l.Sender, l.Receiver, 300, 2*time.Millisecond, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("probe: sent %d received %d, RTT p50 %v min %v max %v", pr.Sent, pr.Received, pr.RTT.P50, pr.RTT.Min, pr.RTT.P99)
	if pr.RTT.P50 < 19*time.Millisecond || pr.RTT.P50 > 60*time.Millisecond {
		t.Errorf("probe RTT p50 %v, configured 20ms", pr.RTT.P50)
	}
	if rt := pr.RoundTripLoss(); rt < 0.03 || rt > 0.25 {
		t.Errorf("probe round-trip loss %.3f, configured one-way %.2f (round trip %.3f)", rt, loss, 1-(1-loss)*(1-loss))
	}
	delta := l.Stats().Sub(before)
	if fwd := delta.Links[emu.LinkKey{From: SenderName, To: ReceiverName}]; fwd.OfferedPackets != int64(pr.Sent) {
		t.Errorf("emulator saw %d requests for %d probes sent", fwd.OfferedPackets, pr.Sent)
	}
	counted := delta.Total(IsDirect)
	if r := counted.LossRate(); r < 0.02 || r > 0.12 {
		t.Errorf("emulator-counted loss %.3f, configured %.2f", r, loss)
	}

	// 70 KB over TCP from sender to receiver.
	payload := make([]byte, 70_800)
	_, _ = rand.NewChaCha8([32]byte{1}).Read(payload)
	var ln net.Listener
	if err := l.Receiver.Do(func() (err error) {
		ln, err = net.Listen("tcp4", netip.AddrPortFrom(l.Receiver.Addr, 0).String())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan []byte, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- nil
			return
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(15 * time.Second))
		b, _ := io.ReadAll(c)
		got <- b
	}()
	var conn net.Conn
	if err := l.Sender.Do(func() (err error) {
		conn, err = (&net.Dialer{}).DialContext(ctx, "tcp4", ln.Addr().String())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := conn.Write(payload); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	b := <-got
	t.Logf("TCP moved %d bytes in %v", len(b), time.Since(start))
	if !bytes.Equal(b, payload) {
		t.Fatalf("receiver got %d bytes, want the %d sent", len(b), len(payload))
	}
	if m := l.Stats().Total(IsDirect).MaxPacket; m > 1500 {
		t.Errorf("largest packet on the wire %d bytes > MTU: offloads leaked through", m)
	}
}
