package assemble

import (
	"crypto/ecdh"
	"fmt"
	"math"

	logging "github.com/ipfs/go-log/v2"
	"github.com/klauspost/reedsolomon"

	"github.com/vmdt/vmdt/node/delivery/envelope"
	"github.com/vmdt/vmdt/protocol"
)

var log = logging.Logger("vmdt/assemble")

// Params identify one inbound message and say how to open it.
type Params struct {
	MessageID protocol.MessageID
	Src, Dst  protocol.DDTAddr // from the VMDT header; prefixes must match
	N, K      int
	// TransferLen is the VMDT share length, the same for every share:
	// envelope.PrefixLen(N) + the fragment length.
	TransferLen int
	// SealKey is the receiver's X25519 key, which opens the key shares.
	SealKey *ecdh.PrivateKey
}

// ParamsFromHeader returns the Params of the message that h belongs to.
func ParamsFromHeader(h protocol.VMDTHeader, sealKey *ecdh.PrivateKey) Params {
	return Params{MessageID: h.MessageID, Src: h.Src, Dst: h.Dst, N: int(h.N), K: int(h.K),
		TransferLen: int(h.ShareLen), SealKey: sealKey}
}

// Limits bound what one Message may use. Zero values mean the defaults.
type Limits struct {
	// MaxBytes caps the buffers: n fragments and n prefixes. Default
	// DefaultMaxBytes.
	MaxBytes int
	// MaxPieces caps the coverage map, which grows with the number of
	// distinct segment boundaries (40 bytes each). Default 4096 +
	// fragment length / 128.
	MaxPieces int
	// MaxSearch caps the extra decode attempts, each leaving one suspect
	// share out, made after a share fails to authenticate. Default 2n.
	MaxSearch int
}

// DefaultMaxBytes is the default Limits.MaxBytes.
const DefaultMaxBytes = 256 << 20

// Progress says what one segment changed.
type Progress struct {
	New            int  // bytes of the segment not held before
	PrefixVerified bool // the segment completed the share's prefix, which verified
	Complete       bool // the segment completed the share: verified prefix and all fragment bytes
}

// Range is a byte range of the transfers, [Off, End), that fewer than k
// shares cover: Have of them.
type Range struct {
	Off, End int
	Have     int
}

// Message gathers the shares of one message as their segments arrive and
// decodes it once k shares cover every byte. It is not safe for
// concurrent use.
type Message struct {
	p                  Params
	n, k               int
	prefixLen, fragLen int
	maxPieces          int
	maxSearch          int

	frags [][]byte   // n fragment buffers, one allocation
	pre   []prefixIn // per share
	got   []int      // fragment bytes received per share
	cov   coverage
	// deficit is the number of fragment bytes that fewer than k
	// effective shares cover (see effective).
	deficit int

	shares   shareSet // every share: 0..n-1
	verified shareSet // prefix verified and key share opened
	good     shareSet // authenticated: the whole buffer is the true fragment
	bad      shareSet // rejected: its bytes are not used
	complete shareSet // verified prefix and every fragment byte received
	keys     [][]byte // opened key shares
	prefixes []*envelope.Prefix
	ref      *envelope.Prefix // the first verified prefix
	opener   *envelope.KeyOpener

	enc      reedsolomon.Encoder // nil until needed, or if n == k
	shards   [][]byte            // scratch for the encoder
	required []bool
	attempts int
	search   int
	failed   *failure // the state of the last failed decode

	faults []*ShareError
	done   bool
	msg    []byte
	used   []uint8
}

// New returns an empty Message. It fails with ErrInvalidParams if the
// parameters are impossible, and with ErrLimit if its buffers would exceed
// lim.MaxBytes; it allocates the n fragment buffers at once.
func New(p Params, lim Limits) (*Message, error) {
	if p.K < 2 || p.N < p.K || p.N > 255 {
		return nil, fmt.Errorf("%w: n=%d k=%d", ErrInvalidParams, p.N, p.K)
	}
	if p.SealKey == nil || p.SealKey.Curve() != ecdh.X25519() {
		return nil, fmt.Errorf("%w: seal key is not an X25519 private key", ErrInvalidParams)
	}
	pl := envelope.PrefixLen(p.N)
	if p.TransferLen < pl || uint64(p.TransferLen) > math.MaxUint32 {
		return nil, fmt.Errorf("%w: transfer length %d for a %d-byte prefix", ErrInvalidParams, p.TransferLen, pl)
	}
	fragLen := p.TransferLen - pl
	maxBytes := lim.MaxBytes
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	if need := uint64(p.N) * uint64(p.TransferLen); need > uint64(maxBytes) {
		return nil, fmt.Errorf("%w: %d shares of %d bytes need %d bytes, limit %d", ErrLimit, p.N, p.TransferLen, need, maxBytes)
	}
	m := &Message{
		p: p, n: p.N, k: p.K, prefixLen: pl, fragLen: fragLen,
		maxPieces: lim.MaxPieces, maxSearch: lim.MaxSearch,
		frags:    make([][]byte, p.N),
		pre:      make([]prefixIn, p.N),
		got:      make([]int, p.N),
		cov:      newCoverage(fragLen),
		keys:     make([][]byte, p.N),
		prefixes: make([]*envelope.Prefix, p.N),
		shards:   make([][]byte, p.N),
		required: make([]bool, p.N),
	}
	if m.maxPieces <= 0 {
		m.maxPieces = 4096 + fragLen/128
	}
	if m.maxSearch <= 0 {
		m.maxSearch = 2 * p.N
	}
	all := make([]byte, p.N*fragLen)
	for i := range m.frags {
		m.frags[i] = all[i*fragLen : (i+1)*fragLen : (i+1)*fragLen]
	}
	m.shares = upTo(p.N)
	m.deficit = fragLen
	return m, nil
}

// Done reports whether the message has been decoded; Result returns it.
func (m *Message) Done() bool { return m.done }

// TransferLen returns the length of every transfer of the message.
func (m *Message) TransferLen() int { return m.p.TransferLen }

// Manifest returns the first verified prefix, which holds the signed
// manifest (sender, created time, chunk fields), or nil before one.
func (m *Message) Manifest() *envelope.Prefix { return m.ref }

// AddVMDT adds the payload of a datagram after checking that its VMDT
// header belongs to this message: same message id, source, destination,
// n, k and share length (ErrMismatch otherwise).
func (m *Message) AddVMDT(h protocol.VMDTHeader, payload []byte) (Progress, error) {
	if h.MessageID != m.p.MessageID || h.Src != m.p.Src || h.Dst != m.p.Dst ||
		int(h.N) != m.n || int(h.K) != m.k || int64(h.ShareLen) != int64(m.p.TransferLen) {
		return Progress{}, fmt.Errorf("%w: message %s share %d (n=%d k=%d, %d bytes)",
			ErrMismatch, h.MessageID, h.ShareIndex, h.N, h.K, h.ShareLen)
	}
	return m.Add(h.ShareIndex, int(h.Offset), payload)
}

// Add records that the transfer of share index holds b at offset off.
// Duplicates and any order are fine; where bytes were already received,
// the first copy stays. A segment outside the transfer fails with
// ErrSegment; one that would grow the coverage map past its limit, with
// ErrLimit. When the segment completes the share's prefix and the prefix
// is rejected, Add returns a *ShareError and ignores that share from then
// on. Segments of shares already authenticated or rejected, and of a
// decoded message, are ignored.
func (m *Message) Add(index uint8, off int, b []byte) (Progress, error) {
	var pr Progress
	if index == 0 || int(index) > m.n || off < 0 || off > m.p.TransferLen || len(b) > m.p.TransferLen-off {
		return pr, fmt.Errorf("%w: share %d bytes [%d, +%d) of a %d-byte transfer of %d shares",
			ErrSegment, index, off, len(b), m.p.TransferLen, m.n)
	}
	i := int(index) - 1
	if m.done || m.good.has(i) || m.bad.has(i) || len(b) == 0 {
		return pr, nil
	}
	fa, fb := max(off, m.prefixLen)-m.prefixLen, off+len(b)-m.prefixLen
	if fa < fb {
		if need := m.cov.newBoundaries(fa, fb); need > 0 && m.cov.pieces+need > m.maxPieces {
			return pr, fmt.Errorf("%w: coverage map of %d pieces", ErrLimit, m.cov.pieces)
		}
	}
	if off < m.prefixLen {
		var err error
		pr, err = m.addPrefix(i, off, b[:min(len(b), m.prefixLen-off)])
		if err != nil {
			return pr, err
		}
	}
	if fa < fb {
		src := b[len(b)-(fb-fa):]
		eff, fresh := m.effective(), 0
		m.cov.add(i, fa, fb, func(start, end int, set shareSet) {
			copy(m.frags[i][start:end], src[start-fa:end-fa])
			fresh += end - start
			if set.or(m.good).and(eff).count() == m.k-1 {
				m.deficit -= end - start
			}
		})
		m.got[i] += fresh
		pr.New += fresh
		if m.failed != nil && fresh > 0 {
			m.failed.blockedValid = false
		}
	}
	if m.verified.has(i) && m.got[i] == m.fragLen && !m.complete.has(i) {
		m.complete.add(i)
		pr.Complete = true
	}
	return pr, nil
}

// effective returns the shares whose bytes count: all but the rejected.
// Authenticated shares count as holding every byte.
func (m *Message) effective() shareSet { return m.shares.andNot(m.bad) }

// recount recomputes the deficit after shares were authenticated or
// rejected.
func (m *Message) recount() {
	m.deficit = 0
	eff := m.effective()
	m.cov.walk(func(start, end int, set shareSet) {
		if set.or(m.good).and(eff).count() < m.k {
			m.deficit += end - start
		}
	})
}

// coverable reports whether k effective shares cover every fragment byte
// and at least k prefixes are verified.
func (m *Message) coverable() bool {
	return m.deficit == 0 && m.verified.andNot(m.bad).count() >= m.k
}

// Ready reports whether Result may now decode the message: it is not
// decoded yet, at least k prefixes are verified, every fragment byte is
// covered by k shares, and, if an earlier decode failed to authenticate,
// something has changed since that may let it succeed.
func (m *Message) Ready() bool {
	if m.done {
		return false
	}
	if !m.coverable() {
		return false
	}
	if m.failed == nil || m.failed.key != m.stateKey() {
		return true
	}
	return !m.candidates().empty()
}

// Missing returns the byte ranges of the transfers that fewer than k
// shares cover, in transfer offsets: the prefix area while fewer than k
// prefixes are verified, and every fragment range with fewer than k
// effective coverers, with how many it has. A sender retransmits only
// these. It returns nil once the message is decoded.
func (m *Message) Missing() []Range {
	if m.done {
		return nil
	}
	var out []Range
	if v := m.verified.andNot(m.bad).count(); v < m.k {
		out = append(out, Range{Off: 0, End: m.prefixLen, Have: v})
	}
	eff := m.effective()
	m.cov.walk(func(start, end int, set shareSet) {
		have := set.or(m.good).and(eff).count()
		if have >= m.k {
			return
		}
		start, end = start+m.prefixLen, end+m.prefixLen
		if l := len(out); l > 0 && out[l-1].End == start && out[l-1].Have == have {
			out[l-1].End = end
			return
		}
		out = append(out, Range{Off: start, End: end, Have: have})
	})
	return out
}

// reject marks share i bad for err and recounts coverage.
func (m *Message) reject(i int, err error) *ShareError {
	m.bad.add(i)
	se := &ShareError{Index: uint8(i + 1), Err: err}
	m.faults = append(m.faults, se)
	log.Debugw("share rejected", "message", m.p.MessageID, "share", i+1, "err", err)
	m.recount()
	return se
}
