package assemble

import (
	"errors"
	"fmt"
	"slices"

	"github.com/klauspost/reedsolomon"

	"github.com/vmdt/vmdt/ssms"
)

// Report says how a message was decoded and which shares were bad.
type Report struct {
	// Used holds the indexes of the k shares the message was decoded
	// from, ascending; empty until it is.
	Used []uint8
	// Bad holds the shares rejected so far, in the order they were found:
	// a prefix that did not verify, or fragment bytes proven altered.
	Bad []*ShareError
	// Attempts counts the decode attempts made.
	Attempts int
}

// stateKey is what a decode attempt depends on besides the bytes; a
// failed decode is retried when it changes.
type stateKey struct {
	verified, good, bad, complete shareSet
}

func (m *Message) stateKey() stateKey {
	return stateKey{m.verified, m.good, m.bad, m.complete}
}

// failure remembers the last failed decode.
type failure struct {
	key      stateKey
	err      error    // from ssms.CombineReport
	suspects shareSet // shares that may hold altered bytes
	tried    shareSet // suspects already left out in this state
	// blocked holds the shares that cannot be left out because some byte
	// has exactly k effective coverers including them; valid until new
	// bytes arrive.
	blocked      shareSet
	blockedValid bool
}

// Result decodes the message if Ready, and returns it only if it
// authenticates; the Report says which shares were used and which were
// bad. Before Ready it fails with ErrNotReady. If the shares do not
// authenticate it fails with ErrUnauthenticated and keeps everything, so
// that more segments may yet succeed (Ready says when to try again). Once
// it has succeeded it returns the same message again.
//
// A decode rebuilds, range by range, the bytes each share with a verified
// prefix lacks, from k shares that cover the range (authenticated ones
// first, then by index), and hands those shares to ssms.CombineReport.
// When some fail to authenticate, it learns: shares that authenticated
// hold true bytes everywhere from then on, and a share that failed although
// every byte it lacked was rebuilt from authenticated shares has altered
// bytes of its own and is rejected. If that changes nothing, it tries
// leaving one suspect share out of the rebuilding at a time, within
// Limits.MaxSearch.
func (m *Message) Result() ([]byte, Report, error) {
	if m.done {
		return m.msg, m.report(), nil
	}
	if !m.coverable() {
		return nil, m.report(), fmt.Errorf("%w: %d bytes under-covered, %d of %d prefixes verified",
			ErrNotReady, m.deficit, m.verified.andNot(m.bad).count(), m.k)
	}
	for m.coverable() {
		var leaveOut shareSet
		if m.failed != nil && m.failed.key == m.stateKey() {
			c := m.candidates()
			if c.empty() {
				break
			}
			j := -1
			c.firstN(1).each(func(i int) { j = i })
			m.failed.tried.add(j)
			m.search++
			leaveOut.add(j)
		}
		ok, err := m.attempt(leaveOut)
		if err != nil {
			return nil, m.report(), err
		}
		if ok {
			return m.msg, m.report(), nil
		}
	}
	var cause error
	if m.failed != nil {
		cause = m.failed.err
	}
	return nil, m.report(), fmt.Errorf("%w: %w", ErrUnauthenticated, cause)
}

func (m *Message) report() Report {
	return Report{Used: slices.Clone(m.used), Bad: slices.Clone(m.faults), Attempts: m.attempts}
}

// candidates returns the suspects that may be left out of a decode now.
func (m *Message) candidates() shareSet {
	f := m.failed
	if f == nil || m.search >= m.maxSearch {
		return shareSet{}
	}
	c := f.suspects.andNot(f.tried).andNot(m.good).andNot(m.bad)
	if c.empty() {
		return c
	}
	if !f.blockedValid {
		f.blocked = shareSet{}
		eff := m.effective()
		m.cov.walk(func(_, _ int, set shareSet) {
			if e := set.or(m.good).and(eff); e.count() <= m.k {
				f.blocked = f.blocked.or(e)
			}
		})
		f.blockedValid = true
	}
	return c.andNot(f.blocked)
}

// attempt rebuilds the missing bytes of every share with a verified
// prefix, from sources other than leaveOut, and tries to combine. It
// reports whether the message was decoded; err is for failures of the
// machinery, not of authentication.
func (m *Message) attempt(leaveOut shareSet) (bool, error) {
	// What is learnt below changes the state, and a changed state calls
	// for a new attempt: the failure is filed under the state before.
	key := m.stateKey()
	rebuiltFrom, err := m.rebuild(leaveOut)
	if err != nil {
		return false, err
	}
	var pos []int // position in shares → share
	var shares []ssms.Share
	m.verified.andNot(m.bad).each(func(i int) {
		pos = append(pos, i)
		shares = append(shares, m.prefixes[i].Share(m.keys[i], m.frags[i]))
	})
	res, cerr := ssms.CombineReport(shares)
	m.attempts++

	// On success every share not in res.Bad is authentic. On failure too,
	// provided the key was found: then fewer than k are.
	var failed, authentic shareSet
	for _, b := range res.Bad {
		failed.add(pos[b])
	}
	if cerr == nil || len(shares)-len(res.Bad) < m.k {
		authentic = m.verified.andNot(m.bad).andNot(failed)
	}
	m.good = m.good.or(authentic)

	var suspects shareSet
	for j, b := range res.Bad {
		i := pos[b]
		if !errors.Is(res.Reasons[j], ssms.ErrIntegrity) || rebuiltFrom[i].subsetOf(m.good) {
			// Every byte it lacked was rebuilt from authentic shares, so
			// its own bytes are wrong.
			m.bad.add(i)
			m.faults = append(m.faults, &ShareError{Index: uint8(i + 1),
				Err: fmt.Errorf("%w: %w", ErrAltered, res.Reasons[j])})
			continue
		}
		suspects = suspects.or(rebuiltFrom[i])
		suspects.add(i)
	}
	m.recount()

	if cerr == nil {
		m.used = make([]uint8, len(res.Used))
		for j, p := range res.Used {
			m.used[j] = uint8(pos[p] + 1)
		}
		if err := m.blame(res.Used, pos); err != nil {
			return false, err
		}
		m.msg, m.done = res.Message, true
		m.release()
		return true, nil
	}
	if m.failed == nil || m.failed.key != key {
		m.failed = &failure{key: key}
	}
	m.failed.err = cerr
	m.failed.suspects = m.failed.suspects.or(suspects).andNot(m.good).andNot(m.bad)
	m.failed.blockedValid = false
	log.Debugw("decode failed", "message", m.p.MessageID, "attempt", m.attempts, "err", cerr)
	return false, nil
}

// rebuild fills, for every share with a verified prefix that is neither
// authenticated nor rejected, the fragment bytes it has not received,
// decoding each range from k covering shares outside leaveOut. It returns,
// per share, the union of the shares its bytes were rebuilt from.
func (m *Message) rebuild(leaveOut shareSet) ([]shareSet, error) {
	from := make([]shareSet, m.n)
	targets := m.verified.andNot(m.good).andNot(m.bad)
	usable := m.effective().andNot(leaveOut)
	var runStart, runEnd int
	var runSrc, runDst shareSet
	flush := func() error {
		if runEnd <= runStart || runDst.empty() {
			return nil
		}
		runDst.each(func(t int) { from[t] = from[t].or(runSrc) })
		return m.decodeRange(runStart, runEnd, runSrc, runDst, m.frags)
	}
	var err error
	m.cov.walk(func(start, end int, set shareSet) {
		if err != nil {
			return
		}
		have := set.or(m.good).and(usable)
		dst := targets.andNot(set)
		if dst.empty() {
			return
		}
		if have.count() < m.k {
			err = fmt.Errorf("assemble: bytes [%d, %d) covered by %d shares, want %d", start, end, have.count(), m.k)
			return
		}
		src := have.and(m.good).firstN(m.k)
		src = src.or(have.andNot(m.good).firstN(m.k - src.count()))
		if src == runSrc && dst == runDst && start == runEnd {
			runEnd = end
			return
		}
		if err = flush(); err != nil {
			return
		}
		runStart, runEnd, runSrc, runDst = start, end, src, dst
	})
	if err == nil {
		err = flush()
	}
	return from, err
}

// decodeRange computes bytes [a, b) of the shares in dst, writing them to
// out[t][a:b], from the same bytes of the k shares in src.
func (m *Message) decodeRange(a, b int, src, dst shareSet, out [][]byte) error {
	if m.enc == nil {
		enc, err := reedsolomon.New(m.k, m.n-m.k)
		if err != nil {
			return fmt.Errorf("assemble: erasure code: %w", err)
		}
		m.enc = enc
	}
	clear(m.shards)
	clear(m.required)
	src.each(func(s int) { m.shards[s] = m.frags[s][a:b] })
	dst.each(func(t int) {
		m.shards[t] = out[t][a:a] // capacity reaches b: decoded in place
		m.required[t] = true
	})
	if err := m.enc.ReconstructSome(m.shards, m.required); err != nil {
		return fmt.Errorf("assemble: erasure code: %w", err)
	}
	return nil
}

// release drops the buffers of a decoded message.
func (m *Message) release() {
	m.frags, m.pre, m.keys, m.shards = nil, nil, nil, nil
	if m.opener != nil {
		m.opener.Close()
		m.opener = nil
	}
	m.cov = coverage{}
	m.failed = nil
}
