// Package assemble is the receiver's cut-through decoder for one message:
// it takes the segments of the n share transfers (package envelope) as
// relays forward them, in any order and with duplicates, and releases the
// message as soon as k shares cover every byte, whichever k they are for
// each range, and the shares authenticate.
//
// # How data flows
//
//	m, _ := assemble.New(assemble.ParamsFromHeader(hdr, sealKey), assemble.Limits{})
//	for each datagram (hdr, payload) of the message:
//		m.AddVMDT(hdr, payload)       // or m.Add(index, offset, bytes)
//		if m.Ready() {
//			msg, report, err := m.Result()
//			if err == nil { deliver(msg); break }
//		}
//	m.Missing()                        // what a sender should retransmit
//
// Add splits each segment at the prefix boundary (envelope.PrefixLen(n)).
// Prefix bytes gather per share; when a share's prefix is whole it is
// parsed, checked against the transfer (index, message id, n, k, fragment
// length), verified (the first in full with envelope.Prefix.Verify
// against the VMDT source and destination, the rest against the first
// with VerifyAgainst), and its key share is opened with the receiver's
// seal key. A share whose prefix fails is rejected: Add returns a
// *ShareError and its bytes are ignored.
//
// Fragment bytes go straight into the share's buffer, at their offset: the
// n buffers of the fragment length are allocated once, in New. A coverage
// map records, for every range of the fragment area, which shares hold
// it; it keeps a count of the bytes fewer than k shares hold, so Ready is
// cheap after every segment.
//
// Result, once at least k prefixes are verified and every fragment byte
// has k coverers, rebuilds what each share with a verified prefix lacks:
// for each maximal range with the same sources and the same shares to
// fill, one Reed-Solomon ReconstructSome (github.com/klauspost/reedsolomon,
// the code ssms uses, which works byte position by byte position) on
// sub-slices of the buffers, in place. Then ssms.CombineReport checks the
// tag of every such share and decodes from k authentic ones. Nothing is
// released unless that succeeds.
//
// # Altered fragments
//
// A relay can alter the fragment bytes it forwards; the prefix is signed
// but the fragment is authenticated only by the ssms tag, after decoding.
// Bytes rebuilt from an altered source are wrong too, so a failed tag
// blames the share or one of the shares its missing bytes were rebuilt
// from. Result therefore learns from every attempt:
//
//   - a share whose tag verifies is authentic: its whole buffer, received
//     and rebuilt, is the true fragment, and from then on it counts as
//     covering every byte and is preferred as a source;
//   - a share whose tag fails although everything it lacked was rebuilt
//     from authentic shares has altered bytes of its own: it is rejected
//     (ErrAltered) and its bytes no longer count;
//   - otherwise it and its sources are suspects. If an attempt teaches
//     nothing new, Result tries again leaving one suspect at a time out
//     of the rebuilding, where k others still cover every byte (at most
//     Limits.MaxSearch such attempts per message).
//
// After a failure, Ready turns true again when something changes that
// may help: a prefix verifies, a share completes (all its bytes received,
// so its tag judges its own bytes only), or a suspect can be left out.
// So k good shares always suffice in the end, and usually much less.
// After success, every share not authenticated by its tag (no verified
// prefix, or a mere suspect) is checked byte for byte against the true
// fragments that the k authentic shares give, and rejected if it differs:
// the Report names every relay that altered what it carried.
//
// # Bounds
//
// Memory: n × transfer length for the buffers (checked against
// Limits.MaxBytes before anything is allocated), 40 bytes per coverage
// piece (Limits.MaxPieces), and a few bytes per share. Segments outside
// the transfer are refused (ErrSegment). CPU: Add costs a binary search
// and a short copy within one 64 KiB block of the coverage map; a decode
// attempt costs one pass of Reed-Solomon over the missing bytes and one
// tag check per share, and attempts are bounded by the state changes
// above plus Limits.MaxSearch.
//
// The caller keys Messages by (source, message id) and must not let one
// relay's first datagram fix the parameters for everyone: a transfer
// length or n, k that the verified prefix contradicts makes every share
// fail (ErrMismatch, ErrPrefixMismatch).
package assemble
