// Package control runs VMDT's control protocol, /vmdt/ctl/1.0.0, over
// libp2p streams: the server that answers it and the client that speaks
// it. The line grammar lives in package protocol/ctl; this package moves
// lines and keeps the state they act on.
//
// # How a stream flows
//
// A client opens a stream, writes one command line, reads the reply
// (one line, or a counted header followed by item lines), and may send
// further commands on the same stream; closing its write side ends the
// exchange. The server, for each line:
//
//  1. sets a read deadline of Config.LineTimeout and reads up to
//     ctl.MaxLineLen bytes; a longer line gets ERR|413, silence gets
//     ERR|408, a line cut short by end of stream gets ERR|400, and in each
//     case the stream is closed after the reply;
//  2. takes a token from the peer's bucket (Config.LineRate, LineBurst;
//     shared by all the peer's streams), else ERR|429;
//  3. parses the line (ctl.ParseCommand), else ERR|400;
//  4. checks that the client_id the line speaks for is the DDT address of
//     the stream's authenticated peer (derived from the public key in its
//     peer id), else ERR|401;
//  5. acts and replies under a write deadline of Config.WriteTimeout.
//
// The Config.MaxErrors-th ERR reply on one stream is the last: the server
// writes it and closes the stream. I/O errors reset the stream. A peer may
// have Config.MaxStreamsPerPeer streams in service at once; a further one
// is answered ERR|429 and closed.
//
// # Data plane: REGISTER_P2P_PORT and GET_CLIENT_INFO
//
// ConnectDataPlane(p) sends REGISTER_P2P_PORT|<self>|<our UDP port>. The
// server draws a random non-zero key id and 32-byte key, calls
// DataPlane.AddPeer(<client IP>:<client port>, id, key, initiator=true),
// remembers the client's endpoint, and answers
// OK|<its UDP port>|<key id>|<key hex>. The client then calls
// AddPeer(<server IP>:<server port>, id, key, initiator=false). Each side
// takes the other's IP from the libp2p connection's remote multiaddr;
// relayed connections have no usable IP and get ERR|503. The key crosses
// only the encrypted, mutually authenticated libp2p stream. Registering
// again installs a fresh key.
//
// GET_CLIENT_INFO|<self>|<target> is answered from what the server knows:
// about itself, its peer id and UDP port with IP "-" (the asker uses the
// IP it reached the server at); about a client that registered with it,
// that client's peer id, IP and port; about a member of one of its
// clusters, the peer id with IP "-" and port 0; otherwise ERR|404. Keys
// are never disclosed. The client checks that the returned peer id owns
// the target address.
//
// # Clusters
//
// A cluster is a group of peers, with default n and k, whose members
// relay for each other. There is no cluster server: every member keeps a
// full copy. The creator draws the 128-bit cluster id at random and signs
// a charter (ctl.AppendCharter: id, n, k, creator) with its identity key;
// the charter and signature travel with every copy, so n and k cannot be
// altered and any member can admit newcomers after the creator is gone.
// Knowing the id is the admission ticket; share it like an invitation.
//
// JoinCluster(via, id) sends JOIN_CLUSTER to via, a member, which adds the
// joiner and returns its copy; the joiner verifies the charter, keeps the
// copy, and then announces itself with JOIN_CLUSTER to every other member
// it learns of and can reach, merging their copies into its own. A member
// thus learns of a newcomer from the newcomer itself, over a stream that
// authenticates it. LeaveCluster drops the local copy and sends
// LEAVE_CLUSTER to the members it can reach, which remove the leaver and
// remember it so that merging an older copy does not bring it back; a
// direct JOIN_CLUSTER from it re-admits it. When the creator leaves or
// vanishes the cluster continues unchanged. CREATE_CLUSTER asks a peer to
// issue a cluster with itself as creator and the asker as second member
// (CreateClusterAt); CreateCluster issues one locally.
//
// Copies are eventually, not strictly, consistent: a member unreachable
// while someone joins learns of the newcomer only when the newcomer (or a
// later joiner that knows it) reaches it. Member lists are capped at
// ctl.MaxClusterMembers.
//
// # Share pool
//
// SHARE_POOL_ADD (a sender deposits a share for an offline receiver; its
// bytes follow over RDT) and SHARE_POOL_CLAIM (a receiver asks what a
// relay holds for it; the relay lists it and pushes it over RDT) are
// parsed and checked here (the depositor and the claimant must be the
// stream's peer, else ERR|401) and handed to the installed Delivery if it
// implements SharePool; otherwise they are answered ERR|501.
//
// # Multipath delivery
//
// RELAY_OPEN (a sender asks a relay to forward one share to a receiver)
// and DELIVERED (a receiver confirms a message to its sender) are handed
// to the Delivery installed with SetDelivery (package node/delivery);
// without one they are answered ERR|501. RelayOpen and Delivered send
// them.
package control
