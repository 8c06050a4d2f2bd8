package scenario

import (
	"math"
	"math/rand/v2"
)

// The random builtins draw from the virtual user's own source when it has
// one (seedable, no lock), else from the process-wide one.

func randIntN(c *Context, n int) int {
	if c.Rand != nil {
		return c.Rand.IntN(n)
	}
	return rand.IntN(n)
}

// randomNumber is inclusive of both ends, as Artillery's $randomNumber.
// Compile keeps the ends within ±MaxTemplateInteger; the arithmetic is
// unsigned so any ends (even the whole int64 range, or swapped) give a
// number between them instead of a panic mid-run.
func randomNumber(c *Context, lo, hi int) int {
	if lo > hi {
		lo, hi = hi, lo
	}
	span := uint64(hi) - uint64(lo) // hi-lo, exact in two's complement
	var r uint64
	switch {
	case span == math.MaxUint64:
		r = randUint64(c)
	case c.Rand != nil:
		r = c.Rand.Uint64N(span + 1)
	default:
		r = rand.Uint64N(span + 1)
	}
	return int(uint64(lo) + r)
}

func randUint64(c *Context) uint64 {
	if c.Rand != nil {
		return c.Rand.Uint64()
	}
	return rand.Uint64()
}

// appendRandomString writes n random letters and digits.
func appendRandomString(dst []byte, c *Context, n int) []byte {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	for range n {
		dst = append(dst, alphabet[randIntN(c, len(alphabet))])
	}
	return dst
}
