// Package trace writes the exchanges a run traces (runner.Options.Trace)
// for people: as JSON Lines for tools, or as text for a terminal.
package trace

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/primeload/primeload/report/view"
	"github.com/primeload/primeload/runner"
)

// Compile-time checks that both writers are runner.Tracers.
var (
	_ runner.Tracer = (*JSONLines)(nil)
	_ runner.Tracer = (*Text)(nil)
)

// JSONLines writes each exchange as one JSON object on a line of its own.
type JSONLines struct {
	mu  sync.Mutex
	enc *json.Encoder
	err error
}

// NewJSONLines returns a tracer writing to w.
func NewJSONLines(w io.Writer) *JSONLines {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // bodies read as they came: <, > and & unescaped
	return &JSONLines{enc: enc}
}

// Trace writes ex; after a write error it writes nothing more (see Err).
func (j *JSONLines) Trace(ex *runner.Exchange) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.err == nil {
		if err := j.enc.Encode(ex); err != nil {
			j.err = fmt.Errorf("write trace: %w", err)
		}
	}
}

// Err is the first write error, nil when every exchange was written.
func (j *JSONLines) Err() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.err
}

// Text writes each exchange as a block of lines: the request under ">",
// the response under "<", then each capture and expectation and the
// failure with its reason.
type Text struct {
	mu  sync.Mutex
	w   io.Writer
	err error
}

// NewText returns a tracer writing to w (stderr, usually).
func NewText(w io.Writer) *Text { return &Text{w: w} }

// Trace writes ex; after a write error it writes nothing more (see Err).
func (t *Text) Trace(ex *runner.Exchange) {
	var b strings.Builder
	FormatText(&b, ex)
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.err == nil {
		if _, err := io.WriteString(t.w, b.String()); err != nil {
			t.err = fmt.Errorf("write trace: %w", err)
		}
	}
}

// Err is the first write error, nil when every exchange was written.
func (t *Text) Err() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.err
}

// FormatText writes ex as Text does.
func FormatText(b *strings.Builder, ex *runner.Exchange) {
	rq := &ex.Request
	// Artillery's endpoint names leave the method out; people need it.
	fmt.Fprintf(b, "--- trace %s %s (%s) at %s, %s\n", rq.Method, ex.Endpoint, ex.Sample, ex.Time.UTC().Format(time.RFC3339Nano), ms(ex.Latency))
	fmt.Fprintf(b, "> %s %s\n", rq.Method, rq.URL)
	for _, h := range rq.Headers {
		fmt.Fprintf(b, "> %s: %s\n", h.Name, h.Value)
	}
	writeBody(b, "> ", rq.BodySize, false, rq.Body)
	if rs := ex.Response; rs != nil {
		fmt.Fprintf(b, "< %s %d %s\n", rs.Proto, rs.Status, rs.Message)
		for _, h := range rs.Headers {
			fmt.Fprintf(b, "< %s: %s\n", h.Name, h.Value)
		}
		writeBody(b, "< ", rs.BodySize, rs.Decoded, rs.Body)
	} else {
		b.WriteString("< (no response)\n")
	}
	for _, c := range ex.Checks {
		outcome := "ok"
		if !c.OK {
			outcome = "FAILED"
			if c.Kind == "capture" {
				outcome = "MISSED"
			}
		}
		as := ""
		if c.As != "" {
			as = " as " + c.As
		}
		val := ""
		if c.Value != "" {
			val = " = " + c.Value
		}
		fmt.Fprintf(b, "  %s %s%s: %s%s\n", c.Kind, c.Expr, as, outcome, val)
	}
	if ex.Error != "" {
		fmt.Fprintf(b, "  %s: %s\n", ex.Error, ex.Reason)
	}
	if ex.Detail != "" {
		fmt.Fprintf(b, "  (%s)\n", ex.Detail)
	}
}

// writeBody writes a body's size and its first bytes, line by line, or
// quoted when it is not text.
func writeBody(b *strings.Builder, prefix string, size int, decoded bool, body string) {
	note := ""
	if decoded {
		note = ", gzip decoded"
	}
	if len(body) < size {
		note += fmt.Sprintf(", first %d shown", len(body))
	}
	fmt.Fprintf(b, "%sbody: %d bytes%s\n", prefix, size, note)
	if body == "" {
		return
	}
	if !isText(body) {
		fmt.Fprintf(b, "%s| %s\n", prefix, strconv.Quote(body))
		return
	}
	for line := range strings.Lines(body) {
		fmt.Fprintf(b, "%s| %s\n", prefix, strings.TrimRight(line, "\r\n"))
	}
}

// isText reports whether s prints as it is: valid UTF-8 without control
// characters but line ends and tabs.
func isText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' {
			return false
		}
	}
	return true
}

func ms(d time.Duration) string {
	return view.Ms(float64(d)/float64(time.Millisecond)) + " ms"
}
