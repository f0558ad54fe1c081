package ssms

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"

	logging "github.com/ipfs/go-log/v2"
)

var log = logging.Logger("vmdt/ssms")

// Result is what CombineReport found out about the shares it was given.
// Positions are indexes into the slice given to CombineReport.
type Result struct {
	Message []byte
	// Used holds the positions of the k authentic shares the message was
	// decoded from, in Index order.
	Used []int
	// Bad holds, in ascending order, the positions of shares that were
	// rejected: malformed, of another message, duplicated with different
	// content, or failing authentication. Every position in neither Used
	// nor Bad holds an authentic share of the message (or an identical
	// copy of one).
	Bad []int
	// Reasons[i] is a *ShareError saying why Bad[i] was rejected.
	Reasons []error
}

// Combine returns the message that shares were split from. Any k authentic
// shares of one message suffice, whatever else is in shares: malformed,
// altered or foreign shares are skipped. It never returns a message other
// than the one Split was given. Without k authentic shares it fails with an
// error wrapping ErrNotEnoughShares and the reasons shares were rejected
// (ErrIntegrity, ErrMismatch, ErrDuplicate, ErrMalformed; see ShareError).
//
// Combine stops checking once it has k authentic shares; CombineReport
// checks every share and says which were bad. Both prefer shares with Index
// 1..k, which hold the ciphertext itself and need no erasure decoding.
func Combine(shares []Share) ([]byte, error) {
	r, err := combine(shares, false)
	return r.Message, err
}

// CombineReport is Combine that also checks every share and reports which
// were used and which were bad. On error the Result still lists the shares
// known to be bad.
func CombineReport(shares []Share) (Result, error) {
	return combine(shares, true)
}

// messageKey identifies the message a share claims to belong to.
type messageKey struct {
	n, k   uint8
	msgLen uint64
	id     [IDSize]byte
}

// maxMessagesTried bounds how many different messages, each with at least
// k shares, one Combine call tries to decode, largest first: each may cost
// a full key search (see recoverKey).
const maxMessagesTried = 4

type shareGroup struct {
	msg       messageKey
	positions []int
}

func combine(shares []Share, report bool) (Result, error) {
	var res Result
	var malformed []*ShareError
	var groups []*shareGroup
	byMsg := make(map[messageKey]*shareGroup, 1)
	for pos := range shares {
		s := &shares[pos]
		if err := s.validate(); err != nil {
			malformed = append(malformed, &ShareError{Pos: pos, Err: err})
			continue
		}
		mk := messageKey{s.N, s.K, s.MsgLen, s.MsgID}
		g := byMsg[mk]
		if g == nil {
			g = &shareGroup{msg: mk}
			byMsg[mk] = g
			groups = append(groups, g)
		}
		g.positions = append(g.positions, pos)
	}
	// Largest group first; among equals, the one seen first. Failures are
	// explained against the largest group.
	slices.SortStableFunc(groups, func(a, b *shareGroup) int {
		return cmp.Compare(len(b.positions), len(a.positions))
	})

	var failure struct {
		have, need int
		bad        []*ShareError
		err        error
	}
	tried := 0
	for gi, g := range groups {
		if gi > 0 && len(g.positions) < int(g.msg.k) {
			continue
		}
		if tried == maxMessagesTried {
			break
		}
		tried++
		msg, used, bad, have, err := combineGroup(shares, g, report)
		if err == nil && len(used) > 0 {
			res.Message, res.Used = msg, used
			res.Bad, res.Reasons = sortRejected(malformed, bad, otherGroups(groups, g))
			if len(res.Bad) > 0 {
				log.Debugw("combined despite bad shares", "bad", res.Bad, "reasons", res.Reasons)
			}
			return res, nil
		}
		if gi == 0 {
			failure.have, failure.need, failure.bad, failure.err = have, int(g.msg.k), bad, err
		}
	}
	var others []*ShareError
	if len(groups) > 0 {
		others = otherGroups(groups, groups[0])
	}
	res.Bad, res.Reasons = sortRejected(malformed, failure.bad, others)
	cerr := &combineError{have: failure.have, need: failure.need}
	if failure.err != nil {
		cerr.reasons = append(cerr.reasons, failure.err)
	}
	cerr.reasons = append(cerr.reasons, res.Reasons...)
	log.Debugw("combine failed", "err", cerr)
	return res, cerr
}

// otherGroups rejects the shares of every group but g: they claim to
// belong to another message. Those that carry g's message id but other
// parameters have been altered.
func otherGroups(groups []*shareGroup, g *shareGroup) []*ShareError {
	var out []*ShareError
	for _, o := range groups {
		if o == g {
			continue
		}
		for _, pos := range o.positions {
			err := fmt.Errorf("%w: n=%d k=%d length %d id %x, not n=%d k=%d length %d id %x",
				ErrMismatch, o.msg.n, o.msg.k, o.msg.msgLen, o.msg.id[:4], g.msg.n, g.msg.k, g.msg.msgLen, g.msg.id[:4])
			if o.msg.id == g.msg.id {
				err = fmt.Errorf("%w: %w", ErrIntegrity, err)
			}
			out = append(out, &ShareError{Pos: pos, Err: err})
		}
	}
	return out
}

func sortRejected(lists ...[]*ShareError) ([]int, []error) {
	rejected := slices.Concat(lists...)
	if len(rejected) == 0 {
		return nil, nil
	}
	slices.SortFunc(rejected, func(a, b *ShareError) int { return cmp.Compare(a.Pos, b.Pos) })
	bad := make([]int, len(rejected))
	reasons := make([]error, len(rejected))
	for i, r := range rejected {
		bad[i], reasons[i] = r.Pos, r
	}
	return bad, reasons
}

// combineGroup decodes the message from the shares of one group. It returns
// the message, the positions used, the shares found bad and the number of
// authentic distinct shares found. used is empty unless the message was
// decoded; err, if not nil, explains a failure that no single share does.
func combineGroup(shares []Share, g *shareGroup, report bool) (msg []byte, used []int, bad []*ShareError, have int, err error) {
	k := int(g.msg.k)
	cands := slices.Clone(g.positions)
	slices.SortStableFunc(cands, func(a, b int) int { return cmp.Compare(shares[a].Index, shares[b].Index) })

	keyCands := make([]keyCandidate, len(cands))
	for i, pos := range cands {
		keyCands[i] = keyCandidate{keyShare: shares[pos].KeyShare, x: shares[pos].x()}
	}
	prk, distinct := recoverKey(keyCands, k, &g.msg.id)
	if prk == nil {
		bad = duplicateX(shares, cands)
		if distinct < k {
			return nil, nil, bad, 0, nil
		}
		return nil, nil, bad, 0, fmt.Errorf("%w: no %d of the %d key shares of message %x reconstruct its key",
			ErrIntegrity, k, len(cands), g.msg.id[:4])
	}
	mk, derr := keysFromPRK(g.msg.id, prk)
	if derr != nil {
		return nil, nil, nil, 0, fmt.Errorf("ssms: deriving keys: %w", derr)
	}

	var authentic [256]int // Index → position+1 of the first authentic share
	var failed []int
	for _, pos := range cands {
		if !report && len(used) == k {
			break
		}
		s := &shares[pos]
		if !mk.verify(s) {
			failed = append(failed, pos)
			continue
		}
		if authentic[s.Index] != 0 {
			continue // an identical copy of an authentic share
		}
		authentic[s.Index] = pos + 1
		if len(used) < k {
			used = append(used, pos)
		}
	}
	for _, pos := range failed {
		idx := shares[pos].Index
		err := fmt.Errorf("%w: tag of share %d does not verify", ErrIntegrity, idx)
		if first := authentic[idx]; first != 0 {
			err = fmt.Errorf("%w: index %d also at position %d: %w", ErrDuplicate, idx, first-1, err)
		}
		bad = append(bad, &ShareError{Pos: pos, Err: err})
	}
	if len(used) < k {
		return nil, nil, bad, len(used), nil
	}
	msg, err = decode(shares, used, g.msg, mk)
	if err != nil {
		return nil, nil, bad, 0, err
	}
	return msg, used, bad, k, nil
}

// duplicateX rejects every candidate whose key-share x-coordinate an
// earlier candidate already has. An identical copy is merely a duplicate;
// a different share with the same x-coordinate has been altered.
func duplicateX(shares []Share, cands []int) []*ShareError {
	var out []*ShareError
	var first [256]int
	for _, pos := range cands {
		s := &shares[pos]
		x := s.x()
		if first[x] == 0 {
			first[x] = pos + 1
			continue
		}
		err := fmt.Errorf("%w: key-share x-coordinate %d also at position %d", ErrDuplicate, x, first[x]-1)
		if !sameShare(s, &shares[first[x]-1]) {
			err = fmt.Errorf("%w: %w, with different contents", ErrIntegrity, err)
		}
		out = append(out, &ShareError{Pos: pos, Err: err})
	}
	return out
}

// sameShare reports whether two validated shares of one message are equal.
func sameShare(a, b *Share) bool {
	return a.Index == b.Index && a.Tag == b.Tag && bytes.Equal(a.KeyShare, b.KeyShare) && bytes.Equal(a.Fragment, b.Fragment)
}
