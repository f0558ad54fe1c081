// Package consent carries the friend handshake of package node/friends
// between nodes, over the libp2p stream protocol /vmdt/friend/1.0.0.
//
// # How a friendship is made
//
//	alice (requester)                          bob (target)
//	Request("bob"):
//	  resolve "bob" in the DHT, check the record
//	  find bob's peer (kad FindPeer), connect
//	  store.AddOutgoing -> FriendRequest ------> parse, sender peer == signer,
//	                                             Verify (for us, signed, fresh),
//	                                             resolve "alice": her key?
//	                                             store.AddIncoming (replay) -> pending
//	                           <---------------- ack OK
//	                                          Accept("alice") (or Deny):
//	                                             store.Accept -> FriendResponse
//	  sender peer == signer,  <----------------- (a new stream, from bob's outbox)
//	  store.ApplyResponse: friends,
//	  keeps bob's token
//	  ack OK + alice's token for bob ----------> store.AddToken
//
// Every message travels on a stream of its own, opened by its author, so
// the libp2p connection authenticates the sender: a message signed by a
// key other than the stream's remote peer is refused. A request is also
// refused unless its requester username resolves, in the DHT, to the key
// that signed it: nobody can ask in someone else's name.
//
// # Responses to peers that are offline
//
// An answer (acceptance or denial) is owed until the requester has
// acknowledged it. Accept and Deny try to deliver it at once; if that
// fails, an outbox keeps it and retries in the background with
// exponential backoff (Config.RetryMin up to RetryMax, for at most
// RetryFor), and at once whenever the requester's peer connects to us or
// sends us anything on this protocol. Each attempt carries a freshly
// signed response (with a fresh token), so a late delivery is never
// stale. The outbox lives in memory: if this node restarts first, the
// requester gets the answer when it asks again (a request from someone
// we already accepted is answered at once, one we denied is refused with
// code 7, denied).
//
// # Wire format
//
// The opener writes one frame and closes its write side:
//
//	2     length L, big-endian, 1..MaxMessageLen (290)
//	L     a friends.FriendRequest, FriendResponse or Token; its second
//	      byte (the kind) says which
//
// The listener answers with one ack and closes the stream:
//
//	1     version 1
//	1     code: 0 OK, otherwise why the message was refused (Code)
//	1+n   reason, n <= MaxReasonLen (200), text for humans
//	1+t   attachment: t = 0, or t = friends.TokenLen (140) in an OK ack
//	      to an acceptance, carrying the listener's token for the opener
//
// The listener reads the frame within FrameTimeout and the whole exchange
// must end within StreamTimeout; a stream that breaks these rules or
// fails I/O is reset. Inbound streams are limited per peer (a token
// bucket, Config.PeerBurst and PeerRate) and in total (MaxInbound);
// pending requests are capped by the friends.Store (its MaxPending):
// over a limit the answer is code 8, busy.
package consent
