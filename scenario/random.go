package scenario

import "math/rand/v2"

// The random builtins draw from the virtual user's own source when it has
// one (seedable, no lock), else from the process-wide one.

func randIntN(c *Context, n int) int {
	if c.Rand != nil {
		return c.Rand.IntN(n)
	}
	return rand.IntN(n)
}

// randomNumber is inclusive of both ends, as Artillery's $randomNumber.
func randomNumber(c *Context, lo, hi int) int {
	span := int64(hi) - int64(lo) + 1
	var r int64
	if c.Rand != nil {
		r = c.Rand.Int64N(span)
	} else {
		r = rand.Int64N(span)
	}
	return int(int64(lo) + r)
}

// appendRandomString writes n random letters and digits.
func appendRandomString(dst []byte, c *Context, n int) []byte {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	for range n {
		dst = append(dst, alphabet[randIntN(c, len(alphabet))])
	}
	return dst
}
