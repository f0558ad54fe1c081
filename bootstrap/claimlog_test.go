package bootstrap

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestClaimLogReplayAndTornTail(t *testing.T) {
	dir := t.TempDir()
	now := time.Unix(1_800_000_000, 0).UTC()
	tab := newClaimTable(100)
	l, err := openClaimLog(dir, tab)
	if err != nil {
		t.Fatal(err)
	}
	entries := []logEntry{
		{"alice", hold{"k1", now.Add(time.Hour)}},
		{"bob", hold{"k2", now.Add(2 * time.Hour)}},
		{"alice", hold{"k1", now.Add(3 * time.Hour)}},
	}
	for _, e := range entries {
		if err := l.append(e); err != nil {
			t.Fatal(err)
		}
	}
	l.close()
	// A crash in the middle of the next append leaves a torn entry.
	path := filepath.Join(dir, claimLogName)
	torn := appendEntry(nil, logEntry{"carol", hold{"k3", now}})
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(torn[:len(torn)-3])
	f.Close()

	tab2 := newClaimTable(100)
	l2, err := openClaimLog(dir, tab2)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]hold{"alice": {"k1", now.Add(3 * time.Hour)}, "bob": {"k2", now.Add(2 * time.Hour)}}
	if len(tab2.holds) != 2 || tab2.holds["alice"] != want["alice"] || tab2.holds["bob"] != want["bob"] {
		t.Fatalf("replayed %+v, want %+v", tab2.holds, want)
	}
	// The torn tail was cut, so the next append starts on a clean entry.
	if err := l2.append(logEntry{"dave", hold{"k4", now.Add(time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	l2.close()
	b, _ := os.ReadFile(path)
	got, n, err := parseLog(b)
	if err != nil || n != len(b) || len(got) != 4 || got[3].name != "dave" {
		t.Fatalf("log after repair: %d entries, %d of %d bytes, %v", len(got), n, len(b), err)
	}
}

func TestClaimLogCompaction(t *testing.T) {
	dir := t.TempDir()
	now := time.Unix(1_800_000_000, 0).UTC()
	tab := newClaimTable(100)
	l, err := openClaimLog(dir, tab)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < compactSlack+10; i++ {
		h := hold{"k1", now.Add(time.Duration(i) * time.Second)}
		tab.holds["alice"] = h
		if err := l.append(logEntry{"alice", h}); err != nil {
			t.Fatal(err)
		}
	}
	tab.holds["old"] = hold{"k9", now.Add(-time.Second)}
	if !l.needsCompaction(len(tab.holds)) {
		t.Fatal("log of 1034 entries for 2 holds should need compaction")
	}
	if err := l.compact(tab, now); err != nil {
		t.Fatal(err)
	}
	if err := l.append(logEntry{"bob", hold{"k2", now.Add(time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	l.close()
	tab2 := newClaimTable(100)
	l2, err := openClaimLog(dir, tab2)
	if err != nil {
		t.Fatal(err)
	}
	defer l2.close()
	if len(tab2.holds) != 2 || tab2.holds["alice"] != tab.holds["alice"] || tab2.holds["bob"].key != "k2" || l2.entries != 2 {
		t.Fatalf("after compaction: %+v (%d entries)", tab2.holds, l2.entries)
	}
}

func TestParseEntryRejects(t *testing.T) {
	good := appendEntry(nil, logEntry{"alice", hold{"key", time.Unix(5, 0)}})
	for name, b := range map[string][]byte{
		"bad checksum": append(bytes.Clone(good[:len(good)-1]), good[len(good)-1]^1),
		"bad type":     append([]byte{9}, good[1:]...),
		"upper case":   appendEntry(nil, logEntry{"Alice", hold{"key", time.Unix(5, 0)}}),
		"truncated":    good[:5],
	} {
		if _, _, err := parseEntry(b); !errors.Is(err, errCorruptLog) {
			t.Errorf("%s: %v, want errCorruptLog", name, err)
		}
	}
}

func FuzzParseLog(f *testing.F) {
	now := time.Unix(1_800_000_000, 0)
	f.Add(appendEntry(appendEntry(nil, logEntry{"alice", hold{"k1", now}}), logEntry{"b", hold{"k2", now}}))
	f.Add([]byte{1, 1, 'a', 1, 'k'})
	f.Fuzz(func(t *testing.T, b []byte) {
		es, n, err := parseLog(b)
		if n > len(b) || (err == nil && n != len(b)) {
			t.Fatalf("good prefix %d of %d bytes, err %v", n, len(b), err)
		}
		var again []byte
		for _, e := range es {
			again = appendEntry(again, e)
		}
		if !bytes.Equal(again, b[:n]) {
			t.Fatalf("re-encoding differs:\n%x\n%x", again, b[:n])
		}
	})
}
