package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/primeload/primeload/report/metric"
)

// MaxReportBytes bounds what Decode reads: a week of 10 s periods with a
// dozen endpoints stays far below it, a hostile file does not get to fill memory.
const MaxReportBytes = 1 << 30

// Encode writes r as indented JSON. Spilled periods (Report.Spill) are
// read and written one at a time, in the very bytes the whole report
// encoded at once would have, so memory does not grow with the run.
func Encode(w io.Writer, r *Report) error {
	ns := r.MetricsNamespace
	if r.spilled == nil {
		if ns != "" {
			named := *r
			named.Aggregate = r.Aggregate.renamed(ns, metric.InNamespace)
			named.Intermediate = make([]*Metrics, len(r.Intermediate))
			for i, m := range r.Intermediate {
				named.Intermediate[i] = m.renamed(ns, metric.InNamespace)
			}
			r = &named
		}
		return encodeIndented(w, r)
	}
	rest := *r
	rest.Intermediate, rest.spilled = []*Metrics{}, nil
	rest.Aggregate = r.Aggregate.renamed(ns, metric.InNamespace)
	var head bytes.Buffer
	if err := encodeIndented(&head, &rest); err != nil {
		return err
	}
	// The empty array is spliced open: a string holding these bytes would
	// have its quotes escaped and its newline written as \n, and only
	// the report's own fields are indented by one level.
	at := bytes.Index(head.Bytes(), intermediateKey)
	if at < 0 {
		return errors.New("encode report: no intermediate field") // Report lost its field: a bug here
	}
	open := at + len(intermediateKey) - len("]")
	if _, err := w.Write(head.Bytes()[:open]); err != nil {
		return err
	}
	var buf bytes.Buffer
	written := 0
	err := r.EachPeriod(func(m *Metrics) error {
		buf.Reset()
		if written > 0 {
			buf.WriteByte(',')
		}
		written++
		buf.WriteString("\n    ")
		b, err := json.Marshal(m.renamed(ns, metric.InNamespace))
		if err != nil {
			return fmt.Errorf("encode report: period %d: %w", m.Period, err)
		}
		if err := json.Indent(&buf, b, "    ", "  "); err != nil {
			return fmt.Errorf("encode report: period %d: %w", m.Period, err)
		}
		_, err = w.Write(buf.Bytes())
		return err
	})
	if err != nil {
		return err
	}
	if written > 0 {
		if _, err := io.WriteString(w, "\n  "); err != nil {
			return err
		}
	}
	_, err = w.Write(head.Bytes()[open:])
	return err
}

// intermediateKey is how encodeIndented writes a report's empty periods.
var intermediateKey = []byte("\n  \"intermediate\": []")

func encodeIndented(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("encode report: %w", err)
	}
	return nil
}

// WriteFile writes r to path atomically, as WriteAtomic does.
func WriteFile(path string, r *Report) error {
	if err := WriteAtomic(path, func(w io.Writer) error { return Encode(w, r) }); err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	return nil
}

// WriteAtomic fills path through write without ever exposing a partial
// file: write fills a temporary file in path's directory, which is synced
// and renamed over path. Whatever fails, or wherever the process dies, path
// holds the previous complete file (or nothing) or the new complete one.
// Every report writer goes through it, so no artefact a CI job archives is
// ever truncated.
//
// The temporary file is hidden (a leading dot), unique, and named after the
// writing process; it is removed when anything fails. A process killed with
// SIGKILL cannot clean up, so each write first removes the temporary files
// of path left by processes that no longer exist.
//
// A path that is not a regular file is written through instead: a device
// or pipe (-o /dev/null, -o /dev/stdout, a FIFO a CI step reads) must never
// be replaced by a file, and a symbolic link keeps pointing where it did
// while its target is replaced atomically.
func WriteAtomic(path string, write func(io.Writer) error) (err error) {
	if resolved, lerr := filepath.EvalSymlinks(path); lerr == nil {
		path = resolved
	}
	if fi, serr := os.Stat(path); serr == nil && !fi.Mode().IsRegular() {
		if fi.IsDir() {
			return fmt.Errorf("%s is a directory", path)
		}
		return writeThrough(path, write)
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	removeStaleTemps(dir, base)
	f, err := os.CreateTemp(dir, tempPrefix(base)+strconv.Itoa(os.Getpid())+"-*"+tempSuffix)
	if err != nil {
		return fmt.Errorf("create temporary file: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := fill(f, write); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", f.Name(), err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", f.Name(), err)
	}
	// CreateTemp makes the file 0600; a report is not secret.
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	// Sync the directory so the rename itself survives a power cut.
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// writeThrough fills a device or pipe at path: there is nothing to
// replace atomically, and renaming over it would destroy it.
func writeThrough(path string, write func(io.Writer) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if err := fill(f, write); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// fill runs write over f through one buffer and flushes it.
func fill(f *os.File, write func(io.Writer) error) error {
	bw := bufio.NewWriterSize(f, 64<<10)
	if err := write(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", f.Name(), err)
	}
	return nil
}

// tempSuffix ends every temporary file name WriteAtomic makes.
const tempSuffix = ".tmp"

// tempPrefix starts the temporary file names for base:
// ".<base>.<pid>-<random>.tmp".
func tempPrefix(base string) string { return "." + base + "." }

// removeStaleTemps removes the temporary files for base in dir whose writer
// process is gone. A file whose process is alive, or is this one, or whose
// name carries no process id, is left alone: it may be a write in progress.
func removeStaleTemps(dir, base string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return // CreateTemp reports the folder's problem
	}
	prefix := tempPrefix(base)
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok || !strings.HasSuffix(rest, tempSuffix) || !e.Type().IsRegular() {
			continue
		}
		pidText, _, ok := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if !ok || err != nil || pid <= 0 || pid == os.Getpid() || processAlive(pid) {
			continue
		}
		os.Remove(filepath.Join(dir, e.Name()))
	}
}

// processAlive reports whether process pid exists. When the platform cannot
// tell, it says yes, so a live writer's file is never removed.
func processAlive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false // Windows: no such process
	}
	defer p.Release()
	return !errors.Is(p.Signal(syscall.Signal(0)), os.ErrProcessDone)
}

// ReadFile reads and validates the report at path.
func ReadFile(path string) (*Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read report: %w", err)
	}
	defer f.Close()
	r, err := Decode(f)
	if err != nil {
		return nil, fmt.Errorf("read report %s: %w", path, err)
	}
	return r, nil
}

// Decode reads one report, finished or a checkpoint (an unfinished run's
// periods, see Checkpoint), and validates it: every histogram must decode
// with primeload's geometry and agree with its summary's count, so that a
// corrupt report is rejected here rather than misleading a merge or an SLO.
func Decode(rd io.Reader) (*Report, error) {
	data, err := io.ReadAll(io.LimitReader(rd, MaxReportBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read report: %w", err)
	}
	if len(data) > MaxReportBytes {
		return nil, fmt.Errorf("report larger than %d bytes", MaxReportBytes)
	}
	var r Report
	if isCheckpoint(data) {
		cr, err := decodeCheckpoint(data)
		if err != nil {
			return nil, err
		}
		r = *cr // its periods were validated as they were read, each error naming its line
	} else {
		dec := json.NewDecoder(bytes.NewReader(data))
		if err := dec.Decode(&r); err != nil {
			return nil, jsonError(data, err)
		}
		if dec.More() {
			return nil, fmt.Errorf("%s: unexpected data after the report's JSON object", position(data, dec.InputOffset()))
		}
		if ns := r.MetricsNamespace; ns != "" {
			// A checkpoint's lines hold the default names already.
			r.Aggregate = r.Aggregate.renamed(ns, metric.FromNamespace)
			for i, m := range r.Intermediate {
				r.Intermediate[i] = m.renamed(ns, metric.FromNamespace)
			}
		}
		for i, m := range r.Intermediate {
			if m == nil {
				return nil, fmt.Errorf("intermediate[%d]: null period", i)
			}
			if err := m.validate(); err != nil {
				return nil, fmt.Errorf("intermediate[%d]: %w", i, err)
			}
		}
	}
	if r.Aggregate == nil {
		return nil, errors.New(`missing "aggregate": not a primeload or Artillery report`)
	}
	if err := r.Aggregate.validate(); err != nil {
		return nil, fmt.Errorf("aggregate: %w", err)
	}
	if r.Intermediate == nil {
		r.Intermediate = []*Metrics{}
	}
	if r.PeriodLength < 0 {
		return nil, fmt.Errorf("periodLength %d: must be positive milliseconds", r.PeriodLength)
	}
	if r.MissedArrivals < 0 {
		return nil, fmt.Errorf("missedArrivals %d: must not be negative", r.MissedArrivals)
	}
	for i, p := range r.Expected {
		if min(p.Expected, p.Created, p.Skipped, p.VUsers) < 0 {
			return nil, fmt.Errorf("expected[%d] (phase %q): counts must not be negative", i, p.Name)
		}
	}
	if err := r.Series.validate(); err != nil {
		return nil, fmt.Errorf("primeloadSeries: %w", err)
	}
	if r.StartedAt.IsZero() && r.Aggregate.FirstMetricAt > 0 {
		// Artillery's report has no start and end of its own: its
		// aggregate's first and last metric bound the run.
		r.StartedAt = time.UnixMilli(r.Aggregate.FirstMetricAt)
		r.EndedAt = time.UnixMilli(max(r.Aggregate.LastMetricAt, r.Aggregate.FirstMetricAt))
	}
	return &r, nil
}

// jsonError says where JSON went wrong, as line:column, and what was expected.
func jsonError(data []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return errors.New("empty input: expected a JSON report")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("truncated JSON: the report ends early")
	case errors.As(err, &syn):
		return fmt.Errorf("%s: invalid JSON: %w", position(data, syn.Offset), err)
	case errors.As(err, &typ):
		// Inside a period the offset is relative to the period, so name the
		// field, which is exact, rather than a position.
		field := strings.ReplaceAll(typ.Field, "plain.", "")
		return fmt.Errorf("field %q: got JSON %s, want %s", field, typ.Value, typ.Type)
	}
	return fmt.Errorf("decode report: %w", err)
}

// position turns the offset json reports (just after the offending byte)
// into "line L, column C" of that byte, both 1-based.
func position(data []byte, off int64) string {
	off = min(max(off, 0), int64(len(data)))
	before := data[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int64(len(before)) - int64(bytes.LastIndexByte(before, '\n')) - 1
	return fmt.Sprintf("line %d, column %d", line, col)
}

// validate checks one period: its bounds are ordered, counters are not
// negative, and every histogram decodes and holds as many values as its
// summary counts. A report without histograms (Artillery's) still reads; it
// just cannot be merged.
func (m *Metrics) validate() error {
	m.complete()
	if m.Period < 0 {
		return fmt.Errorf("period %d: want milliseconds since the epoch, not before it", m.Period)
	}
	if m.PeriodEnd < m.Period {
		return fmt.Errorf("periodEnd %d is before period %d", m.PeriodEnd, m.Period)
	}
	for name, v := range m.Counters {
		if v < 0 {
			return fmt.Errorf("counter %q is negative (%d)", name, v)
		}
	}
	for name, enc := range m.HDR {
		h, err := decodeHist(enc)
		if err != nil {
			return fmt.Errorf("histogram %q: %w", name, err)
		}
		s, ok := m.Summaries[name]
		if !ok {
			return fmt.Errorf("histogram %q has no summary", name)
		}
		if s.Count != h.TotalCount() {
			return fmt.Errorf("histogram %q holds %d values but its summary counts %d", name, h.TotalCount(), s.Count)
		}
	}
	return nil
}

// complete fills in what a period read may lack, as validate does before
// checking it: a period validated once is read again through complete
// alone, and comes out the same.
func (m *Metrics) complete() {
	if m.PeriodEnd == 0 {
		// Artillery's reports carry no period end; its last metric is the nearest.
		m.PeriodEnd = max(m.LastMetricAt, m.Period)
	}
	if m.Counters == nil {
		m.Counters = map[string]int64{}
	}
	if m.Summaries == nil {
		m.Summaries = map[string]Summary{}
	}
	if m.Histograms == nil {
		m.Histograms = map[string]Summary{}
	}
	if m.HDR == nil {
		m.HDR = map[string]string{}
	}
}

// Histogram decodes the named summary's HdrHistogram (values in µs).
func (m *Metrics) Histogram(name string) (*hdrhistogram.Histogram, error) {
	enc, ok := m.HDR[name]
	if !ok {
		return nil, fmt.Errorf("no histogram %q", name)
	}
	h, err := decodeHist(enc)
	if err != nil {
		return nil, fmt.Errorf("histogram %q: %w", name, err)
	}
	h.SetStartTimeMs(m.Period)
	h.SetEndTimeMs(m.PeriodEnd)
	return h, nil
}

// Endpoints lists the endpoints with a latency summary in m, sorted.
func (m *Metrics) Endpoints() []string {
	var eps []string
	for name := range m.Summaries {
		if ep, ok := strings.CutPrefix(name, metric.EndpointResponseTime); ok {
			eps = append(eps, ep)
		}
	}
	slices.Sort(eps)
	return eps
}

// EndpointsWithOutcomes is Endpoints and the endpoints whose every request
// failed before a response, which only their per-endpoint error counters
// name (Artillery's plugins.metrics-by-endpoint.<endpoint>.errors.<code>).
func (m *Metrics) EndpointsWithOutcomes() []string {
	eps := m.Endpoints()
	for name := range m.Counters {
		rest, ok := strings.CutPrefix(name, metric.EndpointPrefix)
		i := strings.LastIndex(rest, "."+metric.EndpointErrors)
		if !ok || i < 0 {
			continue
		}
		if ep := rest[:i]; !slices.Contains(eps, ep) {
			eps = append(eps, ep)
		}
	}
	slices.Sort(eps)
	return eps
}

// Duration is the length of the period.
func (m *Metrics) Duration() time.Duration {
	return time.Duration(m.PeriodEnd-m.Period) * time.Millisecond
}

// UnmarshalJSON reads a period as written by primeload or by Artillery,
// whose intermediate periods carry "period" as a string of milliseconds.
func (m *Metrics) UnmarshalJSON(b []byte) error {
	type plain Metrics // without this method, so decoding does not recurse
	aux := struct {
		*plain
		Period json.RawMessage `json:"period"`
	}{plain: (*plain)(m)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	raw := string(aux.Period)
	if raw == "" || raw == "null" {
		return nil
	}
	p, err := strconv.ParseInt(strings.Trim(raw, `"`), 10, 64)
	if err != nil {
		return fmt.Errorf("period %s: want milliseconds since the epoch", raw)
	}
	m.Period = p
	return nil
}
