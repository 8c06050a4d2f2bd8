package cmd

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/primeload/primeload/report"
	"github.com/primeload/primeload/report/metric"
	"github.com/primeload/primeload/report/slo"
	"github.com/primeload/primeload/runner"
	"github.com/primeload/primeload/scenario"
	"github.com/primeload/primeload/target"
	"github.com/primeload/primeload/target/cache"
	"github.com/spf13/pflag"
)

// TestReadmeLimitsTable keeps README's one limits table equal to the code:
// each row naming a constant must show the constant's value, every constant
// below must have its row, and the flags the table names must exist.
func TestReadmeLimitsTable(t *testing.T) {
	doc, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	kib := func(n int) string { return fmt.Sprintf("%d KiB", n>>10) }
	mib := func(n int64) string { return fmt.Sprintf("%d MiB", n>>20) }
	days := func(d time.Duration) string {
		return fmt.Sprintf("%dh (%d days)", int64(d/time.Hour), int64(d/(24*time.Hour)))
	}
	want := map[string]string{
		"scenario.MaxScriptBytes":         mib(scenario.MaxScriptBytes),
		"scenario.MaxYAMLNodes":           fmt.Sprint(scenario.MaxYAMLNodes),
		"scenario.MaxTemplateBytes":       mib(scenario.MaxTemplateBytes),
		"scenario.MaxTemplateExpressions": fmt.Sprint(scenario.MaxTemplateExpressions),
		"scenario.MaxNesting":             fmt.Sprint(scenario.MaxNesting),
		"scenario.MaxPhases":              fmt.Sprint(scenario.MaxPhases),
		"scenario.MaxDuration":            days(scenario.MaxDuration),
		"scenario.MaxArrivalRate":         fmt.Sprintf("%d per second", scenario.MaxArrivalRate),
		"scenario.MaxPhaseArrivals":       fmt.Sprint(scenario.MaxPhaseArrivals),
		"scenario.MaxVUsers":              fmt.Sprint(scenario.MaxVUsers),
		"scenario.MaxProcessVUsers":       fmt.Sprint(scenario.MaxProcessVUsers),
		"scenario.MaxPayloadBytes":        mib(scenario.MaxPayloadBytes),
		"scenario.MaxPayloadRows":         fmt.Sprint(scenario.MaxPayloadRows),
		"scenario.MaxPool":                fmt.Sprint(scenario.MaxPool),
		"scenario.MaxRandomStringLength":  fmt.Sprint(scenario.MaxRandomStringLength),
		"slo.MaxExpression":               fmt.Sprintf("%d bytes", slo.MaxExpression),
		"runner.DefaultMaxBodyBytes":      mib(runner.DefaultMaxBodyBytes),
		"runner.DefaultMaxDecodedBytes":   mib(runner.DefaultMaxDecodedBytes),
		"runner.DefaultTimeout":           runner.DefaultTimeout.String() + ", or `config.http.timeout`",
		"metric.MaxEndpoints":             fmt.Sprint(metric.MaxEndpoints),
		"runner.TraceBodyBytes":           kib(runner.TraceBodyBytes),
		"report.MaxReportBytes":           mib(report.MaxReportBytes),
		"cache.DefaultMaxBytes":           mib(cache.DefaultMaxBytes),
		// A function of the CPUs, so the row states the rule it computes.
		"target.DefaultLoginSlots": "half the CPUs, at least 1",
		"target.MaxBodyBytes":      mib(target.MaxBodyBytes),
		"target.MaxHeaderBytes":    kib(target.MaxHeaderBytes),
		"target.MaxPageSize":       fmt.Sprint(target.MaxPageSize),
	}
	// Numbers the table states in prose, checked against the code too.
	if target.DefaultLoginSlots() != max(1, runtime.GOMAXPROCS(0)/2) {
		t.Errorf("DefaultLoginSlots() = %d, no longer half the CPUs", target.DefaultLoginSlots())
	}
	if cache.EntryOverhead != 96 || target.LoginWait != 100*time.Millisecond {
		t.Errorf("README says 96 B per cache entry and a 100 ms login wait; the code says %d B and %v", cache.EntryOverhead, target.LoginWait)
	}

	table := readmeSection(t, string(doc), "## Limits")
	seen := map[string]bool{}
	for _, line := range strings.Split(table, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 7 || !strings.HasPrefix(line, "| ") {
			continue
		}
		name := strings.Trim(strings.TrimSpace(cells[3]), "`")
		value := strings.TrimSpace(cells[2])
		if name == "" || name == "constant" {
			continue
		}
		w, ok := want[name]
		switch {
		case !ok:
			t.Errorf("README's limits table names %s, which this test does not know", name)
		case value != w:
			t.Errorf("README says %s is %q, the code says %q", name, value, w)
		}
		seen[name] = true
		// A flag the table names must be a real flag of run or serve, and
		// one that sets the limit must default to the value the row shows.
		for _, f := range strings.Fields(strings.TrimSpace(cells[4])) {
			f = strings.Trim(f, "`,")
			if !strings.HasPrefix(f, "--") {
				continue
			}
			flag := lookupFlag(f[2:])
			if flag == nil {
				t.Errorf("README's limits table names flag %s, which neither run nor serve has", f)
				continue
			}
			if def, err := strconv.Atoi(flag.DefValue); err == nil && def > 0 {
				want := flag.DefValue
				if strings.HasSuffix(flag.Name, "-mib") {
					want += " MiB"
				}
				if value != want {
					t.Errorf("README's %s row shows %q, but %s defaults to %q", name, value, f, want)
				}
			}
		}
	}
	for name := range want {
		if !seen[name] {
			t.Errorf("README's limits table has no row for %s", name)
		}
	}
}

// readmeSection returns the text from the heading to the next "## ".
func readmeSection(t *testing.T, doc, heading string) string {
	t.Helper()
	_, rest, ok := strings.Cut(doc, "\n"+heading+"\n")
	if !ok {
		t.Fatalf("README has no %q section", heading)
	}
	if i := strings.Index(rest, "\n## "); i >= 0 {
		rest = rest[:i]
	}
	return rest
}

// lookupFlag returns run's or serve's flag of that name, nil for none.
func lookupFlag(name string) *pflag.Flag {
	root := NewRootCmd(TestState(io.Discard, io.Discard, nil))
	for _, sub := range []string{"run", "serve"} {
		c, _, err := root.Find([]string{sub})
		if err != nil {
			continue
		}
		if f := c.Flags().Lookup(name); f != nil {
			return f
		}
	}
	return nil
}
