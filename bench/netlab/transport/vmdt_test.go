package transport

import (
	"context"
	"crypto/sha256"
	"errors"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/vmdt/vmdt/bench/netlab/emu"
	"github.com/vmdt/vmdt/bench/netlab/lab"
	"github.com/vmdt/vmdt/bench/netlab/stats"
)

// vmdtForTest returns the vmdt binary ($NETLAB_VMDT or bench/.bin/vmdt,
// as make bench-quick builds it) or skips the test.
func vmdtForTest(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("NETLAB_VMDT"); p != "" {
		return p
	}
	p, err := filepath.Abs("../../.bin/vmdt")
	if err == nil {
		if _, err = os.Stat(p); err == nil {
			return p
		}
	}
	t.Skipf("skipping: no vmdt binary (go build -o bench/.bin/vmdt ./cmd/vmdt, or set NETLAB_VMDT): %v", err)
	return ""
}

// TestVMDTOverLab runs the real vmdt daemons in a lab with three relays
// (root only): cold and warm sends arrive intact, every share goes over a
// different lab relay, at least k relays carry a whole share, and the
// relay links carry at least twice the payload.
//
// With NETLAB_VMDT_DIAG=1 it instead measures where a send's time goes
// on the scenario-1 paths (6 relays, 20 ms RTT, 6% loss) and logs it.
func TestVMDTOverLab(t *testing.T) {
	if err := lab.Check(); err != nil {
		t.Skipf("skipping root-only test: %v", err)
	}
	bin := vmdtForTest(t)
	t.Setenv("NETLAB_VMDT", bin)
	diag := os.Getenv("NETLAB_VMDT_DIAG") != ""
	relays, n, k, loss := 3, 3, 2, 0.02
	if diag {
		relays, n, k, loss = 6, 6, 3, 0.06
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	l, err := lab.New(ctx, lab.Spec{Relays: relays, Prefix: "vmdtlabtest"})
	if errors.Is(err, lab.ErrUnsupported) {
		t.Skipf("skipping: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	profile := lab.PathProfile{RTT: 20 * time.Millisecond, Loss: loss}
	if err := l.SetPaths(lab.Paths{Relay: profile, Active: relays, Direct: profile}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	data := make([]byte, 70_800)
	_, _ = rand.NewChaCha8([32]byte{7}).Read(data)
	p := Payload{Data: data, SHA256: sha256.Sum256(data)}

	tr := &vmdtTransport{}
	defer tr.Close()
	start := time.Now()
	if err := tr.Setup(ctx, Env{Lab: l, N: n, K: k, Dir: dir}); err != nil {
		t.Fatal(err)
	}
	t.Logf("setup took %v: %v", time.Since(start), tr.phases)
	if diag {
		vmdtDiagnose(ctx, t, tr, p)
		return
	}
	isRelay := func(h string) bool { return h != lab.SenderName && h != lab.ReceiverName }
	for _, mode := range []Mode{Cold, Warm, Cold} {
		if err := tr.PrepareRun(ctx, mode); err != nil {
			t.Fatalf("prepare %v: %v", mode, err)
		}
		before := l.Stats()
		res, err := tr.Transfer(ctx, p, mode)
		if err != nil {
			t.Fatalf("%v transfer: %v", mode, err)
		}
		d := l.Stats().Sub(before)
		t.Logf("%v: %v (%s)", mode, res.Elapsed, res.Info)
		// Timed until the receiver holds the message: at least the
		// one-way delay of a relayed path (half its 20 ms RTT).
		if res.Elapsed < profile.RTT/2 {
			t.Errorf("%v send took %v, less than the one-way delay of a relayed path", mode, res.Elapsed)
		}
		// Every share went to a different relay (Transfer checks the
		// report); at least k of them carried a whole share, the others
		// may have been abandoned once k arrived.
		full := 0
		for i := 1; i <= n; i++ {
			if d.Links[emu.LinkKey{From: lab.SenderName, To: lab.RelayName(i)}].DeliveredBytes >= int64(len(data)/k) {
				full++
			}
		}
		if full < k {
			t.Errorf("%v: %d relays got a whole share (%d bytes) from the sender, want at least k=%d", mode, full, len(data)/k, k)
		}
		if relayed := d.Total(func(k emu.LinkKey) bool { return isRelay(k.From) || isRelay(k.To) }).OfferedBytes; relayed < int64(2*len(data)) {
			t.Errorf("%v: relay links carried %d bytes for %d payload bytes", mode, relayed, len(data))
		}
	}
	if err := tr.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
}

// vmdtDiagnose times the parts of a send from outside: a name lookup, a
// tiny message and the payload, warm and cold.
func vmdtDiagnose(ctx context.Context, t *testing.T, tr *vmdtTransport, p Payload) {
	const runs = 15
	var resolve, tiny, warm, cold []time.Duration
	tinyMsg := []byte("tiny")
	for i := 0; i < runs; i++ {
		s := time.Now()
		if err := tr.sender.call(ctx, http.MethodGet, "/v1/resolve/"+vmdtReceiverName, nil, nil); err != nil {
			t.Fatal(err)
		}
		resolve = append(resolve, time.Since(s))
		d, _, err := tr.send(ctx, tinyMsg, sha256.Sum256(tinyMsg))
		if err != nil {
			t.Fatal(err)
		}
		tiny = append(tiny, d)
		d, info, err := tr.send(ctx, p.Data, p.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		warm = append(warm, d)
		t.Logf("warm %v %s", d, info)
	}
	for i := 0; i < 5; i++ {
		if err := tr.PrepareRun(ctx, Cold); err != nil {
			t.Fatal(err)
		}
		res, err := tr.Transfer(ctx, p, Cold)
		if err != nil {
			t.Fatal(err)
		}
		cold = append(cold, res.Elapsed)
		t.Logf("cold %v %s", res.Elapsed, res.Info)
	}
	for _, x := range []struct {
		name string
		d    []time.Duration
	}{{"resolve", resolve}, {"tiny send", tiny}, {"70.8 KB warm", warm}, {"70.8 KB cold", cold}} {
		sm := stats.Summarize(x.d)
		sorted := slices.Clone(x.d)
		slices.Sort(sorted)
		t.Logf("%-13s p50 %v p90 %v max %v (n=%d)", x.name, sm.P50, sm.P90, sorted[len(sorted)-1], len(x.d))
	}
}
