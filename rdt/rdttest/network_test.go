package rdttest

import (
	"bytes"
	"errors"
	"net"
	"os"
	"testing"
	"testing/synctest"
	"time"
)

// run sends n numbered datagrams from a to b over a link with rule l and
// returns what b read, in order, and when each arrived relative to start.
func run(t *testing.T, seed uint64, l Link, n int) ([][]byte, []time.Duration, LinkStats) {
	var (
		got   [][]byte
		times []time.Duration
		st    LinkStats
	)
	synctest.Test(t, func(t *testing.T) {
		nw := NewNetwork(seed)
		a, _ := nw.Listen("a")
		b, _ := nw.Listen("b")
		nw.SetLink(a.LocalAddr(), b.LocalAddr(), l)
		start := time.Now()
		for i := 0; i < n; i++ {
			if _, err := a.WriteTo([]byte{byte(i), byte(i >> 8), 0xAA, 0x55}, b.LocalAddr()); err != nil {
				t.Fatal(err)
			}
		}
		b.SetReadDeadline(start.Add(time.Minute))
		buf := make([]byte, 64)
		for {
			k, from, err := b.ReadFrom(buf)
			if errors.Is(err, os.ErrDeadlineExceeded) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if from.String() != "a" {
				t.Fatalf("from %v", from)
			}
			got = append(got, append([]byte(nil), buf[:k]...))
			times = append(times, time.Since(start))
		}
		st = nw.Stats(a.LocalAddr(), b.LocalAddr())
		a.Close()
		b.Close()
	})
	return got, times, st
}

func TestDeterministic(t *testing.T) {
	l := Link{Loss: 0.2, Duplicate: 0.1, Corrupt: 0.1, Reorder: 0.1, Delay: 10 * time.Millisecond, Jitter: 5 * time.Millisecond}
	g1, t1, _ := run(t, 7, l, 500)
	g2, t2, _ := run(t, 7, l, 500)
	if len(g1) != len(g2) {
		t.Fatalf("same seed: %d and %d datagrams", len(g1), len(g2))
	}
	for i := range g1 {
		if !bytes.Equal(g1[i], g2[i]) || t1[i] != t2[i] {
			t.Fatalf("same seed, datagram %d differs", i)
		}
	}
	g3, _, _ := run(t, 8, l, 500)
	same := len(g3) == len(g1)
	for i := 0; same && i < len(g1); i++ {
		same = bytes.Equal(g1[i], g3[i])
	}
	if same {
		t.Fatal("different seeds gave the same run")
	}
}

func TestLossAndDelay(t *testing.T) {
	got, times, st := run(t, 1, Link{Loss: 0.25, Delay: 30 * time.Millisecond}, 2000)
	if st.Sent != 2000 || st.Lost+st.Delivered != 2000 {
		t.Fatalf("stats %+v", st)
	}
	if frac := float64(st.Lost) / 2000; frac < 0.2 || frac > 0.3 {
		t.Fatalf("lost %.1f%%, want about 25%%", 100*frac)
	}
	if len(got) != int(st.Delivered) {
		t.Fatalf("read %d, delivered %d", len(got), st.Delivered)
	}
	for i, d := range times {
		if d != 30*time.Millisecond {
			t.Fatalf("datagram %d arrived after %v, want 30ms", i, d)
		}
	}
	index := func(d []byte) int { return int(d[0]) | int(d[1])<<8 }
	for i := 1; i < len(got); i++ {
		if index(got[i]) <= index(got[i-1]) {
			t.Fatal("reordered without a reorder rule")
		}
	}
}

func TestDuplicateCorruptReorder(t *testing.T) {
	got, _, st := run(t, 2, Link{Duplicate: 1}, 100)
	if len(got) != 200 || st.Duplicated != 100 {
		t.Fatalf("duplicate: read %d, stats %+v", len(got), st)
	}
	got, _, st = run(t, 3, Link{Corrupt: 1}, 100)
	for i, d := range got {
		orig := []byte{byte(i), 0, 0xAA, 0x55}
		diff := 0
		for j := range d {
			for x := d[j] ^ orig[j]; x != 0; x &= x - 1 {
				diff++
			}
		}
		if diff != 1 {
			t.Fatalf("corrupt: datagram %d differs in %d bits", i, diff)
		}
	}
	if st.Corrupted != 100 {
		t.Fatalf("corrupt stats %+v", st)
	}
	got, _, st = run(t, 4, Link{Reorder: 0.3, Delay: time.Millisecond}, 200)
	inversions := 0
	for i := 1; i < len(got); i++ {
		if got[i][0] < got[i-1][0] {
			inversions++
		}
	}
	if st.Reordered == 0 || inversions == 0 || len(got) != 200 {
		t.Fatalf("reorder: %d inversions, stats %+v", inversions, st)
	}
}

func TestRateLimitAndQueue(t *testing.T) {
	// 100 datagrams of 4 bytes at 4000 B/s: one per millisecond, with a
	// queue of 40 bytes (10 datagrams); the rest are dropped.
	got, times, st := run(t, 5, Link{Rate: 4000, QueueBytes: 40}, 100)
	if st.QueueDrops == 0 || len(got)+int(st.QueueDrops) != 100 {
		t.Fatalf("rate limit: read %d, stats %+v", len(got), st)
	}
	for i := 1; i < len(times); i++ {
		if times[i]-times[i-1] != time.Millisecond {
			t.Fatalf("datagrams %d and %d %v apart, want 1ms", i-1, i, times[i]-times[i-1])
		}
	}
}

func TestBlackoutAndClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		nw := NewNetwork(6)
		a, _ := nw.Listen("a")
		b, _ := nw.Listen("b")
		if _, err := nw.Listen("a"); err == nil {
			t.Fatal("address reused")
		}
		nw.Blackout(a.LocalAddr(), b.LocalAddr(), time.Second)
		a.WriteTo([]byte("lost"), b.LocalAddr())
		b.WriteTo([]byte("lost"), a.LocalAddr())
		time.Sleep(time.Second)
		a.WriteTo([]byte("ok"), b.LocalAddr())
		buf := make([]byte, 8)
		n, _, err := b.ReadFrom(buf)
		if err != nil || string(buf[:n]) != "ok" {
			t.Fatalf("after the blackout: %q, %v", buf[:n], err)
		}
		if st := nw.Stats(a.LocalAddr(), b.LocalAddr()); st.Blackout != 1 {
			t.Fatalf("stats %+v", st)
		}
		done := make(chan error)
		go func() {
			_, _, err := b.ReadFrom(buf)
			done <- err
		}()
		synctest.Wait()
		b.Close()
		if err := <-done; !errors.Is(err, net.ErrClosed) {
			t.Fatalf("read on a closed conn: %v", err)
		}
		if _, err := b.WriteTo([]byte("x"), a.LocalAddr()); !errors.Is(err, net.ErrClosed) {
			t.Fatalf("write on a closed conn: %v", err)
		}
		a.WriteTo([]byte("x"), b.LocalAddr()) // nobody listens: vanishes
		if st := nw.Stats(a.LocalAddr(), b.LocalAddr()); st.NoListener != 1 {
			t.Fatalf("stats %+v", st)
		}
		a.Close()
	})
}
