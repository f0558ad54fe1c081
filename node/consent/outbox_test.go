package consent

import (
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

func TestOutboxBackoffAndGivingUp(t *testing.T) {
	cfg := Config{}
	cfg.setDefaults()
	cfg.RetryMin, cfg.RetryMax, cfg.RetryFor = time.Second, 4*time.Second, time.Minute
	o := newOutbox(cfg)
	p := peer.ID("p")
	if err := o.add("alice", p); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	ready, _ := o.take(now, 4)
	if len(ready) != 1 || ready[0] != "alice" {
		t.Fatalf("take: %v, want [alice]", ready)
	}
	// While the attempt runs, nothing else is handed out.
	if again, _ := o.take(now, 4); len(again) != 0 {
		t.Fatalf("took %v while busy", again)
	}
	var waits []time.Duration
	for range 4 {
		o.finish("alice", ErrUnreachable, now)
		ready, wait := o.take(now, 4)
		if len(ready) != 0 {
			t.Fatalf("retried at once after a failure")
		}
		waits = append(waits, wait)
		now = now.Add(wait)
		if ready, _ = o.take(now, 4); len(ready) != 1 {
			t.Fatalf("not retried after its backoff %v", wait)
		}
	}
	// 1 s, 2 s, 4 s, 4 s, each less up to a tenth.
	for i, max := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 4 * time.Second} {
		if waits[i] > max || waits[i] < max*9/10-time.Millisecond {
			t.Errorf("wait %d: %v, want about %v", i, waits[i], max)
		}
	}
	// A kick makes it due at once.
	o.finish("alice", ErrUnreachable, now)
	o.kick(p)
	if ready, _ := o.take(now, 4); len(ready) != 1 {
		t.Fatal("kick did not make the response due")
	}
	// Re-queued while busy: tried again after the attempt, even a
	// successful one (the request it answers may have changed).
	if err := o.add("alice", p); err != nil {
		t.Fatal(err)
	}
	o.finish("alice", nil, now)
	if ready, _ := o.take(now, 4); len(ready) != 1 {
		t.Fatal("re-queued response not retried")
	}
	// After RetryFor, it is dropped.
	o.finish("alice", ErrUnreachable, now.Add(time.Hour))
	if u := o.users(); len(u) != 0 {
		t.Fatalf("outbox still holds %v after RetryFor", u)
	}
	// A final refusal drops it at once; so does success.
	o.add("bob", p)
	o.take(now, 4)
	o.finish("bob", &RefusedError{Code: CodeState}, now)
	o.add("carol", p)
	o.take(now, 4)
	o.finish("carol", nil, now)
	if u := o.users(); len(u) != 0 {
		t.Fatalf("outbox holds %v", u)
	}
}

func TestOutboxClaimExcludesTheLoop(t *testing.T) {
	cfg := Config{}
	cfg.setDefaults()
	o := newOutbox(cfg)
	ok, err := o.claim("alice", "p")
	if err != nil || !ok {
		t.Fatalf("claim: %v, %v", ok, err)
	}
	if ready, _ := o.take(time.Now(), 4); len(ready) != 0 {
		t.Fatalf("loop took %v while claimed", ready)
	}
	if ok, _ := o.claim("alice", "p"); ok {
		t.Fatal("claimed twice")
	}
	o.finish("alice", nil, time.Now())
	// The second claim asked for another attempt.
	if ready, _ := o.take(time.Now(), 4); len(ready) != 1 {
		t.Fatal("repeat after a second claim not due")
	}
}

func TestOutboxIsBounded(t *testing.T) {
	cfg := Config{MaxOutbox: 2}
	cfg.setDefaults()
	o := newOutbox(cfg)
	o.add("a", "p")
	o.add("b", "p")
	if err := o.add("c", "p"); err == nil {
		t.Fatal("third response queued in an outbox of 2")
	}
	if err := o.add("a", "p"); err != nil {
		t.Fatalf("re-queueing a queued response: %v", err)
	}
}
