// Package friends keeps a node's consent state: who asked to be our
// friend, whom we asked, who accepted; and it defines the three signed
// messages of the friend handshake and their byte layouts. It does no
// network I/O; the node carries the messages over a libp2p stream.
//
// # Consent model
//
// Two users exchange messages only when both consented: the requester by
// sending a FriendRequest, the other by accepting it. A user consents to
// receiving from someone, not to sending. For a receiver what matters is
// that WE accepted THEM (or that we asked them and they accepted):
// Store.IsFriend reports exactly that, and Store.Deny withdraws it.
//
// A receiver also decides who may park shares for it at relays, which do
// not know its friend list. When R accepts S it issues S a Token, signed
// by R, naming S's DDT address and an expiry. A relay asked to hold a
// share from S for R checks the token (Token.Verify: signed by the key
// whose DDT address is the share's destination, held by the share's
// source, not expired). Relays cannot learn that R dropped S, so tokens
// are short-lived (Config.TokenTTL, 30 days) and renewed among friends.
//
// # Handshake
//
//	S: req := store.AddOutgoing("s", "r", rKey)   // rKey from r's name record
//	S -> R: req.Marshal()
//	R: f, err := store.AddIncoming(ParseFriendRequest(b))  // pending
//	R: resp := store.Accept("s")                   // or Deny; Response resends
//	R -> S: resp.Marshal()                         // carries R's token for S
//	S: store.ApplyResponse(ParseFriendResponse(b)) // S keeps R's token
//	S: t := store.IssueToken("r")
//	S -> R: t.Marshal()
//	R: store.AddToken("s", ParseToken(b))          // R keeps S's token
//
// Requests are verified on receipt: addressed to us, signed by the key
// they carry (which gives the requester's DDT address and peer ID), made
// within MaxRequestAge (10 minutes) before now and at most MaxClockSkew
// (2 minutes) after, and not replayed (ReplayWindow remembers nonces for
// as long as a request stays fresh). A response is applied only if it
// names the nonce of our latest request to its signer.
//
// # Wire formats
//
// Every message starts with a version byte (1) and a kind byte (1
// request, 2 response, 3 token). Integers are big-endian; times are Unix
// seconds in 8 bytes, below 2^62; a field marked 1+n has a 1-byte length
// n. Keys are libp2p-marshaled Ed25519 public keys (36 bytes, canonical);
// signatures are Ed25519 (64 bytes) over a domain string followed by all
// bytes of the message before the signature field. Parsers reject trailing
// bytes and anything that would not re-encode to the same bytes.
//
// FriendRequest (at most MaxRequestLen = 182 bytes):
//
//	1     version 1
//	1     kind 1
//	1+n   requester username, 1..16 of [a-z0-9_-]
//	1+36  requester public key
//	1+m   target username
//	20    target DDT address (from its name record): a request is good
//	      for one receiver key only
//	8     time
//	16    nonce, random
//	1+64  requester's signature, domain "vmdt/friend-request/v1\x00"
//
// FriendResponse (at most MaxResponseLen = 290 bytes):
//
//	1     version 1
//	1     kind 2
//	1     decision: 1 accepted, 2 denied
//	1+36  responder public key
//	20    requester DDT address
//	16    request nonce
//	8     time
//	1+t   token: t = TokenLen (140) for an acceptance, a Token of the
//	      responder for the requester; t = 0 for a denial
//	1+64  responder's signature, domain "vmdt/friend-response/v1\x00"
//
// Token (TokenLen = 140 bytes):
//
//	1     version 1
//	1     kind 3
//	1+36  issuer (receiver R) public key
//	20    holder (sender S) DDT address
//	8     issued-at
//	8     expires-at, after issued-at, at most MaxTokenLifetime (366 days)
//	      later
//	1+64  issuer's signature, domain "vmdt/friend-token/v1\x00"
//
// # Store
//
// The Store is one JSON file, dir/friends.json ({"version":1,"friends":
// [...]}), rewritten atomically (temp file, fsync, rename, directory
// fsync) on every change; memory changes only after the write succeeds.
// Each record holds one other user: username, key, DDT address and peer
// ID (both checked against the key on load), the state of their request
// to us (none, pending, accepted, denied) and of ours to them (none,
// requested, accepted, denied), the nonces involved, and their token for
// us. A file that does not load makes Open fail with ErrCorrupt: consent
// is never silently forgotten.
package friends
