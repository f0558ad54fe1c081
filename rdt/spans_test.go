package rdt

import (
	"math/rand/v2"
	"testing"
)

// spanModel is a bitmap over [0, 256) that spanSet is checked against.
type spanModel [256]bool

func (m *spanModel) check(t *testing.T, r *spanSet, step string) {
	t.Helper()
	var total uint64
	for i, x := range r.s {
		if x.lo >= x.hi {
			t.Fatalf("%s: empty span %v", step, x)
		}
		if i > 0 && r.s[i-1].hi >= x.lo {
			t.Fatalf("%s: spans %v and %v overlap or touch", step, r.s[i-1], x)
		}
		total += x.hi - x.lo
	}
	if total != r.total {
		t.Fatalf("%s: total %d, spans hold %d", step, r.total, total)
	}
	for v := range m {
		in := r.covers(uint64(v), uint64(v)+1)
		if in != m[v] {
			t.Fatalf("%s: value %d in set = %v, model %v (spans %v)", step, v, in, m[v], r.s)
		}
	}
}

func runSpanOps(t *testing.T, ops []byte) {
	var r spanSet
	var m spanModel
	for len(ops) >= 3 {
		op, a, b := ops[0]%5, uint64(ops[1]), uint64(ops[2])
		ops = ops[3:]
		lo, hi := min(a, b), max(a, b)
		switch op {
		case 0, 1: // add, the most common operation
			var fresh uint64
			last := lo
			n := r.addNew(lo, hi, func(flo, fhi uint64) {
				if flo < last || flo >= fhi {
					t.Fatalf("fresh [%d,%d) out of order after %d", flo, fhi, last)
				}
				for v := flo; v < fhi; v++ {
					if m[v] {
						t.Fatalf("fresh value %d was already present", v)
					}
				}
				fresh += fhi - flo
				last = fhi
			})
			var want uint64
			for v := lo; v < hi; v++ {
				if !m[v] {
					want++
					m[v] = true
				}
			}
			if n != want || fresh != want {
				t.Fatalf("add [%d,%d): added %d, fresh %d, want %d", lo, hi, n, fresh, want)
			}
		case 2:
			n := r.remove(lo, hi)
			var want uint64
			for v := lo; v < hi; v++ {
				if m[v] {
					want++
					m[v] = false
				}
			}
			if n != want {
				t.Fatalf("remove [%d,%d): removed %d, want %d", lo, hi, n, want)
			}
		case 3:
			var got []uint64
			r.gaps(lo, hi, func(glo, ghi uint64) {
				for v := glo; v < ghi; v++ {
					got = append(got, v)
				}
			})
			var want []uint64
			for v := lo; v < hi; v++ {
				if !m[v] {
					want = append(want, v)
				}
			}
			if len(got) != len(want) {
				t.Fatalf("gaps [%d,%d) = %v, want %v", lo, hi, got, want)
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("gaps [%d,%d) = %v, want %v", lo, hi, got, want)
				}
			}
		case 4:
			flo, fhi, ok := r.takeFront(b%16 + 1)
			if !ok {
				if r.total != 0 {
					t.Fatal("takeFront failed on a non-empty set")
				}
				break
			}
			for v := uint64(0); v < flo; v++ {
				if m[v] {
					t.Fatalf("takeFront returned [%d,%d) but %d is lower", flo, fhi, v)
				}
			}
			for v := flo; v < fhi; v++ {
				if !m[v] {
					t.Fatalf("takeFront returned absent %d", v)
				}
				m[v] = false
			}
		}
		m.check(t, &r, "after op")
	}
}

func TestSpanSetRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 300; i++ {
		ops := make([]byte, 3*200)
		for j := range ops {
			ops[j] = byte(rng.IntN(256))
		}
		runSpanOps(t, ops)
	}
}

func TestSpanSetRemoveBelow(t *testing.T) {
	var r spanSet
	r.add(10, 20)
	r.add(30, 40)
	r.removeBelow(35)
	if r.len() != 5 || !r.covers(35, 40) || r.covers(34, 35) {
		t.Fatalf("after removeBelow(35): %v", r.s)
	}
}

func FuzzSpanSet(f *testing.F) {
	f.Add([]byte{0, 10, 20, 0, 30, 40, 2, 15, 35, 3, 0, 50, 4, 0, 3})
	f.Fuzz(func(t *testing.T, ops []byte) { runSpanOps(t, ops) })
}
