package friends

import (
	"testing"
	"time"
)

func TestHandshakeAccept(t *testing.T) {
	c := &clock{t: t0}
	sam, rita := newUser(t, "sam", 2, c), newUser(t, "rita", 1, c)
	samAddr, ritaAddr := sam.store.Self(), rita.store.Self()

	req, err := sam.store.AddOutgoing("sam", "rita", rita.pub(t))
	if err != nil {
		t.Fatal(err)
	}
	c.Advance(time.Second)
	f, err := rita.store.AddIncoming(wireRequest(t, req))
	if err != nil {
		t.Fatal(err)
	}
	if f.Incoming != InPending || f.DDT != samAddr || !f.PeerID.MatchesPrivateKey(sam.priv) {
		t.Fatalf("rita's record %+v", f)
	}
	if rita.store.IsFriend(samAddr) || sam.store.IsFriend(ritaAddr) {
		t.Fatal("friends before acceptance")
	}

	resp, err := rita.store.Accept("sam")
	if err != nil {
		t.Fatal(err)
	}
	if !rita.store.IsFriend(samAddr) {
		t.Fatal("rita does not count sam as a friend after accepting")
	}
	c.Advance(time.Second)
	f, err = sam.store.ApplyResponse(wireResponse(t, resp))
	if err != nil {
		t.Fatal(err)
	}
	if f.Outgoing != OutAccepted || !sam.store.IsFriend(ritaAddr) {
		t.Fatalf("sam's record %+v", f)
	}
	// Sam holds rita's token: a relay lets sam deposit for rita.
	tok, ok := sam.store.TokenFor(ritaAddr)
	if !ok {
		t.Fatal("sam has no token for rita")
	}
	if err := tok.Verify(samAddr, ritaAddr, c.Now()); err != nil {
		t.Fatal(err)
	}
	// And sends rita his.
	samTok, err := sam.store.IssueToken("rita")
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseToken(mustMarshal(t, samTok))
	if err != nil {
		t.Fatal(err)
	}
	if err := rita.store.AddToken("sam", back); err != nil {
		t.Fatal(err)
	}
	if tok, ok := rita.store.TokenFor(samAddr); !ok || tok.Verify(ritaAddr, samAddr, c.Now()) != nil {
		t.Fatal("rita has no valid token for sam")
	}
	// Tokens run out after TokenTTL; TokenFor stops offering them.
	c.Advance(DefaultTokenTTL)
	if _, ok := sam.store.TokenFor(ritaAddr); ok {
		t.Fatal("expired token offered")
	}
	// Applying the same response again is refused: it is stale by now.
	_, err = sam.store.ApplyResponse(resp)
	wantErr(t, err, ErrStale)
}

func TestHandshakeDeny(t *testing.T) {
	c := &clock{t: t0}
	sam, rita := newUser(t, "sam", 2, c), newUser(t, "rita", 1, c)
	req, err := sam.store.AddOutgoing("sam", "rita", rita.pub(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rita.store.AddIncoming(wireRequest(t, req)); err != nil {
		t.Fatal(err)
	}
	if err := rita.store.Deny("sam"); err != nil {
		t.Fatal(err)
	}
	resp, err := rita.store.Response("sam")
	if err != nil {
		t.Fatal(err)
	}
	if resp.Accepted || resp.Token != nil {
		t.Fatal("denial carries acceptance")
	}
	f, err := sam.store.ApplyResponse(wireResponse(t, resp))
	if err != nil {
		t.Fatal(err)
	}
	if f.Outgoing != OutDenied || sam.store.IsFriend(rita.store.Self()) {
		t.Fatalf("sam's record %+v", f)
	}
	if _, ok := sam.store.TokenFor(rita.store.Self()); ok {
		t.Fatal("token after denial")
	}
	// Sam asks again; rita's store refuses without bothering her.
	req, err = sam.store.AddOutgoing("sam", "rita", rita.pub(t))
	if err != nil {
		t.Fatal(err)
	}
	_, err = rita.store.AddIncoming(wireRequest(t, req))
	wantErr(t, err, ErrDenied)
	if got, _ := rita.store.Get("sam"); got.Incoming != InDenied {
		t.Fatalf("state %v", got.Incoming)
	}
	// Rita reconsiders.
	if _, err := rita.store.Accept("sam"); err != nil {
		t.Fatal(err)
	}
	if !rita.store.IsFriend(sam.store.Self()) {
		t.Fatal("not a friend after reconsidering")
	}
}

func TestAddIncomingRejectsBadRequests(t *testing.T) {
	c := &clock{t: t0}
	rita := newUser(t, "rita", 1, c)
	sam := key(t, 2)
	ritaAddr := rita.store.Self()
	mk := func(nonce byte, at time.Time) *FriendRequest {
		r, err := NewFriendRequest(sam, "sam", "rita", ritaAddr, at, nonceReader(nonce))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	good := mk(1, t0)
	if _, err := rita.store.AddIncoming(good); err != nil {
		t.Fatal(err)
	}
	_, err := rita.store.AddIncoming(good)
	wantErr(t, err, ErrReplay)
	_, err = rita.store.AddIncoming(mk(2, t0.Add(-MaxRequestAge-time.Second)))
	wantErr(t, err, ErrStale)
	forged := mk(3, t0)
	forged.Sig[0] ^= 1
	_, err = rita.store.AddIncoming(forged)
	wantErr(t, err, ErrBadSignature)
	notForRita, err := NewFriendRequest(sam, "sam", "rita", addrOf(t, key(t, 9)), t0, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = rita.store.AddIncoming(notForRita)
	wantErr(t, err, ErrWrongDestination)
	// Another key claiming the name sam, and sam's key under another name.
	impostor, err := NewFriendRequest(key(t, 3), "sam", "rita", ritaAddr, t0, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = rita.store.AddIncoming(impostor)
	wantErr(t, err, ErrKeyMismatch)
	alias, err := NewFriendRequest(sam, "samuel", "rita", ritaAddr, t0, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = rita.store.AddIncoming(alias)
	wantErr(t, err, ErrKeyMismatch)
	// A fresh request from sam while pending just refreshes the nonce.
	again := mk(4, t0)
	f, err := rita.store.AddIncoming(again)
	if err != nil || f.Incoming != InPending || f.InNonce != again.Nonce {
		t.Fatalf("%+v, %v", f, err)
	}
	if got := rita.store.List(); len(got) != 1 {
		t.Fatalf("%d records", len(got))
	}
}

func TestMutualRequestsMakeFriends(t *testing.T) {
	c := &clock{t: t0}
	sam, rita := newUser(t, "sam", 2, c), newUser(t, "rita", 1, c)
	toRita, err := sam.store.AddOutgoing("sam", "rita", rita.pub(t))
	if err != nil {
		t.Fatal(err)
	}
	toSam, err := rita.store.AddOutgoing("rita", "sam", sam.pub(t))
	if err != nil {
		t.Fatal(err)
	}
	// Each has asked the other: receiving the other's request is consent
	// on both sides.
	f, err := rita.store.AddIncoming(wireRequest(t, toRita))
	if err != nil || f.Incoming != InAccepted || !rita.store.IsFriend(sam.store.Self()) {
		t.Fatalf("%+v, %v", f, err)
	}
	resp, err := rita.store.Response("sam")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sam.store.ApplyResponse(resp); err != nil {
		t.Fatal(err)
	}
	if !sam.store.IsFriend(rita.store.Self()) {
		t.Fatal("sam not friends")
	}
	// Sam then gets rita's crossing request: already friends, accepted.
	f, err = sam.store.AddIncoming(toSam)
	if err != nil || f.Incoming != InAccepted {
		t.Fatalf("%+v, %v", f, err)
	}
	_, err = sam.store.AddOutgoing("sam", "rita", rita.pub(t))
	wantErr(t, err, ErrState)
}

func TestOnlyLatestRequestIsAnswered(t *testing.T) {
	c := &clock{t: t0}
	sam, rita := newUser(t, "sam", 2, c), newUser(t, "rita", 1, c)
	first, err := sam.store.AddOutgoing("sam", "rita", rita.pub(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rita.store.AddIncoming(first); err != nil {
		t.Fatal(err)
	}
	resp, err := rita.store.Accept("sam")
	if err != nil {
		t.Fatal(err)
	}
	// Sam retried meanwhile; the answer to the first request no longer
	// applies.
	if _, err := sam.store.AddOutgoing("sam", "rita", rita.pub(t)); err != nil {
		t.Fatal(err)
	}
	_, err = sam.store.ApplyResponse(resp)
	wantErr(t, err, ErrWrongSource)
	// A response from someone never asked.
	stranger := newUser(t, "sy", 5, c)
	tok, _ := IssueToken(stranger.priv, sam.store.Self(), t0, time.Hour)
	r2, err := NewFriendResponse(stranger.priv, sam.store.Self(), first.Nonce, &tok, t0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = sam.store.ApplyResponse(r2)
	wantErr(t, err, ErrUnknown)
}

func TestMarkAcceptedAndDenied(t *testing.T) {
	c := &clock{t: t0}
	sam, rita := newUser(t, "sam", 2, c), newUser(t, "rita", 1, c)
	samAddr := sam.store.Self()
	wantErr(t, sam.store.MarkAccepted("rita", Token{}), ErrUnknown)
	if _, err := sam.store.AddOutgoing("sam", "rita", rita.pub(t)); err != nil {
		t.Fatal(err)
	}
	mallory := key(t, 3)
	bad, _ := IssueToken(mallory, samAddr, t0, time.Hour)
	wantErr(t, sam.store.MarkAccepted("rita", bad), ErrWrongDestination)
	notSams, _ := IssueToken(rita.priv, addrOf(t, mallory), t0, time.Hour)
	wantErr(t, sam.store.MarkAccepted("rita", notSams), ErrWrongSource)
	if sam.store.IsFriend(rita.store.Self()) {
		t.Fatal("friends after bad tokens")
	}
	good, _ := IssueToken(rita.priv, samAddr, t0, time.Hour)
	if err := sam.store.MarkAccepted("rita", good); err != nil {
		t.Fatal(err)
	}
	if !sam.store.IsFriend(rita.store.Self()) {
		t.Fatal("not friends")
	}
	if err := sam.store.MarkDenied("rita"); err != nil {
		t.Fatal(err)
	}
	if f, _ := sam.store.Get("rita"); f.Outgoing != OutDenied || f.Token != nil || sam.store.IsFriend(f.DDT) {
		t.Fatalf("%+v", f)
	}
	wantErr(t, sam.store.MarkDenied("nobody"), ErrUnknown)
}

func TestDenyUnfriends(t *testing.T) {
	c := &clock{t: t0}
	sam, rita := newUser(t, "sam", 2, c), newUser(t, "rita", 1, c)
	if _, err := sam.store.AddOutgoing("sam", "rita", rita.pub(t)); err != nil {
		t.Fatal(err)
	}
	tok, _ := IssueToken(rita.priv, sam.store.Self(), t0, time.Hour)
	if err := sam.store.MarkAccepted("rita", tok); err != nil {
		t.Fatal(err)
	}
	if err := sam.store.Deny("rita"); err != nil {
		t.Fatal(err)
	}
	f, _ := sam.store.Get("rita")
	if sam.store.IsFriend(f.DDT) || f.Token != nil || f.Outgoing != OutNone || f.Incoming != InDenied {
		t.Fatalf("after unfriending: %+v", f)
	}
	_, err := sam.store.IssueToken("rita")
	wantErr(t, err, ErrState)
	if err := sam.store.Remove("rita"); err != nil {
		t.Fatal(err)
	}
	if _, ok := sam.store.Get("rita"); ok {
		t.Fatal("record kept after Remove")
	}
	wantErr(t, sam.store.Remove("rita"), ErrUnknown)
}
