package emu

import (
	"errors"
	"net/netip"
	"testing"
	"testing/synctest"
	"time"

	"github.com/vmdt/vmdt/bench/netlab/emu/emutest"
)

var (
	addrA = netip.MustParseAddr("10.77.0.1")
	addrB = netip.MustParseAddr("10.77.0.2")
)

// twoHosts builds an emulator with hosts a and b joined by links with
// params p in both directions.
func twoHosts(t *testing.T, p LinkParams, buffer int) (*Emulator, *emutest.Device, *emutest.Device) {
	t.Helper()
	e := New(42)
	a, b := emutest.New(buffer), emutest.New(buffer)
	must(t, e.AddHost("a", addrA, a))
	must(t, e.AddHost("b", addrB, b))
	must(t, e.Connect("a", "b", p))
	must(t, e.Connect("b", "a", p))
	must(t, e.Start())
	return e, a, b
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestEmulatorDeliversAfterDelayAndCounts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e, a, b := twoHosts(t, LinkParams{Delay: 10 * time.Millisecond}, 4)
		defer e.Close()
		start := time.Now()
		pkt := ipv4("10.77.0.2", 1000)
		pkt[20] = 0xab
		a.Inject(pkt)
		got := <-b.Delivered
		if d := time.Since(start); d != 10*time.Millisecond {
			t.Errorf("delivered after %v, want 10ms", d)
		}
		if len(got) != 1020 || got[20] != 0xab {
			t.Errorf("delivered %d bytes, first payload byte %x", len(got), got[20])
		}
		synctest.Wait()
		s := e.Stats().Links[LinkKey{"a", "b"}]
		if s.OfferedPackets != 1 || s.OfferedBytes != 1020 || s.DeliveredPackets != 1 || s.DeliveredBytes != 1020 || s.MaxPacket != 1020 {
			t.Errorf("stats %+v", s)
		}
	})
}

func TestEmulatorRateLimitSpacesPackets(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// 1500-byte packets at 12 Mbit/s: one per millisecond.
		e, a, b := twoHosts(t, LinkParams{Rate: 12e6, Delay: 2 * time.Millisecond}, 16)
		defer e.Close()
		start := time.Now()
		for range 5 {
			a.Inject(ipv4("10.77.0.2", 1480))
		}
		for i := range 5 {
			<-b.Delivered
			if d, want := time.Since(start), time.Duration(i+1)*time.Millisecond+2*time.Millisecond; d != want {
				t.Errorf("packet %d delivered at %v, want %v", i, d, want)
			}
		}
	})
}

func TestEmulatorLossIsCountedAndRepeatable(t *testing.T) {
	run := func() (delivered int, s LinkStats) {
		synctest.Test(t, func(t *testing.T) {
			e, a, b := twoHosts(t, LinkParams{Loss: 0.1, Delay: time.Millisecond}, 2000)
			for range 1000 {
				a.Inject(ipv4("10.77.0.2", 100))
			}
			time.Sleep(5 * time.Millisecond) // fake time: lets the last packets come due
			synctest.Wait()
			delivered = len(b.Delivered)
			s = e.Stats().Links[LinkKey{"a", "b"}]
			must(t, e.Close())
		})
		return
	}
	d1, s1 := run()
	d2, _ := run()
	if s1.OfferedPackets != 1000 || int64(d1) != s1.DeliveredPackets || s1.DeliveredPackets+s1.LostPackets != 1000 {
		t.Errorf("delivered %d, stats %+v", d1, s1)
	}
	if s1.LostPackets < 60 || s1.LostPackets > 140 {
		t.Errorf("lost %d of 1000 at 10%% loss", s1.LostPackets)
	}
	if d1 != d2 {
		t.Errorf("same seed delivered %d then %d", d1, d2)
	}
	if r := s1.LossRate(); r != float64(s1.LostPackets)/1000 {
		t.Errorf("LossRate = %v", r)
	}
}

func TestEmulatorDownLinkAndUnroutable(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e, a, b := twoHosts(t, LinkParams{Delay: 10 * time.Millisecond}, 4)
		defer e.Close()
		a.Inject(ipv4("10.77.0.2", 10)) // in flight when the link goes down
		synctest.Wait()
		must(t, e.SetDown("a", "b", true))
		a.Inject(ipv4("10.77.0.2", 10))
		a.Inject(ipv4("10.77.9.9", 10)) // nobody's address
		a.Inject([]byte{0x60, 0, 0, 0}) // not IPv4
		time.Sleep(20 * time.Millisecond)
		synctest.Wait()
		if len(b.Delivered) != 0 {
			t.Errorf("%d packets crossed a down link", len(b.Delivered))
		}
		snap := e.Stats()
		if s := snap.Links[LinkKey{"a", "b"}]; s.DownPackets != 2 || s.OfferedPackets != 2 {
			t.Errorf("stats %+v", s)
		}
		if snap.Unroutable != 2 {
			t.Errorf("unroutable = %d", snap.Unroutable)
		}
		must(t, e.SetDown("a", "b", false))
		before := time.Now()
		a.Inject(ipv4("10.77.0.2", 10))
		<-b.Delivered
		if time.Since(before) != 10*time.Millisecond {
			t.Errorf("link back up delivered after %v", time.Since(before))
		}
		if d := snap.Sub(Snapshot{Links: map[LinkKey]LinkStats{}}); d.Unroutable != 2 {
			t.Errorf("Sub: %+v", d)
		}
	})
}

func TestEmulatorReconfigureAndErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e, a, b := twoHosts(t, LinkParams{}, 4)
		if err := e.AddHost("c", netip.MustParseAddr("10.77.0.3"), emutest.New(1)); !errors.Is(err, ErrStarted) {
			t.Errorf("AddHost after Start: %v", err)
		}
		if err := e.SetParams("a", "c", LinkParams{}); !errors.Is(err, ErrUnknownLink) {
			t.Errorf("SetParams on unknown link: %v", err)
		}
		must(t, e.SetParams("a", "b", LinkParams{Delay: 3 * time.Millisecond}))
		start := time.Now()
		a.Inject(ipv4("10.77.0.2", 10))
		<-b.Delivered
		if d := time.Since(start); d != 3*time.Millisecond {
			t.Errorf("after SetParams delivered in %v", d)
		}
		must(t, e.Close())
		must(t, e.Close())
		if a.Inject(ipv4("10.77.0.2", 10)) {
			t.Error("device still open after Close")
		}
	})
	e := New(1)
	must(t, e.AddHost("a", addrA, emutest.New(1)))
	if err := e.AddHost("b", addrA, emutest.New(1)); !errors.Is(err, ErrDuplicate) {
		t.Errorf("duplicate address: %v", err)
	}
	if err := e.Connect("a", "a", LinkParams{}); !errors.Is(err, ErrUnknownHost) {
		t.Errorf("self link: %v", err)
	}
	must(t, e.Close())
}
