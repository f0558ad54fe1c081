// Package emu is netlab's user-space link emulator. It owns one packet
// device per emulated host (a TUN device in that host's network namespace,
// or an in-memory pipe in tests) and forwards IPv4 packets between them.
//
// Data flow: a reader goroutine per host reads one IP packet at a time from
// the host's device, looks up the destination host by the packet's IPv4
// destination address, and offers the packet to the directed link
// (source host -> destination host). The link's Shaper decides, from the
// current time alone, whether the packet is dropped (link down, random
// loss from a seeded generator, or queue overflow behind the rate limit)
// and when it is delivered: after waiting for its turn in a token bucket
// (rate), plus the link's one-way delay. Accepted packets wait in the
// link's FIFO queue; a delivery goroutine per link writes each to the
// destination device when it is due. A link never reorders packets.
//
// Every link counts offered, delivered and dropped packets and bytes
// (whole IP packets, headers included), so the wire cost of a transfer and
// the loss actually achieved are measured, not estimated. Packets for an
// address no host owns, and packets that are not IPv4, are counted as
// unroutable and dropped. A packet for a lab host that its source has no
// link to (relay to relay) is dropped too, and answered at once with an
// ICMP "host unreachable" from that address, so that connection attempts
// fail fast instead of waiting for the kernel's timeouts.
//
// Shaper and DelayQueue do no I/O and take time as an argument, so their
// logic is tested with a fake clock; the Emulator's goroutines use the real
// clock and are tested with testing/synctest over in-memory devices.
package emu
