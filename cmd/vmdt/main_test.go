package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/vmdt/vmdt/node"
)

func runInProcess(args ...string) (stdout, stderr string, code int) {
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), code
}

func TestRepeatedFlagsAccumulate(t *testing.T) {
	f := newCmdFlags(&env{}, "daemon", "vmdt daemon", true)
	nf := addNetFlags(f, true)
	pos, err := f.parse([]string{
		"--listen", "/ip4/127.0.0.1/tcp/1", "--bootstrap", "b1", "--listen", "/ip4/127.0.0.1/tcp/2",
		"--bootstrap", "b2", "--authority", "a1", "--udp", "127.0.0.1:9", "--json",
	}, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(pos) != 0 || !f.json {
		t.Fatalf("positional %v, json %v", pos, f.json)
	}
	cfg := node.DefaultConfig()
	nf.apply(&cfg)
	if !slices.Equal(cfg.Listen, []string{"/ip4/127.0.0.1/tcp/1", "/ip4/127.0.0.1/tcp/2"}) ||
		!slices.Equal(cfg.Bootstrap, []string{"b1", "b2"}) ||
		!slices.Equal(cfg.Authorities, []string{"a1"}) || cfg.UDP != "127.0.0.1:9" {
		t.Fatalf("config after flags: %+v", cfg)
	}
}

func TestFlagsAfterPositionalArguments(t *testing.T) {
	f := newCmdFlags(&env{}, "resolve", "vmdt resolve <name>", true)
	pos, err := f.parse([]string{"alice", "--json", "--repo", "/r"}, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(pos, []string{"alice"}) || !f.json || f.repo != "/r" {
		t.Fatalf("positional %v, json %v, repo %q", pos, f.json, f.repo)
	}
	f = newCmdFlags(&env{}, "resolve", "vmdt resolve <name>", true)
	pos, err = f.parse([]string{"--", "--json"}, 1, 1)
	if err != nil || !slices.Equal(pos, []string{"--json"}) || f.json {
		t.Fatalf("after --: positional %v, json %v, err %v", pos, f.json, err)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"nosuchcommand"},
		{"--nosuchflag", "id"},
		{"id", "--nosuchflag"},
		{"id", "extra"},
		{"resolve"},
		{"resolve", "a", "b"},
		{"name"},
		{"name", "unregister", "x"},
		{"name", "register"},
		{"devnet", "--nodes", "0"},
		{"daemon", "--listen"},
		{"friend"},
		{"friend", "befriend", "bob"},
		{"friend", "add"},
		{"friend", "add", "a", "b"},
		{"friend", "list", "extra"},
	} {
		_, errOut, code := runInProcess(args...)
		if code != exitUsage {
			t.Errorf("vmdt %q: exit %d, want %d", args, code, exitUsage)
		}
		if len(args) > 0 && (errOut == "" || strings.Count(errOut, "\n") != 1) {
			t.Errorf("vmdt %q: stderr %q, want one line", args, errOut)
		}
	}
}

func TestHelpExitsZero(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"-h"}, {"daemon", "-h"}, {"name", "-h"}, {"resolve", "--help"}, {"friend", "-h"}, {"friend", "add", "-h"}} {
		out, errOut, code := runInProcess(args...)
		if code != exitOK || !strings.Contains(out, "Usage") || errOut != "" {
			t.Errorf("vmdt %q: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
}

func TestCommandsWithoutRepository(t *testing.T) {
	dir := t.TempDir()
	_, errOut, code := runInProcess("--repo", dir, "daemon")
	if code != exitFailure || !strings.Contains(errOut, "not initialized") {
		t.Fatalf("daemon without repository: exit %d, stderr %q", code, errOut)
	}
	_, errOut, code = runInProcess("--repo", dir, "resolve", "alice")
	if code != exitFailure || !strings.Contains(errOut, "not running") {
		t.Fatalf("resolve without daemon: exit %d, stderr %q", code, errOut)
	}
}

func TestDevnetOnce(t *testing.T) {
	out, errOut, code := runInProcess("devnet", "--once", "--nodes", "3", "--lookups", "2", "--tcp-only", "--json")
	if code != exitOK {
		t.Fatalf("devnet: exit %d: %s", code, errOut)
	}
	var rep devnetReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("devnet output %q: %v", out, err)
	}
	if len(rep.Nodes) != 3 || rep.Total != 6 || rep.OK != 6 || len(rep.Bootstrap) == 0 {
		t.Fatalf("devnet report: %+v", rep)
	}
	if rep.Friends == nil || rep.Friends.Requester != "node1" || rep.Friends.Accepter != "node2" {
		t.Fatalf("devnet report on friends: %+v", rep.Friends)
	}
	byName := map[string]devnetNode{}
	for _, n := range rep.Nodes {
		byName[n.Username] = n
	}
	for _, l := range rep.Lookups {
		if want := byName[l.Username]; l.PeerID != want.PeerID || l.DDTAddress != want.DDTAddress || l.Error != "" {
			t.Errorf("%s resolved %s to %s/%s (%s), want %s/%s", l.From, l.Username, l.PeerID, l.DDTAddress, l.Error, want.PeerID, want.DDTAddress)
		}
	}
	if _, err := os.Stat(rep.Dir); !os.IsNotExist(err) {
		t.Errorf("temporary devnet directory %s left behind: %v", rep.Dir, err)
	}
}
