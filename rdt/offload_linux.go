//go:build linux

package rdt

import (
	"encoding/binary"
	"errors"
	"net"

	"golang.org/x/sys/unix"
)

// Linux UDP segmentation offload. With GSO the send loop hands the kernel
// up to maxSegments equal-sized datagrams for one peer in a single
// sendmsg, with a UDP_SEGMENT control message; the kernel (or NIC) cuts
// them into datagrams. With GRO the kernel may hand the read loop several
// datagrams of one sender in a single recvmsg, with their size in a
// UDP_GRO control message. Both cut the per-datagram system call cost,
// which dominates at high rates. Either is used only if the socket
// accepts it, and GSO is switched off for good at the first send error.

// enableOffload probes GSO support and turns GRO on for c.
func enableOffload(c *net.UDPConn) (gso, gro bool) {
	rc, err := c.SyscallConn()
	if err != nil {
		return false, false
	}
	rc.Control(func(fd uintptr) {
		_, err := unix.GetsockoptInt(int(fd), unix.IPPROTO_UDP, unix.UDP_SEGMENT)
		gso = err == nil
		gro = unix.SetsockoptInt(int(fd), unix.IPPROTO_UDP, unix.UDP_GRO, 1) == nil
	})
	return gso, gro
}

// cmsgSpace is the room for one control message with an int of data.
var cmsgSpace = unix.CmsgSpace(4)

// A cmsghdr is {len size_t; level int32; type int32}: 16 bytes on 64-bit
// platforms, 12 on 32-bit ones.
const wideCmsg = unix.SizeofCmsghdr == 16

func putCmsgHeader(h []byte, dataLen, level, typ int) {
	if wideCmsg {
		binary.NativeEndian.PutUint64(h[0:], uint64(unix.CmsgLen(dataLen)))
		binary.NativeEndian.PutUint32(h[8:], uint32(level))
		binary.NativeEndian.PutUint32(h[12:], uint32(typ))
		return
	}
	binary.NativeEndian.PutUint32(h[0:], uint32(unix.CmsgLen(dataLen)))
	binary.NativeEndian.PutUint32(h[4:], uint32(level))
	binary.NativeEndian.PutUint32(h[8:], uint32(typ))
}

func cmsgHeader(h []byte) (l, level, typ int) {
	if wideCmsg {
		return int(binary.NativeEndian.Uint64(h[0:])), int(int32(binary.NativeEndian.Uint32(h[8:]))), int(int32(binary.NativeEndian.Uint32(h[12:])))
	}
	return int(binary.NativeEndian.Uint32(h[0:])), int(int32(binary.NativeEndian.Uint32(h[4:]))), int(int32(binary.NativeEndian.Uint32(h[8:])))
}

// appendSegmentSize appends a UDP_SEGMENT control message for segments
// of size bytes.
func appendSegmentSize(oob []byte, size int) []byte {
	start := len(oob)
	for range unix.CmsgSpace(2) {
		oob = append(oob, 0)
	}
	h := oob[start:]
	putCmsgHeader(h, 2, unix.SOL_UDP, unix.UDP_SEGMENT)
	binary.NativeEndian.PutUint16(h[unix.SizeofCmsghdr:], uint16(size))
	return oob
}

// groSegmentSize returns the segment size from a UDP_GRO control message
// in oob, or 0.
func groSegmentSize(oob []byte) int {
	for len(oob) >= unix.SizeofCmsghdr {
		l, level, typ := cmsgHeader(oob)
		if l < unix.SizeofCmsghdr || l > len(oob) {
			return 0
		}
		if level == unix.SOL_UDP && typ == unix.UDP_GRO && l >= unix.CmsgLen(4) {
			return int(int32(binary.NativeEndian.Uint32(oob[unix.SizeofCmsghdr:])))
		}
		next := unix.CmsgSpace(l - unix.SizeofCmsghdr)
		if next > len(oob) {
			return 0
		}
		oob = oob[next:]
	}
	return 0
}

// gsoRejected reports whether a send error means the socket or device
// cannot segment.
func gsoRejected(err error) bool {
	return errors.Is(err, unix.EIO) || errors.Is(err, unix.EINVAL) || errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.EMSGSIZE)
}
