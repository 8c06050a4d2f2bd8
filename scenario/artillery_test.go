package scenario

import (
	"strings"
	"testing"
	"time"
)

// TestArtilleryDurations: every form of Artillery's duration grammar (the
// ms package) that its examples use, and Go's forms, read as the same
// length (issue 18).
func TestArtilleryDurations(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
	}{
		{`"10min"`, 10 * time.Minute},
		{`"5min"`, 5 * time.Minute},
		{`"0.5 min"`, 30 * time.Second},
		{`"9 seconds"`, 9 * time.Second},
		{`"2 hrs"`, 2 * time.Hour},
		{`"1 hour"`, time.Hour},
		{`"3Mins"`, 3 * time.Minute},
		{`"1d"`, 24 * time.Hour},
		{`"2 weeks"`, 14 * 24 * time.Hour},
		{`"250 msecs"`, 250 * time.Millisecond},
		{`".5s"`, 500 * time.Millisecond},
		{`"90s"`, 90 * time.Second},
		{`"1h30m"`, 90 * time.Minute}, // Go's form, which ms does not read
		{`"1500us"`, 1500 * time.Microsecond},
		{`"120"`, 2 * time.Minute}, // a whole number in a string: seconds, as in Artillery
		{`45`, 45 * time.Second},
		{`2.5`, 2500 * time.Millisecond},
	}
	for _, tt := range tests {
		src := script("  phases: [{duration: "+tt.in+", arrivalRate: 1}]\n", "      - think: "+tt.in+"\n")
		s, err := Parse("d.yml", []byte(src), LoadOptions{})
		if err != nil {
			t.Errorf("duration %s: %v", tt.in, err)
			continue
		}
		if got := s.Config.Phases[0].Duration; got != tt.want {
			t.Errorf("phase duration %s = %v, want %v", tt.in, got, tt.want)
		}
		if got := s.Scenarios[0].Flow[0].Think; got != tt.want {
			t.Errorf("think %s = %v, want %v", tt.in, got, tt.want)
		}
	}
	for _, bad := range []string{`"ten minutes"`, `"5 parsecs"`, `"-1 min"`, `"0 min"`, `"1.2.3s"`, `"2 years"`, `"min"`} {
		src := script("  phases: [{duration: "+bad+", arrivalRate: 1}]\n", "      - get: {url: /}\n")
		if got := parseErr(t, "d.yml", src); !strings.Contains(got, "config.phases[0].duration: must be") {
			t.Errorf("duration %s: %q", bad, got)
		}
	}
}

// TestDefaultPhase: without config.phases a script runs one virtual user
// once, Artillery's default for functional tests (issue 18); an
// environment's phases still replace it.
func TestDefaultPhase(t *testing.T) {
	src := "config:\n  target: http://127.0.0.1:8080\n  environments:\n    load: {phases: [{duration: 60, arrivalRate: 5}]}\n" +
		"scenarios:\n  - flow:\n      - get: {url: /}\n"
	s, err := Parse("f.yml", []byte(src), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s.Config.Phases, []Phase{{Kind: PhaseCount, Duration: time.Second, ArrivalCount: 1, Line: 2}}; len(got) != 1 || got[0] != want[0] {
		t.Errorf("phases = %+v, want %+v", got, want)
	}
	s, err = Parse("f.yml", []byte(src), LoadOptions{Environment: "load"})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Config.Phases; len(got) != 1 || got[0].Kind != PhaseConstant || got[0].ArrivalRate != 5 {
		t.Errorf("phases with -e load = %+v", got)
	}
	// An empty list is still a mistake, not a request for the default.
	if got := parseErr(t, "f.yml", script("  phases: []\n", "      - get: {url: /}\n")); !strings.Contains(got, "config.phases: must hold at least one phase") {
		t.Errorf("phases: [] = %q", got)
	}
}
