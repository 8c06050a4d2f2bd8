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
	m := cache.NewMemory(1<<10, func() time.Time { return now })
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
	const max = 64 << 10
	tests := []struct {
		name  string
		value int // bytes per value
	}{
		{"tiny values are charged their overhead", 1},
		{"list pages", 5_000},
		{"a value near the cap", max - 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := cache.NewMemory(max, nil)
			val := make([]byte, tt.value)
			var last string
			for i := range 2_000 {
				last = fmt.Sprint("k", i)
				m.Set(ctx, last, val, time.Hour)
				if b := m.Bytes(); b > max {
					t.Fatalf("after %d sets: %d bytes held, cap %d", i+1, b, max)
				}
			}
			if _, err := m.Get(ctx, last); err != nil {
				t.Errorf("newest entry evicted: %v", err)
			}
			// The charge is what the entries are: keys, values, overhead.
			if want := int64(m.Len()) * (int64(len(last)+tt.value) + cache.EntryOverhead); m.Bytes() > want || m.Bytes() < want-int64(m.Len())*4 {
				t.Errorf("%d entries charged %d bytes, want about %d", m.Len(), m.Bytes(), want)
			}
		})
	}
}

func TestMemoryCharges(t *testing.T) {
	ctx := context.Background()
	m := cache.NewMemory(1<<20, nil)
	m.Set(ctx, "k", make([]byte, 1000), time.Hour)
	m.Set(ctx, "k", make([]byte, 10), time.Hour) // replacing refunds the old value
	if got, want := m.Bytes(), int64(1+10+cache.EntryOverhead); got != want {
		t.Errorf("after replacing a value: %d bytes, want %d", got, want)
	}
	m.Set(ctx, "huge", make([]byte, 2<<20), time.Hour)
	if _, err := m.Get(ctx, "huge"); !errors.Is(err, cache.ErrMiss) {
		t.Errorf("a value larger than the cap was stored: %v", err)
	}
	if _, err := m.Get(ctx, "k"); err != nil {
		t.Errorf("a value larger than the cap evicted the others: %v", err)
	}
}
