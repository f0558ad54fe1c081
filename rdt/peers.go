package rdt

import (
	"encoding/binary"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// peer is one session of the transport: an address, a key id, the keys
// derived for it, and the session state machine behind a lock.
type peer struct {
	addr   net.Addr
	ap     netip.AddrPort // set when addr is a *net.UDPAddr
	keyID  uint32
	key    string // address key + key id
	akey   string // address key
	order  uint64 // AddPeer order; the newest key of an address is used to send
	keys   *sessionKeys
	budget *peerBudget

	mu        sync.Mutex
	s         *session
	scheduled time.Duration // when the send loop will next poll s; guarded by mu

	active bool // in the send loop's active list; guarded by Transport.activeMu
}

// peerTable is an immutable snapshot of the sessions; writers replace it
// under Transport.peersMu, and the read loop looks peers up without a
// lock.
type peerTable struct {
	byKey  map[string]*peer
	newest map[string]*peer // by address key
}

// appendAddrKey appends the text that identifies addr among peers: the
// unmapped address and port for UDP, String() otherwise.
func appendAddrKey(b []byte, addr net.Addr) []byte {
	if u, ok := addr.(*net.UDPAddr); ok {
		return appendAddrPortKey(b, u.AddrPort())
	}
	return append(b, addr.String()...)
}

func appendAddrPortKey(b []byte, ap netip.AddrPort) []byte {
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()).AppendTo(b)
}

// appendPeerKey appends the key id to an address key.
func appendPeerKey(b []byte, keyID uint32) []byte {
	return binary.BigEndian.AppendUint32(append(b, '#'), keyID)
}

// memBudget is one reassembly memory account: bytes reserved by admitted
// transfers (the cap applies to these) and bytes actually filled (the
// receive window is derived from these).
type memBudget struct {
	capacity int64
	reserved atomic.Int64
	filled   atomic.Int64
}

func (m *memBudget) tryReserve(n int64) bool {
	for {
		cur := m.reserved.Load()
		if cur+n > m.capacity {
			return false
		}
		if m.reserved.CompareAndSwap(cur, cur+n) {
			return true
		}
	}
}

// peerBudget draws on a per-peer and the transport-wide account at once.
type peerBudget struct {
	peer  memBudget
	total *memBudget
}

func (b *peerBudget) reserve(n int64) bool {
	if !b.peer.tryReserve(n) {
		return false
	}
	if !b.total.tryReserve(n) {
		b.peer.reserved.Add(-n)
		return false
	}
	return true
}

func (b *peerBudget) fill(n int64) {
	b.peer.filled.Add(n)
	b.total.filled.Add(n)
}

func (b *peerBudget) release(reserved, filled int64) {
	b.peer.reserved.Add(-reserved)
	b.total.reserved.Add(-reserved)
	b.peer.filled.Add(-filled)
	b.total.filled.Add(-filled)
}

// window is the free receive buffer in datagrams of maxPayload bytes,
// against the tighter of the two caps. It rounds up: the space reserved
// for the last bytes of an admitted share may be less than a datagram.
func (b *peerBudget) window(maxPayload int) uint16 {
	return windowOf(min(b.peer.capacity-b.peer.filled.Load(), b.total.capacity-b.total.filled.Load()), maxPayload)
}

func windowOf(free int64, maxPayload int) uint16 {
	if free <= 0 {
		return 0
	}
	return uint16(min((free+int64(maxPayload)-1)/int64(maxPayload), 1<<16-1))
}
