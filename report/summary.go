package report

import (
	"cmp"
	"fmt"
	"github.com/primeload/primeload/report/metric"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// errWriter remembers the first write error so the printing code reads
// straight; the caller checks err once.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}

// warn prints a paragraph after an empty line, wrapped to SummaryWidth.
func (e *errWriter) warn(format string, args ...any) {
	e.printf("\n%s\n", strings.Join(Wrap(fmt.Sprintf(format, args...), SummaryWidth), "\n"))
}

// WriteSummary prints the end-of-run summary for people: the run, a warning
// when the generator fell behind, counters, rates, response times overall
// and per endpoint, and expected versus created arrivals per phase.
func WriteSummary(w io.Writer, r *Report) error {
	ew := &errWriter{w: w}
	m := r.Aggregate
	status := "finished"
	if r.Aborted {
		status = "aborted"
	}
	ew.printf("%s\n", fitLine("primeload "+cmp.Or(r.Version, "(no version: an Artillery report?)"), cmp.Or(r.Script.Path, "(no script)")+" → "+cmp.Or(r.Target, "(no target)"), status))
	when := []string{fmt.Sprintf("%s to %s (%s)", r.StartedAt.UTC().Format("2006-01-02 15:04:05"), r.EndedAt.UTC().Format("15:04:05 MST"), r.EndedAt.Sub(r.StartedAt).Round(time.Millisecond))}
	if r.Segment != "" {
		when = append(when, "segment "+r.Segment)
	}
	if r.Environment != "" {
		when = append(when, "environment "+r.Environment)
	}
	ew.printf("%s\n", fitLine(when...))
	t, requests := m.Tally(), m.Counters[metric.Requests]
	ew.printf("%s\n", fitLine(fmt.Sprintf("errors %d of %d requests (%s%%; %s)",
		t.Failed(), requests, strconv.FormatFloat(t.ErrorRate(requests), 'f', 2, 64), ErrorRateMeaning), fmt.Sprintf("HTTP 4xx %d", t.HTTP4xx)))
	lag := r.lag()
	if lag.Arrivals > 0 {
		ew.printf("%s\n", fitLine(lag.parts()...))
	}
	if lag.FellBehind {
		ew.warn("WARNING: the load generator fell behind its schedule (%d of %d arrivals started more than %s ms late): latencies below understate the truth.",
			lag.Late, lag.Arrivals, FormatNumber(lag.LimitMs))
	}
	if r.MissedArrivals > 0 {
		ew.warn("WARNING: %d arrivals were missed: the process started after the schedule's start (--start-at), so the target got less load than the script describes.", r.MissedArrivals)
	}
	if n := len(r.Saturated); n > 0 {
		const shown = 3
		names := strings.Join(r.Saturated[:min(n, shown)], ", ")
		if n > shown {
			names += fmt.Sprintf(" and %d more", n-shown)
		}
		ew.warn("WARNING: merging held %d sums at the int64 maximum instead of wrapping (%s): they are lower bounds, and the parts are probably corrupt.", n, names)
	}
	if rw := r.RemoteWrite; rw != nil && (rw.Failed > 0 || rw.Dropped > 0) {
		ew.warn("WARNING: remote write to %s: %d of %d pushes failed, %d snapshots dropped; last error: %s",
			rw.URL, rw.Failed, rw.Sent+rw.Failed, rw.Dropped, cmp.Or(rw.LastError, "none"))
	}
	if n := m.Counters[metric.EndpointsFolded]; n > 0 {
		ew.warn("WARNING: the run had more distinct endpoints than it records separately; %d responses of the rest are recorded as %q (%s; raise the limit with --max-endpoints).",
			n, metric.OtherEndpoint, metric.EndpointsFolded)
	}

	var rows [][]string
	for _, name := range slices.Sorted(maps.Keys(m.Counters)) {
		if !strings.HasPrefix(name, metric.EndpointPrefix) { // those are in the endpoint tables
			rows = append(rows, []string{name, strconv.FormatInt(m.Counters[name], 10)})
		}
	}
	for _, name := range slices.Sorted(maps.Keys(m.Rates)) {
		rows = append(rows, []string{name, strconv.FormatFloat(m.Rates[name], 'f', -1, 64) + "/sec"})
	}
	table(ew, "Counters and rates", 1, nil, rows)

	if len(m.Summaries) == 0 {
		ew.printf("\nNo responses were recorded.\n")
	} else {
		rows = nil
		row := func(label string, s Summary) {
			rows = append(rows, []string{label, strconv.FormatInt(s.Count, 10),
				ms(s.Min), ms(s.Mean), ms(s.P50), ms(s.P90), ms(s.P95), ms(s.P99), ms(s.P999), ms(s.Max)})
		}
		if s, ok := m.Summaries[metric.ResponseTime]; ok {
			row("all requests", s)
		}
		// Artillery's http.response_time.2xx and its siblings, under the total.
		for status := 200; status < 600; status += 100 {
			if s, ok := m.Summaries[metric.ResponseTimeClass(status)]; ok {
				row(fmt.Sprintf("  %dxx responses", status/100), s)
			}
		}
		// config.http.extendedMetrics, by their names as ensure reads them.
		for _, name := range metric.ExtendedSummaries() {
			if s, ok := m.Summaries[name]; ok {
				row("  "+name, s)
			}
		}
		for _, ep := range m.Endpoints() {
			row(r.Script.EndpointLabel(ep), m.Summaries[metric.EndpointLatency(ep)])
			if s, ok := m.Summaries[metric.EndpointServerTimingOf(ep)]; ok {
				row("  server-timing total", s)
			}
		}
		if s, ok := m.Summaries[metric.SessionLength]; ok {
			row("(session length)", s)
		}
		if s, ok := m.Summaries[metric.ScheduleLag]; ok {
			row("(schedule lag)", s)
		}
		table(ew, "Response time (ms)", 1, []string{"", "count", "min", "mean", "p50", "p90", "p95", "p99", "p999", "max"}, rows)
	}

	rows = nil
	labelWidth := 0
	for _, ep := range m.EndpointsWithOutcomes() {
		labelWidth = max(labelWidth, utf8.RuneCountInString(r.Script.EndpointLabel(ep)))
	}
	for _, ep := range m.EndpointsWithOutcomes() {
		// A long list goes on under its first line, so the label keeps its room.
		for i, outcomes := range wrapItems(endpointOutcomes(m, ep), max(SummaryWidth-4-labelWidth, minCodesWidth)) {
			label := ""
			if i == 0 {
				label = r.Script.EndpointLabel(ep)
			}
			rows = append(rows, []string{label, outcomes})
		}
	}
	table(ew, "Status codes and errors per endpoint", 2, nil, rows)
	writeFailures(ew, r.Failures)

	rows = nil
	for _, p := range r.Expected {
		expected := strconv.FormatInt(p.Expected, 10)
		if p.VUsers > 0 {
			// A closed phase has no arrivals to expect: its users loop.
			expected = strconv.FormatInt(p.VUsers, 10) + " users looping"
		}
		rows = append(rows, []string{cmp.Or(p.Name, "(unnamed)"),
			expected, strconv.FormatInt(p.Created, 10), strconv.FormatInt(p.Skipped, 10)})
	}
	table(ew, "Arrivals per phase", 1, []string{"", "expected", "created", "skipped"}, rows)
	return ew.err
}

// writeFailures prints each failure with its count and its samples'
// reasons, so a failing run says why without a trace.
func writeFailures(ew *errWriter, fs []Failure) {
	if len(fs) == 0 {
		return
	}
	ew.printf("\nFailures (first %d samples of each, per endpoint)\n", MaxFailureSamples)
	for _, f := range fs {
		what := fmt.Sprintf(" · %s ×%d", f.Label(), f.Count)
		ew.printf("  %s%s\n", Abbreviate(cmp.Or(f.Endpoint, "(no endpoint)"), SummaryWidth-2-utf8.RuneCountInString(what)), what)
		for _, reason := range f.Reasons() {
			ew.printf("    %s\n", strings.Join(Wrap(reason, SummaryWidth-6), "\n      "))
		}
	}
}

// minCodesWidth is the narrowest a status code list wraps to; a longer
// endpoint label is abbreviated instead.
const minCodesWidth = 40

// minLabelWidth is as far as a table's first column is abbreviated to fit
// SummaryWidth; only latencies past 1000 s in every column need more.
const minLabelWidth = 8

// table prints a titled table: the first left columns left-aligned, the
// others right-aligned as numbers are. When the table is wider than
// SummaryWidth, the first column's labels are abbreviated in the middle.
// Nothing is printed for no rows.
func table(ew *errWriter, title string, left int, head []string, rows [][]string) {
	if len(rows) == 0 {
		return
	}
	if head != nil {
		rows = append([][]string{head}, rows...)
	}
	var width []int
	for _, row := range rows {
		for i, cell := range row {
			if i == len(width) {
				width = append(width, 0)
			}
			width[i] = max(width[i], utf8.RuneCountInString(cell))
		}
	}
	total := 0
	for _, w := range width {
		total += 2 + w
	}
	if over := total - SummaryWidth; over > 0 && width[0] > minLabelWidth {
		width[0] = max(width[0]-over, minLabelWidth)
		for _, row := range rows {
			row[0] = Abbreviate(row[0], width[0])
		}
	}
	ew.printf("\n%s\n", title)
	for _, row := range rows {
		var b strings.Builder
		for i, cell := range row {
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(cell))
			if i < left {
				b.WriteString("  " + cell + pad)
			} else {
				b.WriteString("  " + pad + cell)
			}
		}
		ew.printf("%s\n", strings.TrimRight(b.String(), " "))
	}
}

// endpointOutcomes lists an endpoint's status codes, then its errors:
// "200×900", "500×100", "ETIMEDOUT×3".
func endpointOutcomes(m *Metrics, ep string) []string {
	var parts []string
	for _, prefix := range []string{metric.EndpointCodePrefix(ep), metric.EndpointError(ep, metric.ErrorPrefix)} {
		for _, name := range slices.Sorted(maps.Keys(m.Counters)) {
			if code, ok := strings.CutPrefix(name, prefix); ok {
				parts = append(parts, fmt.Sprintf("%s×%d", code, m.Counters[name]))
			}
		}
	}
	return parts
}

// wrapItems joins items with spaces onto lines of at most width runes,
// breaking only between items: an error name may hold spaces itself.
func wrapItems(items []string, width int) []string {
	const glue = "\x00" // stands for a space inside an item while wrapping
	joined := make([]string, len(items))
	for i, it := range items {
		joined[i] = strings.ReplaceAll(it, " ", glue)
	}
	lines := Wrap(strings.Join(joined, " "), width)
	for i, l := range lines {
		lines[i] = strings.ReplaceAll(l, glue, " ")
	}
	return lines
}

// ms formats milliseconds with two decimals: enough to tell 0.14 ms on
// loopback from 0.41 ms, short enough for a table.
func ms(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

// PeriodParts is one period for a single line, for output that is not a
// terminal (CI logs) or --quiet runs, to join with FitParts: when it
// ended, its requests and rate, errors and latency always; its status
// codes (which add up to its responses) and schedule lag while there is
// room (Drop 5 and 6).
func PeriodParts(m *Metrics, runStart time.Time) []LinePart {
	var errs int64
	var names []string
	for _, name := range slices.Sorted(maps.Keys(m.Counters)) {
		if e, ok := strings.CutPrefix(name, metric.ErrorPrefix); ok {
			errs += m.Counters[name]
			names = append(names, e)
		}
	}
	// The most frequent errors name the count, a few at most.
	slices.SortStableFunc(names, func(a, b string) int {
		return cmp.Compare(m.Counters[metric.ErrorPrefix+b], m.Counters[metric.ErrorPrefix+a])
	})
	errors := LinePart{Text: fmt.Sprintf("%d errors", errs)}
	if len(names) > 0 {
		const shown = 3
		var top []string
		for _, e := range names[:min(len(names), shown)] {
			top = append(top, fmt.Sprintf("%s×%d", e, m.Counters[metric.ErrorPrefix+e]))
		}
		if n := len(names) - shown; n > 0 {
			top = append(top, fmt.Sprintf("%d more", n))
		}
		errors.Short, errors.Text = errors.Text, errors.Text+" ("+strings.Join(top, ", ")+")"
	}
	var codeNames []string
	for name := range m.Counters {
		if strings.HasPrefix(name, metric.CodePrefix) {
			codeNames = append(codeNames, name)
		}
	}
	// By number: "99" before "200".
	slices.SortFunc(codeNames, func(a, b string) int { return cmp.Or(cmp.Compare(len(a), len(b)), strings.Compare(a, b)) })
	var codes, failed []string
	for _, name := range codeNames {
		code := strings.TrimPrefix(name, metric.CodePrefix)
		c := fmt.Sprintf("%s×%d", code, m.Counters[name])
		codes = append(codes, c)
		if n, err := strconv.Atoi(code); err == nil && n >= 400 {
			failed = append(failed, c)
		}
	}
	step := time.Second // tenths only for periods shorter than that
	if m.PeriodEnd-m.Period < 1000 {
		step = 100 * time.Millisecond
	}
	s := m.Summaries[metric.ResponseTime]
	parts := []LinePart{
		{Text: fmt.Sprintf("[+%s] %d requests (%s/s)", m.End().Sub(runStart).Round(step),
			m.Counters[metric.Requests], strconv.FormatFloat(m.Rates[metric.RequestRate], 'f', 1, 64))},
		errors,
		{Text: "p50/p99 " + ms(s.P50) + "/" + ms(s.P99) + " ms"},
	}
	if len(codes) > 0 {
		p := LinePart{Text: "codes " + strings.Join(codes, " "), Drop: 5}
		if len(failed) > 0 && len(failed) < len(codes) {
			p.Short = "codes " + strings.Join(failed, " ")
		}
		parts = append(parts, p)
	}
	if lag, ok := m.Summaries[metric.ScheduleLag]; ok {
		parts = append(parts, LinePart{Text: "lag p99 " + ms(lag.P99) + " ms", Drop: 6})
	}
	return parts
}
