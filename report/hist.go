package report

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram geometry: values are microseconds from 1 µs to 1 min at 3
// significant digits. Every histogram in a report has this geometry, which
// is what makes merging lossless.
const (
	lowestMicros  = 1
	highestMicros = 60_000_000
	sigDigits     = 3
)

// newHist is a dense histogram: constant-time recording into 139 KB of
// counts. The run-wide latency and lag histograms, recorded on every
// response, are dense.
func newHist() *hdrhistogram.Histogram {
	return hdrhistogram.New(lowestMicros, highestMicros, sigDigits)
}

// newPacked is a sparse histogram of the same geometry, so it merges and
// encodes losslessly with the dense ones: it keeps only the buckets that
// hold values (a few hundred for a typical endpoint, a few KB), at the cost
// of a binary search per record. Per-endpoint histograms are packed, since
// a run holds one per endpoint in every shard.
func newPacked() *hdrhistogram.PackedHistogram {
	return hdrhistogram.NewPacked(lowestMicros, highestMicros, sigDigits)
}

// hist is what a report reads from a histogram, dense or packed.
type hist interface {
	TotalCount() int64
	Min() int64
	Max() int64
	Mean() float64
	ValueAtPercentilesSlice(percentiles []float64) []int64
}

// micros converts d to whole microseconds inside the histogram range,
// reporting whether it had to be clamped to a bound.
func micros(d time.Duration) (int64, bool) {
	us := d.Microseconds()
	switch {
	case us < 0:
		return 0, true
	case us > highestMicros:
		return highestMicros, true
	}
	return us, false
}

// msOf turns a microsecond value into milliseconds; dividing an integer by
// 1000 keeps exactly the microsecond precision.
func msOf(us int64) float64 { return float64(us) / 1000 }

// summarize derives a Summary from a histogram of microseconds.
func summarize(h hist) Summary {
	if h.TotalCount() == 0 {
		return Summary{}
	}
	q := h.ValueAtPercentilesSlice([]float64{50, 75, 90, 95, 99, 99.9})
	return Summary{
		Min:    msOf(h.Min()),
		Max:    msOf(h.Max()),
		Count:  h.TotalCount(),
		Mean:   math.Round(h.Mean()) / 1000,
		P50:    msOf(q[0]),
		Median: msOf(q[0]),
		P75:    msOf(q[1]),
		P90:    msOf(q[2]),
		P95:    msOf(q[3]),
		P99:    msOf(q[4]),
		P999:   msOf(q[5]),
	}
}

func encodeHist(h hist) (string, error) {
	var b []byte
	var err error
	switch h := h.(type) {
	case *hdrhistogram.Histogram:
		b, err = h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	case *hdrhistogram.PackedHistogram:
		b, err = h.Encode() // byte for byte what the dense encoder writes
	default:
		err = fmt.Errorf("%T is not a histogram", h)
	}
	if err != nil {
		return "", fmt.Errorf("encode histogram: %w", err)
	}
	return string(b), nil
}

// errGeometry reports a histogram not recorded with primeload's geometry.
var errGeometry = errors.New("histogram geometry is not primeload's (1 µs to 60 s, 3 digits)")

// decodeHist decodes one histogram in the standard compressed base64 form.
// The header is checked before hdrhistogram.Decode sees it: a hostile header
// can describe a huge geometry whose counts array would exhaust memory.
func decodeHist(s string) (*hdrhistogram.Histogram, error) {
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("histogram is not base64: %w", err)
	}
	if len(raw) < 8 {
		return nil, fmt.Errorf("histogram too short: %d bytes", len(raw))
	}
	z, err := zlib.NewReader(bytes.NewReader(raw[8:]))
	if err != nil {
		return nil, fmt.Errorf("histogram payload: %w", err)
	}
	var hdr struct {
		Cookie, PayloadLen, Offset, Digits int32
		Lowest, Highest                    int64
	}
	err = binary.Read(z, binary.BigEndian, &hdr)
	z.Close()
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, errors.New("histogram header truncated")
		}
		return nil, fmt.Errorf("histogram header: %w", err)
	}
	if hdr.Lowest != lowestMicros || hdr.Highest != highestMicros || hdr.Digits != sigDigits {
		return nil, fmt.Errorf("%w: got %d to %d, %d digits", errGeometry, hdr.Lowest, hdr.Highest, hdr.Digits)
	}
	h, err := hdrhistogram.Decode([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("decode histogram: %w", err)
	}
	return h, nil
}
