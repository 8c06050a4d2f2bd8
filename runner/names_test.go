package runner

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"slices"
	"syscall"
	"testing"

	"github.com/primeload/primeload/report/metric"
	"github.com/valyala/fasthttp"
)

// TestErrorCounterCoversVocabulary ties the runner's error classifier to the
// vocabulary the SLO catalogue accepts: every cause it can name is a listed
// error, and every listed error has a cause that produces it, so neither
// side can gain a name the other lacks.
func TestErrorCounterCoversVocabulary(t *testing.T) {
	t.Parallel()
	causes := []error{
		syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.EPIPE, syscall.EHOSTUNREACH, syscall.ENETUNREACH,
		syscall.ETIMEDOUT, fmt.Errorf("dial: %w", syscall.ECONNREFUSED),
		tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"},
		x509.UnknownAuthorityError{}, errRedirectLoop, errInvalidURL, errPoolWait,
		&net.DNSError{Err: "no such host", Name: "x.invalid"}, fasthttp.ErrBodyTooLarge,
		&proxyError{proxy: "127.0.0.1:3128", status: 407}, &uploadError{err: os.ErrNotExist}, fmt.Errorf("weird"),
	}
	produced := map[string]bool{
		// Counted where they happen, not classified from a transport error:
		// a strict capture miss by the capture step, an oversized gzip body
		// where it is inflated.
		metric.ErrCaptureMiss:     true,
		metric.ErrDecodedTooLarge: true,
		// And a templated think that is no duration, by the think step.
		metric.ErrInvalidThink: true,
	}
	for _, err := range causes {
		name := errorCounter(err)
		if !slices.Contains(metric.Errors(), name) {
			t.Errorf("errorCounter(%v) = %q, which metric.Errors does not list", err, name)
		}
		produced[name] = true
	}
	for _, name := range metric.Errors() {
		if !produced[name] {
			t.Errorf("metric.Errors lists %q, but no cause here produces it", name)
		}
	}
}
