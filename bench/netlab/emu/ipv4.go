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

// HostUnreachable returns the ICMP "destination host unreachable" message
// that tells the sender of pkt, an IPv4 packet, that its destination
// cannot be reached, as if the destination's address had answered. It
// reports false for packets that get no answer: anything that is not a
// plausible IPv4 packet, ICMP packets (no ICMP about ICMP), and fragments
// other than the first. The answer carries pkt's IP header and the first
// 8 bytes of its payload, so that the sender's kernel finds the socket
// and fails a pending connect at once instead of retrying until its
// timeout.
func HostUnreachable(pkt []byte) ([]byte, bool) {
	if _, ok := IPv4Dst(pkt); !ok {
		return nil, false
	}
	ihl := int(pkt[0]&0x0f) * 4
	total := int(pkt[2])<<8 | int(pkt[3])
	if pkt[9] == 1 || (int(pkt[6]&0x1f)<<8|int(pkt[7])) != 0 {
		return nil, false
	}
	quote := pkt[:min(total, ihl+8)]
	out := make([]byte, 20+8+len(quote))
	out[0] = 0x45
	out[2], out[3] = byte(len(out)>>8), byte(len(out))
	out[8] = 64 // TTL
	out[9] = 1  // ICMP
	copy(out[12:16], pkt[16:20])
	copy(out[16:20], pkt[12:16])
	putChecksum(out[:20], 10)
	icmp := out[20:]
	icmp[0], icmp[1] = 3, 1 // destination unreachable, host unreachable
	copy(icmp[8:], quote)
	putChecksum(icmp, 2)
	return out, true
}

// putChecksum writes the Internet checksum of b at b[at:at+2], which
// must be zero.
func putChecksum(b []byte, at int) {
	c := Checksum(b)
	b[at], b[at+1] = byte(c>>8), byte(c)
}

// Checksum is the Internet checksum (RFC 1071) of b: the one's
// complement of the one's complement sum of its 16-bit words. Over data
// that contains its own correct checksum it is 0.
func Checksum(b []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}
