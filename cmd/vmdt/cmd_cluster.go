package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/vmdt/vmdt/node"
)

// clusterTimeout bounds creating or joining a cluster.
const clusterTimeout = 2 * time.Minute

const clusterUsage = `Usage:
  vmdt cluster create [--repo DIR] [--json] --n N --k K     create a cluster; prints its id
  vmdt cluster join [--repo DIR] [--json] <id> --via PEER   join cluster <id> through its member PEER (a peer ID)
  vmdt cluster list [--repo DIR] [--json]                   list this node's clusters and their members`

// cmdCluster dispatches "vmdt cluster <subcommand>".
func cmdCluster(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usageErrorf("usage: vmdt cluster create|join|list (run 'vmdt cluster help')")
	}
	switch sub, rest := args[0], args[1:]; sub {
	case "create":
		return clusterCreate(ctx, e, rest)
	case "join":
		return clusterJoin(ctx, e, rest)
	case "list":
		return clusterList(ctx, e, rest)
	case "-h", "--help", "help":
		fmt.Fprintln(e.stdout, clusterUsage)
		return errHelp
	default:
		return usageErrorf("unknown cluster command %q (want create, join or list)", sub)
	}
}

// clusterCreate runs "vmdt cluster create --n N --k K".
func clusterCreate(ctx context.Context, e *env, args []string) error {
	f := newCmdFlags(e, "cluster create", "vmdt cluster create [--repo DIR] [--json] --n N --k K", true)
	n := f.Int("n", 0, "shares of a send within the cluster (default: the node's default_n)")
	k := f.Int("k", 0, "shares the receiver needs (default: the node's default_k)")
	if _, err := f.parse(args, 0, 0); err != nil {
		return err
	}
	c, err := client(f)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, clusterTimeout)
	defer cancel()
	cl, err := c.CreateCluster(ctx, *n, *k)
	if err != nil {
		return err
	}
	if f.json {
		return printJSON(e.stdout, cl)
	}
	_, err = fmt.Fprintln(e.stdout, cl.ID)
	return err
}

// clusterJoin runs "vmdt cluster join <id> --via PEER".
func clusterJoin(ctx context.Context, e *env, args []string) error {
	f := newCmdFlags(e, "cluster join", "vmdt cluster join [--repo DIR] [--json] <id> --via PEER", true)
	via := f.String("via", "", "peer ID of a member of the cluster (required)")
	pos, err := f.parse(args, 1, 1)
	if err != nil {
		return err
	}
	if *via == "" {
		return usageErrorf("--via <peer ID of a member> is required")
	}
	p, err := peer.Decode(*via)
	if err != nil {
		return usageErrorf("--via %q: %v", *via, err)
	}
	c, err := client(f)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, clusterTimeout)
	defer cancel()
	cl, err := c.JoinCluster(ctx, pos[0], p)
	if err != nil {
		return err
	}
	if f.json {
		return printJSON(e.stdout, cl)
	}
	_, err = fmt.Fprintf(e.stdout, "joined cluster %s (n=%d k=%d, %d members)\n", cl.ID, cl.N, cl.K, len(cl.Members))
	return err
}

// clusterList runs "vmdt cluster list".
func clusterList(ctx context.Context, e *env, args []string) error {
	f := newCmdFlags(e, "cluster list", "vmdt cluster list [--repo DIR] [--json]", true)
	if _, err := f.parse(args, 0, 0); err != nil {
		return err
	}
	c, err := client(f)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	list, err := c.Clusters(ctx)
	if err != nil {
		return err
	}
	if f.json {
		if list == nil {
			list = []node.ClusterView{}
		}
		return printJSON(e.stdout, list)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CLUSTER\tN\tK\tMEMBERS")
	for _, cl := range list {
		for i, m := range cl.Members {
			if i == 0 {
				fmt.Fprintf(tw, "%s\t%d\t%d\t%s\n", cl.ID, cl.N, cl.K, m.PeerID)
			} else {
				fmt.Fprintf(tw, "\t\t\t%s\n", m.PeerID)
			}
		}
	}
	return tw.Flush()
}
