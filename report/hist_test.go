package report

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// inflate returns the uncompressed V2 form (40-byte header and payload) of
// an encoded histogram, whatever compression level wrote it.
func inflate(t *testing.T, enc string) []byte {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		t.Fatal(err)
	}
	z, err := zlib.NewReader(bytes.NewReader(raw[8:]))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(z)
	if err != nil {
		t.Fatal(err)
	}
	return append(raw[:8:8], b...)
}

// TestHistEncoderMatchesLibrary: our encoder writes, before compression,
// byte for byte what HdrHistogram's own encoder writes, for dense and packed
// histograms of every shape (empty, one value, both bounds, wide spreads,
// runs of zeros, huge counts), and what it writes decodes to an equal
// histogram. One encoder serves them all in turn, as a collector's does.
func TestHistEncoderMatchesLibrary(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	fills := map[string]func(record func(v, n int64)){
		"empty":     func(func(v, n int64)) {},
		"one value": func(rec func(v, n int64)) { rec(1234, 1) },
		"bounds":    func(rec func(v, n int64)) { rec(lowestMicros, 3); rec(highestMicros, 2) },
		"unit range": func(rec func(v, n int64)) {
			for v := int64(1); v < 3000; v++ {
				rec(v, v%3)
			}
		},
		"latencies": func(rec func(v, n int64)) {
			for range 20_000 {
				rec(int64(r.ExpFloat64()*20_000)+1, 1)
			}
		},
		"spread": func(rec func(v, n int64)) {
			for range 5_000 {
				rec(r.Int64N(highestMicros)+1, 1)
			}
		},
		"huge counts": func(rec func(v, n int64)) { rec(10, 1<<62); rec(5_000_000, 1<<40) },
	}
	var enc histEncoder
	for name, fill := range fills {
		dense, packed := newHist(), newPacked()
		fill(func(v, n int64) {
			if n > 0 {
				dense.RecordValues(v, n)
				packed.RecordValues(v, n)
			}
		})
		lib, err := dense.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
		if err != nil {
			t.Fatal(err)
		}
		want := inflate(t, string(lib))
		for kind, h := range map[string]hist{"dense": dense, "packed": packed} {
			got, err := encodeHist(&enc, h)
			if err != nil {
				t.Fatalf("%s %s: %v", name, kind, err)
			}
			if g := inflate(t, got); !bytes.Equal(g[8:], want[8:]) {
				t.Errorf("%s %s: uncompressed form differs from the library's\n got %x\nwant %x", name, kind, g[8:min(len(g), 80)], want[8:min(len(want), 80)])
			}
			back, err := decodeHist(got)
			if err != nil {
				t.Fatalf("%s %s: %v", name, kind, err)
			}
			if !back.Equals(dense) {
				t.Errorf("%s %s: decodes to a different histogram (%d values, want %d)", name, kind, back.TotalCount(), dense.TotalCount())
			}
		}
	}
}

// BenchmarkEncodeHist is one period's encoding of a typical endpoint's
// packed histogram and the run-wide dense one: ours, with its kept
// compressor, against the library's, which makes one per histogram.
func BenchmarkEncodeHist(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	dense, packed := newHist(), newPacked()
	for range 10_000 {
		v := int64(r.ExpFloat64()*20_000) + 1
		dense.RecordValue(v)
		packed.RecordValue(v)
	}
	b.Run("ours", func(b *testing.B) {
		var enc histEncoder
		b.ReportAllocs()
		for b.Loop() {
			if _, err := encodeHist(&enc, dense); err != nil {
				b.Fatal(err)
			}
			if _, err := encodeHist(&enc, packed); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("library", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := dense.Encode(hdrhistogram.V2CompressedEncodingCookieBase); err != nil {
				b.Fatal(err)
			}
			if _, err := packed.Encode(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
