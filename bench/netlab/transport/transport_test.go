package transport

import (
	"context"
	"crypto/sha256"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/vmdt/vmdt/bench/netlab/agent"
	"github.com/vmdt/vmdt/bench/netlab/lab"
)

// TestMain lets this test binary double as the netlab agent, so that the
// root-only test below can run agents inside namespaces.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == AgentCommand {
		os.Exit(agent.Main(os.Args[2:]))
	}
	os.Exit(m.Run())
}

func TestRegistry(t *testing.T) {
	names := Names()
	for _, want := range append(agent.Kinds(), "vmdt") {
		if !slices.Contains(names, want) {
			t.Errorf("%s not registered (have %v)", want, names)
		}
	}
	v, err := Lookup("vmdt")
	if err != nil || !v.Multipath {
		t.Fatalf("vmdt: %+v, %v", v, err)
	}
	// Without a vmdt binary anywhere, Setup reports the transport as
	// unavailable.
	t.Setenv("NETLAB_VMDT", filepath.Join(t.TempDir(), "no-vmdt"))
	t.Setenv("PATH", t.TempDir())
	if err := v.New().Setup(context.Background(), Env{Exe: filepath.Join(t.TempDir(), "netlab")}); !errors.Is(err, ErrUnavailable) {
		t.Errorf("vmdt Setup without a binary: %v, want ErrUnavailable", err)
	}
	if c, _ := Lookup("tcp-cubic"); c.Multipath || c.Settings == "" {
		t.Errorf("tcp-cubic: %+v", c)
	}
	if _, err := Lookup("smoke-signals"); !errors.Is(err, ErrUnknown) {
		t.Errorf("unknown: %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Error("duplicate registration did not panic")
		}
	}()
	Register(Info{Name: "tcp-cubic"})
}

func TestParseMode(t *testing.T) {
	for _, m := range []Mode{Cold, Warm} {
		if got, err := ParseMode(m.String()); err != nil || got != m {
			t.Errorf("round trip %v: %v %v", m, got, err)
		}
	}
	if _, err := ParseMode("lukewarm"); err == nil {
		t.Error("bad mode accepted")
	}
}

// TestBaselineOverLab runs the TCP CUBIC baseline through real agents in a
// two-host lab (root only): cold and warm transfers arrive intact and take
// at least the configured one-way delay.
func TestBaselineOverLab(t *testing.T) {
	if err := lab.Check(); err != nil {
		t.Skipf("skipping root-only test: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	l, err := lab.New(ctx, lab.Spec{Relays: 1, Prefix: "vmdtlabtest"})
	if errors.Is(err, lab.ErrUnsupported) {
		t.Skipf("skipping: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	profile := lab.PathProfile{RTT: 20 * time.Millisecond, Loss: 0.02}
	if err := l.SetPaths(lab.Paths{Relay: profile, Active: 1, Direct: profile}); err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	data := make([]byte, 70_800)
	_, _ = rand.NewChaCha8([32]byte{5}).Read(data)
	file := filepath.Join(dir, "payload")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	p := Payload{Data: data, File: file, SHA256: sha256.Sum256(data)}

	info, _ := Lookup("tcp-cubic")
	tr := info.New()
	defer tr.Close()
	if err := tr.Setup(ctx, Env{Lab: l, N: 1, K: 1, Exe: exe, Dir: dir}); err != nil {
		if errors.Is(err, ErrUnavailable) {
			t.Skipf("skipping: %v", err)
		}
		t.Fatal(err)
	}
	before := l.Stats().Total(lab.IsDirect)
	for _, mode := range []Mode{Cold, Warm, Warm, Cold} {
		res, err := tr.Transfer(ctx, p, mode)
		if err != nil {
			t.Fatalf("%v transfer: %v", mode, err)
		}
		t.Logf("%v: %v (%s)", mode, res.Elapsed, res.Info)
		if res.Elapsed < 10*time.Millisecond {
			t.Errorf("%v transfer took %v, less than the 10 ms one-way delay", mode, res.Elapsed)
		}
		if res.Info != "cc=cubic" {
			t.Errorf("sender reports %q, want cc=cubic", res.Info)
		}
	}
	if sent := l.Stats().Total(lab.IsDirect).Sub(before).OfferedBytes; sent < 4*int64(len(data)) {
		t.Errorf("the direct path carried %d bytes for 4 x %d payload bytes", sent, len(data))
	}
	if err := tr.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
}
