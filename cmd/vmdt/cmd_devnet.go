package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/vmdt/vmdt/node"
)

// devnetTimeout bounds the demonstration (registrations and lookups).
const devnetTimeout = 3 * time.Minute

// devnetReport is devnet's --json output.
type devnetReport struct {
	Dir       string         `json:"dir"`
	Bootstrap []string       `json:"bootstrap"`
	Nodes     []devnetNode   `json:"nodes"`
	Lookups   []devnetLookup `json:"lookups"`
	OK        int            `json:"ok"`
	Total     int            `json:"total"`
	// Friends are the two nodes that became friends (request + accept),
	// when there are at least two.
	Friends *devnetFriends `json:"friends,omitempty"`
	// Send is node1's message to node2 through the other nodes as
	// relays, when there are enough of them.
	Send *node.SendReport `json:"send,omitempty"`
}

// Shares and threshold of the devnet's demonstration message: three
// relays, so the default five nodes suffice.
const (
	devnetN = 3
	devnetK = 2
)

type devnetFriends struct {
	Requester string  `json:"requester"`
	Accepter  string  `json:"accepter"`
	MS        float64 `json:"ms"`
}

type devnetNode struct {
	Username   string  `json:"username"`
	PeerID     string  `json:"peer_id"`
	DDTAddress string  `json:"ddt_address"`
	RegisterMS float64 `json:"register_ms"`
}

type devnetLookup struct {
	From       string  `json:"from"`
	Username   string  `json:"username"`
	PeerID     string  `json:"peer_id,omitempty"`
	DDTAddress string  `json:"ddt_address,omitempty"`
	MS         float64 `json:"ms"`
	Error      string  `json:"error,omitempty"`
}

// cmdDevnet runs a bootstrap node and --nodes nodes on loopback, registers
// node1..nodeN, lets every node resolve a few others, makes node1 and
// node2 friends, sends a message from node1 to node2 through the other
// nodes as relays and keeps running until interrupted (or exits with
// --once).
func cmdDevnet(ctx context.Context, e *env, args []string) error {
	f := newCmdFlags(e, "devnet", "vmdt devnet [--nodes N] [--dir DIR] [--lookups K] [--once] [--tcp-only] [--json]", true)
	nodes := f.Int("nodes", 5, "number of ordinary nodes")
	dir := f.String("dir", "", "directory for the nodes' repositories, reused across runs (default: a temporary directory, removed at exit)")
	lookups := f.Int("lookups", 3, "how many other nodes' names each node resolves")
	once := f.Bool("once", false, "exit after the demonstration: status 0 if every lookup succeeded")
	tcpOnly := f.Bool("tcp-only", false, "listen on TCP only, without QUIC")
	if _, err := f.parse(args, 0, 0); err != nil {
		return err
	}
	if *nodes < 1 || *nodes > 200 {
		return usageErrorf("--nodes %d: want 1..200", *nodes)
	}
	if *lookups < 0 {
		return usageErrorf("--lookups %d: want 0 or more", *lookups)
	}
	say := func(format string, args ...any) {
		if !f.json {
			fmt.Fprintf(e.stdout, format, args...)
		}
	}

	dctx, cancel := context.WithTimeout(ctx, devnetTimeout)
	defer cancel()
	start := time.Now()
	d, err := node.StartDevnet(dctx, node.DevnetConfig{Nodes: *nodes, Dir: *dir, TCPOnly: *tcpOnly, API: !*once})
	if err != nil {
		return err
	}
	defer d.Close()
	rep := devnetReport{Dir: d.Dir()}
	for _, a := range d.BootstrapAddrs() {
		rep.Bootstrap = append(rep.Bootstrap, a.String())
	}
	say("devnet: 1 bootstrap node and %d nodes on loopback, started in %v, repositories in %s\n",
		len(d.Nodes), time.Since(start).Round(time.Millisecond), d.Dir())
	say("bootstrap  %s\n", d.Bootstrap.Node().ID())
	for _, a := range rep.Bootstrap {
		say("           %s\n", a)
	}

	start = time.Now()
	took, err := d.RegisterAll(dctx)
	if err != nil {
		return fmt.Errorf("register names: %w", err)
	}
	say("registered %d usernames in %v\n", len(d.Nodes), time.Since(start).Round(time.Millisecond))
	for i, n := range d.Nodes {
		rep.Nodes = append(rep.Nodes, devnetNode{
			Username:   d.Names[i],
			PeerID:     n.Node().ID().String(),
			DDTAddress: n.Node().DDTAddr().String(),
			RegisterMS: ms(took[i]),
		})
		say("%-9s  %s  ddt %s  (register %v)\n", d.Names[i], n.Node().ID(), n.Node().DDTAddr(), took[i].Round(time.Millisecond))
	}

	k := min(*lookups, len(d.Nodes)-1)
	results := d.ResolveAll(dctx, func(from int) []int {
		out := make([]int, k)
		for j := range out {
			out[j] = (from + 1 + j) % len(d.Nodes)
		}
		return out
	})
	var times []time.Duration
	for _, l := range results {
		dl := devnetLookup{From: d.Names[l.From], Username: l.Name, MS: ms(l.Took)}
		if l.OK(d) {
			rep.OK++
			times = append(times, l.Took)
			dl.PeerID, dl.DDTAddress = l.Info.PeerID.String(), l.Info.DDTAddr.String()
			say("%-9s resolves %-9s -> %s  ddt %s  in %v\n", dl.From, l.Name, l.Info.PeerID, l.Info.DDTAddr, l.Took.Round(time.Microsecond))
		} else {
			dl.Error = lookupError(l)
			say("%-9s resolves %-9s FAILED: %s\n", dl.From, l.Name, dl.Error)
		}
		rep.Lookups = append(rep.Lookups, dl)
	}
	rep.Total = len(results)
	say("lookups: %d of %d correct%s\n", rep.OK, rep.Total, timing(times))
	if len(d.Nodes) >= 2 {
		_, already := d.Nodes[0].Node().CheckFriend(d.Names[1])
		start = time.Now()
		if err := d.MakeFriends(dctx, 0, 1); err != nil {
			return fmt.Errorf("friend request: %w", err)
		}
		rep.Friends = &devnetFriends{Requester: d.Names[0], Accepter: d.Names[1], MS: ms(time.Since(start))}
		if already == nil {
			say("%s and %s are friends already (from an earlier run), tokens checked\n", d.Names[0], d.Names[1])
		} else {
			say("%s asked %s to be friends, %s accepted: friends, tokens exchanged, in %v\n",
				d.Names[0], d.Names[1], d.Names[1], time.Since(start).Round(time.Millisecond))
		}
	}
	if len(d.Nodes)-2 >= devnetN {
		if err := devnetSend(dctx, d, &rep, say); err != nil {
			return err
		}
	}
	if f.json {
		if err := printJSON(e.stdout, rep); err != nil {
			return err
		}
	}
	if rep.OK != rep.Total {
		return fmt.Errorf("%d of %d lookups failed", rep.Total-rep.OK, rep.Total)
	}
	if *once {
		return nil
	}
	say("devnet running; try: vmdt --repo %s resolve %s\n", d.Nodes[0].Repo().Dir(), d.Names[len(d.Names)-1])
	if len(d.Nodes) >= 2 {
		say("                     vmdt --repo %s friend list\n", d.Nodes[0].Repo().Dir())
		say("                     echo hi | vmdt --repo %s send %s - --n %d --k %d\n", d.Nodes[0].Repo().Dir(), d.Names[1], devnetN, devnetK)
		say("                     vmdt --repo %s inbox\n", d.Nodes[1].Repo().Dir())
	}
	say("Ctrl-C stops it.\n")
	<-ctx.Done()
	say("stopping\n")
	return d.Close()
}

func lookupError(l node.Lookup) string {
	if l.Err != nil {
		return l.Err.Error()
	}
	return fmt.Sprintf("wrong answer: peer %s", l.Info.PeerID)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// timing summarises lookup durations as ", median X, slowest Y".
func timing(ts []time.Duration) string {
	if len(ts) == 0 {
		return ""
	}
	slices.Sort(ts)
	return fmt.Sprintf(", median %v, slowest %v", ts[len(ts)/2].Round(time.Microsecond), ts[len(ts)-1].Round(time.Microsecond))
}

// devnetSend makes node1 send node2 a short message through the other
// nodes as relays and checks that node2's inbox holds it.
func devnetSend(ctx context.Context, d *node.Devnet, rep *devnetReport, say func(string, ...any)) error {
	from, to := d.Nodes[0].Node(), d.Nodes[1].Node()
	msg := []byte(fmt.Sprintf("hello %s, this is %s, sent at %s", d.Names[1], d.Names[0], time.Now().Format(time.RFC3339)))
	sr, err := from.Send(ctx, d.Names[1], msg, devnetN, devnetK)
	if err != nil {
		return fmt.Errorf("%s sends to %s: %w", d.Names[0], d.Names[1], err)
	}
	rep.Send = &sr
	names := map[string]string{}
	for i, n := range d.Nodes {
		names[n.Node().ID().String()] = d.Names[i]
	}
	say("%s sent %s %d bytes as %d shares (k=%d), %s in %v:\n", d.Names[0], d.Names[1], len(msg), devnetN, devnetK,
		sr.Status, time.Duration(sr.TookMS*float64(time.Millisecond)).Round(time.Millisecond))
	for _, s := range sr.Shares {
		say("  share %d via %-9s %s  %s\n", s.Index, names[s.RelayPeer.String()], s.RelayPeer, s.Outcome)
	}
	e, got, err := to.InboxMessage(sr.ID)
	if err != nil {
		return fmt.Errorf("%s's inbox: %w", d.Names[1], err)
	}
	if string(got) != string(msg) {
		return fmt.Errorf("%s's inbox holds message %s with other bytes than sent", d.Names[1], sr.ID)
	}
	say("%s's inbox: message %s from %s, %d bytes, decoded from shares %v: %q\n", d.Names[1], e.ID, e.From, e.Size, e.Shares, got)
	return nil
}
