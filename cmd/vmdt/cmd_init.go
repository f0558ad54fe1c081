package main

import (
	"context"

	"github.com/vmdt/vmdt/node"
)

// cmdInit creates a repository.
func cmdInit(ctx context.Context, e *env, args []string) error {
	f := newCmdFlags(e, "init", "vmdt init [--repo DIR] [--listen MA]... [--bootstrap MA]... [--authority ID]... [--udp HOST:PORT] [--dht-mode MODE] [--json]", true)
	nf := addNetFlags(f, true)
	if _, err := f.parse(args, 0, 0); err != nil {
		return err
	}
	dir, err := f.repoDir()
	if err != nil {
		return err
	}
	cfg := node.DefaultConfig()
	nf.apply(&cfg)
	r, err := node.InitRepo(dir, cfg)
	if err != nil {
		return err
	}
	out := struct {
		Repo       string `json:"repo"`
		PeerID     string `json:"peer_id"`
		DDTAddress string `json:"ddt_address"`
	}{r.Dir(), r.PeerID().String(), r.DDTAddr().String()}
	if f.json {
		return printJSON(e.stdout, out)
	}
	return printFields(e.stdout,
		kv("repo", out.Repo),
		kv("peer_id", out.PeerID),
		kv("ddt_address", out.DDTAddress))
}
