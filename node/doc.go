// Package node assembles a VMDT node from its parts and runs it as a
// daemon with a local HTTP API.
//
// A node is a libp2p host (TCP and QUIC, Noise and TLS, resource and
// connection managers with limits for VMDT's protocols), the private
// Kademlia DHT with the username registry (package dht), and, on ordinary
// nodes, the control protocol /vmdt/ctl/1.0.0 (package node/control) with
// its data plane: a reliable UDP transport (package rdt) on its own socket.
// An ordinary node also keeps a friend store (package node/friends, the
// repository's friends.json) and serves the friend handshake
// /vmdt/friend/1.0.0 (package node/consent). A bootstrap node instead
// runs the DHT in server mode and the name notary (package bootstrap),
// and the control protocol without a data plane.
//
// Data flow:
//
//	Repo (identity.key, seal.key, config.json)
//	  -> Options (listen/bootstrap multiaddrs, authorities, UDP address)
//	  -> New: host -> [notary] -> dht.New -> [UDP socket -> rdt] -> control
//	     -> [friends.json -> consent]
//	  -> Daemon: Node + DHT bootstrap + API on 127.0.0.1 (Bearer token from
//	     api.token; its address is written to the repo's "api" file)
//	  -> APIClient (the vmdt CLI) reads "api" and "api.token" and calls the
//	     daemon: id, peers, name register, resolve, friends.
//
// Names: RegisterName asks a majority of the authorities (the network's
// bootstrap nodes) to countersign, stores the record in the DHT and
// returns once remote peers hold it; the node then keeps it published
// until it closes. Resolve looks a name up in the DHT.
//
// Friends: users exchange messages only after both consented. The node's
// username (registered, or kept from the repository) signs its friend
// requests. RequestFriend resolves the other user's name, connects to its
// node and leaves a request there; AcceptFriend or DenyFriend answer it,
// at once or, if the requester's node is offline, from an outbox that
// keeps trying. The sending and receiving sides ask IsFriend,
// CheckFriend (ErrNotFriends) and FriendToken: the token a friend gave
// us to deposit shares for them at relays.
//
// Messages (messages.go, sendopts.go, api_send.go): SendMessage and
// SendFile hand a message to the delivery engine (package
// node/delivery), which sends it as k-of-n shares over n distinct
// relays; with SendOptions.Cluster the relays are the cluster's members
// (clusters.go) and n and k its defaults. The API's POST /v1/send keeps
// a body up to one 4 MiB chunk in memory and writes a larger one to the
// repository's delivery/tmp, then sends it as a file in chunks, so memory
// stays bounded whatever the size; it can stream progress as NDJSON.
// Received messages wait in the engine's inbox (delivery/inbox), served
// from disk by GET /v1/inbox/{id}. As a relay the node keeps shares for
// offline receivers in its share pool (delivery/pool); as a receiver it
// claims its pooled shares from each peer that connects
// (claimconnect.go) and from all peers every few minutes.
//
// Authorities: every node of a network must use the same set. By default
// it is the peer IDs of the configured bootstrap multiaddrs, plus the node
// itself on a bootstrap node; Options.Authorities (--authority) replaces
// the default.
//
// Close stops everything in reverse order of construction and is
// idempotent; constructors that fail half-way release what they started.
package node
