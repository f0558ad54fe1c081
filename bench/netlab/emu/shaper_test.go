package emu

import (
	"math"
	"net/netip"
	"testing"
	"time"
)

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func TestShaperLossMatchesProbabilityAndRepeats(t *testing.T) {
	const n = 100000
	pattern := func(seed uint64) []bool {
		s := NewShaper(LinkParams{Loss: 0.06}, seed)
		out := make([]bool, n)
		for i := range out {
			_, v := s.Offer(t0, 1200)
			out[i] = v == DropLoss
		}
		return out
	}
	a, b, c := pattern(7), pattern(7), pattern(8)
	lost, same, sameOther := 0, true, true
	for i := range a {
		if a[i] {
			lost++
		}
		same = same && a[i] == b[i]
		sameOther = sameOther && a[i] == c[i]
	}
	if rate := float64(lost) / n; math.Abs(rate-0.06) > 0.003 {
		t.Errorf("loss rate %.4f, want 0.06 +- 0.003", rate)
	}
	if !same {
		t.Error("same seed gave a different loss pattern")
	}
	if sameOther {
		t.Error("different seeds gave the same loss pattern")
	}
}

func TestShaperReseedRepeatsPattern(t *testing.T) {
	s := NewShaper(LinkParams{Loss: 0.5}, 1)
	first := make([]Verdict, 64)
	for i := range first {
		_, first[i] = s.Offer(t0, 100)
	}
	s.Reseed(1)
	for i := range first {
		if _, v := s.Offer(t0, 100); v != first[i] {
			t.Fatalf("packet %d: %v after reseed, %v before", i, v, first[i])
		}
	}
}

func TestShaperDelayOnly(t *testing.T) {
	s := NewShaper(LinkParams{Delay: 5 * time.Millisecond}, 1)
	for i := range 10 {
		now := t0.Add(time.Duration(i) * time.Microsecond)
		at, v := s.Offer(now, 1500)
		if v != Deliver || !at.Equal(now.Add(5*time.Millisecond)) {
			t.Fatalf("packet %d: %v at %v, want deliver at now+5ms", i, v, at.Sub(now))
		}
	}
}

func TestShaperRateSerialisesAndTailDrops(t *testing.T) {
	// 1500 bytes at 12 Mbit/s take exactly 1 ms.
	s := NewShaper(LinkParams{Rate: 12e6, Delay: 5 * time.Millisecond, Queue: 10 * time.Millisecond}, 1)
	for i := range 11 {
		at, v := s.Offer(t0, 1500)
		want := t0.Add(time.Duration(i+1)*time.Millisecond + 5*time.Millisecond)
		if v != Deliver || !at.Equal(want) {
			t.Fatalf("packet %d: %v at +%v, want deliver at +%v", i, v, at.Sub(t0), want.Sub(t0))
		}
	}
	// The 12th would wait 11 ms > 10 ms queue limit.
	if _, v := s.Offer(t0, 1500); v != DropQueue {
		t.Fatalf("12th packet: %v, want drop-queue", v)
	}
	// 20 ms later the bucket has drained completely: no wait.
	later := t0.Add(20 * time.Millisecond)
	if at, v := s.Offer(later, 1500); v != Deliver || !at.Equal(later.Add(6*time.Millisecond)) {
		t.Fatalf("after idle: %v at +%v", v, at.Sub(later))
	}
}

func TestShaperBurstLetsPacketsThroughTogether(t *testing.T) {
	s := NewShaper(LinkParams{Rate: 12e6, Burst: 3000}, 1)
	a, _ := s.Offer(t0, 1500)
	b, _ := s.Offer(t0, 1500)
	c, _ := s.Offer(t0, 1500)
	if !a.Equal(t0.Add(time.Millisecond)) || !b.Equal(t0.Add(time.Millisecond)) || !c.Equal(t0.Add(2*time.Millisecond)) {
		t.Errorf("burst deliveries at +%v +%v +%v, want 1ms 1ms 2ms", a.Sub(t0), b.Sub(t0), c.Sub(t0))
	}
}

func TestShaperDown(t *testing.T) {
	s := NewShaper(LinkParams{}, 1)
	s.SetDown(true)
	if _, v := s.Offer(t0, 10); v != DropDown || !s.Down() {
		t.Fatalf("down link: %v", v)
	}
	s.SetDown(false)
	if _, v := s.Offer(t0, 10); v != Deliver {
		t.Fatalf("link back up: %v", v)
	}
}

func TestDelayQueueFIFO(t *testing.T) {
	var q DelayQueue
	if _, ok := q.Next(); ok {
		t.Fatal("empty queue has a next packet")
	}
	q.Push(t0.Add(2*time.Millisecond), []byte{1})
	q.Push(t0.Add(1*time.Millisecond), []byte{2, 2}) // due earlier, still waits for the first
	q.Push(t0.Add(3*time.Millisecond), []byte{3, 3, 3})
	if q.Len() != 3 || q.Bytes() != 6 {
		t.Fatalf("len %d bytes %d", q.Len(), q.Bytes())
	}
	if _, ok := q.PopDue(t0.Add(1500 * time.Microsecond)); ok {
		t.Fatal("popped before the head was due")
	}
	now := t0.Add(2 * time.Millisecond)
	p1, ok1 := q.PopDue(now)
	p2, ok2 := q.PopDue(now)
	_, ok3 := q.PopDue(now)
	if !ok1 || !ok2 || ok3 || p1[0] != 1 || p2[0] != 2 {
		t.Fatalf("pops: %v %v %v %v %v", p1, ok1, p2, ok2, ok3)
	}
	if next, _ := q.Next(); !next.Equal(t0.Add(3 * time.Millisecond)) {
		t.Fatalf("next = %v", next)
	}
	if n := q.Clear(); n != 1 || q.Len() != 0 || q.Bytes() != 0 {
		t.Fatalf("clear: %d, len %d, bytes %d", n, q.Len(), q.Bytes())
	}
}

func TestDelayQueueStaysBounded(t *testing.T) {
	var q DelayQueue
	for i := range 100000 {
		q.Push(t0, []byte{byte(i)})
		if i%2 == 1 {
			q.PopDue(t0)
			q.PopDue(t0)
		}
	}
	if q.Len() != 0 || cap(q.items) > 4096 {
		t.Errorf("len %d cap %d", q.Len(), cap(q.items))
	}
}

func ipv4(dst string, payload int) []byte {
	total := 20 + payload
	p := make([]byte, total)
	p[0] = 0x45
	p[2], p[3] = byte(total>>8), byte(total)
	p[9] = 17
	a := netip.MustParseAddr(dst).As4()
	copy(p[16:20], a[:])
	return p
}

func TestIPv4Dst(t *testing.T) {
	if a, ok := IPv4Dst(ipv4("10.77.0.2", 100)); !ok || a != netip.MustParseAddr("10.77.0.2") {
		t.Fatalf("got %v %v", a, ok)
	}
	v6 := make([]byte, 60)
	v6[0] = 0x60
	short := ipv4("10.77.0.2", 0)[:19]
	badIHL := ipv4("10.77.0.2", 10)
	badIHL[0] = 0x44
	longTotal := ipv4("10.77.0.2", 10)
	longTotal[3] += 5
	for name, p := range map[string][]byte{"v6": v6, "short": short, "ihl": badIHL, "total": longTotal, "empty": nil} {
		if _, ok := IPv4Dst(p); ok {
			t.Errorf("%s accepted", name)
		}
	}
}

func FuzzIPv4Dst(f *testing.F) {
	f.Add(ipv4("10.77.0.2", 40))
	f.Add(ipv4("10.77.0.11", 0))
	f.Add([]byte{0x46, 0, 0, 24, 0, 0, 0, 0, 64, 6, 0, 0, 10, 77, 0, 1, 10, 77, 0, 2, 1, 1, 1, 1})
	f.Fuzz(func(t *testing.T, p []byte) {
		a, ok := IPv4Dst(p)
		if ok && (!a.Is4() || len(p) < 20 || [4]byte(p[16:20]) != a.As4()) {
			t.Fatalf("IPv4Dst(%x) = %v", p, a)
		}
	})
}
