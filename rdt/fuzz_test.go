package rdt

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/vmdt/vmdt/protocol"
)

// FuzzReceiveDatagram feeds arbitrary datagrams from a known peer's
// address to a live transport. None can be authentic, so none may create
// state or deliver anything, and none may panic.
func FuzzReceiveDatagram(f *testing.F) {
	// Seeds: well-formed datagrams of every kind, sealed under the wrong
	// key, plus one under an unknown key id.
	wrong, _ := newSessionKeys([32]byte{0xEE}, 1, true)
	seal := func(flags uint8, keyID, seq uint32, body []byte) []byte {
		d := protocol.AppendRDTHeader(make([]byte, 0, 2048), protocol.RDTHeader{Flags: flags, Window: 9, KeyID: keyID, Seq: seq, Ack: 1})
		return wrong.sealDatagram(new(nonce), append(d, body...))
	}
	f.Add(seal(protocol.FlagData|protocol.FlagAck, 1, 1, dataBody(validShareHeader(5), []byte("hello"))))
	f.Add(seal(protocol.FlagAck, 1, 2, protocol.AppendAckBody(nil, protocol.AckBody{Ranges: []protocol.AckRange{{First: 3, Last: 4}}})))
	f.Add(seal(protocol.FlagPing, 1, 3, nil))
	f.Add(seal(protocol.FlagClose, 1, 4, nil))
	f.Add(seal(protocol.FlagData, 2, 5, dataBody(validShareHeader(0), nil)))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, d []byte) {
		v := newVictim(t, nil)
		sc := &readScratch{key: make([]byte, 0, 64), ack: make([]byte, 0, 2048)}
		sc.key = appendAddrKey(sc.key[:0], v.peer)
		v.tr.handleDatagram(d, sc)
		st := v.tr.Stats()
		if st.InboundTransfers != 0 || st.ReassemblyBytes != 0 || st.SharesReceived != 0 || st.DroppedReplay != 0 ||
			st.DroppedMalformed+st.DroppedAuth+st.DroppedUnknownPeer != 1 {
			t.Fatalf("forged datagram changed state: %+v", st)
		}
		v.tr.delivMu.Lock()
		n := len(v.tr.delivs)
		v.tr.delivMu.Unlock()
		if n != 0 {
			t.Fatal("forged datagram delivered")
		}
	})
}

// FuzzAuthenticatedBody seals arbitrary bodies under the peer's real key
// and feeds them to a live transport. The input is a sequence of records
// (flags, ACK number, body length, body); whatever they hold, the
// transport must not panic and its memory must stay within the caps.
func FuzzAuthenticatedBody(f *testing.F) {
	rec := func(flags uint8, ack uint32, body []byte) []byte {
		b := append([]byte{flags}, binary.BigEndian.AppendUint32(nil, ack)...)
		b = binary.BigEndian.AppendUint16(b, uint16(len(body)))
		return append(b, body...)
	}
	f.Add(rec(protocol.FlagData|protocol.FlagAck, 1, dataBody(validShareHeader(5), []byte("hello"))))
	f.Add(append(rec(protocol.FlagData, 1, dataBody(validShareHeader(2000), make([]byte, 1000))),
		rec(protocol.FlagData, 1, dataBody(protocol.VMDTHeader{Type: 1, ShareIndex: 1, N: 3, K: 2, ShareLen: 2000, Offset: 1000}, make([]byte, 1000)))...))
	f.Add(rec(protocol.FlagAck, 3, protocol.AppendAckBody(nil, protocol.AckBody{DelayMicros: 5, Ranges: []protocol.AckRange{{First: 3, Last: 9}}})))
	f.Add(rec(protocol.FlagPing|protocol.FlagAck, 2, nil))
	f.Add(append(rec(protocol.FlagData, 1, dataBody(validShareHeader(5), []byte("he"))), rec(protocol.FlagClose, 1, dataBody(validShareHeader(5), nil))...))
	f.Add(rec(protocol.FlagClose, 0, nil))
	const perPeer = 64 << 10
	f.Fuzz(func(t *testing.T, in []byte) {
		v := newVictim(t, &Config{MaxReassemblyPerPeer: perPeer, MaxShareLen: 1 << 20})
		sc := &readScratch{key: make([]byte, 0, 64), ack: make([]byte, 0, 2048)}
		for len(in) >= 7 {
			flags, ack, n := in[0], binary.BigEndian.Uint32(in[1:]), int(binary.BigEndian.Uint16(in[5:]))
			in = in[7:]
			body := in[:min(n, len(in))]
			in = in[len(body):]
			v.seq++
			d := protocol.AppendRDTHeader(make([]byte, 0, len(body)+64), protocol.RDTHeader{Flags: flags, Window: 50, KeyID: 1, Seq: v.seq, Ack: ack})
			if !plausibleHeader(d) {
				continue
			}
			d = v.keys.sealDatagram(new(nonce), append(d, body...))
			sc.key = appendAddrKey(sc.key[:0], v.peer)
			v.tr.handleDatagram(d, sc)
			if st := v.tr.Stats(); st.ReassemblyBytes > perPeer || st.ReassemblyBytes < 0 {
				t.Fatalf("%d bytes reserved", st.ReassemblyBytes)
			}
		}
	})
}

// FuzzAckProcessing feeds a sending session arbitrary ACKs (cumulative
// number and body) between bursts of data and checks the scoreboard's
// bookkeeping after each.
func FuzzAckProcessing(f *testing.F) {
	f.Add([]byte{0, 0, 0, 5, 0, 0, 0, 0, 1, 0, 0, 0, 6, 0, 0, 0, 9})
	f.Add(append([]byte{0, 0, 0, 1}, protocol.AppendAckBody(nil, protocol.AckBody{Ranges: []protocol.AckRange{{First: 2, Last: 2}, {First: 4, Last: 40}}})...))
	f.Fuzz(func(t *testing.T, in []byte) {
		p, _ := (&Config{}).params()
		s := newSession(p, 1, nil, &testBudget{capacity: 1 << 20}, 0)
		h := validShareHeader(0)
		tr := newOutTransfer(h, wholeShare(make([]byte, 60*p.maxPayload)))
		tr.avail.add(0, tr.length)
		tr.fresh.add(0, tr.length)
		if err := s.startOut(0, tr); err != nil {
			t.Fatal(err)
		}
		now := time.Duration(0)
		buf := make([]byte, 0, p.MaxDatagram+tagLen)
		seq := uint32(0)
		for round := 0; len(in) >= 4 && round < 50; round++ {
			for s.poll(now, buf) != nil {
			}
			cum := binary.BigEndian.Uint32(in)
			in = in[4:]
			// The rest of the input up to the next 0xFF is an ACK body.
			n := 0
			for n < len(in) && in[n] != 0xFF {
				n++
			}
			body := in[:n]
			in = in[min(n+1, len(in)):]
			seq++
			s.receive(now, protocol.RDTHeader{Flags: protocol.FlagAck, KeyID: 1, Seq: seq, Ack: cum}, body)
			now += time.Millisecond
			checkScoreboard(t, s)
		}
	})
}

// checkScoreboard verifies the sending half's invariants.
func checkScoreboard(t *testing.T, s *session) {
	t.Helper()
	inflight, bytes := 0, 0
	for i := 0; i < s.ring.n; i++ {
		p := s.ring.get(s.ring.base + uint32(i))
		if p.state == pktInFlight {
			inflight++
			bytes += int(p.size)
			if s.ring.base+uint32(i) < s.scanFrom {
				t.Fatalf("datagram %d in flight below scanFrom %d", s.ring.base+uint32(i), s.scanFrom)
			}
		}
	}
	if inflight != s.inflight || bytes != s.inflightBytes {
		t.Fatalf("in flight: counted %d (%d bytes), recorded %d (%d bytes)", inflight, bytes, s.inflight, s.inflightBytes)
	}
	if s.inflight < 0 || s.ring.base+uint32(s.ring.n) != s.nextSeq && s.ring.n != 0 {
		t.Fatalf("ring [%d,+%d) vs next %d", s.ring.base, s.ring.n, s.nextSeq)
	}
	for _, tr := range s.outs {
		if tr.acked.len() > tr.length || tr.retx.len() > tr.length {
			t.Fatalf("transfer accounting: acked %d retx %d of %d", tr.acked.len(), tr.retx.len(), tr.length)
		}
	}
}
