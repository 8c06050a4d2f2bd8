package cmd

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

func TestWatchInterrupts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name            string
		signals         int
		wantStop        int
		wantKill        int
		wantInterrupted bool
		wantErr         []string
	}{
		{name: "no signal", signals: 0},
		{name: "one signal stops arrivals", signals: 1, wantStop: 1, wantInterrupted: true, wantErr: []string{"interrupt: no new arrivals", "7s to finish"}},
		{name: "second signal kills", signals: 2, wantStop: 1, wantKill: 1, wantInterrupted: true, wantErr: []string{"interrupt again: stopping now"}},
		{name: "third signal changes nothing", signals: 3, wantStop: 1, wantKill: 1, wantInterrupted: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sigs := make(chan os.Signal)
			ctx, cancel := context.WithCancel(context.Background())
			var stops, kills int
			var errOut bytes.Buffer
			done := make(chan bool)
			go func() {
				done <- watchInterrupts(ctx, sigs, &errOut, 7*time.Second, func() { stops++ }, func() { kills++ })
			}()
			for range min(tt.signals, 2) {
				sigs <- os.Interrupt // unbuffered: returns once the watcher took it
			}
			if tt.signals > 2 {
				select {
				case sigs <- os.Interrupt:
					t.Error("a third signal was taken after the run was already killed")
				default:
				}
			}
			cancel()
			got := <-done
			if got != tt.wantInterrupted || stops != tt.wantStop || kills != tt.wantKill {
				t.Errorf("interrupted=%v stops=%d kills=%d, want %v %d %d", got, stops, kills, tt.wantInterrupted, tt.wantStop, tt.wantKill)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(errOut.String(), w) {
					t.Errorf("stderr %q does not contain %q", errOut.String(), w)
				}
			}
		})
	}
}
