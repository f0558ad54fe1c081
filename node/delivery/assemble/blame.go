package assemble

import (
	"bytes"
	"fmt"

	"github.com/klauspost/reedsolomon"
)

// span is a range of fragment bytes.
type span struct{ a, b int }

// blame runs after a successful decode. The k shares used are authentic,
// so they give the true fragment of every other share; each share whose
// received bytes were never authenticated (no verified prefix, or it
// failed only as a suspect) is checked against it, and rejected with
// ErrAltered if any byte differs. used are positions in pos, which maps
// positions to shares.
func (m *Message) blame(used, pos []int) error {
	var src, check shareSet
	for _, p := range used {
		src.add(pos[p])
	}
	for i := range m.n {
		if m.got[i] > 0 && !m.good.has(i) && !m.bad.has(i) && !src.has(i) {
			check.add(i)
		}
	}
	if check.empty() {
		return nil
	}
	if m.enc == nil {
		enc, err := reedsolomon.New(m.k, m.n-m.k)
		if err != nil {
			return fmt.Errorf("assemble: erasure code: %w", err)
		}
		m.enc = enc
	}

	// The received ranges of every share checked, in order.
	received := make([][]span, m.n)
	m.cov.walk(func(a, b int, set shareSet) {
		set.and(check).each(func(i int) {
			r := received[i]
			if l := len(r); l > 0 && r[l-1].b == a {
				r[l-1].b = b
			} else {
				received[i] = append(r, span{a, b})
			}
		})
	})

	w := max(4096, min(1<<16, (1<<20)/check.count()))
	truth := make([][]byte, m.n)
	check.each(func(i int) { truth[i] = make([]byte, w) })
	altered := make([]int, m.n) // 1 + first differing offset
	for a := 0; a < m.fragLen; a += w {
		b := min(a+w, m.fragLen)
		clear(m.shards)
		clear(m.required)
		src.each(func(s int) { m.shards[s] = m.frags[s][a:b] })
		check.each(func(t int) {
			m.shards[t] = truth[t][:0]
			m.required[t] = true
		})
		if err := m.enc.ReconstructSome(m.shards, m.required); err != nil {
			return fmt.Errorf("assemble: erasure code: %w", err)
		}
		check.each(func(t int) {
			r := received[t]
			for len(r) > 0 && r[0].a < b {
				x, y := max(r[0].a, a), min(r[0].b, b)
				if altered[t] == 0 && !bytes.Equal(m.frags[t][x:y], truth[t][x-a:y-a]) {
					for o := x; o < y; o++ {
						if m.frags[t][o] != truth[t][o-a] {
							altered[t] = o + 1
							break
						}
					}
				}
				if r[0].b > b {
					break
				}
				r = r[1:]
			}
			received[t] = r
		})
	}
	check.each(func(t int) {
		if altered[t] != 0 {
			m.bad.add(t)
			m.faults = append(m.faults, &ShareError{Index: uint8(t + 1),
				Err: fmt.Errorf("%w: byte %d of the fragment differs from the authenticated decoding", ErrAltered, altered[t]-1)})
		}
	})
	return nil
}
