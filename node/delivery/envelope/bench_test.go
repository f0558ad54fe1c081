package envelope

import (
	"testing"

	"github.com/vmdt/vmdt/protocol"
	"github.com/vmdt/vmdt/ssms"
)

// BenchmarkSeal measures sealing the six shares of a 1 KiB message, k = 3:
// one X25519 key pair and exchange, six key-share seals, one signature.
func BenchmarkSeal(b *testing.B) {
	s, r := newParty(b, 1), newParty(b, 2)
	shares, err := ssms.Split(testMessage(1024), 6, 3)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Seal(s.id, r.seal.PublicKey(), r.addr, protocol.MessageID{1}, shares, &Options{Created: testCreated}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReceivePrefixes measures what a receiver spends on the six
// prefixes of one message: parse all, verify the first in full and the
// others against it, and open the key shares with one KeyOpener.
func BenchmarkReceivePrefixes(b *testing.B) {
	s, r := newParty(b, 1), newParty(b, 2)
	_, envs := sealed(b, s, r, protocol.MessageID{1}, testMessage(1024), 6, 3)
	for b.Loop() {
		var ref *Prefix
		var o *KeyOpener
		for _, env := range envs {
			p, err := ParsePrefix(env)
			if err != nil {
				b.Fatal(err)
			}
			if ref == nil {
				if err := p.Verify(s.addr, r.addr); err != nil {
					b.Fatal(err)
				}
				ref = p
				if o, err = p.KeyOpener(r.seal); err != nil {
					b.Fatal(err)
				}
			} else if err := p.VerifyAgainst(ref); err != nil {
				b.Fatal(err)
			}
			if _, err := o.Open(p); err != nil {
				b.Fatal(err)
			}
		}
		o.Close()
	}
}
