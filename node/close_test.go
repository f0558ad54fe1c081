package node

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// TestCloseStopsGoroutines starts a bootstrap node and an ordinary node,
// lets them register and resolve, closes both and checks that the
// goroutines they started are gone.
func TestCloseStopsGoroutines(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	before := runtime.NumGoroutine()

	br, err := InitRepo(t.TempDir(), DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	bd, err := StartDaemon(ctx, br, DaemonOptions{Node: testOptions(t, br, RoleBootstrap, nil)})
	if err != nil {
		t.Fatal(err)
	}
	nr, err := InitRepo(t.TempDir(), DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	nd, err := StartDaemon(ctx, nr, DaemonOptions{Node: testOptions(t, nr, RoleNode, []peer.AddrInfo{bd.Node().AddrInfo()})})
	if err != nil {
		bd.Close()
		t.Fatal(err)
	}
	if _, err := nd.RegisterName(ctx, "leaky"); err != nil {
		t.Error(err)
	}
	if _, err := nd.Node().Resolve(ctx, "leaky"); err != nil {
		t.Error(err)
	}
	running := runtime.NumGoroutine()
	if err := nd.Close(); err != nil {
		t.Error(err)
	}
	if err := bd.Close(); err != nil {
		t.Error(err)
	}
	// Some goroutines finish just after Close returns (connection
	// readers that saw the close); poll until they are gone.
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond) // polling the runtime, not synchronising
	}
	if after := runtime.NumGoroutine(); after > before {
		buf := make([]byte, 1<<20)
		t.Fatalf("%d goroutines before, %d running, %d after Close:\n%s", before, running, after, buf[:runtime.Stack(buf, true)])
	}
}
