// Package lab builds and removes netlab's emulated network: one Linux
// network namespace per host (a sender, a receiver and up to 8 relays),
// each holding a single TUN device "tun0" with an address in 10.77.0.0/16
// and a route for that /16 through the TUN. Nothing is created in the
// host's own namespace, and the 10.77/16 addresses exist only inside the
// lab's namespaces, so no lab packet can leave the machine.
//
// Data flow: an application in a host's namespace sends to another host's
// address; the kernel routes the packet into tun0; the lab's emulator
// (package emu) reads it from the TUN file descriptor, which this process
// opened from inside that namespace, shapes it on the link between the
// two hosts, and writes it into the destination host's tun0, whose kernel
// delivers it. The links are sender<->relayN, relayN<->receiver and the
// direct sender<->receiver path; their delay, loss and rate are set with
// SetPaths (see package config for how end-to-end path values are split
// over two hops).
//
// TUN devices without IFF_VNET_HDR carry no segmentation offloads: every
// packet read is at most one MTU, so one dropped packet is one real packet.
// The emulator records the largest packet it saw so this can be checked.
//
// Programs run in a host's namespace either as processes (Command wraps
// "ip netns exec") or, for sockets this process opens itself, through
// Host.Do, which runs a function on an OS thread that has joined the
// namespace.
//
// Close kills every process left in the lab's namespaces, stops the
// emulator and deletes the namespaces. New also removes namespaces left
// behind by netlab processes that no longer exist.
package lab
