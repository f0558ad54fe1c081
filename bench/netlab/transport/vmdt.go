package transport

import (
	"context"
	"fmt"
)

// This file is the hook where VMDT plugs in. Replace vmdtTransport with
// the real implementation; nothing else in netlab needs to change. It
// should:
//
//   - Setup: start a vmdt node in each of Env.Lab.Sender,
//     Env.Lab.Receiver and Env.Lab.Relays[:Env.N], each with
//     Env.Lab.Command(ctx, host, vmdtBinary, args...) so that its UDP and
//     libp2p traffic crosses the emulated links (every node's only address
//     is host.Addr). Bootstrap them (one of them, or an extra bootstrap
//     node on a relay host), form the cluster with n=Env.N, k=Env.K over
//     the relays, and return once the receiver accepts messages. Return an
//     error wrapping ErrUnavailable if the vmdt binary is missing.
//   - Transfer: Cold means the sender has no data-plane sessions yet
//     (tear them down first, outside the timed interval if need be, then
//     start the clock before session setup); Warm means sessions to every
//     relay are up. Hand p.Data (or p.File) to the sender node, wait until
//     the receiver node has delivered the message, check its SHA-256
//     against p.SHA256 (ErrCorrupt on mismatch), and return the time from
//     the sender's start to the receiver's delivery. Take both times from
//     CLOCK_MONOTONIC (shared by every namespace) or measure both on the
//     harness side; say which in Result.Info.
//   - Close: stop every node (closing stdin or a signal, then Wait).
//
// The runner takes care of link settings, loss seeds, path failures
// (scenario 4 takes relay paths down through the emulator, which VMDT
// must survive) and byte counting; the transport only moves bytes.
func init() {
	Register(Info{
		Name:      "vmdt",
		Multipath: true,
		Settings:  "k-of-n secret-shared shares over n relays, rdt transport (not yet plugged in)",
		New:       func() Transport { return vmdtTransport{} },
	})
}

type vmdtTransport struct{}

func (vmdtTransport) Name() string { return "vmdt" }

func (vmdtTransport) Setup(context.Context, Env) error {
	return fmt.Errorf("%w: vmdt: the end-to-end vmdt path is not plugged into netlab yet (see bench/netlab/transport/vmdt.go)", ErrUnavailable)
}

func (vmdtTransport) Transfer(context.Context, Payload, Mode) (Result, error) {
	return Result{}, ErrUnavailable
}

func (vmdtTransport) Close() error { return nil }
