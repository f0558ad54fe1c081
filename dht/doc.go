// Package dht runs VMDT's private Kademlia DHT and its username registry.
//
// The DHT is go-libp2p-kad-dht on the protocol prefix "/vmdt" (streams
// speak /vmdt/kad/1.0.0), so it never meets the public IPFS DHT: no IPFS
// bootstrap peers, no pk or ipns validators, no provider records. It stores
// one kind of value, signed username records under "/vmdtname/<name>";
// NameValidator refuses every other key. docs/NAMES.md states the
// guarantees and limits; package namerec holds the wire formats.
//
// Registration (RegisterName, repeated by KeepName):
//
//	NormalizeName
//	  -> ask every Authority (a bootstrap notary, /vmdt/notary/1.0.0) for a
//	     ProbeHold (2 min) hold of (name, owner key); need a majority
//	  -> ask them again for the full 7-day hold; need a majority; each
//	     notary persists the hold and countersigns it with its own clock
//	  -> the owner signs a record carrying the countersignatures
//	  -> kad-dht PutValue, then ask the closest servers directly (our own
//	     message sender, not the local store) until MinRemoteCopies hold it
//
// Resolution (Resolve): kad-dht GetValue of "/vmdtname/<name>"; every node
// checks records with NameValidator before storing or returning them.
// There is no reverse lookup: nothing maps an address or peer ID to a name.
package dht
