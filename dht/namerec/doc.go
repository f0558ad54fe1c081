// Package namerec is the wire format of VMDT usernames: the signed name
// record stored in the DHT, the authorities' countersignatures inside it,
// and the request and response of the notary protocol
// (/vmdt/notary/1.0.0) that bootstrap nodes serve. It does no I/O; time is
// always passed in.
//
// All integers are big-endian. Times are Unix seconds in 8 bytes and must
// be below 2^62. Every variable-length field has a 1-byte length prefix.
// Each value has exactly one encoding: parsers reject trailing bytes,
// out-of-range lengths and unknown versions, so Parse followed by Append
// reproduces the input byte for byte.
//
// # Name record (version 1), at most MaxRecordSize bytes
//
//	size  field
//	1     version, RecordVersion (1)
//	1+n   name, n = 1..16, already normalized ([a-z0-9_-])
//	1+k   owner public key, crypto.MarshalPublicKey of an Ed25519 key (k = 36)
//	1+p   owner peer ID bytes; must equal peer.IDFromPublicKey(owner key)
//	20    DDT address; must equal protocol.DDTAddrFromPublicKey(owner key)
//	32    X25519 seal public key
//	8     sequence number; the owner increases it on every republish
//	8     expiry (the owner's own; the quorum may end validity earlier)
//	1     c = number of countersignatures, 1..MaxAuthorities
//	c ×   countersignature:
//	        1+a  authority peer ID bytes (counters sorted by these bytes,
//	             strictly ascending, so no authority appears twice)
//	        8    valid-until, by the authority's clock
//	        1+s  authority's Ed25519 signature over CounterPayload
//	1+s   owner's Ed25519 signature over RecordSigningDomain || all bytes
//	      above (from the version byte to the last countersignature)
//
// # Countersignature payload
//
//	"vmdt/name-counter/v1\x00" || 1+n name || 1+k owner public key || 8 valid-until
//
// An authority signs it with its libp2p identity key, so a countersignature
// says: "I hold the name for this key until valid-until". It names neither
// a DDT address nor a seal key; those the owner signs in the record.
//
// # Notary request (version 1), at most MaxRequestSize bytes, one per stream
//
//	size  field
//	1     version, NotaryVersion (1)
//	1     type: 1 claim (the only type of version 1)
//	1+n   name (normalized)
//	1+k   owner public key (Ed25519, marshaled)
//	4     requested hold, seconds, >= 1
//	1+s   owner signature over ClaimPayload, which binds the notary's peer
//	      ID so that a request is good at one notary only:
//	      "vmdt/notary-claim/v1\x00" || 1+p notary ID || 1+n name || 1+k key || 4 hold
//
// There is deliberately no timestamp from the claimant: the notary
// decides valid-until with its own clock.
//
// # Notary response (version 1), at most MaxResponseSize bytes
//
//	size  field
//	1     version, NotaryVersion (1)
//	1     status: 1 granted (new claim), 2 granted (renewal of this key's
//	      claim), 3 held by another key, 4 refused (bad request),
//	      5 unavailable (notary full or failing)
//	      granted: 8 valid-until || 1+s countersignature
//	      held:    8 held-until
//	      refused, unavailable: 1+r reason, printable ASCII, r <= 120
package namerec
