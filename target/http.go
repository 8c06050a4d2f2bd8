package target

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/primeload/primeload/target/logistics"
)

// apiFunc answers one API request with a status and a JSON body, or an error
// that writeError turns into the right status.
// ctx carries the store deadline; it is passed rather than set on r, which
// would copy the request for every answer.
type apiFunc func(ctx context.Context, w http.ResponseWriter, r *http.Request) (int, []byte, error)

// apiError is a client's mistake: a status and a message naming the field.
type apiError struct {
	status int
	field  string
	msg    string
}

func (e *apiError) Error() string {
	if e.field == "" {
		return e.msg
	}
	return e.field + ": " + e.msg
}

// badField is a 400 naming the field and what would be valid.
func badField(field, format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, field: field, msg: fmt.Sprintf(format, args...)}
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	api := []struct {
		method, path string
		needAuth     bool
		fn           apiFunc
	}{
		{"POST", "/api/auth/login/", false, s.login},
		{"GET", "/api/goods-received/", true, s.listGoods},
		{"POST", "/api/goods-received/", true, s.createGoods},
		{"GET", "/api/goods-received/{id}/", true, s.getGoods},
		{"PATCH", "/api/goods-received/{id}/", true, s.patchGoods},
		{"DELETE", "/api/goods-received/{id}/", true, s.deleteGoods},
		{"POST", "/api/tracking-updates/", true, s.addTracking},
		{"GET", "/api/dashboard/stats/", true, s.stats},
		{"GET", "/api/dashboard/charts/", true, s.charts},
	}
	allowed := map[string][]string{}
	for _, r := range api {
		pattern := r.method + " " + r.path + "{$}"
		mux.Handle(pattern, s.api(r.needAuth, r.fn))
		s.metrics.route(pattern)
		allowed[r.path] = append(allowed[r.path], r.method)
	}
	// A known path with another method: 405 naming the methods it takes.
	for path, methods := range allowed {
		allow := strings.Join(methods, ", ")
		mux.HandleFunc(path+"{$}", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			writeError(w, &apiError{status: http.StatusMethodNotAllowed, msg: r.Method + " not allowed; use " + allow})
		})
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, []byte(`{"status":"ok"}`))
	})
	mux.HandleFunc("GET /readyz", s.ready)
	mux.Handle("GET /metrics", s.metrics.handler())
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, &apiError{status: http.StatusNotFound, msg: "no route " + r.Method + " " + r.URL.Path})
	})
	return s.metrics.instrument(mux)
}

// api wraps an API handler with the latency and error knobs, auth, the
// store deadline and error mapping.
func (s *Server) api(needAuth bool, fn apiFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.delay(r.Context()) {
			return // client gone
		}
		if s.cfg.ErrorRate > 0 && rand.Float64() < s.cfg.ErrorRate {
			writeError(w, &apiError{status: http.StatusServiceUnavailable, msg: "injected error (--error-rate)"})
			return
		}
		if needAuth {
			if err := s.auth.check(r.Header.Get("Authorization")); err != nil {
				w.Header().Set("WWW-Authenticate", `Bearer realm="primepre"`)
				writeError(w, &apiError{status: http.StatusUnauthorized, msg: err.Error()})
				return
			}
		}
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.StoreTimeout)
		defer cancel()
		status, body, err := fn(ctx, w, r)
		if err != nil {
			s.logServerError(r, err)
			writeError(w, err)
			return
		}
		writeBatched(r.Context(), w, status, body)
	})
}

// delay sleeps for the --latency knob; false when the client left meanwhile.
func (s *Server) delay(ctx context.Context) bool {
	d := addedLatency(s.cfg.Latency, s.cfg.LatencyJitter, rand.Float64())
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// addedLatency is base varied uniformly within ± jitter by u in [0, 1).
func addedLatency(base, jitter time.Duration, u float64) time.Duration {
	return base - jitter + time.Duration(u*float64(2*jitter))
}

func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.StoreTimeout)
	defer cancel()
	if err := s.cfg.Store.Ping(ctx); err != nil {
		s.cfg.Log.Warn("not ready", "err", err)
		writeError(w, &apiError{status: http.StatusServiceUnavailable, msg: "store unreachable"})
		return
	}
	writeJSON(w, http.StatusOK, []byte(`{"status":"ready"}`))
}

// logServerError logs failures that are not the client's, at most one a
// second: during a database outage under load every request fails, and the
// metrics count them all already.
func (s *Server) logServerError(r *http.Request, err error) {
	var ae *apiError
	if errors.As(err, &ae) || errors.Is(err, logistics.ErrNotFound) {
		return
	}
	now := s.cfg.Now().UnixNano()
	last := s.lastErrorLog.Load()
	if now-last < int64(time.Second) || !s.lastErrorLog.CompareAndSwap(last, now) {
		return
	}
	s.cfg.Log.Warn("request failed (logged at most once a second)", "method", r.Method, "path", r.URL.Path, "err", err)
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	// Both values share one allocation; Header.Set would make one each.
	vals := []string{"application/json", strconv.Itoa(len(body))}
	h["Content-Type"] = vals[0:1:1]
	h["Content-Length"] = vals[1:2:2]
	w.WriteHeader(status)
	if status != http.StatusNoContent {
		w.Write(body)
	}
}

// writeError maps err to a status: client mistakes to 4xx, an unreachable or
// slow store to a fast 503 the client may retry, anything else to 500.
func writeError(w http.ResponseWriter, err error) {
	var ae *apiError
	switch {
	case errors.As(err, &ae):
	case errors.Is(err, logistics.ErrNotFound):
		ae = &apiError{status: http.StatusNotFound, msg: "not found"}
	case errors.Is(err, errInvalidationDown):
		w.Header().Set("Retry-After", "1")
		ae = &apiError{status: http.StatusServiceUnavailable, msg: errInvalidationDown.Error() + "; nothing was written, retry later"}
	case errors.Is(err, logistics.ErrUnavailable), errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		w.Header().Set("Retry-After", "1")
		ae = &apiError{status: http.StatusServiceUnavailable, msg: "store unavailable, retry later"}
	default:
		ae = &apiError{status: http.StatusInternalServerError, msg: "internal error"}
	}
	body, _ := json.Marshal(struct {
		Error string `json:"error"`
		Field string `json:"field,omitempty"`
	}{ae.Error(), ae.field})
	writeJSON(w, ae.status, body)
}

// decodeBody reads a JSON object of at most MaxBodyBytes into dst, answering
// 413 for larger bodies and 400, naming the field, for anything malformed.
func decodeBody(w http.ResponseWriter, r *http.Request, dst any) error {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return &apiError{status: http.StatusRequestEntityTooLarge, field: "body", msg: fmt.Sprintf("larger than %d bytes", MaxBodyBytes)}
	}
	if err != nil {
		return badField("body", "could not be read")
	}
	// encoding/json would quietly turn invalid UTF-8 into U+FFFD.
	if !utf8.Valid(data) {
		return badField("body", "not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return badField("body", "want one JSON object, found more after it")
	}
	return nil
}

func jsonError(err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te) && te.Field != "":
		return badField(te.Field, "want %s, got JSON %s", kindName(te.Type), te.Value)
	case errors.As(err, &te):
		return badField("body", "want a JSON object, got JSON %s", te.Value)
	case errors.As(err, &se):
		return badField("body", "invalid JSON at byte %d: %v", se.Offset, err)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return badField("body", "want a JSON object, got an empty or cut-off body")
	default:
		return badField("body", "invalid JSON: %v", err)
	}
}

func kindName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "an integer"
	case reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	default:
		return "a JSON object"
	}
}

func marshal(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode response: %w", err)
	}
	return b, nil
}
