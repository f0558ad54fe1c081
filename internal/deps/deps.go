// Package deps pins the project's direct dependencies while the packages
// that use them are being written. It is removed once every import below
// is used by real code.
package deps

import (
	_ "github.com/hashicorp/vault/shamir"
	_ "github.com/ipfs/go-log/v2"
	_ "github.com/klauspost/reedsolomon"
	_ "github.com/libp2p/go-libp2p"
	_ "github.com/libp2p/go-libp2p-kad-dht"
	_ "github.com/libp2p/go-libp2p-record"
	_ "github.com/libp2p/go-libp2p/core/host"
	_ "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
	_ "github.com/libp2p/go-libp2p/p2p/net/connmgr"
	_ "github.com/libp2p/go-libp2p/p2p/net/mock"
	_ "github.com/libp2p/go-libp2p/p2p/security/noise"
	_ "github.com/libp2p/go-libp2p/p2p/security/tls"
	_ "github.com/libp2p/go-libp2p/p2p/transport/quic"
	_ "github.com/libp2p/go-libp2p/p2p/transport/tcp"
	_ "github.com/multiformats/go-multiaddr"
	_ "github.com/xtaci/kcp-go/v5"
	_ "golang.org/x/sys/unix"
	_ "github.com/ipfs/go-datastore"
	_ "github.com/ipfs/go-datastore/sync"
)
