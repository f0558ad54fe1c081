package rdt

import (
	"time"

	"github.com/vmdt/vmdt/protocol"
)

// transferKey names a transfer within a session: the message id, share
// index, source and destination of its VMDT header.
type transferKey struct {
	msg   protocol.MessageID
	index uint8
	src   protocol.DDTAddr
	dst   protocol.DDTAddr
}

// msgKey names a message: ids are the senders' choice, so two senders'
// messages may share one.
type msgKey struct {
	src protocol.DDTAddr
	id  protocol.MessageID
}

func (k transferKey) msgKey() msgKey { return msgKey{k.src, k.msg} }

func keyOf(h *protocol.VMDTHeader) transferKey {
	return transferKey{msg: h.MessageID, index: h.ShareIndex, src: h.Src, dst: h.Dst}
}

// chunkSize is the allocation unit of a streamed share's buffer.
const chunkSize = 64 << 10

// shareBuf holds the bytes of an outgoing share: the caller's slice for
// Send, or chunks allocated as WriteAt fills them for a streamed share.
type shareBuf struct {
	chunks [][]byte
	size   int // bytes per chunk
	length int
}

func wholeShare(b []byte) shareBuf {
	return shareBuf{chunks: [][]byte{b}, size: max(len(b), 1), length: len(b)}
}

func chunkedShare(length int) shareBuf {
	return shareBuf{chunks: make([][]byte, (length+chunkSize-1)/chunkSize), size: chunkSize, length: length}
}

func (b *shareBuf) writeAt(p []byte, off int) {
	for len(p) > 0 {
		i := off / b.size
		if b.chunks[i] == nil {
			b.chunks[i] = make([]byte, min(b.size, b.length-i*b.size))
		}
		n := copy(b.chunks[i][off-i*b.size:], p)
		p, off = p[n:], off+n
	}
}

func (b *shareBuf) readAt(p []byte, off int) {
	for len(p) > 0 {
		i := off / b.size
		n := copy(p, b.chunks[i][off-i*b.size:])
		p, off = p[n:], off+n
	}
}

// outTransfer is the sending state of one share: which bytes were written,
// which still need a first transmission, which were lost and need another,
// and which the peer acknowledged.
type outTransfer struct {
	key    transferKey
	hdr    protocol.VMDTHeader // Offset 0; ShareLen is the length
	length uint64
	data   shareBuf

	avail spanSet // written by the application
	fresh spanSet // written, never sent
	retx  spanSet // lost, not acknowledged, not yet resent
	acked spanSet

	emptyPending bool // a zero-length share still needs its datagram (re)sent
	emptyAcked   bool

	lastProgress time.Duration
	done         bool
	err          error

	owner *Outgoing // the handle given to the application; opaque here
}

func newOutTransfer(h protocol.VMDTHeader, data shareBuf) *outTransfer {
	h.Offset = 0
	h.ShareLen = uint32(data.length)
	return &outTransfer{
		key:          keyOf(&h),
		hdr:          h,
		length:       uint64(data.length),
		data:         data,
		emptyPending: data.length == 0,
	}
}

// write makes p available at off. Bytes already written are kept; only
// new ones are copied. It reports whether any byte was new.
func (t *outTransfer) write(p []byte, off uint64) bool {
	added := t.avail.addNew(off, off+uint64(len(p)), func(lo, hi uint64) {
		t.data.writeAt(p[lo-off:hi-off], int(lo))
		t.fresh.add(lo, hi)
	})
	return added > 0
}

// outstanding reports whether written bytes await acknowledgement.
func (t *outTransfer) outstanding() bool {
	if t.length == 0 {
		return !t.emptyAcked
	}
	return t.acked.len() < t.avail.len()
}

func (t *outTransfer) hasData() bool {
	return !t.retx.empty() || !t.fresh.empty() || t.emptyPending
}

// next takes the next range to transmit, at most n bytes: lost bytes
// first, then fresh ones.
func (t *outTransfer) next(n uint64) (lo, hi uint64, retx, ok bool) {
	if lo, hi, ok := t.retx.takeFront(n); ok {
		return lo, hi, true, true
	}
	if lo, hi, ok := t.fresh.takeFront(n); ok {
		return lo, hi, false, true
	}
	if t.emptyPending {
		t.emptyPending = false
		return 0, 0, false, true
	}
	return 0, 0, false, false
}

// lost queues the unacknowledged part of [off, off+n) for retransmission.
func (t *outTransfer) lost(off, n uint32) {
	if t.length == 0 {
		t.emptyPending = !t.emptyAcked
		return
	}
	lo, hi := uint64(off), uint64(off)+uint64(n)
	t.acked.gaps(lo, hi, func(a, b uint64) { t.retx.add(a, b) })
}

// ack records [off, off+n) as delivered and reports whether it was news.
func (t *outTransfer) ack(off, n uint32) bool {
	if t.length == 0 {
		news := !t.emptyAcked
		t.emptyAcked, t.emptyPending = true, false
		return news
	}
	lo, hi := uint64(off), uint64(off)+uint64(n)
	if t.acked.add(lo, hi) == 0 {
		return false
	}
	t.retx.remove(lo, hi)
	return true
}

func (t *outTransfer) complete() bool {
	if t.length == 0 {
		return t.emptyAcked
	}
	return t.acked.len() == t.length
}
