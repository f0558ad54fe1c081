package node

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
	ma "github.com/multiformats/go-multiaddr"
)

func TestParseConfigDefaultsRoundTrip(t *testing.T) {
	b, err := DefaultConfig().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	c, err := ParseConfig(b)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Listen, DefaultListen) || c.UDP != DefaultUDP || c.DefaultN != DefaultN || c.DefaultK != DefaultK || c.DHTMode != "server" {
		t.Fatalf("defaults after round trip: %+v", c)
	}
}

func TestParseConfigRejects(t *testing.T) {
	id := randomPeerID(t)
	for name, in := range map[string]string{
		"unknown field":      `{"listen": [], "lisen": []}`,
		"bad listen":         `{"listen": ["/ip4/1.2.3/tcp/1"]}`,
		"bootstrap no p2p":   `{"bootstrap": ["/ip4/127.0.0.1/tcp/1"]}`,
		"bad authority":      `{"authorities": ["notapeer"]}`,
		"bad udp":            `{"udp": "127.0.0.1"}`,
		"bad dht mode":       `{"dht_mode": "sometimes"}`,
		"k above n":          `{"default_n": 3, "default_k": 4}`,
		"n too small":        `{"default_n": 1, "default_k": 1}`,
		"low above high":     `{"limits": {"conn_low": 10, "conn_high": 5}}`,
		"negative":           `{"limits": {"conn_low": -1}}`,
		"bad grace":          `{"limits": {"conn_grace": "soon"}}`,
		"bad trusted net":    `{"limits": {"trusted_nets": ["10.0.0.0"]}}`,
		"trusted net bits":   `{"limits": {"trusted_nets": ["10.0.0.0/33"]}}`,
		"trailing data":      `{} {}`,
		"not an object":      `[]`,
		"bootstrap bad peer": `{"bootstrap": ["/ip4/127.0.0.1/tcp/1/p2p/` + id.String()[:10] + `"]}`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseConfig([]byte(in)); !errors.Is(err, ErrBadConfig) {
				t.Fatalf("ParseConfig(%s) = %v, want ErrBadConfig", in, err)
			}
		})
	}
}

func TestParseConfigLimits(t *testing.T) {
	c, err := ParseConfig([]byte(`{"limits": {"conn_low": 5, "conn_high": 10, "conn_grace": "1m30s"}}`))
	if err != nil {
		t.Fatal(err)
	}
	o := Options{ConnLow: c.Limits.ConnLow, ConnHigh: c.Limits.ConnHigh, ConnGrace: time.Duration(c.Limits.ConnGrace)}
	l := connLimits(&o)
	if l.Low != 5 || l.High != 10 || l.Grace.Seconds() != 90 {
		t.Fatalf("limits %+v", l)
	}
}

func TestParseBootstrapAddrsMergesPeers(t *testing.T) {
	a, b := randomPeerID(t), randomPeerID(t)
	infos, err := ParseBootstrapAddrs([]string{
		"/ip4/127.0.0.1/tcp/1/p2p/" + a.String(),
		"/ip4/127.0.0.1/tcp/2/p2p/" + b.String(),
		"/ip4/127.0.0.1/udp/1/quic-v1/p2p/" + a.String(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != 2 || infos[0].ID != a || infos[1].ID != b {
		t.Fatalf("infos %v, want %s then %s", infos, a, b)
	}
	if len(infos[0].Addrs) != 2 || !infos[0].Addrs[1].Equal(ma.StringCast("/ip4/127.0.0.1/udp/1/quic-v1")) {
		t.Fatalf("addresses of %s: %v", a, infos[0].Addrs)
	}
}

func TestDefaultAuthorities(t *testing.T) {
	self, b1, b2 := randomPeerID(t), randomPeerID(t), randomPeerID(t)
	boot := []peer.AddrInfo{{ID: b2}, {ID: b1}, {ID: b2}}

	got := DefaultAuthorities(RoleNode, self, boot)
	want := []peer.ID{b1, b2}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("node: %v, want %v", got, want)
	}

	got = DefaultAuthorities(RoleBootstrap, self, append(boot, peer.AddrInfo{ID: self}))
	want = []peer.ID{b1, b2, self}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("bootstrap: %v, want %v", got, want)
	}

	if got := DefaultAuthorities(RoleBootstrap, self, nil); !slices.Equal(got, []peer.ID{self}) {
		t.Errorf("lone bootstrap: %v, want only itself", got)
	}
	if got := DefaultAuthorities(RoleNode, self, nil); len(got) != 0 {
		t.Errorf("node without bootstrap: %v, want none", got)
	}
}

func TestResourceLimitsCoverVMDTProtocols(t *testing.T) {
	for _, role := range []Role{RoleNode, RoleBootstrap} {
		cl := ConnLimitsFor(role)
		lim := resourceLimits(cl.High).ToPartialLimitConfig()
		for _, p := range []struct {
			id           protocol.ID
			perPeerIn    int
			totalInAtLst int
		}{{kadProtocol, 16, 512}, {ctlProtocol, 8, 256}, {notaryProtocol, 4, 256}, {friendProtocol, 4, 64}} {
			pp, ok := lim.ProtocolPeer[p.id]
			if !ok {
				t.Fatalf("%v: no per-peer limit for %s", role, p.id)
			}
			if int(pp.StreamsInbound) != p.perPeerIn {
				t.Errorf("%v: %s per-peer inbound streams %d, want %d", role, p.id, pp.StreamsInbound, p.perPeerIn)
			}
			pl, ok := lim.Protocol[p.id]
			if !ok || int(pl.StreamsInbound) < p.totalInAtLst {
				t.Errorf("%v: %s inbound streams %v, want at least %d", role, p.id, pl.StreamsInbound, p.totalInAtLst)
			}
		}
		if _, ok := lim.ServicePeer[ctlService]; !ok {
			t.Errorf("%v: no per-peer limit for service %s", role, ctlService)
		}
		want := rcmgr.LimitVal(cl.High + cl.High/2)
		if in := lim.System.ConnsInbound; in != rcmgr.Unlimited && in < want {
			t.Errorf("%v: system inbound connections %d below 1.5 x high water mark %d", role, in, cl.High)
		}
		if cl.Low >= cl.High || cl.Grace <= 0 {
			t.Errorf("%v: connection limits %+v", role, cl)
		}
	}
}

// FuzzParseConfig checks that no input panics ParseConfig and that every
// accepted configuration survives a round trip.
func FuzzParseConfig(f *testing.F) {
	b, _ := DefaultConfig().Marshal()
	f.Add(b)
	f.Add([]byte(`{"listen":["/ip4/0.0.0.0/tcp/4001"],"bootstrap":[],"udp":"0.0.0.0:4002","dht_mode":"client","default_n":7,"default_k":4,"limits":{"conn_low":10,"conn_high":20,"conn_grace":"5s"}}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := ParseConfig(in)
		if err != nil {
			if !errors.Is(err, ErrBadConfig) {
				t.Fatalf("error %v does not wrap ErrBadConfig", err)
			}
			return
		}
		out, err := c.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseConfig(out); err != nil {
			t.Fatalf("re-parsing %s: %v", out, err)
		}
	})
}

// The share pool's limits come from config.json's share_pool section and
// reach the node's options; negative limits are refused.
func TestSharePoolLimitsFromConfig(t *testing.T) {
	c, err := ParseConfig([]byte(`{"share_pool": {"per_recipient": 1000, "per_sender": 500, "total": 4000, "max_share_len": 300, "ttl": "36h"}}`))
	if err != nil {
		t.Fatal(err)
	}
	r, err := InitRepo(t.TempDir(), DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	o, err := OptionsFromRepo(r, c, RoleNode)
	if err != nil {
		t.Fatal(err)
	}
	l := o.PoolLimits
	if l.PerRecipient != 1000 || l.PerSender != 500 || l.Total != 4000 || l.MaxShareLen != 300 || l.TTL != 36*time.Hour {
		t.Fatalf("pool limits %+v", l)
	}
	if _, err := ParseConfig([]byte(`{"share_pool": {"total": -1}}`)); !errors.Is(err, ErrBadConfig) {
		t.Fatalf("negative total: err = %v, want ErrBadConfig", err)
	}
	if _, err := ParseConfig([]byte(`{"share_pool": {"totl": 5}}`)); !errors.Is(err, ErrBadConfig) {
		t.Fatalf("misspelt key: err = %v, want ErrBadConfig", err)
	}
	// The default configuration leaves the section out.
	b, err := DefaultConfig().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "share_pool") {
		t.Fatalf("default config.json mentions share_pool:\n%s", b)
	}
}

// Opening many connections to or from one address: outside trusted
// networks the resource manager refuses them once its per-address burst
// is spent (libp2p's defence, kept); inside a trusted network, as on
// loopback, it never does.
func TestTrustedNetsExemptFromPerAddressLimits(t *testing.T) {
	c, err := ParseConfig([]byte(`{"limits": {"trusted_nets": ["10.77.0.0/16", "fd00::/8"]}}`))
	if err != nil {
		t.Fatal(err)
	}
	trusted, err := parseTrustedNets(c.Limits.TrustedNets)
	if err != nil {
		t.Fatal(err)
	}
	rm, err := newResourceManager(ConnLimitsFor(RoleNode), trusted)
	if err != nil {
		t.Fatal(err)
	}
	defer rm.Close()
	untrusted, err := newResourceManager(ConnLimitsFor(RoleNode), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer untrusted.Close()

	// opened opens and closes n connections from addr in turn and
	// returns how many the resource manager allowed.
	opened := func(rm network.ResourceManager, addr string, n int) int {
		a := ma.StringCast(addr)
		ok := 0
		for i := range n {
			dir := network.DirInbound
			if i%2 == 1 {
				dir = network.DirOutbound
			}
			s, err := rm.OpenConnection(dir, true, a)
			if err != nil {
				continue
			}
			ok++
			s.Done()
		}
		return ok
	}
	const n = 100
	for _, tc := range []struct {
		name string
		rm   network.ResourceManager
		addr string
		all  bool
	}{
		{"trusted v4", rm, "/ip4/10.77.3.4/tcp/4001", true},
		{"trusted v6", rm, "/ip6/fd12::1/udp/4001/quic-v1", true},
		{"loopback", rm, "/ip4/127.0.0.1/tcp/4001", true},
		{"outside", rm, "/ip4/192.0.2.7/tcp/4001", false},
		{"no trusted nets", untrusted, "/ip4/10.77.3.4/tcp/4001", false},
	} {
		got := opened(tc.rm, tc.addr, n)
		if tc.all && got != n {
			t.Errorf("%s: %d of %d connections from %s allowed, want all", tc.name, got, n, tc.addr)
		}
		if !tc.all && (got == 0 || got >= n/2) {
			t.Errorf("%s: %d of %d connections from %s allowed, want the burst only", tc.name, got, n, tc.addr)
		}
	}
}
