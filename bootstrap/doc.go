// Package bootstrap runs the name notary that a network's bootstrap nodes
// (its authorities) serve on /vmdt/notary/1.0.0.
//
// A bootstrap node is a libp2p host, a dht.DHT in server mode and a
// Notary. The notary makes first-come-first-served names hold: for each
// name it remembers which owner key it holds the name for and until when,
// by its own clock. A claim request flows as
//
//	stream -> read at most MaxRequestSize bytes before the deadline
//	       -> namerec.ParseRequest, check the owner's signature
//	       -> claimTable.claim: held by another key? refuse with held-until;
//	          else hold (new or extended) until max(old, now + duration)
//	       -> claimLog.append + fsync (the hold is durable before it is
//	          announced)
//	       -> countersign (name, key, held-until) with the host's key
//	       -> write the response, close the stream
//
// The notary never signs for a key while it holds an unexpired claim of
// another key, and never shortens a hold, so every countersignature it
// ever issued is covered by its state. Restarting with the same dir keeps
// the claims; dir "" keeps them in memory only (for tests).
package bootstrap
