package report

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Part is one report given to a merge and the file it was read from, so a
// refusal can name the files.
type Part struct {
	Name   string
	Report *Report
}

// CheckParts reports every reason the parts are not the parts of one
// distributed run, naming the files: different scripts, a whole run among
// them (a whole run already sent the schedule each part sends a share of),
// the same segment twice, segments of different splits (they overlap), and
// a split with segments missing. Merge sums whatever it is given; this is
// what keeps `primeload report` from summing the wrong files.
func CheckParts(parts []Part) error {
	var errs []error
	first := parts[0]
	for _, p := range parts[1:] {
		if !sameScript(first.Report.Script, p.Report.Script) {
			errs = append(errs, fmt.Errorf("%s is of script %s, %s of %s: parts of one run share one script",
				p.Name, scriptName(p.Report.Script), first.Name, scriptName(first.Report.Script)))
		}
	}
	var whole []string
	bySplit := map[int][]int{}  // N -> the parts' indexes
	seen := map[string]string{} // "i/N" -> the first file
	for _, p := range parts {
		seg := p.Report.Segment
		if seg == "" {
			whole = append(whole, p.Name)
			continue
		}
		idx, n, ok := parseSegment(seg)
		if !ok {
			errs = append(errs, fmt.Errorf("%s: segment %q is not i/N", p.Name, seg))
			continue
		}
		if prev, dup := seen[seg]; dup {
			errs = append(errs, fmt.Errorf("%s and %s are both segment %s: the same part given twice would count its load twice", prev, p.Name, seg))
			continue
		}
		seen[seg] = p.Name
		bySplit[n] = append(bySplit[n], idx)
	}
	switch {
	case len(whole) > 0 && len(whole) < len(parts):
		errs = append(errs, fmt.Errorf("%s: a whole run (no --segment) mixed with segments of a run: the whole run already sent every segment's load", strings.Join(whole, ", ")))
	case len(whole) > 1:
		errs = append(errs, fmt.Errorf("%s: each is a whole run (no --segment), so each sent the whole schedule: merged, the load would count %d times", strings.Join(whole, ", "), len(whole)))
	}
	if len(bySplit) > 1 {
		var splits []string
		for _, n := range slices.Sorted(maps.Keys(bySplit)) {
			splits = append(splits, "/"+strconv.Itoa(n))
		}
		errs = append(errs, fmt.Errorf("segments of different splits (%s) overlap: give the parts of one --segment i/N run", strings.Join(splits, ", ")))
	} else {
		for n, have := range bySplit {
			var missing []string
			for i := 1; i <= n; i++ {
				if !slices.Contains(have, i) {
					missing = append(missing, fmt.Sprintf("%d/%d", i, n))
				}
			}
			if len(missing) > 0 {
				errs = append(errs, fmt.Errorf("segment %s missing: the run was split in %d and %d parts were given", strings.Join(missing, ", "), n, len(have)))
			}
		}
	}
	return errors.Join(errs...)
}

// parseSegment reads a report's "i/N" segment.
func parseSegment(s string) (i, n int, ok bool) {
	a, b, found := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	return i, n, found && err1 == nil && err2 == nil && n >= 1 && i >= 1 && i <= n
}
