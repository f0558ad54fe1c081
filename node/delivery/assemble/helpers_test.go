package assemble

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ed25519"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"

	"github.com/vmdt/vmdt/node/delivery/envelope"
	"github.com/vmdt/vmdt/protocol"
	"github.com/vmdt/vmdt/ssms"
)

// party is a node: an Ed25519 identity with its DDT address and an X25519
// seal key, derived from seed.
type party struct {
	id   crypto.PrivKey
	addr protocol.DDTAddr
	seal *ecdh.PrivateKey
}

func newParty(t testing.TB, seed byte) party {
	t.Helper()
	id, err := crypto.UnmarshalEd25519PrivateKey(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, 32)))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := crypto.MarshalPublicKey(id.GetPublic())
	if err != nil {
		t.Fatal(err)
	}
	seal, err := ecdh.X25519().NewPrivateKey(bytes.Repeat([]byte{seed ^ 0x5a}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return party{id: id, addr: protocol.DDTAddrFromPublicKey(pub), seal: seal}
}

// testMsg is one sealed message from sender to receiver.
type testMsg struct {
	msg        []byte
	envs       [][]byte
	params     Params
	n, k       int
	prefixLen  int
	sender     party
	receiver   party
	messageID  protocol.MessageID
	transferLn int
}

func newTestMsg(t testing.TB, msgLen, n, k int, seed uint64) *testMsg {
	t.Helper()
	s, r := newParty(t, 1), newParty(t, 2)
	rng := rand.New(rand.NewPCG(seed, 99))
	msg := make([]byte, msgLen)
	for i := range msg {
		msg[i] = byte(rng.Uint32())
	}
	shares, err := ssms.Split(msg, n, k)
	if err != nil {
		t.Fatal(err)
	}
	id := protocol.MessageID{byte(seed), byte(seed >> 8), 3, 4, 5, 6, 7, 8}
	envs, err := envelope.Seal(s.id, r.seal.PublicKey(), r.addr, id, shares, &envelope.Options{Created: time.Unix(1_700_000_000, 0)})
	if err != nil {
		t.Fatal(err)
	}
	tl := len(envs[0])
	return &testMsg{
		msg: msg, envs: envs, n: n, k: k, prefixLen: envelope.PrefixLen(n), sender: s, receiver: r, messageID: id, transferLn: tl,
		params: Params{MessageID: id, Src: s.addr, Dst: r.addr, N: n, K: k, TransferLen: tl, SealKey: r.seal},
	}
}

func (tm *testMsg) newMessage(t testing.TB, lim Limits) *Message {
	t.Helper()
	m, err := New(tm.params, lim)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// segment is one datagram's payload: bytes [off, off+len(b)) of share
// index's transfer.
type segment struct {
	index uint8
	off   int
	b     []byte
}

// segments cuts every transfer into segments of size bytes; seg[i][j] is
// segment j of share i+1.
func (tm *testMsg) segments(size int) [][]segment {
	return tm.segmentsBy(func(int) int { return size })
}

// segmentsBy cuts the transfer of share i+1 into segments of size(i)
// bytes, so that segment boundaries differ between shares.
func (tm *testMsg) segmentsBy(size func(i int) int) [][]segment {
	out := make([][]segment, tm.n)
	for i, env := range tm.envs {
		for off := 0; off < len(env); off += size(i) {
			out[i] = append(out[i], segment{uint8(i + 1), off, env[off:min(off+size(i), len(env))]})
		}
	}
	return out
}

// all returns 0..n-1.
func all(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

func allTrue(b []bool) bool {
	for _, x := range b {
		if !x {
			return false
		}
	}
	return true
}

// pick returns the kept segments in a random order.
func pick(rng *rand.Rand, segs [][]segment, keep [][]bool) []segment {
	var out []segment
	for i := range segs {
		for j, s := range segs[i] {
			if keep[i][j] {
				out = append(out, s)
			}
		}
	}
	rng.Shuffle(len(out), func(a, b int) { out[a], out[b] = out[b], out[a] })
	return out
}

func add(t testing.TB, m *Message, s segment) Progress {
	t.Helper()
	p, err := m.Add(s.index, s.off, s.b)
	if err != nil {
		t.Fatalf("Add(%d, %d, %d bytes): %v", s.index, s.off, len(s.b), err)
	}
	return p
}
