// Package envelope defines the bytes of one share transfer: what a sender
// puts in the transfer that carries share i of a message to relay i, and
// what the receiver gets from relay i, datagram by datagram.
//
// # How data flows
//
// The sender splits a message with package ssms into n shares, then
//
//	envs, _ := envelope.Seal(identityKey, receiverSealKey, dst, msgID, shares, nil)
//
// gives one envelope per share, envs[i] for shares[i]. Envelope i travels
// as one rdt transfer to relay i, which forwards it cut-through to the
// receiver. Relays see the envelope but can read nothing of the message:
// the fragment is ciphertext and the key share in it is sealed to the
// receiver's X25519 key, so even all n relays together learn only the
// message length.
//
// The receiver, as the first PrefixLen(n) bytes of a transfer come in,
//
//	p, _ := envelope.ParsePrefix(b)          // structure only
//	err := p.Verify(hdr.Src, ourAddr)          // sender key, destination, digest, signature
//	ks, _ := p.OpenKeyShare(ourSealKey)        // the 33-byte ssms key share
//	share := p.Share(ks, fragment)             // once the fragment is known
//
// and hands k or more such shares to ssms.CombineReport, which releases the
// message only if their tags authenticate. For the second and later shares
// of a message, VerifyAgainst (the same manifest as a verified prefix)
// saves the signature check and a KeyOpener the X25519 computation. Open
// does all of it for a complete envelope. Package assemble does it range
// by range while datagrams arrive.
//
// # Layout, version 1
//
// An envelope is prefix || fragment. The prefix has the same length,
// PrefixLen(n) = 294 + 32n bytes, in every share of a message, so byte p of
// the fragment sits at transfer offset PrefixLen(n)+p in every share, and
// datagram boundaries line up across shares. The prefix is a manifest,
// byte for byte the same in all n shares and signed by the sender, then
// the part that differs per share. All integers are big-endian.
//
//	offset   size field
//	manifest (M = 164 + 32n bytes), the same in every share:
//	0        1    version, 1; other values are rejected
//	1        1    n, number of shares, 2..255
//	2        1    k, threshold, 2..n
//	3        1    reserved, 0
//	4        8    message id: the VMDT header's message id
//	12       20   destination DDT address
//	32       36   sender's public key, libp2p-marshaled Ed25519
//	              (08 01 12 20 followed by the 32-byte key); its DDT address
//	              (protocol.DDTAddrFromPublicKey) is the VMDT source address
//	68       32   ephemeral X25519 public key that sealed the key shares
//	100      8    created: Unix time in nanoseconds, signed
//	108      8    message length |m| in bytes
//	116      8    fragment length F = ⌈|m|/k⌉ (ssms.FragmentSize);
//	              PrefixLen(n)+F must fit the VMDT share length (32 bits)
//	124      16   ssms message id (key check value, ssms.Share.MsgID)
//	140      16   file id; all zero unless the message is a file chunk
//	156      4    chunk index, below the chunk count; 0 unless a file chunk
//	160      4    chunk count; 0: not a file chunk
//	164      32n  share digests D_1..D_n, in index order:
//	              D_i = SHA-256("vmdt/envelope v1 share\x00" || i || tag_i || sealed_i)
//	M        64   Ed25519 signature by the sender's key over
//	              "vmdt/envelope v1 manifest\x00" || bytes [0, M)
//	per share (66 bytes):
//	M+64     1    share index i, 1..n
//	M+65     16   ssms share tag of share i
//	M+81     49   key share i sealed to the receiver: AES-256-GCM
//	              ciphertext of the 33-byte ssms key share, then the tag
//	M+130    F    fragment i (ssms.Share.Fragment), erasure-coded ciphertext
//
// For n = 6 the prefix is 486 bytes, against 77 for a bare ssms share.
//
// # Sealing the key shares
//
// The sender draws one ephemeral X25519 key pair per message, computes the
// shared secret Z = X25519(ephemeral private, receiver public), and for
// share i derives
//
//	key_i = HKDF-SHA-256(secret Z, no salt,
//	        info "vmdt/envelope v1 key share\x00" || message id (8) || i (1) ||
//	        source DDT address (20) || destination DDT address (20) ||
//	        ephemeral public (32) || receiver public (32), 32 bytes)
//	sealed_i = AES-256-GCM(key_i).Seal(nonce 12 zero bytes, key share i, no additional data)
//
// Every key_i is used for one encryption only, so a fixed nonce is safe.
// One ephemeral key per message rather than per share saves 32(n−1) bytes
// and n−1 scalar multiplications and loses nothing: the ephemeral public
// key is in the signed manifest, and the info string gives every share its
// own key. Binding the share index means a key share moved to another
// index does not open; binding the source address means nobody can take a
// sender's sealed key shares and fragments, sign a manifest of their own
// around them, and have the receiver attribute the message to them.
//
// # Security
//
// Verify accepts a prefix only if the sender key hashes to the expected
// source address, the destination is ours, the share's index, tag and
// sealed key share hash to D_i of the manifest, and the signature verifies.
// So a relay can neither forge a manifest nor swap in another share's or
// another message's key share or tag. The fragment itself is not signed:
// the ssms tag, which the digest binds and which is keyed from the message
// key that only the receiver can rebuild, authenticates it after decoding.
// A relay that alters fragment bytes is found by ssms.CombineReport.
//
// What the relays see: the manifest (sender, receiver, sizes, time,
// chunk numbers), the ssms tags and message id (outputs of keyed functions
// of the message key), ciphertext fragments and sealed key shares. Without
// the receiver's X25519 private key the key shares stay sealed, so the
// message key, and with it the message, stays hidden even if all n relays
// pool what they hold.
//
// Not handled here: replay of a whole message (the receiver remembers
// message ids per sender and may use Created), and sender equivocation
// (a sender can sign different manifests for one message id; a receiver
// keeps the first it verifies).
package envelope
