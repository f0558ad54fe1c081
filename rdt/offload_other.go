//go:build !linux

package rdt

import "net"

var cmsgSpace = 0

func enableOffload(*net.UDPConn) (gso, gro bool) { return false, false }

func appendSegmentSize(oob []byte, _ int) []byte { return oob }

func groSegmentSize([]byte) int { return 0 }

func gsoRejected(error) bool { return true }
