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
	"math/bits"
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

// histEncoder writes histograms in HdrHistogram's standard V2 compressed
// form (what hdrhistogram.Decode and every HdrHistogram tool read), the
// payload byte for byte the library's own. The library's encoders make a
// new zlib compressor at its best (slowest) level for every histogram,
// about 1 MB of state each time: with 100 ms periods and a dozen
// histograms that was a sixth of a run's CPU and most of its garbage. This
// one keeps its compressor, at the fastest level, and its buffers; it is
// used by one goroutine at a time.
type histEncoder struct {
	payload, inner, packed bytes.Buffer
	zw                     *zlib.Writer
	varint                 [9]byte
}

// The V2 format's constants (HdrHistogram's encoding spec).
const (
	v2Cookie           = 0x1c849303 | 0x10
	v2CompressedCookie = 0x1c849304 | 0x10
)

// subBucketHalfCount and subBucketMask complete the index geometry of
// subBucketHalfMagnitude (snapshot.go), as HdrHistogram computes it.
const (
	subBucketHalfCount = 1 << subBucketHalfMagnitude
	subBucketMask      = 1<<(subBucketHalfMagnitude+1) - 1
)

// countsIndex is the counts index a value falls in.
func countsIndex(v int64) int {
	bucket := 64 - bits.LeadingZeros64(uint64(v)|subBucketMask) - (subBucketHalfMagnitude + 1)
	sub := int(v >> bucket)
	return (bucket+1)<<subBucketHalfMagnitude + sub - subBucketHalfCount
}

func encodeHist(enc *histEncoder, h hist) (string, error) {
	if enc == nil {
		enc = &histEncoder{}
	}
	enc.payload.Reset()
	// Counts by index up to the last populated one: a run of zeros is
	// written as its negated length, a count as itself, both zigzag varints.
	next := 0
	put := func(idx int, count int64) {
		if gap := idx - next; gap == 1 {
			enc.putVarint(0)
		} else if gap > 1 {
			enc.putVarint(-int64(gap))
		}
		enc.putVarint(count)
		next = idx + 1
	}
	switch h := h.(type) {
	case *hdrhistogram.Histogram:
		counts := h.Export().Counts
		last := len(counts) - 1
		for last >= 0 && counts[last] == 0 {
			last--
		}
		for i := 0; i <= last; i++ {
			if counts[i] != 0 {
				put(i, counts[i])
			}
		}
	case *hdrhistogram.PackedHistogram:
		h.ForEachBucket(func(value, count int64) bool {
			if count != 0 {
				put(countsIndex(value), count)
			}
			return true
		})
	default:
		return "", fmt.Errorf("encode histogram: %T is not a histogram", h)
	}
	if next == 0 {
		enc.putVarint(0) // an empty histogram still has the count at index 0
	}
	var head [40]byte
	binary.BigEndian.PutUint32(head[0:], v2Cookie)
	binary.BigEndian.PutUint32(head[4:], uint32(enc.payload.Len()))
	binary.BigEndian.PutUint32(head[8:], 0) // normalizing index offset
	binary.BigEndian.PutUint32(head[12:], sigDigits)
	binary.BigEndian.PutUint64(head[16:], lowestMicros)
	binary.BigEndian.PutUint64(head[24:], highestMicros)
	binary.BigEndian.PutUint64(head[32:], math.Float64bits(1)) // integer to double conversion ratio
	enc.inner.Reset()
	if enc.zw == nil {
		enc.zw, _ = zlib.NewWriterLevel(&enc.inner, zlib.BestSpeed) // a valid level cannot fail
	} else {
		enc.zw.Reset(&enc.inner)
	}
	enc.zw.Write(head[:]) // writes to a bytes.Buffer do not fail
	enc.zw.Write(enc.payload.Bytes())
	if err := enc.zw.Close(); err != nil {
		return "", fmt.Errorf("encode histogram: %w", err)
	}
	enc.packed.Reset()
	var outer [8]byte
	binary.BigEndian.PutUint32(outer[0:], v2CompressedCookie)
	binary.BigEndian.PutUint32(outer[4:], uint32(enc.inner.Len()))
	enc.packed.Write(outer[:])
	enc.packed.Write(enc.inner.Bytes())
	return base64.StdEncoding.EncodeToString(enc.packed.Bytes()), nil
}

// putVarint appends v zigzag-encoded in HdrHistogram's LEB128: seven bits
// a byte for up to eight bytes, then a ninth holding the last eight bits.
func (enc *histEncoder) putVarint(v int64) {
	u := uint64(v<<1) ^ uint64(v>>63)
	b := enc.varint[:0]
	for i := 0; i < 8 && u >= 0x80; i++ {
		b = append(b, byte(u)|0x80)
		u >>= 7
	}
	b = append(b, byte(u))
	enc.payload.Write(b)
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
