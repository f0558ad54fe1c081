// Package rdt is VMDT's reliable datagram transport: it carries shares
// (byte strings of up to Config.MaxShareLen, 64 MiB by default) to peers
// over one net.PacketConn, usually a UDP socket, with per-hop encryption,
// loss recovery, flow control and congestion control. The wire formats are
// those of package protocol: a 16-byte cleartext RDT header, a body sealed
// with AES-256-GCM, and a 16-byte tag.
//
// # Using it
//
//	t, _ := rdt.New(conn, nil)                  // owns conn from now on
//	t.AddPeer(addr, keyID, sessionKey, initiator) // key agreed elsewhere
//	err := t.Send(ctx, addr, hdr, share)          // returns when every byte is acknowledged
//	d, _ := t.Receive(ctx)                        // a complete inbound share
//
// A transfer is named by its session (peer address and key id) and the
// message id, share index, source and destination of its VMDT header. For
// relays, OpenSend starts a transfer of known length whose bytes arrive
// later, in any order, through Outgoing.WriteAt; Config.OnSegment reports
// each new piece of an inbound share as it arrives, so a relay can forward
// it cut-through, and Config.Reassemble lets it skip buffering. Either end
// can end a transfer early: Outgoing.Abandon, a cancelled Send, or
// AbandonMessage on the receiver, which makes the sender's Send return
// ErrAbandoned.
//
// # How data flows
//
// The Transport is a thin layer of two goroutines around per-peer
// sessions. A session (session.go) is a pure state machine: time and
// opened datagrams go in, datagrams to seal and events come out, and it is
// tested without sockets (sim_test.go drives two of them over a simulated
// path).
//
// Receiving: the read loop reads a datagram (with Linux GRO, several),
// checks the RDT header, finds the session by (address, key id) in a
// lock-free table, and opens the body with the session's receive key.
// Unknown, forged, malformed and (after opening) replayed datagrams are
// dropped and counted in Stats before anything is allocated or any state
// changes. The session then takes the lock-protected steps: the replay
// window (internal/replay) records the sequence number, the window and
// acknowledgements update the sending half, and DATA goes to reassembly,
// which reports new segments (OnSegment) and complete shares (Receive).
// After a batch the read loop sends the ACKs that are due and wakes the
// send loop if a session's next deadline moved earlier.
//
// Sending: Send and WriteAt put bytes in a session's outgoing transfer
// and wake the send loop. The send loop polls the sessions with work for
// up to 32 datagrams each (abandon notices, delayed ACKs, zero-window
// PINGs, then data as the peer's window, the congestion window and the
// pacer allow), seals them, and writes them (with Linux GSO, in one system
// call); then it sleeps until the earliest session deadline: pacing,
// delayed ACK, loss timer, retransmission timeout, zero-window probe,
// transfer timeouts.
//
// # Reliability
//
// Every datagram has a new sequence number, per key and direction;
// retransmitted bytes travel under a new number, so ACKs (a cumulative
// number plus up to 32 SACK ranges) are never ambiguous and every
// acknowledged datagram gives an RTT sample. The sender's scoreboard maps
// acknowledged numbers back to byte ranges of transfers. A datagram is
// declared lost when one sent 3 numbers later is acknowledged, or 9/8 RTT
// after it was sent once a later one is (RFC 9002); a retransmission
// timeout (RFC 6298: SRTT + 4·RTTVAR + max ACK delay, within MinRTO and
// MaxRTO, doubling on each expiry) declares everything in flight lost and
// sends at most two datagrams until an ACK arrives. The receiver ACKs every
// second datagram, at once on reordering or completion, else within
// MaxAckDelay.
//
// Flow control: every datagram advertises the receiver's free reassembly
// memory in datagrams; the sender never has more data datagrams in flight,
// and probes a closed window with PING. Congestion control is a
// delivery-rate model after BBR with pacing (bbr.go), which tolerates
// random loss.
//
// # Security
//
// Each session derives two AES-256-GCM keys from the 32-byte session key
// with HKDF-SHA256, one per direction (keys.go); the nonce is key id and
// sequence number, the additional data the RDT header. The anti-replay
// window is checked and updated only after a datagram authenticates.
//
// # Memory and time bounds
//
// An inbound share reserves its full length, against a per-peer and a
// total cap, when its first datagram arrives; datagrams that would exceed
// a cap are dropped unacknowledged. The reservation lasts until the
// application takes the share from Receive. A transfer without progress
// for Config.TransferTimeout is failed (sender: ErrTimeout, with
// ErrPeerUnreachable if the peer went silent) or freed (receiver:
// Config.OnInboundFailed).
//
// docs/RDT.md describes the design in full, with its limits and the
// benchmark results.
package rdt
