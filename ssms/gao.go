package ssms

// Error-correcting decoding of key shares. Byte b of the key shares holds
// the points (x, p_b(x)) of a polynomial p_b of degree < k: a Reed-Solomon
// codeword evaluated at the shares' x-coordinates. Gao's decoder ("A New
// Algorithm for Decoding Reed-Solomon Codes", 2002) finds such a polynomial
// from m points when at most ⌊(m−k)/2⌋ of them are wrong, in O(m²) field
// operations. recoverKey uses it to locate altered key shares.

// poly is a polynomial over GF(2^8); poly[i] is the coefficient of X^i. It is
// kept trimmed: the last coefficient is non-zero, and the zero polynomial is
// empty.
type poly []byte

func (p poly) trim() poly {
	for len(p) > 0 && p[len(p)-1] == 0 {
		p = p[:len(p)-1]
	}
	return p
}

// deg returns the degree of p, and -1 for the zero polynomial.
func (p poly) deg() int { return len(p) - 1 }

// polyAdd returns a + b (which is also a − b in characteristic 2).
func polyAdd(a, b poly) poly {
	if len(a) < len(b) {
		a, b = b, a
	}
	out := make(poly, len(a))
	copy(out, a)
	for i, c := range b {
		out[i] ^= c
	}
	return out.trim()
}

// polyMul returns a·b.
func polyMul(a, b poly) poly {
	if len(a) == 0 || len(b) == 0 {
		return nil
	}
	out := make(poly, len(a)+len(b)-1)
	for i, ca := range a {
		for j, cb := range b {
			out[i+j] ^= gfMul(ca, cb)
		}
	}
	return out.trim()
}

// polyDivMod returns q and r with a = q·b + r and deg r < deg b. b must not
// be zero.
func polyDivMod(a, b poly) (q, r poly) {
	r = append(poly(nil), a...)
	if len(r) < len(b) {
		return nil, r.trim()
	}
	q = make(poly, len(r)-len(b)+1)
	inv := gfInv(b[len(b)-1])
	for i := len(r) - len(b); i >= 0; i-- {
		c := gfMul(r[i+len(b)-1], inv)
		q[i] = c
		for j, cb := range b {
			r[i+j] ^= gfMul(c, cb)
		}
	}
	return q.trim(), r.trim()
}

// gaoDecoder decodes many byte positions that share the same x-coordinates.
type gaoDecoder struct {
	k     int
	g0    poly   // Π (X − x_i)
	basis []poly // basis[i](x_j) = 1 if i == j else 0
}

// newGaoDecoder prepares decoding for the distinct, non-zero x-coordinates
// xs and polynomials of degree < k.
func newGaoDecoder(xs []byte, k int) *gaoDecoder {
	m := len(xs)
	g0 := poly{1}
	for _, x := range xs {
		g0 = polyMul(g0, poly{x, 1})
	}
	d := &gaoDecoder{k: k, g0: g0, basis: make([]poly, m)}
	for i, xi := range xs {
		// g0 / (X − xi) by synthetic division; the remainder is zero.
		quo := make(poly, m)
		var carry byte
		for j := m; j >= 1; j-- {
			carry = g0[j] ^ gfMul(carry, xi)
			quo[j-1] = carry
		}
		den := byte(1)
		for j, xj := range xs {
			if j != i {
				den = gfMul(den, xi^xj)
			}
		}
		inv := gfInv(den)
		for j := range quo {
			quo[j] = gfMul(quo[j], inv)
		}
		d.basis[i] = quo.trim()
	}
	return d
}

// decode returns the polynomial of degree < k that agrees with ys (ys[i]
// belongs to xs[i]) in all but at most ⌊(m−k)/2⌋ places, and false if there
// is none.
func (d *gaoDecoder) decode(ys []byte) (poly, bool) {
	m := len(d.basis)
	g1 := make(poly, m)
	for i, y := range ys {
		for j, c := range d.basis[i] {
			g1[j] ^= gfMul(y, c)
		}
	}
	g1 = g1.trim()
	// Partial extended Euclid on (g0, g1), tracking only the cofactor v of
	// g1, until the remainder has degree < (m+k)/2.
	r0, r1 := d.g0, g1
	var v0, v1 poly = nil, poly{1}
	for 2*r1.deg() >= m+d.k {
		q, rem := polyDivMod(r0, r1)
		r0, r1 = r1, rem
		v0, v1 = v1, polyAdd(v0, polyMul(q, v1))
	}
	f, rem := polyDivMod(r1, v1)
	if len(rem) != 0 || f.deg() >= d.k {
		return nil, false
	}
	return f, true
}

// eval returns p(x).
func (p poly) eval(x byte) byte {
	var y byte
	for i := len(p) - 1; i >= 0; i-- {
		y = gfMul(y, x) ^ p[i]
	}
	return y
}
