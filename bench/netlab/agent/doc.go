// Package agent is the program netlab runs inside a lab host's network
// namespace (as "netlab __agent ...", started through "ip netns exec") to
// be one end of a single-path baseline transfer: Linux TCP with CUBIC or
// BBR, KCP with Reed-Solomon FEC, or a libp2p stream over TCP or QUIC.
//
// A receiver agent listens, reads framed messages and reports each one it
// has completely received. A sender agent reads send commands on stdin,
// sends the named file's bytes as one framed message and reports when it
// started. Both talk JSON, one object per line:
//
//	receiver stdout: {"event":"ready","addr":"10.77.0.2:5001","info":"cc=cubic"}
//	                 {"event":"received","id":7,"bytes":70800,"sha256":"…","done_ns":…}
//	sender stdin:    {"id":7,"file":"/tmp/netlab…/payload-70800","cold":true}
//	sender stdout:   {"event":"ready","info":"…"}
//	                 {"event":"sent","id":7,"start_ns":…}   or  {"event":"error","id":7,"error":"…"}
//
// Times are CLOCK_MONOTONIC nanoseconds, which every namespace of the
// machine shares, so done_ns - start_ns is the transfer's completion time:
// from just before the sender dials (cold) or writes (warm) until the
// receiver holds the last byte. The sender reads the file before taking
// start_ns.
//
// On the wire a message is a 16-byte header (id and length, big-endian
// uint64 each) followed by the payload. TCP and KCP carry any number of
// messages on one connection; libp2p opens one stream per message.
// Closing stdin stops an agent.
package agent
