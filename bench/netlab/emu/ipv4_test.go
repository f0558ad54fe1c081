package emu

import (
	"bytes"
	"testing"
)

// tcpSYN is a 40-byte IPv4 TCP SYN from 10.77.0.11:40000 to 10.77.0.12:4001.
func tcpSYN() []byte {
	p := make([]byte, 40)
	p[0] = 0x45
	p[3] = 40
	p[8] = 64
	p[9] = 6
	copy(p[12:16], []byte{10, 77, 0, 11})
	copy(p[16:20], []byte{10, 77, 0, 12})
	p[20], p[21], p[22], p[23] = 0x9c, 0x40, 0x0f, 0xa1
	p[33] = 0x02 // SYN
	putChecksum(p[:20], 10)
	return p
}

func TestHostUnreachable(t *testing.T) {
	syn := tcpSYN()
	icmp, ok := HostUnreachable(syn)
	if !ok {
		t.Fatal("no answer to a TCP SYN")
	}
	if len(icmp) != 20+8+28 || icmp[9] != 1 || int(icmp[2])<<8|int(icmp[3]) != len(icmp) {
		t.Fatalf("bad IP header: % x", icmp[:20])
	}
	if !bytes.Equal(icmp[12:16], syn[16:20]) || !bytes.Equal(icmp[16:20], syn[12:16]) {
		t.Errorf("addresses not swapped: src % x dst % x", icmp[12:16], icmp[16:20])
	}
	if Checksum(icmp[:20]) != 0 || Checksum(icmp[20:]) != 0 {
		t.Errorf("checksums do not verify: ip %#x icmp %#x", Checksum(icmp[:20]), Checksum(icmp[20:]))
	}
	if icmp[20] != 3 || icmp[21] != 1 || !bytes.Equal(icmp[28:], syn[:28]) {
		t.Errorf("bad ICMP message: % x", icmp[20:])
	}
	if dst, ok := IPv4Dst(icmp); !ok || dst.String() != "10.77.0.11" {
		t.Errorf("answer goes to %v %v", dst, ok)
	}
	// No ICMP about ICMP, nor about later fragments or garbage.
	if _, ok := HostUnreachable(icmp); ok {
		t.Error("answered an ICMP message")
	}
	frag := tcpSYN()
	frag[7] = 10
	if _, ok := HostUnreachable(frag); ok {
		t.Error("answered a non-first fragment")
	}
	if _, ok := HostUnreachable([]byte{0x45, 0}); ok {
		t.Error("answered a truncated packet")
	}
}

func TestChecksumOddLength(t *testing.T) {
	// RFC 1071's example words 0x0001 0xf203 0xf4f5 0xf6f7 sum to 0xddf2.
	if got := Checksum([]byte{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7}); got != ^uint16(0xddf2) {
		t.Errorf("checksum %#x", got)
	}
	if Checksum([]byte{0xff}) != 0x00ff {
		t.Errorf("odd length: %#x", Checksum([]byte{0xff}))
	}
}

func FuzzHostUnreachable(f *testing.F) {
	f.Add(tcpSYN())
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, pkt []byte) {
		icmp, ok := HostUnreachable(pkt)
		if !ok {
			return
		}
		if _, ok := IPv4Dst(icmp); !ok || Checksum(icmp[:20]) != 0 || Checksum(icmp[20:]) != 0 {
			t.Fatalf("malformed answer % x to % x", icmp, pkt)
		}
		if _, again := HostUnreachable(icmp); again {
			t.Fatal("answer would be answered")
		}
	})
}
