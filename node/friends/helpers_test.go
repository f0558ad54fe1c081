package friends

import (
	"bytes"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/vmdt/vmdt/protocol"
)

// key returns a deterministic Ed25519 key.
func key(t testing.TB, seed byte) crypto.PrivKey {
	t.Helper()
	priv, _, err := crypto.GenerateEd25519Key(bytes.NewReader(bytes.Repeat([]byte{seed}, 32)))
	if err != nil {
		t.Fatal(err)
	}
	return priv
}

func pubBytes(t testing.TB, priv crypto.PrivKey) []byte {
	t.Helper()
	b, err := crypto.MarshalPublicKey(priv.GetPublic())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func addrOf(t testing.TB, priv crypto.PrivKey) protocol.DDTAddr {
	return protocol.DDTAddrFromPublicKey(pubBytes(t, priv))
}

// t0 is the fake clocks' start.
var t0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("err = %v, want %v", err, target)
	}
}

// nonceReader yields a fixed nonce.
func nonceReader(b byte) *bytes.Reader { return bytes.NewReader(bytes.Repeat([]byte{b}, NonceLen)) }

func replaceOnce(s, old, new string) string { return strings.Replace(s, old, new, 1) }

func errorsIs(err, target error) bool { return errors.Is(err, target) }

func peerIDOf(priv crypto.PrivKey) (peer.ID, error) { return peer.IDFromPrivateKey(priv) }
