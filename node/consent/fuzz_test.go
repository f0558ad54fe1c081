package consent

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/vmdt/vmdt/node/friends"
)

// FuzzFriendStream writes arbitrary bytes into a live friend stream of a
// real node. The node must answer with a well-formed ack or reset the
// stream, never panic, and keep serving: after every input a second
// exchange must get its (malformed) answer.
func FuzzFriendStream(f *testing.F) {
	names := newFakeNames()
	cfg := fastConfig()
	cfg.PeerBurst, cfg.PeerRate = 1<<20, 1e9 // fuzzing is one very busy peer
	bob := newTestPeer(f, names, "bob", cfg)
	mallory := newTestPeer(f, names, "mallory", fastConfig())
	link(mallory, bob)

	frame := func(msg []byte) []byte {
		b, err := AppendFrame(nil, msg)
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	req, err := friends.NewFriendRequest(mallory.priv, "mallory", "bob", bob.ddt(), time.Now(), nil)
	if err != nil {
		f.Fatal(err)
	}
	reqMsg, _ := req.Marshal()
	tok, err := friends.IssueToken(mallory.priv, bob.ddt(), time.Now(), time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	tokMsg, _ := tok.Marshal()
	resp, err := friends.NewFriendResponse(mallory.priv, bob.ddt(), friends.Nonce{1}, &tok, time.Now())
	if err != nil {
		f.Fatal(err)
	}
	respMsg, _ := resp.Marshal()
	f.Add(frame(reqMsg))
	f.Add(frame(respMsg))
	f.Add(frame(tokMsg))
	f.Add(append(frame(reqMsg), 0, 1, 2))
	f.Add([]byte{})
	f.Add([]byte{0, 0})
	f.Add([]byte{0xff, 0xff, 1, 2, 3})
	f.Add([]byte{0, 3, 1, 1, 0})
	f.Add([]byte{0, 2, 1, 7})

	f.Fuzz(func(t *testing.T, data []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		st, err := mallory.h.NewStream(ctx, bob.h.ID(), ProtocolID)
		if err != nil {
			t.Fatalf("open stream: %v", err)
		}
		st.SetDeadline(time.Now().Add(15 * time.Second))
		st.Write(data)
		st.CloseWrite()
		answer, _ := io.ReadAll(io.LimitReader(st, MaxAckLen+1))
		st.Close()
		if len(answer) > MaxAckLen {
			t.Fatalf("answer of %d bytes", len(answer))
		}
		if len(answer) > 0 {
			if _, err := ReadAck(bytes.NewReader(answer)); err != nil {
				t.Fatalf("answer %x is not an ack: %v", answer, err)
			}
		}
		if _, err := Exchange(ctx, mallory.h, bob.h.ID(), []byte{1, 0xff}, 10*time.Second); !errors.Is(err, friends.ErrMalformed) {
			t.Fatalf("after input %x the node answers %v, want a malformed refusal", data, err)
		}
	})
}

// FuzzReadAck: any bytes either fail to parse or give an ack that
// re-encodes and parses to itself.
func FuzzReadAck(f *testing.F) {
	f.Add([]byte{1, 0, 0, 0})
	f.Add([]byte{1, 4, 5, 'a', 'g', 'a', 'i', 'n', 0})
	f.Add([]byte{1, 0, 0, 140})
	f.Add([]byte{2, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := ReadAck(bytes.NewReader(data))
		if err != nil {
			return
		}
		b, err := a.Append(nil)
		if err != nil {
			t.Fatalf("parsed ack %+v does not encode: %v", a, err)
		}
		back, err := ReadAck(bytes.NewReader(b))
		if err != nil || back.Code != a.Code || back.Reason != a.Reason || !bytes.Equal(back.Token, a.Token) {
			t.Fatalf("ack %+v re-reads as %+v, %v", a, back, err)
		}
	})
}
