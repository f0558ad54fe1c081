package rdt

import "sync/atomic"

// Stats are cumulative counters of a Transport, plus a few gauges. Drop
// counters let tests and operators see what was refused and why.
type Stats struct {
	DatagramsSent, BytesSent         uint64 // written to the connection
	DatagramsReceived, BytesReceived uint64 // read from the connection, valid or not
	WriteErrors                      uint64

	// Datagrams dropped before reaching a session: no state is created
	// and nothing is allocated for them.
	DroppedMalformed   uint64 // bad RDT header, too short or too long, or (after opening) a bad body
	DroppedUnknownPeer uint64 // no session for the (address, key id) pair
	DroppedAuth        uint64 // AEAD authentication failed
	DroppedReplay      uint64 // authenticated but seen before or too old for the window

	// Authenticated datagrams whose content was refused.
	DroppedOverCap    uint64 // would start an inbound transfer beyond a reassembly cap
	DroppedAbandoned  uint64 // data for a transfer this side abandoned
	DuplicateSegments uint64 // data already held (a retransmission that crossed an ACK)

	DataSent    uint64 // data datagrams sent, retransmissions included
	Retransmits uint64 // data datagrams that resent bytes declared lost
	Lost        uint64 // data datagrams declared lost
	Spurious    uint64 // of those, acknowledged later after all
	RTOs        uint64 // retransmission timeouts
	AcksSent    uint64 // ACK-only datagrams
	PingsSent   uint64 // zero-window probes
	ClosesSent  uint64 // CLOSE datagrams (session close and abandon notices)

	SharesSent       uint64 // outgoing transfers acknowledged in full
	SharesReceived   uint64 // inbound transfers completed
	OutboundFailed   uint64 // outgoing transfers that ended in an error
	InboundExpired   uint64 // inbound transfers freed after TransferTimeout without progress
	InboundAbandoned uint64 // inbound transfers abandoned by either end

	Peers            int   // sessions
	InboundTransfers int   // inbound transfers being reassembled
	OutboundPending  int   // outgoing transfers not yet finished
	ReassemblyBytes  int64 // reassembly memory reserved, queued deliveries included
}

type transportCounters struct {
	datagramsSent, bytesSent         atomic.Uint64
	datagramsReceived, bytesReceived atomic.Uint64
	writeErrors                      atomic.Uint64
	droppedMalformed                 atomic.Uint64
	droppedUnknownPeer               atomic.Uint64
	droppedAuth                      atomic.Uint64
}

// Stats returns a snapshot of the counters.
func (t *Transport) Stats() Stats {
	t.peersMu.Lock()
	c := t.retired
	tbl := t.peers.Load()
	t.peersMu.Unlock()
	st := Stats{Peers: len(tbl.byKey)}
	for _, p := range tbl.byKey {
		p.mu.Lock()
		c.add(&p.s.ctr)
		st.InboundTransfers += len(p.s.ins)
		st.OutboundPending += len(p.s.outs)
		p.mu.Unlock()
	}
	st.DatagramsSent = t.ctr.datagramsSent.Load()
	st.BytesSent = t.ctr.bytesSent.Load()
	st.DatagramsReceived = t.ctr.datagramsReceived.Load()
	st.BytesReceived = t.ctr.bytesReceived.Load()
	st.WriteErrors = t.ctr.writeErrors.Load()
	st.DroppedMalformed = t.ctr.droppedMalformed.Load() + c.DroppedMalformed
	st.DroppedUnknownPeer = t.ctr.droppedUnknownPeer.Load()
	st.DroppedAuth = t.ctr.droppedAuth.Load()
	st.DroppedReplay = c.DroppedReplay
	st.DroppedOverCap = c.DroppedOverCap
	st.DroppedAbandoned = c.DroppedAbandoned
	st.DuplicateSegments = c.DuplicateSegments
	st.DataSent = c.DataSent
	st.Retransmits = c.Retransmits
	st.Lost = c.Lost
	st.Spurious = c.Spurious
	st.RTOs = c.RTOs
	st.AcksSent = c.AcksSent
	st.PingsSent = c.PingsSent
	st.ClosesSent = c.ClosesSent
	st.SharesSent = c.SharesSent
	st.SharesReceived = c.SharesReceived
	st.OutboundFailed = c.OutboundFailed
	st.InboundExpired = c.InboundExpired
	st.InboundAbandoned = c.InboundAbandoned
	st.ReassemblyBytes = t.total.reserved.Load()
	return st
}
