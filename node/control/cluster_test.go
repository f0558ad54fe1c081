package control

import (
	"fmt"
	"slices"
	"testing"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/vmdt/vmdt/protocol/ctl"
)

func memberIDs(in ClusterInfo) []peer.ID {
	var ids []peer.ID
	for _, m := range in.Members {
		ids = append(ids, m.PeerID)
	}
	return ids
}

func sortedIDs(nodes ...*node) []peer.ID {
	var ids []peer.ID
	for _, n := range nodes {
		ids = append(ids, n.h.ID())
	}
	slices.Sort(ids)
	return ids
}

// clusterOf returns n's copy of cluster id, failing if it has none.
func clusterOf(t *testing.T, n *node, id ctl.ClusterID) ClusterInfo {
	t.Helper()
	for _, c := range n.s.Clusters() {
		if c.ID == id {
			return c
		}
	}
	t.Fatalf("%s has no copy of cluster %s", n.h.ID(), id)
	return ClusterInfo{}
}

func hasCluster(n *node, id ctl.ClusterID) bool {
	for _, c := range n.s.Clusters() {
		if c.ID == id {
			return true
		}
	}
	return false
}

func TestClusterCreateJoinAndCreatorLeaves(t *testing.T) {
	a := newNode(t, 0, nil)
	b := newNode(t, 0, nil)
	c := newNode(t, 0, nil)
	d := newNode(t, 0, nil)
	connect(t, b.h, a.h)
	connect(t, c.h, b.h)
	connect(t, c.h, a.h) // so C's announcement reaches A
	connect(t, d.h, c.h)

	created, err := a.s.CreateCluster(testCtx(t), 5, 3)
	if err != nil {
		t.Fatal(err)
	}
	if created.Creator != a.h.ID() || created.N != 5 || created.K != 3 || !slices.Equal(memberIDs(created), sortedIDs(a)) {
		t.Fatalf("created %+v", created)
	}

	// B joins through the creator.
	inB, err := b.s.JoinCluster(testCtx(t), a.h.ID(), created.ID.String())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(memberIDs(inB), sortedIDs(a, b)) || inB.Creator != a.h.ID() {
		t.Fatalf("B's copy %+v", inB)
	}
	// C joins through B, not the creator, and announces itself to A.
	inC, err := c.s.JoinCluster(testCtx(t), b.h.ID(), created.ID.String())
	if err != nil {
		t.Fatal(err)
	}
	want := sortedIDs(a, b, c)
	for _, n := range []*node{a, b, c} {
		if got := memberIDs(clusterOf(t, n, created.ID)); !slices.Equal(got, want) {
			t.Fatalf("%s's members %v, want %v", n.h.ID(), got, want)
		}
	}
	if !slices.Equal(memberIDs(inC), want) {
		t.Fatalf("JoinCluster returned %v", memberIDs(inC))
	}
	// Every member derived the same DDT addresses.
	for _, m := range clusterOf(t, c, created.ID).Members {
		if a, _ := ddtAddrOf(m.PeerID); a != m.DDTAddr {
			t.Fatalf("member %s has address %s", m.PeerID, m.DDTAddr)
		}
	}

	// The creator leaves. The others drop it but keep the cluster, the
	// charter and the creator's name.
	if err := a.s.LeaveCluster(testCtx(t), created.ID.String()); err != nil {
		t.Fatal(err)
	}
	if hasCluster(a, created.ID) {
		t.Fatal("creator still holds the cluster after leaving")
	}
	want = sortedIDs(b, c)
	for _, n := range []*node{b, c} {
		in := clusterOf(t, n, created.ID)
		if !slices.Equal(memberIDs(in), want) || in.Creator != a.h.ID() {
			t.Fatalf("%s's copy after creator left: %+v", n.h.ID(), in)
		}
	}

	// D joins through C after the creator left. The signed charter still
	// verifies, and A is not resurrected.
	inD, err := d.s.JoinCluster(testCtx(t), c.h.ID(), created.ID.String())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(memberIDs(inD), sortedIDs(b, c, d)) || inD.Creator != a.h.ID() || inD.N != 5 || inD.K != 3 {
		t.Fatalf("D's copy %+v", inD)
	}
	// The creator may join again through a member, which clears its
	// departure there.
	if _, err := a.s.JoinCluster(testCtx(t), b.h.ID(), created.ID.String()); err != nil {
		t.Fatal(err)
	}
	if got := memberIDs(clusterOf(t, b, created.ID)); !slices.Contains(got, a.h.ID()) {
		t.Fatalf("rejoined creator missing at B: %v", got)
	}
}

func TestClusterSurvivesCreatorGoingOffline(t *testing.T) {
	a := newNode(t, 0, nil)
	b := newNode(t, 0, nil)
	c := newNode(t, 0, nil)
	connect(t, b.h, a.h)
	connect(t, c.h, b.h)

	created, err := a.s.CreateCluster(testCtx(t), 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.s.JoinCluster(testCtx(t), a.h.ID(), created.ID.String()); err != nil {
		t.Fatal(err)
	}
	// The creator disappears without a word.
	a.s.Close()
	a.h.Close()

	in, err := c.s.JoinCluster(testCtx(t), b.h.ID(), created.ID.String())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(memberIDs(in), sortedIDs(a, b, c)) || in.Creator != a.h.ID() {
		t.Fatalf("C's copy %+v", in)
	}
	if got := memberIDs(clusterOf(t, b, created.ID)); !slices.Equal(got, sortedIDs(a, b, c)) {
		t.Fatalf("B's members %v", got)
	}
}

func TestClusterErrors(t *testing.T) {
	a := newNode(t, 0, &Config{MaxClusters: 1})
	b := newNode(t, 0, nil)
	connect(t, b.h, a.h)

	for _, nk := range [][2]int{{1, 1}, {3, 4}, {256, 2}, {3, 1}} {
		if _, err := a.s.CreateCluster(testCtx(t), nk[0], nk[1]); localCode(err) != ctl.CodeMalformed {
			t.Fatalf("n=%d k=%d: %v", nk[0], nk[1], err)
		}
	}
	if _, err := b.s.JoinCluster(testCtx(t), a.h.ID(), "not-an-id"); localCode(err) != ctl.CodeMalformed {
		t.Fatalf("bad id: %v", err)
	}
	unknown := "0123456789abcdef0123456789abcdef"
	if _, err := b.s.JoinCluster(testCtx(t), a.h.ID(), unknown); remoteCode(err) != ctl.CodeUnknown {
		t.Fatalf("unknown cluster: %v", err)
	}
	if hasCluster(b, ctl.ClusterID{}) || len(b.s.Clusters()) != 0 {
		t.Fatal("failed join left state behind")
	}
	if err := b.s.LeaveCluster(testCtx(t), unknown); localCode(err) != ctl.CodeUnknown {
		t.Fatalf("leave unknown: %v", err)
	}

	// A peer issues a cluster for us over the wire.
	in, err := b.s.CreateClusterAt(testCtx(t), a.h.ID(), 4, 2)
	if err != nil {
		t.Fatal(err)
	}
	if in.Creator != a.h.ID() || !slices.Equal(memberIDs(in), sortedIDs(a, b)) || !slices.Equal(memberIDs(clusterOf(t, a, in.ID)), sortedIDs(a, b)) {
		t.Fatalf("remote create %+v", in)
	}
	// A is at its cluster limit now.
	if _, err := b.s.CreateClusterAt(testCtx(t), a.h.ID(), 4, 2); remoteCode(err) != ctl.CodeForbidden {
		t.Fatalf("over the limit: %v", err)
	}
	if _, err := a.s.CreateCluster(testCtx(t), 4, 2); localCode(err) != ctl.CodeForbidden {
		t.Fatalf("local over the limit: %v", err)
	}
	// A node at its own limit does not ask to join, so no member lists it.
	e := newNode(t, 0, &Config{MaxClusters: 1})
	connect(t, e.h, a.h)
	if _, err := e.s.CreateCluster(testCtx(t), 2, 2); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.JoinCluster(testCtx(t), a.h.ID(), in.ID.String()); localCode(err) != ctl.CodeForbidden {
		t.Fatalf("join over local limit: %v", err)
	}
	if got := memberIDs(clusterOf(t, a, in.ID)); slices.Contains(got, e.h.ID()) {
		t.Fatalf("A lists a node that could not join: %v", got)
	}
	// Raw CREATE_CLUSTER with k > n.
	r := openRaw(t, b.h, a.h)
	r.write(fmt.Sprintf("CREATE_CLUSTER|%s|2|3\n", b.addr(t)))
	r.expectErr(ctl.CodeMalformed)
}

// A cluster reply whose charter signature does not verify is refused.
func TestClusterForgedCharter(t *testing.T) {
	b := newNode(t, 0, nil)
	forger := newHost(t, 0)
	creator := newHost(t, 0)
	id := ctl.ClusterID{1}
	forger.SetStreamHandler(ProtocolID, func(st network.Stream) {
		defer st.Close()
		if _, err := st.Read(make([]byte, 200)); err != nil {
			return
		}
		// Claims creator signed n=9 k=2; the signature is the forger's.
		sig, _ := forger.Peerstore().PrivKey(forger.ID()).Sign(ctl.AppendCharter(nil, id, 9, 2, creator.ID()))
		h := ctl.ClusterReply{Cluster: id, N: 9, K: 2, Creator: creator.ID(), Signature: sig, Members: 2}
		line, _ := h.Append(nil)
		line = ctl.AppendMemberLine(line, creator.ID())
		line = ctl.AppendMemberLine(line, b.h.ID())
		st.Write(line)
	})
	connect(t, b.h, forger)
	if _, err := b.s.JoinCluster(testCtx(t), forger.ID(), id.String()); localCode(err) != ctl.CodeForbidden {
		t.Fatalf("forged charter: %v", err)
	}
	if len(b.s.Clusters()) != 0 {
		t.Fatal("forged cluster adopted")
	}
}
