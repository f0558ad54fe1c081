package rdt

import (
	"fmt"
	"net"
)

// DebugPeer describes the sending state of the newest session to addr.
func (t *Transport) DebugPeer(addr net.Addr) string {
	p := t.peers.Load().newest[string(appendAddrKey(nil, addr))]
	if p == nil {
		return "no peer"
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.s
	return fmt.Sprintf("srtt=%v rttvar=%v minrtt=%v rto=%v mode=%v btlbw=%.1fMB/s pacing=%.1fMB/s cwnd=%dKB inflight=%d lossRate=%.3f round=%d",
		s.rtt.srtt, s.rtt.rttvar, s.cc.minRTT, s.rto(), s.cc.mode, s.cc.btlBw()/1e6, s.cc.pacingRate/1e6, s.cc.cwnd/1024, s.inflight, s.cc.lossRate, s.cc.round)
}

// SetNoOffload switches UDP segmentation offload off for transports
// created afterwards, and returns a function that restores it.
func SetNoOffload() func() {
	old := noOffload
	noOffload = true
	return func() { noOffload = old }
}
