package loadtest

import (
	"fmt"
	"io"

	"github.com/primeload/primeload/report"
)

// checkpointQueue is how many flushed periods may wait for the disk. The
// flush loop blocks beyond it rather than drop a period: a disk that slow
// delays the next flush, never a virtual user.
const checkpointQueue = 8

// checkpointer writes periods to a report.Checkpoint from its own
// goroutine, so encoding and fsync never hold up the flush loop. A period
// the file could not take is kept in memory instead, and the problem
// reported once: the final report still has every period.
type checkpointer struct {
	ck      *report.Checkpoint
	queue   chan checkpointItem
	done    chan struct{}
	written func(int)
	log     io.Writer

	// Touched only by the writing goroutine until done is closed.
	broken  error
	onlyMem []*report.Metrics // periods after the file broke, in order
}

type checkpointItem struct {
	m  *report.Metrics
	st report.CheckpointState
}

// startCheckpointer creates the checkpoint at path from head and starts
// its writer; written, if not nil, is called after each durable append.
func startCheckpointer(path string, head *report.Report, written func(int), log io.Writer) (*checkpointer, error) {
	head.Aborted = true
	ck, err := report.CreateCheckpoint(path, head)
	if err != nil {
		return nil, err
	}
	c := &checkpointer{ck: ck, queue: make(chan checkpointItem, checkpointQueue), done: make(chan struct{}), written: written, log: log}
	go c.write()
	return c, nil
}

// add queues a period; it blocks only when checkpointQueue periods wait.
func (c *checkpointer) add(m *report.Metrics, st report.CheckpointState) {
	c.queue <- checkpointItem{m, st}
}

func (c *checkpointer) write() {
	defer close(c.done)
	for it := range c.queue {
		if c.broken == nil {
			if err := c.ck.Append(it.m, it.st); err != nil {
				c.broken = err
				if c.log != nil {
					fmt.Fprintf(c.log, "primeload: %v; periods from now on are kept in memory, and a kill would lose them\n", err)
				}
			} else {
				if c.written != nil {
					c.written(c.ck.Periods())
				}
				continue
			}
		}
		c.onlyMem = append(c.onlyMem, it.m)
	}
}

// finish waits for every queued period, closes the file and hands rep
// its periods, which stay where they are: those on disk are read back one
// at a time whenever rep is written (report.Report.Spill), those kept in
// memory follow them. A period that cannot be read back is reported, and
// the report goes on with the ones before it.
func (c *checkpointer) finish(rep *report.Report) {
	c.wait()
	rep.Intermediate = c.onlyMem
	if rep.Intermediate == nil {
		rep.Intermediate = []*report.Metrics{}
	}
	sp, err := c.ck.OpenPeriods()
	if err != nil && c.log != nil {
		fmt.Fprintf(c.log, "primeload: %v; the report's time series lacks the periods after it\n", err)
	}
	if sp != nil {
		rep.Spill(sp)
	}
}

// wait waits for every queued period and closes the file.
func (c *checkpointer) wait() {
	close(c.queue)
	<-c.done
	if err := c.ck.Close(); err != nil && c.broken == nil && c.log != nil {
		fmt.Fprintln(c.log, "primeload:", err)
	}
}
