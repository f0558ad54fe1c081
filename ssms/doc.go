// Package ssms splits a message into n shares, any k of which give it back,
// after Krawczyk's "Secret Sharing Made Short" (CRYPTO 1993): the message
// is encrypted under a fresh random key, the ciphertext is erasure-coded
// into n fragments of ⌈|m|/k⌉ bytes, and only the 32-byte key is shared
// with Shamir's scheme. Each share is about |m|/k bytes rather than |m|, and
// each carries a tag, so altered shares are found and skipped.
//
// # How data flows
//
// Split(msg, n, k):
//
//  1. draws a 32-byte message key K from crypto/rand, used for this one
//     message only;
//  2. derives with HKDF-SHA-256 (K as input key material, no salt) the
//     16-byte message id, info "vmdt/ssms v1 message id", and 96 bytes of
//     working keys, info "vmdt/ssms v1 keys": the encryption key, the
//     fragment-MAC key and the share-tag key, 32 bytes each in that order;
//  3. encrypts msg with AES-256-CTR under the encryption key, initial
//     counter block all zero, writing the ciphertext straight into the k
//     data fragments (fragment i holds ciphertext bytes [(i−1)F, iF), where
//     F = ⌈|m|/k⌉; the tail of the last ones is zero);
//  4. computes n−k parity fragments with github.com/klauspost/reedsolomon
//     (systematic code over GF(2^8), k data and n−k parity shards); there is
//     nothing to code for an empty message;
//  5. splits K with github.com/hashicorp/vault/shamir into n key shares of
//     33 bytes (32 y bytes, then the x-coordinate, 1..255, in random order);
//  6. authenticates each share i: the fragment MAC is the 16-byte tag of
//     AES-256-GCM under the fragment-MAC key with nonce 11 zero bytes || i,
//     empty plaintext and the fragment as additional data (GMAC); the share
//     tag is HMAC-SHA-256 under the share-tag key of header bytes 0..60
//     (everything before the tag, key share included) followed by the
//     fragment MAC, truncated to 16 bytes.
//
// Combine(shares) and CombineReport(shares):
//
//  1. check each share on its own (Share fields in range, lengths
//     consistent, x-coordinate not 0) and group the rest by (n, k, message
//     length, message id); the largest group is tried first;
//  2. rebuild K from the key shares of the group: the first k with distinct
//     x-coordinates in Index order, and if their key does not derive the
//     message id, error location with Gao's Reed-Solomon decoder, then a
//     bounded subset search (see below);
//  3. check share tags with the keys K derives, preferring Index 1..k, until
//     k shares verify (Combine) or all have been checked (CombineReport);
//  4. if the k verified shares are 1..k, decrypt their fragments directly;
//     otherwise rebuild the missing data fragments with Reed-Solomon first.
//
// A share whose tag verifies is exactly what Split made, so the message is
// decoded only from authentic fragments and is never other than the one
// split. There is no tag over the whole message: k authentic fragments
// determine the ciphertext, and the message id checks the key.
//
// # Share wire format, version 1
//
// All integers are big-endian. Every share of a message has the same
// length, HeaderSize + F bytes.
//
//	offset size field
//	0      1    version, 1; other values are rejected
//	1      1    n, number of shares, 2..255
//	2      1    k, threshold, 2..n
//	3      1    index of this share, 1..n; 1..k carry ciphertext, k+1..n parity
//	4      8    message length |m| in bytes
//	12     16   message id: HKDF of the message key; the same in every share
//	            of a message, a key check value for Combine
//	28     32   key share y bytes (vault/shamir share, secret-bearing)
//	60     1    key share x-coordinate, 1..255
//	61     16   share tag
//	77     F    fragment, F = ⌈|m|/k⌉ bytes
//
// Byte p of a fragment is at offset 77+p in every share of the message,
// and the erasure code works byte position by byte position: ciphertext
// byte (i−1)F+p depends only on byte p of the fragments. A receiver that
// holds bytes [a, b) of any k fragments can decode ciphertext bytes
// [(i−1)F+a, (i−1)F+b) for every i before the rest arrives; it must not
// release plaintext until the tags of those k shares have verified.
//
// # Security
//
// Fewer than k shares give fewer than k key shares, which say nothing about
// K (Shamir's scheme is perfectly hiding), so the fragments they carry are
// AES-256-CTR ciphertext under an unknown key, and the message id and tags
// are PRF outputs under keys derived from it: they reveal the message
// length and nothing else about the message, assuming AES and HMAC are
// secure. Message security is therefore computational, unlike the key's.
// A fixed counter block and fixed GMAC nonces are safe because every key is
// used for exactly one message.
//
// Integrity holds against anyone who does not know K, that is, anyone
// holding fewer than k shares of the message: altering any byte of a share
// makes its tag fail (or its key share fail the key check), except with
// probability about 2^-128. This is not authentication of the sender: whoever
// can split a message of their own can make shares that verify, and anyone
// holding k shares can read and re-split the message. The dealer is
// trusted: a malicious Split could make different k-subsets give different
// messages.
//
// # Limits
//
// 2 <= k <= n <= 255. The key search tries the first k shares, then corrects
// up to ⌊(m−k)/2⌋ altered key shares among m (failing with probability below
// m·2^-32), then tries k-subsets until a fixed work budget is spent; with
// n <= 7 that covers every subset. So with more altered key shares than
// that in a large set, Combine may fail although k good shares are there.
// Its worst case is tens of milliseconds of CPU per message group, and at
// most four groups are tried per call. Shares whose key share is intact but
// whose fragment or header is altered cost nothing extra to find.
//
// UnmarshalBinary copies: it makes one allocation of len(input)−44 bytes for
// the key share and fragment. Split's shares share one backing array for
// their fragments.
package ssms
