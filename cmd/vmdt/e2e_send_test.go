package main

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type sendOut struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	N      int    `json:"n"`
	K      int    `json:"k"`
	Size   int    `json:"size"`
	Shares []struct {
		Index   int    `json:"index"`
		Relay   string `json:"relay_peer_id"`
		Outcome string `json:"outcome"`
	} `json:"shares"`
}

type fileSendOut struct {
	sendOut
	FileID  string `json:"file_id"`
	Name    string `json:"name"`
	Chunks  int    `json:"chunks"`
	Skipped int    `json:"skipped"`
}

// testSendFile: alice sends bob a 5 MiB file, more than one chunk; the
// JSON report names the file and its two chunks, and bob gets the same
// bytes under the file's name.
func testSendFile(t *testing.T, repos map[string]string, dir string) {
	file := filepath.Join(dir, "report.pdf")
	msg := make([]byte, 5<<20)
	if _, err := rand.Read(msg); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, msg, 0o600); err != nil {
		t.Fatal(err)
	}
	var rep fileSendOut
	vmdtJSON(t, &rep, "--repo", repos["alice"], "send", "bob", file, "--n", "3", "--k", "2", "--json")
	if rep.Status != "delivered" || rep.ID == "" || rep.Size != len(msg) || rep.Chunks != 2 || rep.Name != "report.pdf" ||
		rep.FileID == "" || len(rep.Shares) != 3 || rep.Shares[0].Relay == "" || rep.Shares[0].Outcome == "" {
		t.Fatalf("send a file: %+v", rep)
	}
	got := filepath.Join(dir, "got.pdf")
	if _, errOut, code := vmdt(t, "--repo", repos["bob"], "get", rep.ID, "-o", got); code != 0 {
		t.Fatalf("get: exit %d: %s", code, errOut)
	}
	if b, err := os.ReadFile(got); err != nil || !bytes.Equal(b, msg) {
		t.Fatalf("get wrote %d bytes (%v), want the %d sent", len(b), err, len(msg))
	}
}

type clusterOut struct {
	ID      string `json:"id"`
	N       int    `json:"n"`
	K       int    `json:"k"`
	Members []struct {
		PeerID string `json:"peer_id"`
	} `json:"members"`
}

// testCluster: relay1 creates a cluster and lists it.
func testCluster(t *testing.T, repos map[string]string) {
	out, errOut, code := vmdt(t, "--repo", repos["relay1"], "cluster", "create", "--n", "2", "--k", "2")
	id := strings.TrimSpace(out)
	if code != 0 || len(id) == 0 || strings.ContainsAny(id, " \n") {
		t.Fatalf("cluster create: exit %d, %q, %s", code, out, errOut)
	}
	var list []clusterOut
	vmdtJSON(t, &list, "--repo", repos["relay1"], "cluster", "list", "--json")
	if len(list) != 1 || list[0].ID != id || list[0].N != 2 || list[0].K != 2 || len(list[0].Members) != 1 {
		t.Fatalf("cluster list: %+v, want %s with relay1 alone", list, id)
	}
}

type inboxOut struct {
	ID        string `json:"id"`
	MessageID string `json:"message_id"`
	From      string `json:"from"`
	Size      int    `json:"size"`
	Time      string `json:"time"`
	Shares    []int  `json:"shares_used"`
}

// testSend: alice, bob's friend, sends bob a file through the three
// relays (n=3, k=2); bob's inbox lists it and get writes the same bytes.
// Sending to a non-friend and asking for more relays than there are fail
// with one line.
func testSend(t *testing.T, repos map[string]string) {
	dir := t.TempDir()
	file := filepath.Join(dir, "msg.bin")
	msg := make([]byte, 200<<10)
	if _, err := rand.Read(msg); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, msg, 0o600); err != nil {
		t.Fatal(err)
	}
	var rep sendOut
	vmdtJSON(t, &rep, "--repo", repos["alice"], "send", "bob", file, "--n", "3", "--k", "2", "--json")
	if rep.Status != "delivered" || rep.ID == "" || rep.Size != len(msg) || len(rep.Shares) != 3 {
		t.Fatalf("send: %+v", rep)
	}
	relays := map[string]bool{}
	for _, r := range relayNames {
		var id idOut
		vmdtJSON(t, &id, "--repo", repos[r], "id", "--json")
		relays[id.PeerID] = true
	}
	for _, s := range rep.Shares {
		if !relays[s.Relay] {
			t.Fatalf("share %d went through %s, not one of the relays", s.Index, s.Relay)
		}
	}

	var inbox []inboxOut
	vmdtJSON(t, &inbox, "--repo", repos["bob"], "inbox", "--json")
	if len(inbox) != 1 || inbox[0].ID != rep.ID || inbox[0].MessageID != rep.ID || inbox[0].From != "alice" || inbox[0].Size != len(msg) || len(inbox[0].Shares) < 2 {
		t.Fatalf("bob's inbox: %+v, want message %s from alice", inbox, rep.ID)
	}
	out, _, code := vmdt(t, "--repo", repos["bob"], "inbox")
	if code != 0 || !strings.Contains(out, "FROM") || !strings.Contains(out, rep.ID) {
		t.Fatalf("text inbox: exit %d, %q", code, out)
	}
	got := filepath.Join(dir, "out.bin")
	if _, errOut, code := vmdt(t, "--repo", repos["bob"], "get", rep.ID, "-o", got); code != 0 {
		t.Fatalf("get: exit %d: %s", code, errOut)
	}
	if b, err := os.ReadFile(got); err != nil || !bytes.Equal(b, msg) {
		t.Fatalf("get wrote %d bytes (%v), want the %d sent", len(b), err, len(msg))
	}

	testSendFile(t, repos, dir)
	testCluster(t, repos)

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--repo", repos["alice"], "send", "relay1", file, "--n", "3", "--k", "2"}, "not friends"},
		{[]string{"--repo", repos["alice"], "send", "bob", file, "--n", "5", "--k", "2"}, "not enough relays"},
		{[]string{"--repo", repos["bob"], "get", "0011223344556677"}, "not found"},
	} {
		_, errOut, code := vmdt(t, c.args...)
		if msg := strings.TrimSuffix(errOut, "\n"); code == 0 || msg == "" || strings.Contains(msg, "\n") || !strings.Contains(msg, c.want) {
			t.Errorf("vmdt %v: exit %d, stderr %q; want one line with %q", c.args, code, errOut, c.want)
		}
	}
}
