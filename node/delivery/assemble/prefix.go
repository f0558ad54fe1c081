package assemble

import (
	"fmt"

	"github.com/vmdt/vmdt/node/delivery/envelope"
)

// prefixIn gathers the prefix bytes of one share until all have come.
type prefixIn struct {
	buf  []byte   // prefixLen bytes, allocated with the first prefix byte
	have []uint64 // which bytes of buf have been received
	n    int      // how many
}

// addPrefix records prefix bytes [off, off+len(b)) of share i and, once
// the prefix is whole, verifies it and opens its key share.
func (m *Message) addPrefix(i, off int, b []byte) (Progress, error) {
	var pr Progress
	if m.verified.has(i) {
		return pr, nil
	}
	in := &m.pre[i]
	if in.buf == nil {
		in.buf = make([]byte, m.prefixLen)
		in.have = make([]uint64, (m.prefixLen+63)/64)
	}
	for j, c := range b {
		x := off + j
		if in.have[x>>6]&(1<<(x&63)) == 0 {
			in.have[x>>6] |= 1 << (x & 63)
			in.buf[x] = c
			pr.New++
		}
	}
	in.n += pr.New
	if in.n < m.prefixLen {
		return pr, nil
	}
	p, ks, err := m.openPrefix(i, in.buf)
	*in = prefixIn{}
	if err != nil {
		return pr, m.reject(i, err)
	}
	m.verified.add(i)
	m.keys[i], m.prefixes[i] = ks, p
	if m.ref == nil {
		m.ref = p
	}
	pr.PrefixVerified = true
	return pr, nil
}

// openPrefix parses, checks and verifies the prefix of share i and opens
// its key share. The first prefix is verified in full; the others must
// carry the same manifest.
func (m *Message) openPrefix(i int, b []byte) (*envelope.Prefix, []byte, error) {
	p, err := envelope.ParsePrefix(b)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case int(p.Index) != i+1:
		return nil, nil, fmt.Errorf("%w: prefix of share %d in the transfer of share %d", ErrPrefixMismatch, p.Index, i+1)
	case p.MessageID != m.p.MessageID:
		return nil, nil, fmt.Errorf("%w: prefix of message %s", ErrPrefixMismatch, p.MessageID)
	case int(p.N) != m.n || int(p.K) != m.k:
		return nil, nil, fmt.Errorf("%w: prefix for n=%d k=%d", ErrPrefixMismatch, p.N, p.K)
	case p.FragmentLen != uint64(m.fragLen):
		return nil, nil, fmt.Errorf("%w: fragment length %d in a transfer of %d bytes", ErrPrefixMismatch, p.FragmentLen, m.p.TransferLen)
	}
	if m.ref == nil {
		err = p.Verify(m.p.Src, m.p.Dst)
	} else {
		err = p.VerifyAgainst(m.ref)
	}
	if err != nil {
		return nil, nil, err
	}
	opener := m.opener
	if opener == nil {
		if opener, err = p.KeyOpener(m.p.SealKey); err != nil {
			return nil, nil, err
		}
	}
	ks, err := opener.Open(p)
	if err != nil {
		if opener != m.opener {
			opener.Close()
		}
		return nil, nil, err
	}
	m.opener = opener
	return p, ks, nil
}
