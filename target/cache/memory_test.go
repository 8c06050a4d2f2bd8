package cache_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/primeload/primeload/target/cache"
)

func TestMemory(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	m := cache.NewMemory(10, func() time.Time { return now })
	m.Set(ctx, "a", []byte("1"), time.Minute)
	m.Set(ctx, "b", []byte("2"), time.Hour)

	tests := []struct {
		name    string
		advance time.Duration
		key     string
		want    string // "" means a miss
	}{
		{"fresh", 0, "a", "1"},
		{"absent", 0, "zzz", ""},
		{"just before expiry", 59 * time.Second, "a", "1"},
		{"at expiry", time.Second, "a", ""},
		{"longer ttl still there", 0, "b", "2"},
	}
	for _, tt := range tests {
		now = now.Add(tt.advance)
		got, err := m.Get(ctx, tt.key)
		if tt.want == "" {
			if !errors.Is(err, cache.ErrMiss) {
				t.Errorf("%s: got %q, %v; want ErrMiss", tt.name, got, err)
			}
			continue
		}
		if err != nil || string(got) != tt.want {
			t.Errorf("%s: got %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
}

func TestMemoryGenerations(t *testing.T) {
	ctx := context.Background()
	m := cache.NewMemory(0, nil)
	for i, want := range []int64{0, 1, 2} {
		if i > 0 {
			m.Bump(ctx, "goods")
		}
		if got, _ := m.Generation(ctx, "goods"); got != want {
			t.Errorf("after %d bumps: generation %d, want %d", i, got, want)
		}
	}
	if got, _ := m.Generation(ctx, "dashboard"); got != 0 {
		t.Errorf("bumping goods moved dashboard to %d", got)
	}
}

func TestMemoryIsBounded(t *testing.T) {
	ctx := context.Background()
	m := cache.NewMemory(100, nil)
	for i := range 10_000 {
		m.Set(ctx, fmt.Sprint("k", i), []byte("v"), time.Hour)
	}
	if n := m.Len(); n > 100 {
		t.Errorf("%d entries, want at most 100", n)
	}
	if _, err := m.Get(ctx, "k9999"); err != nil {
		t.Errorf("newest entry evicted: %v", err)
	}
}
