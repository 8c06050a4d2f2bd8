// Package view derives the numbers people read from a report (overview,
// endpoint rows, status code and error tables), once, for the HTML, JUnit
// and markdown writers, so they all state the same figures.
package view

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/primeload/primeload/report"
	"github.com/primeload/primeload/report/metric"
	"github.com/primeload/primeload/report/slo"
)

// Overview is the run at a glance.
type Overview struct {
	Title       string // the script path, with the environment when set
	Target      string
	Started     time.Time
	Duration    time.Duration
	Aborted     bool
	Requests    int64
	Responses   int64
	Rate        float64 // requests per second over the run
	Tally       Tally
	ErrorRate   float64 // report.Tally.ErrorRate: see report.ErrorRateMeaning
	Latency     report.Summary
	VUsers      VUsers
	Untrusted   bool
	UntrustedBy string // why, when Untrusted
	LagP99      float64
}

// VUsers counts virtual users.
type VUsers struct{ Created, Completed, Failed, Skipped int64 }

// Active is the users still in flight when the counts were taken: the
// same instant as theirs, which a chart's last point need not be. It is
// never below 0: a live run's counts are flushed a shard at a time, and
// users are created on one shard but finish on their own, so a period can
// hold completions whose creations fall in the next.
func (v VUsers) Active() int64 { return max(0, v.Created-v.Completed-v.Failed) }

// Tally counts what went wrong; report defines it with the error rate.
type Tally = report.Tally

// Endpoint is one row of the per-endpoint table.
type Endpoint struct {
	Name string // as Artillery names it
	// Label is the name as people read it, led by the HTTP methods when
	// the report knows them: "GET /items".
	Label      string
	Responses  int64
	Tally      Tally
	Latency    report.Summary
	HasLatency bool
}

// EndpointErrors reports whether any row counts network errors per endpoint.
// primeload counts transport errors per endpoint, as Artillery's
// metrics-by-endpoint does; a report without any leaves the column out, so
// a per-endpoint column of zeros does not crowd the table.
func EndpointErrors(rows []Endpoint) bool {
	for _, r := range rows {
		if r.Tally.Network > 0 {
			return true
		}
	}
	return false
}

// Count is one row of a status code or error table.
type Count struct {
	Name  string
	Count int64
}

// Summarize computes the overview of r.
func Summarize(r *report.Report) Overview {
	m := metrics(r)
	o := Overview{
		Title:     r.Script.Path,
		Target:    r.Target,
		Started:   r.StartedAt,
		Duration:  r.EndedAt.Sub(r.StartedAt),
		Aborted:   r.Aborted,
		Requests:  m.Counters[metric.Requests],
		Responses: m.Counters[metric.Responses],
		Latency:   m.Summaries[metric.ResponseTime],
		VUsers: VUsers{
			Created:   m.Counters[metric.VUsersCreated],
			Completed: m.Counters[metric.VUsersCompleted],
			Failed:    m.Counters[metric.VUsersFailed],
			Skipped:   m.Counters[metric.VUsersSkipped],
		},
		LagP99: m.Summaries[metric.ScheduleLag].P99,
	}
	if o.Title == "" {
		o.Title = "primeload run"
	}
	if r.Environment != "" {
		o.Title += " (" + r.Environment + ")"
	}
	o.Tally = m.Tally()
	if s := o.Duration.Seconds(); s > 0 {
		o.Rate = float64(o.Requests) / s
	}
	o.ErrorRate = o.Tally.ErrorRate(o.Requests)
	o.Untrusted, o.UntrustedBy = r.Untrusted()
	return o
}

// AddTally counts a run-wide http.codes.NNN or errors.X counter into t.
func AddTally(t *Tally, name string, v int64) { t.Add(name, v) }

// Endpoints lists a row per endpoint the script calls or that has
// measurements, in the script's order.
func Endpoints(r *report.Report) []Endpoint {
	m := metrics(r)
	var rows []Endpoint
	for _, ep := range slo.Endpoints(r) {
		row := Endpoint{Name: ep, Label: r.Script.EndpointLabel(ep)}
		row.Latency, row.HasLatency = m.Summaries[metric.EndpointLatency(ep)]
		prefix := metric.EndpointPrefix + ep + "."
		for name, v := range m.Counters {
			rest, ok := strings.CutPrefix(name, prefix)
			if !ok {
				continue
			}
			if code, ok := strings.CutPrefix(rest, metric.EndpointCodes); ok {
				row.Responses += row.Tally.AddStatus(code, v)
			} else if strings.HasPrefix(rest, metric.EndpointErrors) {
				row.Tally.Network += v
			}
		}
		rows = append(rows, row)
	}
	return rows
}

// StatusCodes lists the run's responses by status code, in code order.
func StatusCodes(r *report.Report) []Count {
	return counts(metrics(r), metric.CodePrefix, func(a, b Count) int { return cmp.Compare(a.Name, b.Name) })
}

// Errors lists the run's network errors by code, most frequent first.
func Errors(r *report.Report) []Count {
	return counts(metrics(r), metric.ErrorPrefix, func(a, b Count) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Name, b.Name))
	})
}

func counts(m *report.Metrics, prefix string, order func(a, b Count) int) []Count {
	var cs []Count
	for name, v := range m.Counters {
		if rest, ok := strings.CutPrefix(name, prefix); ok {
			cs = append(cs, Count{Name: rest, Count: v})
		}
	}
	slices.SortFunc(cs, order)
	return cs
}

func metrics(r *report.Report) *report.Metrics {
	if r.Aggregate == nil {
		return &report.Metrics{}
	}
	return r.Aggregate
}

// Ms formats milliseconds for people: up to three significant decimals.
func Ms(v float64) string {
	switch {
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

// Percent formats a percentage with two decimals.
func Percent(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) + "%" }
