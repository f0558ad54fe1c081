package emu

import "net/netip"

// IPv4Dst returns the destination address of an IPv4 packet. It reports
// false for anything that is not a plausible IPv4 packet: too short, a
// version other than 4, a header length below 20 bytes or beyond the
// packet, or a total length field that disagrees with the packet.
func IPv4Dst(pkt []byte) (netip.Addr, bool) {
	if len(pkt) < 20 || pkt[0]>>4 != 4 {
		return netip.Addr{}, false
	}
	ihl := int(pkt[0]&0x0f) * 4
	total := int(pkt[2])<<8 | int(pkt[3])
	if ihl < 20 || ihl > len(pkt) || total < ihl || total > len(pkt) {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4([4]byte(pkt[16:20])), true
}
