package runner

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/vmdt/vmdt/bench/netlab/stats"
	"github.com/vmdt/vmdt/node/delivery/envelope"
	"github.com/vmdt/vmdt/protocol"
	"github.com/vmdt/vmdt/rdt"
)

// Bounds of scenario 1, computed from the cell and from the protocol's
// constants, so that the report can say how far a goal is from what the
// paths allow at all, and where VMDT's time and bytes go.

// ipUDPOverhead is the IPv4 and UDP header bytes of every datagram.
const ipUDPOverhead = 20 + 8

// datagramPayload is the share bytes one full RDT data datagram carries:
// rdt.DefaultMaxDatagram minus the RDT header, the VMDT header and the
// AEAD tag.
const datagramPayload = rdt.DefaultMaxDatagram - protocol.RDTHeaderLen - protocol.VMDTHeaderLen - 16

// docFloor is the earliest any transport could have the message at the
// receiver on a scenario-1 path: half the RTT plus the time to put the
// bytes that must cross one path onto it (for a multipath transport a
// share of size/k, for a single-path one the whole message).
func docFloor(c CellInfo, multipath bool) time.Duration {
	bytes := float64(c.Size)
	if multipath {
		bytes /= float64(max(c.K, 1))
	}
	d := c.RTT / 2
	if c.Rate > 0 {
		d += time.Duration(bytes * 8 / c.Rate * float64(time.Second))
	}
	return d
}

// senderFloor is the bytes per payload byte the sender must put on its
// links for n shares of a message of size bytes: n/k, each share with its
// envelope prefix, in full datagrams with every header.
func senderFloor(c CellInfo) float64 {
	if c.Size == 0 || c.K == 0 {
		return 0
	}
	share := float64(c.Size)/float64(c.K) + float64(envelope.PrefixLen(c.N))
	perByte := float64(datagramPayload+protocol.RDTHeaderLen+protocol.VMDTHeaderLen+16+ipUDPOverhead) / float64(datagramPayload)
	return float64(c.N) * share * perByte / float64(c.Size)
}

// writeAnalysis explains scenario 1's goals against those bounds.
func writeAnalysis(w io.Writer, rep *Report) {
	doc := rep.scenario(DocScenario)
	v := findMeasurement(doc, vmdtName, "warm", nil)
	if v == nil || v.Summary.Runs == 0 || v.Summary.P50 == stats.Failed {
		return
	}
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	p("## What bounds scenario 1\n\nComputed from the cell (RTT, rate, size, n, k) and the protocol's constants by `bench/netlab/runner/analysis.go`.\n\n")

	floor := docFloor(v.Cell, true)
	best, name, timedOut := bestTCP(doc, "warm", "p50", nil)
	p("**Time.** No transport can have the message at the receiver before its bytes crossed the path: half the RTT (%s) plus the time to send what one path carries at %s (for VMDT one share, size/k). That floor is **%s**. ",
		FormatDuration(v.Cell.RTT/2), formatRate(v.Cell.Rate), FormatDuration(floor))
	if best > 0 && !timedOut {
		tcpFloor := docFloor(v.Cell, false)
		reach := "is beyond what the paths allow"
		if stats.Ratio(best, floor) >= goalDocP50 {
			reach = "is within reach only of a transport with no overhead at all"
		}
		p("The best TCP's warm p50 (%s, %s) is %.2f× VMDT's floor, so at the median no transport could be more than %.2f× faster than it on these paths; the goal of %g× %s. ",
			name, FormatDuration(best), stats.Ratio(best, floor), stats.Ratio(best, floor), goalDocP50, reach)
		p("(TCP's own floor, the whole message over one path, is %s.) ", FormatDuration(tcpFloor))
	}
	p("VMDT's warm p50 is %s, %s above the floor: the sender's API call, sealing and the relays' cut-through (the relay announcement travels with the first datagrams, names and relay sessions are cached when warm), and the receiver's decode and authentication. Its p99 (%s) stays close because a share that loses datagrams is not waited for: any k shares that cover each byte decode it.\n\n",
		FormatDuration(v.Summary.P50), FormatDuration(v.Summary.P50-floor), FormatDuration(v.Summary.P99))

	sf := senderFloor(v.Cell)
	p("**Bytes.** The goal asks for at most n/k = %.2f bytes on the wire per payload byte. Sending all n shares whole already costs %.3f: each share carries a %d-byte envelope prefix (signed manifest and sealed key share), and every datagram of %d share bytes carries %d bytes of headers (IP and UDP %d, RDT %d, VMDT %d, AEAD tag 16). ",
		float64(v.Cell.N)/float64(max(v.Cell.K, 1)), sf, envelope.PrefixLen(v.Cell.N), datagramPayload,
		ipUDPOverhead+protocol.RDTHeaderLen+protocol.VMDTHeaderLen+16, ipUDPOverhead, protocol.RDTHeaderLen, protocol.VMDTHeaderLen)
	if v.PayloadBytes > 0 {
		p("VMDT's sender put %.3f bytes per payload byte on its links in the warm runs: %.3f above that floor, which is retransmissions of datagrams lost before the receiver's abandon reached the sender, ACKs, and the control messages (RELAY_OPEN, DELIVERED) over libp2p. ",
			v.SenderPerPayload(), v.SenderPerPayload()-sf)
	}
	p("Meeting n/k exactly would need shares smaller than n/k of the message, that is a code with less redundancy than the k-of-n the scenario asks for, or abandoning shares before they are sent; at %d%% loss per path the sender cannot know in advance which k will arrive.\n\n",
		int(v.Cell.Loss*100+0.5))
}

// goodputCeiling is the highest goodput over the physical limit VMDT can
// reach on an aggregation cell: every datagram spends headers on its
// share bytes, every share its envelope prefix, and the last byte still
// needs half an RTT to arrive.
func goodputCeiling(c CellInfo) float64 {
	if c.Rate == 0 || c.K == 0 || c.N == 0 || c.Size == 0 {
		return 0
	}
	share := float64(c.Size) / float64(c.K)
	eff := float64(datagramPayload) / float64(rdt.DefaultMaxDatagram+ipUDPOverhead) * share / (share + float64(envelope.PrefixLen(c.N)))
	limit := float64(c.N) * c.Rate * float64(c.K) / float64(c.N)
	best := float64(c.Size)*8/(limit*eff) + (c.RTT / 2).Seconds()
	return float64(c.Size) * 8 / best / limit
}

// writeGoodputAnalysis explains scenario 3 against that ceiling.
func writeGoodputAnalysis(w io.Writer, rep *Report) {
	var lines []string
	for _, m := range rep.scenario(AggregateScenario) {
		if m.Transport != vmdtName || m.Summary.Runs == 0 || m.Summary.P50 == stats.Failed || m.PhysicalLimit() == 0 {
			continue
		}
		lines = append(lines, fmt.Sprintf("| %s | n=%d k=%d | %.2f | %.2f |", m.Mode, m.Cell.N, m.Cell.K,
			m.Goodput(m.Summary.P50)/m.PhysicalLimit(), goodputCeiling(m.Cell)))
	}
	if len(lines) == 0 {
		return
	}
	fmt.Fprintf(w, "## What bounds scenario 3\n\nThe physical limit counts payload bits against the links' raw rate. VMDT cannot reach it: each datagram carries %d share bytes in %d bytes on the wire (headers as above), each share adds its envelope prefix, and the last byte needs half an RTT to arrive. The ceiling below is what is left of the limit after those, computed by `bench/netlab/runner/analysis.go`; the rest of the gap is the congestion controller's ramp-up on every path and its pacing, which probes and drains around the path rate rather than filling it exactly.\n\n",
		datagramPayload, rdt.DefaultMaxDatagram+ipUDPOverhead)
	fmt.Fprintf(w, "| mode | paths | goodput / limit (p50) | ceiling |\n|---|---|---|---|\n%s\n\n", strings.Join(lines, "\n"))
}
