package sharepool

import (
	"hash/crc32"
	"path/filepath"
	"time"

	"github.com/vmdt/vmdt/protocol"
)

func newMeta(e *Entry) *meta {
	return &meta{
		key:     e.key(),
		n:       e.N,
		k:       e.K,
		dataLen: len(e.Data),
		sum:     crc32.Checksum(e.Data, castagnoli),
		cost:    EntryCost(len(e.Data)),
		added:   e.Added,
		expires: e.Expires,
	}
}

// sameShare reports whether e has the contents m describes.
func (m *meta) sameShare(e *Entry) bool {
	return m.n == e.N && m.k == e.K && m.dataLen == len(e.Data) &&
		m.sum == crc32.Checksum(e.Data, castagnoli)
}

// matches reports whether the parsed file e is still the entry m
// describes (and not a later entry of the same key).
func (m *meta) matches(e *Entry) bool {
	return e.key() == m.key && m.sameShare(e) && e.Expires.Equal(m.expires)
}

func (m *meta) live(now time.Time) bool { return m.busy == nil && m.expires.After(now) }

// insertLocked adds m to the index and charges it.
func (p *Pool) insertLocked(m *meta) {
	p.entries[m.key] = m
	d := p.byDst[m.dst]
	if d == nil {
		d = make(map[key]*meta)
		p.byDst[m.dst] = d
	}
	d[m.key] = m
	p.chargeLocked(m, 1)
}

// forgetLocked removes m from the index and refunds it, leaving its file.
func (p *Pool) forgetLocked(m *meta) {
	if p.entries[m.key] != m {
		return
	}
	delete(p.entries, m.key)
	if d := p.byDst[m.dst]; d != nil {
		delete(d, m.key)
		if len(d) == 0 {
			delete(p.byDst, m.dst)
		}
	}
	p.chargeLocked(m, -1)
}

// dropLocked forgets m and removes its file. Removing under the lock keeps
// a concurrent Add of the same key from writing a file that this removal
// would then delete.
func (p *Pool) dropLocked(m *meta) {
	p.forgetLocked(m)
	removeQuiet(filepath.Join(p.dir, m.fileName()))
}

func (p *Pool) chargeLocked(m *meta, sign int) {
	delta := Usage{Entries: sign, Bytes: int64(sign) * m.cost}
	p.total = add(p.total, delta)
	addTo(p.perDst, m.dst, delta)
	addTo(p.perSrc, m.src, delta)
}

func add(u, d Usage) Usage { return Usage{Entries: u.Entries + d.Entries, Bytes: u.Bytes + d.Bytes} }

func addTo(m map[protocol.DDTAddr]Usage, a protocol.DDTAddr, d Usage) {
	u := add(m[a], d)
	if u.Entries == 0 {
		delete(m, a)
		return
	}
	m[a] = u
}

// fitLocked reports the first limit a new entry of cost bytes from src to
// dst would break: per sender, per recipient, total bytes, entries.
func (p *Pool) fitLocked(src, dst protocol.DDTAddr, cost int64) error {
	if u := p.perSrc[src].Bytes; u+cost > p.lim.PerSender {
		return &LimitError{Limit: LimitPerSender, Used: u, Need: cost, Max: p.lim.PerSender}
	}
	if u := p.perDst[dst].Bytes; u+cost > p.lim.PerRecipient {
		return &LimitError{Limit: LimitPerRecipient, Used: u, Need: cost, Max: p.lim.PerRecipient}
	}
	if u := p.total.Bytes; u+cost > p.lim.Total {
		return &LimitError{Limit: LimitTotal, Used: u, Need: cost, Max: p.lim.Total}
	}
	if u := p.total.Entries; u+1 > p.lim.MaxEntries {
		return &LimitError{Limit: LimitEntries, Used: int64(u), Need: 1, Max: int64(p.lim.MaxEntries)}
	}
	return nil
}
