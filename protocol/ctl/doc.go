// Package ctl is the grammar of VMDT's control protocol: the text lines
// two nodes exchange on a /vmdt/ctl/1.0.0 libp2p stream. It parses and
// formats lines and maps errors to numbered codes; it does no I/O (package
// node/control carries the lines).
//
// # Lines
//
// A line is at most MaxLineLen (4096) bytes including its terminating
// "\n", and holds only printable ASCII (0x20..0x7e). A "\r" is not
// printable, so "\r\n" line ends are rejected. Fields are separated by
// "|"; no field is empty; the number of fields is fixed per line type, so
// a "|" can never appear inside a field. Parse functions take the line
// without its "\n"; Append functions add it.
//
// The client sends one command line and reads the reply before sending
// the next. A reply is one line, "OK..." or "ERR|<code>|<reason>",
// sometimes followed by a counted number of item lines.
//
// # Fields
//
//	client_id    40 lower-case hex characters: a DDT address
//	cluster_id   32 lower-case hex characters, not all zero
//	msg_id       16 lower-case hex characters: a VMDT message id
//	n, k         decimal, 2 <= k <= n <= 255
//	share_index  decimal, 1 <= share_index <= n
//	port         decimal, 1..65535 (0..65535 where "unknown" is allowed)
//	key_id       decimal, 1..4294967295
//	key          64 lower-case hex characters (32 bytes)
//	share_len    decimal, 1..4294967295: a share's length in bytes
//	token        unpadded base64url (RFC 4648 section 5), 1..MaxTokenLen
//	             (512) bytes decoded, canonical (unused bits zero)
//	peer_id      a libp2p peer id in its canonical base58 form, at most
//	             128 characters
//	ip           "-" (unknown) or an IP address in canonical form
//	             (dotted quad, or RFC 5952 IPv6, no zone)
//	code         three digits, 400..599
//	reason       1..200 printable characters other than "|"
//
// Decimal numbers have no sign, no leading zeros (except "0" itself) and
// at most 10 digits. Every value has exactly one spelling, so formatting a
// parsed line gives back the same bytes.
//
// # Commands and replies
//
//	CREATE_CLUSTER|<client_id>|<n>|<k>             -> cluster reply
//	JOIN_CLUSTER|<client_id>|<cluster_id>          -> cluster reply
//	LEAVE_CLUSTER|<client_id>|<cluster_id>         -> OK
//	GET_CLIENT_INFO|<client_id>|<target_client_id> -> OK|<client_id>|<peer_id>|<ip>|<port>
//	REGISTER_P2P_PORT|<client_id>|<port>           -> OK|<port>|<key_id>|<key>
//	SHARE_POOL_ADD|<msg_id>|<client_id>|<dst_client_id>|<dst_peer_id>|<share_index>|<n>|<k>|<share_len>|<token> -> OK
//	SHARE_POOL_CLAIM|<msg_id or *>|<client_id>     -> claim reply
//	RELAY_OPEN|<client_id>|<msg_id>|<dst_client_id>|<dst_peer_id>|<share_index>|<n>|<k>|<share_len>|<token> -> OK|forward or OK|pool
//	DELIVERED|<client_id>|<msg_id>|<shares_used>   -> OK
//
// (RELAY_OPEN and DELIVERED are described in delivery.go, the share pool
// commands in pool.go; file commands in file.go.) Share bytes never
// travel in control lines: they follow over RDT.
//
// In every command, <client_id> is the sender's own address; the server
// checks it against the stream's authenticated peer (ERR|401 otherwise).
//
// A cluster reply is
//
//	OK|<cluster_id>|<n>|<k>|<creator_peer_id>|<signature>|<count>
//
// followed by count (1..255) lines "MEMBER|<peer_id>", each peer once.
// The signature (unpadded base64url, 1..512 bytes) is the creator's, over
// the bytes AppendCharter gives.
//
// A claim reply is "OK|<count>", count 0..MaxHeldShares (64), followed by
// count lines
//
//	HELD|<msg_id>|<src_client_id>|<share_index>|<n>|<k>|<share_len>
//
// An error reply is "ERR|<code>|<reason>". Codes (see Code) are 400
// malformed or unknown command, 401 wrong client, 403 forbidden, 404
// unknown, 408 timeout, 409 conflict, 413 too large, 429 rate limited,
// 500 internal, 501 not implemented, 503 unavailable. A parser accepts any
// code from 400 to 599.
//
// Verbs and reply words are case-sensitive. New commands may be added;
// a server answers an unknown verb with ERR|400.
package ctl
