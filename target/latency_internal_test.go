package target

import (
	"testing"
	"time"
)

func TestAddedLatency(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		base, jitter time.Duration
		u            float64
		want         time.Duration
	}{
		{0, 0, 0.7, 0},
		{20 * ms, 0, 0.3, 20 * ms},
		{20 * ms, 5 * ms, 0, 15 * ms},
		{20 * ms, 5 * ms, 0.5, 20 * ms},
		{20 * ms, 5 * ms, 0.999999, 25*ms - 10*time.Nanosecond},
		{2 * ms, 5 * ms, 0, -3 * ms}, // no sleep: delay treats <= 0 as none
	}
	for _, tt := range tests {
		got := addedLatency(tt.base, tt.jitter, tt.u)
		if d := got - tt.want; d < -10*time.Nanosecond || d > 10*time.Nanosecond {
			t.Errorf("addedLatency(%v, %v, %v) = %v, want %v", tt.base, tt.jitter, tt.u, got, tt.want)
		}
	}
}
