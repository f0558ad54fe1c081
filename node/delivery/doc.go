// Package delivery is VMDT's multipath delivery engine: it sends a
// message as n sealed shares over n distinct relays, relays shares for
// other nodes cut-through, and receives messages into an inbox once k
// shares authenticate.
//
// # What is built, and what is not
//
// Built (the online path, all parties reachable):
//   - Engine.Send: resolve the receiver, require its friend token
//     (ErrNotFriends), ssms.Split, envelope.Seal to the receiver's seal
//     key, pick n responsive relays spread over /24 (IPv4) or /48 (IPv6)
//     prefixes (ErrNotEnoughRelays, saying how many were found; probes run
//     concurrently, selection starts once n answered plus a short grace,
//     candidates whose probe failed are skipped for a while), announce
//     each share with RELAY_OPEN, send all n envelopes concurrently over
//     RDT, wait for the receiver's DELIVERED, abandon the rest. A share
//     of up to Config.EarlyShareLen bytes is sent while its RELAY_OPEN is
//     on the way, and relays keep its segments until they accept it
//     (early.go); resolved username records are reused for
//     Config.NameCacheTTL (names.go).
//   - Relaying: Engine.RelayOpen checks the token, the receiver's peer id,
//     the share length and per-sender and total limits, sets up the data
//     plane to the receiver and opens the forward transfer;
//     Engine.OnSegment forwards each segment of an announced share as it
//     arrives (the VMDT header is the same end to end). The relay holds
//     no keys, and no copy of the share unless it has a share pool (see
//     the pool fallback below).
//   - Receiving: Engine.OnSegment feeds package assemble per (sender,
//     message id, n, k, length); messages from non-friends are dropped,
//     shares whose prefix the sender did not sign are rejected, altered
//     fragments are found by their ssms tags. A decoded message is stored
//     in the Inbox, its transfers are abandoned (rdt AbandonMessage) and
//     DELIVERED goes back to the sender's peer, derived from the sender
//     key in the signed manifest.
//   - Inbox: one .msg and one .json file per message, written atomically.
//   - Files (files.go, filemanifest.go, chunkstore.go): Engine.SendFile
//     sends a file as a signed file manifest and chunks of 4 MiB, each an
//     ordinary k-of-n message whose envelope carries the chunk fields;
//     FILE_STATUS tells the sender which chunks the receiver holds, so a
//     repeated send resumes. The receiver verifies each chunk against the
//     manifest, writes it in place on disk and moves the complete file
//     into the inbox (Inbox.PutFile, Inbox.Open).
//   - Store and forward (deposit.go, pool.go, claim.go): before choosing
//     relays Send checks that the receiver is reachable (a data-plane
//     session within ProbeTimeout, with a PeerFinder lookup); if not, it
//     deposits each share with SHARE_POOL_ADD, else it uses RELAY_OPEN
//     and a relay that cannot reach the receiver answers OK|pool. Either
//     way a relay with a share pool (Config.Pool) checks token and room
//     (ERR|403, ERR|413 naming the limit), takes the whole envelope over
//     RDT and keeps it in the pool (on disk, until its TTL); Send reports
//     StatusPooled once k shares are held. The receiver sends
//     SHARE_POOL_CLAIM|*|<self> to its peers at start and every
//     Config.ClaimInterval; relays list what they hold (HELD lines), push
//     it over RDT with VMDT FlagPool, and delete each share once its
//     transfer completed.
//   - Spare relays (spare.go): when more than n-k relays fail, Send
//     re-sends the failed shares through relays it has not used yet.
//   - Pool fallback mid-transfer (fallback.go): a relay with a share
//     pool keeps a copy of each share it forwards (if the pool could take
//     it when announced); if the forward fails other than by an abandon
//     (the receiver went silent or closed its session) and the pool still
//     has room, the relay keeps taking the share from the sender and
//     stores it in the pool, to be pushed when the receiver claims it.
//     The sender is not told (the control protocol has no message for
//     it): if no DELIVERED comes within DeliveryTimeout, at least k
//     relays took every byte and a fresh handshake with the receiver
//     fails, Send reports StatusPooled with those shares OutcomeHeld
//     (kept by relays with a pool, which the sender cannot check) and no
//     error; else it fails with ErrNoConfirmation.
//   - Wiring: package node builds the engine with a share pool
//     (node/wiring.go) and exposes Send over its API; the CLI sends with
//     "vmdt send" (cmd/vmdt/cmd_send.go).
//
// Memory of a relay: a forwarded share costs the RDT transport's send
// buffer plus, with a share pool, the fallback copy, each at most the
// share's length (Config.MaxShareLen at most); a share being pooled costs
// one buffer of its length; at most Config.MaxRelays shares (and
// Config.MaxRelaysPerSender per sender) are relayed or pooled at once.
//
// Not built yet: retransmission of missing ranges through other relays,
// and telling the sender which relays pooled a share after a failed
// forward. A whole message replayed is dropped while its id is
// remembered (twice InboundTimeout); later it is decoded again, but the
// inbox refuses a message it holds, same sender and id (ErrExists), so it
// is not stored or reported twice (DELIVERED is sent again). Another
// sender's message with the same id is stored under an alias
// (Inbox.Put). A relay accepts segments of
// an announced share from the first RDT session that sends one, not
// necessarily the announcer's.
//
// # How data flows
//
//	sender                       relay i                        receiver
//	Send ─ RELAY_OPEN|…|i|… ───▶ RelayOpen: token, limits,
//	                             ConnectDataPlane(receiver),
//	       ◀──────── OK|forward  rdt OpenSend ──────────────┐
//	rdt Send(envelope i) ──────▶ OnSegment ─ WriteAt ───────┴─▶ OnSegment ─ assemble
//	                                                            decode loop: Result,
//	                                                            Inbox.Put, AbandonMessage
//	       ◀──────────────────────────────── DELIVERED|…|used ─┘
//	Report{ID, Status, Shares}
//
// # Wiring
//
// The engine does no I/O of its own besides the inbox: it uses the RDT
// transport (Transport), the control protocol (Control), the name
// registry (Names), the friend store (Friends) and the peer list (Peers)
// through interfaces at its side. The node passes Engine.OnSegment,
// Engine.Reassemble and Engine.OnInboundFailed to rdt.Config and calls
// control.Service.SetDelivery(engine) so that RELAY_OPEN and DELIVERED
// reach it.
//
// # Goroutines
//
// The engine owns one decode loop (decoding off the RDT read loop, and
// expiring stale inbound messages), one watcher per relayed share, and
// one goroutine per DELIVERED being sent (once per decoded message,
// retried with backoff for up to Config.DeliveredRetry); Close stops and
// waits for all.
// Send runs n goroutines of its own and waits for them before returning.
package delivery
