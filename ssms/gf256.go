package ssms

// Arithmetic in GF(2^8) with the AES reduction polynomial
// x^8 + x^4 + x^3 + x + 1, the field hashicorp/vault/shamir uses for its key
// shares. Multiplication and inversion take the same time for every input,
// so interpolating secret key-share bytes leaks nothing through timing.

// gfMul returns a·b: shift-and-add, unrolled, with masks instead of
// branches.
func gfMul(a, b byte) byte {
	x, y := uint32(a), uint32(b)
	r := x & -(y & 1)
	x = x<<1 ^ (-(x >> 7) & 0x11b)
	r ^= x & -(y >> 1 & 1)
	x = x<<1 ^ (-(x >> 7) & 0x11b)
	r ^= x & -(y >> 2 & 1)
	x = x<<1 ^ (-(x >> 7) & 0x11b)
	r ^= x & -(y >> 3 & 1)
	x = x<<1 ^ (-(x >> 7) & 0x11b)
	r ^= x & -(y >> 4 & 1)
	x = x<<1 ^ (-(x >> 7) & 0x11b)
	r ^= x & -(y >> 5 & 1)
	x = x<<1 ^ (-(x >> 7) & 0x11b)
	r ^= x & -(y >> 6 & 1)
	x = x<<1 ^ (-(x >> 7) & 0x11b)
	r ^= x & -(y >> 7 & 1)
	return byte(r)
}

// gfInv returns the multiplicative inverse of a (a^254), and 0 for 0.
func gfInv(a byte) byte {
	b := gfMul(a, a)   // a^2
	c := gfMul(a, b)   // a^3
	b = gfMul(c, c)    // a^6
	b = gfMul(b, b)    // a^12
	c = gfMul(b, c)    // a^15
	b = gfMul(b, b)    // a^24
	b = gfMul(b, b)    // a^48
	b = gfMul(b, c)    // a^63
	b = gfMul(b, b)    // a^126
	b = gfMul(a, b)    // a^127
	return gfMul(b, b) // a^254
}

// lagrangeAt0 returns the Lagrange basis values L_i(0) for the distinct,
// non-zero x-coordinates xs: the secret is Σ L_i(0)·y_i.
func lagrangeAt0(xs []byte) []byte {
	c := make([]byte, len(xs))
	for i, xi := range xs {
		num, den := byte(1), byte(1)
		for j, xj := range xs {
			if i == j {
				continue
			}
			num = gfMul(num, xj)
			den = gfMul(den, xi^xj)
		}
		c[i] = gfMul(num, gfInv(den))
	}
	return c
}

// interpolateSecret writes into secret the value at x = 0 of the
// polynomials through the key shares (y bytes then x, vault layout). The
// x-coordinates must be distinct and non-zero.
func interpolateSecret(secret []byte, keyShares [][]byte) {
	xs := make([]byte, len(keyShares))
	for i, ks := range keyShares {
		xs[i] = ks[len(secret)]
	}
	c := lagrangeAt0(xs)
	clear(secret)
	for i, ks := range keyShares {
		for b := range secret {
			secret[b] ^= gfMul(c[i], ks[b])
		}
	}
}
