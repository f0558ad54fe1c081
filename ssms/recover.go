package ssms

import "crypto/rand"

// Recovery of the message key from the key shares of one message when some
// of them may be altered. A candidate key is accepted only if it derives the
// message id (checkKey), so a wrong key is never used. The search, in order:
//
//  1. the first k shares with distinct x-coordinates, in Index order: the
//     only step taken when nothing is wrong;
//  2. if at least k+2 distinct x-coordinates are present, error location:
//     the 32 key bytes of every share are combined with fresh random
//     coefficients into one byte (a codeword of the same Reed-Solomon code,
//     since the code is linear), Gao's decoder corrects that word, and the
//     shares where it disagrees are set aside; then the first k of the rest
//     are tried. A share with any altered byte stays hidden in one round
//     with probability 1/256, so up to locateRounds rounds are run, each
//     setting aside more. This finds the key whenever at most ⌊(m−k)/2⌋ of
//     the m key shares are altered, except with probability below
//     m·256^−locateRounds;
//  3. every k-subset with distinct x-coordinates, in lexicographic order,
//     until searchBudget is spent. With n <= 7 this covers every subset.
//
// Beyond that the key is reported as not found (ErrIntegrity), even if k
// good key shares are present: the bound keeps the work per message to tens
// of milliseconds whatever a sender or relay does.

// searchBudget bounds step 3, counted in GF(2^8) multiplications; the key
// check of every trial counts as trialOverhead, and skipping a subset with a
// repeated x-coordinate as k.
const (
	searchBudget  = 1 << 21
	trialOverhead = 200
	locateRounds  = 4
)

// keyCandidate is one share's key share and x-coordinate.
type keyCandidate struct {
	keyShare []byte
	x        byte
}

// recoverKey looks for the message key among the key shares cands, which
// are in preference order. On success it returns the key's HKDF
// pseudorandom key (see checkKey); it always returns the number of distinct
// x-coordinates seen.
func recoverKey(cands []keyCandidate, k int, id *[IDSize]byte) (prk []byte, distinct int) {
	var key [keySize]byte
	defer clear(key[:])
	var seen [256]bool
	var reps []keyCandidate // first candidate of each x-coordinate
	for _, c := range cands {
		if !seen[c.x] {
			seen[c.x] = true
			reps = append(reps, c)
		}
	}
	distinct = len(reps)
	if distinct < k {
		return nil, distinct
	}
	kss := make([][]byte, k)

	// 1. The first k distinct x-coordinates.
	for i := range kss {
		kss[i] = reps[i].keyShare
	}
	interpolateSecret(key[:], kss)
	if prk, ok := checkKey(key[:], id); ok {
		return prk, distinct
	}

	// 2. Error location.
	if distinct >= k+2 {
		if prk := locateErrors(reps, k, id); prk != nil {
			return prk, distinct
		}
	}

	// 3. Bounded subset search over all candidates, duplicates included.
	cost := k*(k+14) + keySize*k + trialOverhead
	idx := make([]int, k)
	for i := range idx {
		idx[i] = i
	}
	var used [256]bool
	for budget := searchBudget; budget > 0; budget -= k {
		distinctX := true
		for i, j := range idx {
			x := cands[j].x
			if used[x] {
				distinctX = false
			}
			used[x] = true
			kss[i] = cands[j].keyShare
		}
		for _, j := range idx {
			used[cands[j].x] = false
		}
		if distinctX {
			budget -= cost
			interpolateSecret(key[:], kss)
			if prk, ok := checkKey(key[:], id); ok {
				return prk, distinct
			}
		}
		if !nextCombination(idx, len(cands)) {
			break
		}
	}
	return nil, distinct
}

// locateErrors runs step 2 over reps, the key shares with distinct
// x-coordinates, and returns what checkKey does for the key it finds, or
// nil.
func locateErrors(reps []keyCandidate, k int, id *[IDSize]byte) []byte {
	var key [keySize]byte
	defer clear(key[:])
	m := len(reps)
	xs := make([]byte, m)
	for i, r := range reps {
		xs[i] = r.x
	}
	dec := newGaoDecoder(xs, k)
	ys := make([]byte, m)
	altered := make([]bool, m)
	kss := make([][]byte, 0, k)
	for range locateRounds {
		var coef [keySize]byte
		rand.Read(coef[:])
		for i, r := range reps {
			var y byte
			for b, c := range coef {
				y ^= gfMul(c, r.keyShare[b])
			}
			ys[i] = y
		}
		f, ok := dec.decode(ys)
		if !ok {
			return nil // more than ⌊(m−k)/2⌋ altered
		}
		kss = kss[:0]
		for i, r := range reps {
			if f.eval(r.x) != ys[i] {
				altered[i] = true
			}
			if !altered[i] && len(kss) < k {
				kss = append(kss, r.keyShare)
			}
		}
		if len(kss) < k {
			return nil
		}
		interpolateSecret(key[:], kss)
		if prk, ok := checkKey(key[:], id); ok {
			return prk
		}
	}
	return nil
}

// nextCombination advances idx, a strictly increasing k-subset of 0..m−1,
// to the next one in lexicographic order, and reports false after the last.
func nextCombination(idx []int, m int) bool {
	k := len(idx)
	i := k - 1
	for i >= 0 && idx[i] == m-k+i {
		i--
	}
	if i < 0 {
		return false
	}
	idx[i]++
	for j := i + 1; j < k; j++ {
		idx[j] = idx[j-1] + 1
	}
	return true
}
