// Package protocol defines VMDT's binary data-layer wire formats: the
// 16-byte RDT header, the 64-byte VMDT header, the ACK body and the DDT
// address. It does no I/O; every parser works on the datagram it is given
// and allocates nothing when the input is valid (a rejection allocates only
// its error message, never in proportion to the input).
//
// A datagram on the wire is
//
//	RDT header (16 bytes, cleartext, authenticated as additional data)
//	sealed body (AES-256-GCM under the per-hop session key named by KeyID)
//	tag (16 bytes)
//
// The RDT header comes first because a receiver needs its key id and
// sequence number to open the rest. When the DATA flag is set the opened
// body is a VMDT header followed by payload; when only ACK is set it is an
// ACK body. A CLOSE body is either empty (the sender drops the whole
// session) or one VMDT header (the sender abandons that one transfer, for
// example because the receiver already has enough shares); a PING body is
// empty. All integers are big-endian.
//
// # RDT header (16 bytes)
//
//	offset size field
//	0      1    version, RDTVersion (1); other values are rejected
//	1      1    flags: 0x01 DATA, 0x02 ACK, 0x04 PING, 0x08 CLOSE;
//	            unknown bits are rejected
//	2      2    window: free receive buffer the sender advertises, in datagrams
//	4      4    key id: which session key seals the body
//	8      4    sequence number: per key and direction, starts at 1, never
//	            reused (retransmitted data travels under a new number); with
//	            the key id and direction it forms the AEAD nonce, and the
//	            receiver's anti-replay window tracks it
//	12     4    acknowledgement number: every sequence number below it has
//	            been received (cumulative ACK); meaningful when ACK is set
//
// # VMDT header (64 bytes)
//
//	offset size field
//	0      1    version, VMDTVersion (1); other values are rejected
//	1      1    type: 0x01 SHARE (payload is a slice of one share); unknown
//	            types are rejected; numbers are append-only
//	2      1    flags: 0x01 POOL (hold for an offline receiver); unknown
//	            bits are rejected
//	3      1    share index, 1..n
//	4      1    n, total shares, 2..255
//	5      1    k, threshold, 2..n
//	6      2    reserved, zero
//	8      8    message id, random per message, chosen by the source
//	16     20   source DDT address
//	36     20   destination DDT address
//	56     4    offset of this payload within the share
//	60     4    share length in bytes; offset+len(payload) <= share length
//
// # ACK body
//
//	offset size field
//	0      4    ack delay: microseconds between receiving the largest
//	            acknowledged datagram and sending this ACK
//	4      1    range count r, at most MaxAckRanges
//	5      8*r  r ranges (first, last), inclusive, each uint32, strictly
//	            ascending and disjoint, all at or above the cumulative
//	            acknowledgement number of the RDT header
//
// # DDT address
//
// A DDT address is 160 bits: the first 20 bytes of
// SHA-256("vmdt/ddt/v1\x00" || marshaled public key). Anyone holding the key
// can check an address; it is shown as 40 lower-case hex characters.
package protocol
