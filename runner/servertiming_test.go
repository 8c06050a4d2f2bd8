package runner

import (
	"testing"
	"time"
)

func TestServerTimingTotal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		header string
		want   time.Duration
		ok     bool
	}{
		{"total;dur=123.4", 123400 * time.Microsecond, true},
		{"db;dur=53, app;dur=47.2, total;dur=100", 100 * time.Millisecond, true},
		{"TOTAL;DUR=7, total;dur=9", 7 * time.Millisecond, true}, // the first, case ignored
		{"db;dur=53", 0, false}, // Artillery records -1; we record nothing
		{"total;dur=", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		got, ok := serverTimingTotal([]byte(tt.header))
		if got != tt.want || ok != tt.ok {
			t.Errorf("serverTimingTotal(%q) = %v, %v; want %v, %v", tt.header, got, ok, tt.want, tt.ok)
		}
	}
}
