package dht

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/vmdt/vmdt/dht/namerec"
)

func TestNameValidator(t *testing.T) {
	t.Parallel()
	now := time.Now()
	auths := []crypto.PrivKey{newKey(t), newKey(t), newKey(t)}
	var ids []peer.ID
	for _, a := range auths {
		id, _ := peer.IDFromPrivateKey(a)
		ids = append(ids, id)
	}
	v, err := NewNameValidator(ids, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	owner, other := newKey(t), newKey(t)
	mk := func(owner crypto.PrivKey, name string, seq uint64, hold time.Duration, signers ...int) []byte {
		t.Helper()
		key, _ := crypto.MarshalPublicKey(owner.GetPublic())
		var cs []namerec.Countersignature
		for _, i := range signers {
			c, err := namerec.Countersign(auths[i], name, key, now.Add(hold))
			if err != nil {
				t.Fatal(err)
			}
			cs = append(cs, c)
		}
		_, b, err := namerec.NewRecord(owner, name, bytes.Repeat([]byte{1}, 32), seq, now.Add(namerec.ClaimTTL), cs)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	good := mk(owner, "alice", 5, time.Hour, 0, 1)
	if err := v.Validate(NameKey("alice"), good); err != nil {
		t.Fatal(err)
	}
	if err := v.Validate(NameKey("bob"), good); !errors.Is(err, ErrKeyMismatch) {
		t.Fatalf("under another name's key: %v, want ErrKeyMismatch", err)
	}
	if err := v.Validate("/ipns/alice", good); !errors.Is(err, ErrKeyMismatch) {
		t.Fatalf("under another namespace: %v, want ErrKeyMismatch", err)
	}
	if err := v.Validate(NameKey("alice"), mk(owner, "alice", 5, time.Hour, 2)); !errors.Is(err, ErrNoQuorum) {
		t.Fatalf("one countersignature of three: %v, want ErrNoQuorum", err)
	}

	newer := mk(owner, "alice", 6, time.Hour, 1, 2)
	longer := mk(other, "alice", 1, 2*time.Hour, 0, 2) // a later claim by another key
	junk := []byte("junk")
	for _, c := range []struct {
		vals [][]byte
		want int
	}{
		{[][]byte{good, newer}, 1},
		{[][]byte{newer, good}, 0},
		{[][]byte{junk, good}, 1},
		{[][]byte{good, longer, newer}, 1},
	} {
		got, err := v.Select(NameKey("alice"), c.vals)
		if err != nil || got != c.want {
			t.Errorf("Select = %d, %v; want %d", got, err, c.want)
		}
	}
	if _, err := v.Select(NameKey("alice"), [][]byte{junk}); err == nil {
		t.Error("Select among invalid records succeeded")
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	t.Parallel()
	h := newHost(t, newKey(t))
	ctx := ctxT(t, 10*time.Second)
	secp, _, err := crypto.GenerateSecp256k1Key(nil)
	if err != nil {
		t.Fatal(err)
	}
	sid, _ := peer.IDFromPrivateKey(secp)
	if _, err := New(ctx, h, Config{Authorities: []peer.ID{sid}}); !errors.Is(err, namerec.ErrUnsupportedKey) {
		t.Fatalf("secp256k1 authority: %v", err)
	}
	if _, err := New(ctx, h, Config{Mode: Mode(9)}); err == nil {
		t.Fatal("unknown mode accepted")
	}
	d, err := New(ctx, h, Config{Mode: ModeServer})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	k := newKey(t)
	if _, err := d.RegisterName(ctx, "alice", k, newSealKey(t)); !errors.Is(err, ErrNoAuthorities) {
		t.Fatalf("no authorities: %v, want ErrNoAuthorities", err)
	}
	if _, err := d.RegisterName(ctx, "Älice", k, newSealKey(t)); !errors.Is(err, ErrInvalidName) {
		t.Fatalf("invalid name: %v, want ErrInvalidName", err)
	}
	if err := d.Bootstrap(ctx); err != nil {
		t.Fatalf("bootstrap with no bootstrap peers: %v", err)
	}
	d.Close()
	if _, err := d.Resolve(ctx, "alice"); !errors.Is(err, ErrClosed) {
		t.Fatalf("resolve after Close: %v, want ErrClosed", err)
	}
}

func TestBootstrapUnreachable(t *testing.T) {
	t.Parallel()
	h := newHost(t, newKey(t))
	dead := newHost(t, newKey(t))
	info := peer.AddrInfo{ID: dead.ID(), Addrs: dead.Addrs()}
	dead.Close()
	ctx := ctxT(t, 10*time.Second)
	d, err := New(ctx, h, Config{BootstrapPeers: []peer.AddrInfo{info}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Bootstrap(ctx); !errors.Is(err, ErrNoBootstrap) {
		t.Fatalf("got %v, want ErrNoBootstrap", err)
	}
}

// TestLifetimeIsCloseNotCtx: the ctx given to New bounds nothing after New
// returns; Close ends the DHT.
func TestLifetimeIsCloseNotCtx(t *testing.T) {
	t.Parallel()
	h := newHost(t, newKey(t))
	ctx, cancel := context.WithCancel(context.Background())
	d, err := New(ctx, h, Config{Mode: ModeServer})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := d.Kad().Context().Err(); err != nil {
		t.Fatalf("kad-dht stopped with New's ctx: %v", err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if d.Kad().Context().Err() == nil {
		t.Fatal("kad-dht still running after Close")
	}
	if err := d.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}
