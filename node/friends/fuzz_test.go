package friends

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// The fuzz targets check that the parsers never panic and that whatever
// they accept encodes back to the same bytes, and that verifying it does
// not panic either.

func FuzzParseFriendRequest(f *testing.F) {
	req, _, _, _ := goldenMessages(f)
	f.Add(mustMarshal(f, req))
	f.Add([]byte{Version, KindRequest})
	self := addrOf(f, key(f, 1))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseFriendRequest(b)
		if err != nil {
			return
		}
		if got := mustMarshal(t, r); !bytes.Equal(got, b) {
			t.Fatalf("re-encoding differs:\n got %x\nwant %x", got, b)
		}
		_ = r.Verify(self, t0)
		if _, err := r.PeerID(); err != nil {
			t.Fatalf("accepted key gives no peer ID: %v", err)
		}
	})
}

func FuzzParseFriendResponse(f *testing.F) {
	req, acc, deny, _ := goldenMessages(f)
	f.Add(mustMarshal(f, acc))
	f.Add(mustMarshal(f, deny))
	self, responder := addrOf(f, key(f, 2)), addrOf(f, key(f, 1))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseFriendResponse(b)
		if err != nil {
			return
		}
		if got := mustMarshal(t, r); !bytes.Equal(got, b) {
			t.Fatalf("re-encoding differs:\n got %x\nwant %x", got, b)
		}
		if r.Accepted != (r.Token != nil) {
			t.Fatal("decision and token disagree")
		}
		_ = r.Verify(self, responder, req.Nonce, t0.Add(time.Minute))
	})
}

func FuzzParseToken(f *testing.F) {
	_, _, _, tok := goldenMessages(f)
	f.Add(mustMarshal(f, tok))
	src, dst := addrOf(f, key(f, 2)), addrOf(f, key(f, 1))
	f.Fuzz(func(t *testing.T, b []byte) {
		tk, err := ParseToken(b)
		if err != nil {
			return
		}
		if got := mustMarshal(t, tk); !bytes.Equal(got, b) {
			t.Fatalf("re-encoding differs:\n got %x\nwant %x", got, b)
		}
		_ = tk.Verify(src, dst, t0)
	})
}

// FuzzDecodeState covers the loader of friends.json.
func FuzzDecodeState(f *testing.F) {
	_, _, _, tok := goldenMessages(f)
	r := key(f, 1)
	fr := &Friend{Username: "rita", PublicKey: pubBytes(f, r), DDT: addrOf(f, r), Incoming: InAccepted, Outgoing: OutAccepted, Token: &tok}
	id, _ := peerIDOf(r)
	fr.PeerID = id
	b, err := json.Marshal(stateFile{Version: fileVersion, Friends: []*Friend{fr}})
	if err != nil {
		f.Fatal(err)
	}
	if list, err := decodeState(b); err != nil || len(list) != 1 {
		f.Fatalf("seed does not load: %v", err)
	}
	f.Add(b)
	f.Add([]byte(`{"version":1,"friends":[]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		list, err := decodeState(b)
		if err != nil {
			return
		}
		for _, fr := range list {
			if err := fr.check(); err != nil {
				t.Fatalf("loaded an invalid record: %v", err)
			}
		}
	})
}
