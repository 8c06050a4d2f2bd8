package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/primeload/primeload/report/metric"
)

// A checkpoint is a run's report in progress, kept on disk at constant cost:
// one JSON line with what the run is (the report without its metrics), then
// one line appended per period. Rewriting the whole report every period
// would cost more the longer the run (a 24-hour soak has 8,640 periods);
// appending a line costs the same at the first period and the last. A run
// that is killed leaves every complete period readable: Decode (and so
// `primeload report`) reads a checkpoint as an unfinished report, its
// aggregate folded from the periods.
//
// The first line starts with checkpointMagic, which is how Decode tells a
// checkpoint from a finished report (an indented JSON object).

// checkpointSyncEvery is how much run time a power cut may take from a
// checkpoint: Append syncs the file when a period ends in a later slot of
// this length than the last synced one, so every 10 s period is synced and
// 100 ms periods are synced one in a hundred. A sync holds up the whole
// generator while the disk works (Go keeps the scheduler's one core, with
// GOMAXPROCS 1, until the call returns or sysmon takes it back, up to 10 ms
// later), so syncing every 100 ms period put a disk flush ten times a
// second into the latencies measured. A kill, even SIGKILL, loses nothing
// written: the written lines are in the page cache.
const checkpointSyncEvery = 10 * time.Second

// checkpointMagic opens a checkpoint file; its value is the format's version.
const checkpointMagic = `{"primeloadCheckpoint":1,`

// checkpointHead is the first line: the run's identity, metrics left out.
type checkpointHead struct {
	Format int `json:"primeloadCheckpoint"`
	*Report
}

// CheckpointState is what a period line carries besides the period: the
// run's totals so far that are not metrics (each line has all of them, so
// the last complete line is the state a killed run reached).
type CheckpointState struct {
	Expected       []PhaseArrivals `json:"expected"`
	MissedArrivals int64           `json:"missedArrivals"`
	// Failures is written only when it changed since the previous line; a
	// reader keeps the last one it saw.
	Failures []Failure `json:"failures,omitempty"`
}

// checkpointLine is one period line.
type checkpointLine struct {
	Period *Metrics `json:"period"`
	CheckpointState
}

// Checkpoint appends a run's periods to a file. It is used from one
// goroutine at a time.
type Checkpoint struct {
	f    *os.File
	path string
	buf  bytes.Buffer
	// failures is the count plus the samples of the last written Failures
	// (both only grow), so an unchanged list is not written again.
	failures int64
	periods  int
	// slot is the checkpointSyncEvery slot of the last synced period's end;
	// unsynced says lines were written since.
	slot     int64
	unsynced bool
	syncs    int
}

// CreateCheckpoint creates (or truncates) the checkpoint at path and writes
// its first line from head, whose Aggregate and Intermediate are ignored.
// The file is synced, so even a run killed before its first period leaves
// a report that says what ran.
//
// The head replaces whatever was at path atomically (WriteAtomic), so a
// reader never finds the file empty or an earlier run's report half gone.
func CreateCheckpoint(path string, head *Report) (*Checkpoint, error) {
	h := *head
	// The fine series is not checkpointed: a partial one in the head would
	// read as the whole run's in a killed run's report.
	h.Aggregate, h.Intermediate, h.Series = nil, nil, nil
	// The head is synced; the first period to sync is the first that ends
	// in a later slot than the run's start.
	c := &Checkpoint{path: path, slot: head.StartedAt.UnixMilli() / checkpointSyncEvery.Milliseconds()}
	if err := WriteAtomic(path, func(w io.Writer) error {
		if err := c.encode(checkpointHead{Format: 1, Report: &h}); err != nil {
			return err
		}
		_, err := w.Write(c.buf.Bytes())
		return err
	}); err != nil {
		return nil, fmt.Errorf("create checkpoint %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return nil, fmt.Errorf("open checkpoint: %w", err)
	}
	c.f = f
	return c, nil
}

// Path is the checkpoint's file.
func (c *Checkpoint) Path() string { return c.path }

// Periods is how many periods were appended.
func (c *Checkpoint) Periods() int { return c.periods }

// Append writes one period and the run's state after it: once Append
// returns, a SIGKILL keeps the period, and a power cut keeps it too once a
// later period's end reaches the next checkpointSyncEvery slot (at once for
// periods of 10 s) or Close returns. Its cost depends on the period, never
// on how many came before.
func (c *Checkpoint) Append(m *Metrics, st CheckpointState) error {
	var n int64
	for _, f := range st.Failures {
		n += f.Count + int64(len(f.Samples))
	}
	if n == c.failures {
		st.Failures = nil
	}
	if err := c.writeLine(checkpointLine{Period: m, CheckpointState: st}); err != nil {
		return err
	}
	c.failures = n
	c.periods++
	c.unsynced = true
	if slot := m.PeriodEnd / checkpointSyncEvery.Milliseconds(); slot != c.slot {
		c.slot = slot
		return c.sync()
	}
	return nil
}

// writeLine writes v as one line with one write call, so a kill leaves at
// most one incomplete line, the last, which readers ignore.
func (c *Checkpoint) writeLine(v any) error {
	if err := c.encode(v); err != nil {
		return err
	}
	if _, err := c.f.Write(c.buf.Bytes()); err != nil {
		return fmt.Errorf("write checkpoint %s: %w", c.path, err)
	}
	return nil
}

// sync makes the lines written so far survive a power cut.
func (c *Checkpoint) sync() error {
	if err := c.f.Sync(); err != nil {
		return fmt.Errorf("sync checkpoint %s: %w", c.path, err)
	}
	c.unsynced = false
	c.syncs++
	return nil
}

// encode puts v in c.buf as one line.
func (c *Checkpoint) encode(v any) error {
	c.buf.Reset()
	if err := json.NewEncoder(&c.buf).Encode(v); err != nil { // Encode ends the line
		return fmt.Errorf("encode checkpoint line: %w", err)
	}
	return nil
}

// Close syncs what is not yet synced and closes the file; the checkpoint
// stays on disk.
func (c *Checkpoint) Close() error {
	var err error
	if c.unsynced {
		err = c.sync()
	}
	return errors.Join(err, c.f.Close())
}

// isCheckpoint reports whether data is a checkpoint rather than a report.
func isCheckpoint(data []byte) bool { return bytes.HasPrefix(data, []byte(checkpointMagic)) }

// maxCheckpointLine bounds one line: a period of metric.MaxEndpoints
// endpoints with their histograms stays well below it.
const maxCheckpointLine = 256 << 20

// scanCheckpoint reads a checkpoint's head and passes each complete period
// line to each, with its state (Failures carried over from earlier lines).
// An incomplete last line, the write a kill interrupted, is ignored; any
// other line that does not decode is an error naming its line number.
// Each period is validated unless checked says an earlier scan of the same
// bytes did (decoding every histogram is most of a scan's cost).
func scanCheckpoint(r io.Reader, checked bool, each func(*checkpointLine) error) (*Report, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var head *Report
	var failures []Failure
	for lineNo := 1; ; lineNo++ {
		line, err := readLine(br)
		if errors.Is(err, io.EOF) {
			break // nothing, or an incomplete last line
		}
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", lineNo, err)
		}
		if head == nil {
			var h checkpointHead
			h.Report = &Report{}
			if err := json.Unmarshal(line, &h); err != nil {
				return nil, fmt.Errorf("line 1 (the checkpoint's head): %w", err)
			}
			if h.Format != 1 {
				return nil, fmt.Errorf("line 1: checkpoint format %d, this primeload reads format 1", h.Format)
			}
			head = h.Report
			continue
		}
		var l checkpointLine
		if err := json.Unmarshal(line, &l); err != nil {
			return nil, fmt.Errorf("line %d: %w", lineNo, err)
		}
		if l.Period == nil {
			return nil, fmt.Errorf("line %d: no period", lineNo)
		}
		if !checked {
			if err := l.Period.validate(); err != nil {
				return nil, fmt.Errorf("line %d: %w", lineNo, err)
			}
		} else {
			l.Period.complete()
		}
		if l.Failures != nil {
			failures = l.Failures
		}
		l.Failures = failures
		if err := each(&l); err != nil {
			return nil, err
		}
	}
	if head == nil {
		return nil, errors.New("empty checkpoint: the run was killed before it wrote its first line")
	}
	return head, nil
}

// readLine returns the next complete line without its newline, or io.EOF
// when what is left has no newline (an interrupted write).
func readLine(br *bufio.Reader) ([]byte, error) {
	var long []byte
	for {
		frag, err := br.ReadSlice('\n')
		if err == nil {
			if long == nil {
				return frag[:len(frag)-1], nil
			}
			return append(long, frag[:len(frag)-1]...), nil
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			if errors.Is(err, io.EOF) {
				return nil, io.EOF
			}
			return nil, err
		}
		long = append(long, frag...)
		if len(long) > maxCheckpointLine {
			return nil, fmt.Errorf("line longer than %d bytes", maxCheckpointLine)
		}
	}
}

// decodeCheckpoint reads a checkpoint as the unfinished report it is: the
// periods as its intermediate periods, their fold as its aggregate, the last
// complete line's arrivals and failures, marked aborted.
func decodeCheckpoint(data []byte) (*Report, error) {
	var periods []*Metrics
	var last CheckpointState
	head, err := scanCheckpoint(bytes.NewReader(data), false, func(l *checkpointLine) error {
		periods = append(periods, l.Period)
		last = l.CheckpointState
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	r := head
	r.Aborted = true // a checkpoint is what a run leaves before its final write
	r.Intermediate = periods
	if r.Intermediate == nil {
		r.Intermediate = []*Metrics{}
	}
	r.Expected = last.Expected
	if r.Expected == nil {
		r.Expected = []PhaseArrivals{}
	}
	r.MissedArrivals = last.MissedArrivals
	r.Failures = last.Failures
	if len(periods) == 0 {
		r.Aggregate = &Metrics{Period: r.StartedAt.UnixMilli(), PeriodEnd: r.StartedAt.UnixMilli()}
		r.EndedAt = r.StartedAt
	} else {
		var sat saturation
		if r.Aggregate, err = mergeMetrics(periods, sat.within("aggregate")); err != nil {
			return nil, fmt.Errorf("checkpoint: fold the periods: %w", err)
		}
		r.Saturated = sat.names
		r.EndedAt = periods[len(periods)-1].End()
	}
	if s, ok := r.Aggregate.Summaries[metric.ScheduleLag]; ok {
		r.ScheduleLag = &s
	}
	return r, nil
}

// SpilledPeriods are a finished run's periods left in its checkpoint: a
// report they are attached to (Report.Spill) reads them from the file one
// at a time whenever it is written, so the end of a run costs the same
// memory after 100 periods as after 10,000. The file stays open, so it may
// be replaced (by the final report, renamed over it) or removed meanwhile.
type SpilledPeriods struct {
	f    *os.File
	size int64
	n    int // periods OpenPeriods found readable; -1 while it checks them
}

// OpenPeriods opens the checkpoint's periods for reading back, after
// checking every complete line once: the periods are those before the
// first line that does not read, whose error (naming file and line) is
// returned with them.
func (c *Checkpoint) OpenPeriods() (*SpilledPeriods, error) {
	f, err := os.Open(c.path)
	if err != nil {
		return nil, fmt.Errorf("read checkpoint: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("read checkpoint: %w", err)
	}
	s := &SpilledPeriods{f: f, size: fi.Size(), n: -1}
	n := 0
	err = s.Each(func(*Metrics) error { n++; return nil })
	s.n = n
	if err != nil {
		return s, fmt.Errorf("read checkpoint %s: %w", c.path, err)
	}
	return s, nil
}

// Len is how many periods Each passes on.
func (s *SpilledPeriods) Len() int { return s.n }

// errEnough stops a scan once the periods found readable are read.
var errEnough = errors.New("enough periods")

// Each passes the periods, in order, to each, holding one at a time. It
// may run any number of times, also at once: each run reads the file at
// its own offsets.
func (s *SpilledPeriods) Each(each func(*Metrics) error) error {
	if s.n == 0 {
		return nil
	}
	seen := 0
	_, err := scanCheckpoint(io.NewSectionReader(s.f, 0, s.size), s.n >= 0, func(l *checkpointLine) error {
		if err := each(l.Period); err != nil {
			return err
		}
		if seen++; seen == s.n {
			return errEnough // before the line that does not read
		}
		return nil
	})
	if errors.Is(err, errEnough) {
		return nil
	}
	return err
}

// Close closes the file.
func (s *SpilledPeriods) Close() error { return s.f.Close() }
