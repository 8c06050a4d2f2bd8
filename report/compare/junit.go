package compare

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"

	"github.com/primeload/primeload/report/junit"
)

// ClassCompare groups the comparison's test cases in CI views.
const ClassCompare = "primeload.compare"

// WriteJUnit writes the comparison as JUnit XML: one test case per gated
// figure of each row, failing on a regression; without gates, one passing
// case per row stating its verdict, so CI always shows something.
func WriteJUnit(w io.Writer, r *Result) error {
	s := junit.Suite{
		Name: "primeload compare " + r.Base.File + " -> " + r.New.File, Time: "0",
		Properties: []junit.Property{{Name: "base", Value: r.Base.File}, {Name: "new", Value: r.New.File}, {Name: "settings", Value: r.settings()}},
	}
	for _, row := range r.Rows() {
		gated := false
		for _, d := range row.Diffs {
			if d.Gate == "" {
				continue
			}
			gated = true
			c := cellsOf(d)
			tc := junit.Case{Name: row.Name + ": " + d.Metric, Classname: ClassCompare, Time: "0",
				SystemOut: fmt.Sprintf("%s -> %s, %s, interval %s: %s", c.base, c.new, c.delta, c.interval, d.Why)}
			if d.Status == StatusRegression {
				tc.Failure = &junit.Problem{Message: d.Metric + " " + c.delta + ": " + d.Why, Type: "regression", Text: tc.SystemOut}
				s.Failures++
			}
			s.Cases = append(s.Cases, tc)
		}
		if !gated {
			text := "not compared: measured in the " + row.Only + " run only"
			if row.Only == "" {
				text = "no gates: " + strconv.Itoa(len(row.Diffs)) + " figures compared, none gated"
			}
			s.Cases = append(s.Cases, junit.Case{Name: row.Name, Classname: ClassCompare, Time: "0", SystemOut: text})
		}
	}
	s.Tests = len(s.Cases)
	doc := junit.Suites{Name: "primeload", Tests: s.Tests, Failures: s.Failures, Time: "0", Suites: []junit.Suite{s}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("write comparison junit: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("write comparison junit: %w", err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("write comparison junit: %w", err)
	}
	return nil
}
