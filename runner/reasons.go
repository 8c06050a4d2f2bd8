package runner

import (
	"crypto/tls"
	"errors"
	"fmt"
	"strings"

	"github.com/primeload/primeload/report/metric"
	"github.com/primeload/primeload/scenario"
)

// ErrorReason says in a sentence what a failure counter means for a
// request to host (host[:port]), for people reading a trace or a report:
// ErrorReason("errors.ECONNREFUSED", "127.0.0.1:8080") is "nothing listening
// on 127.0.0.1:8080". The "errors." prefix is optional; a counter it does
// not know gives "".
func ErrorReason(code, host string) string {
	switch metric.ErrorPrefix + strings.TrimPrefix(code, metric.ErrorPrefix) {
	case metric.ErrConnRefused:
		return "nothing listening on " + host
	case metric.ErrConnReset:
		return host + " closed or reset the connection before its answer was complete"
	case metric.ErrPipe:
		return host + " closed the connection while the request was being sent"
	case metric.ErrTimedOut:
		return "no complete answer from " + host + " within the request timeout (config.http.timeout)"
	case metric.ErrNotFound:
		return "the host name in " + host + " does not resolve"
	case metric.ErrHostUnreach:
		return "no route to " + host
	case metric.ErrNetUnreach:
		return "the network of " + host + " is unreachable"
	case metric.ErrProto:
		return host + " answered with something that is not valid HTTP or TLS (an https:// URL to a plain-HTTP port does this)"
	case metric.ErrCert:
		return host + "'s TLS certificate is not trusted (self-signed, another name or expired); --insecure skips the check"
	case metric.ErrRedirectLoop:
		return fmt.Sprintf("more redirects in a row than the step's maxRedirects (%d unless set): a redirect loop, or a limit below the chain's length", scenario.DefaultMaxRedirects)
	case metric.ErrBodyTooLarge:
		return "the response body of " + host + " is over the body size limit (Options.MaxBodyBytes)"
	case metric.ErrDecodedTooLarge:
		return "the gzip response body of " + host + " inflates past the decompressed size limit (Options.MaxDecodedBytes)"
	case metric.ErrInvalidURL:
		return "the URL rendered without an http:// or https:// host; nothing was sent"
	case metric.ErrUnknown:
		return "a failure primeload has no code for; the detail says what it was"
	case metric.ErrProxy:
		return "the proxy of HTTP_PROXY or HTTPS_PROXY refused the tunnel to " + host + " (NO_PROXY lists hosts to reach directly)"
	case metric.ErrNoEnt:
		return "a formData fromFile file did not open (not there, or outside the script's folder); nothing was sent"
	case metric.ErrCaptureMiss:
		return "a strict capture found nothing in the response"
	case metric.ErrInvalidThink:
		return "a templated think rendered to something that is not a duration"
	}
	if strings.HasPrefix(metric.ErrorPrefix+strings.TrimPrefix(code, metric.ErrorPrefix), metric.ErrExpectPrefix) {
		return "an expectation failed, and the expect plugin's reportFailuresAsErrors ended the user"
	}
	if code == metric.ExpectFailed {
		return "an expectation on the response failed"
	}
	return ""
}

// errorReason is ErrorReason told more by the error itself.
func errorReason(err error, code, host string) string {
	var recordErr tls.RecordHeaderError
	if code == metric.ErrProto && errors.As(err, &recordErr) {
		return "TLS handshake to a plain-HTTP port: " + host + " answered the TLS hello with something else; use http://"
	}
	return ErrorReason(code, host)
}
