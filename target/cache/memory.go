// Package cache holds the reference target's cache backends: an in-process
// map and Redis. Both answer ErrMiss for absent keys and keep a generation
// number per resource family, which writers bump instead of deleting keys.
package cache

import (
	"context"
	"errors"
	"sync"
	"time"
)

// ErrMiss is returned by Get when the key is absent or expired.
var ErrMiss = errors.New("cache miss")

// DefaultMaxEntries bounds the memory cache so stale generations cannot grow it forever.
const DefaultMaxEntries = 50_000

// Memory is a process-local cache with TTLs, safe for concurrent use.
type Memory struct {
	mu      sync.Mutex
	entries map[string]memEntry
	gens    map[string]int64
	max     int
	now     func() time.Time
}

type memEntry struct {
	val     []byte
	expires time.Time
}

// NewMemory returns a cache holding at most maxEntries values (DefaultMaxEntries
// when 0), reading time from now (time.Now when nil).
func NewMemory(maxEntries int, now func() time.Time) *Memory {
	if maxEntries <= 0 {
		maxEntries = DefaultMaxEntries
	}
	if now == nil {
		now = time.Now
	}
	return &Memory{entries: map[string]memEntry{}, gens: map[string]int64{}, max: maxEntries, now: now}
}

// Get returns the value for key or ErrMiss.
func (m *Memory) Get(_ context.Context, key string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[key]
	if !ok || !m.now().Before(e.expires) {
		return nil, ErrMiss
	}
	return e.val, nil
}

// Set stores val for ttl. Callers must not modify val afterwards.
func (m *Memory) Set(_ context.Context, key string, val []byte, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if _, ok := m.entries[key]; !ok && len(m.entries) >= m.max {
		m.evict(now)
	}
	m.entries[key] = memEntry{val: val, expires: now.Add(ttl)}
	return nil
}

// evict drops expired entries, and when that frees too little, an arbitrary
// tenth: entries of old generations are never read again, so losing a few
// live ones only costs a miss.
func (m *Memory) evict(now time.Time) {
	for k, e := range m.entries {
		if !now.Before(e.expires) {
			delete(m.entries, k)
		}
	}
	drop := len(m.entries) - m.max + m.max/10 + 1
	for k := range m.entries {
		if drop <= 0 {
			break
		}
		delete(m.entries, k)
		drop--
	}
}

// Len returns the number of stored entries, expired ones included.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.entries)
}

// Generation returns the current generation of family.
func (m *Memory) Generation(_ context.Context, family string) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.gens[family], nil
}

// Bump moves family to a new generation, orphaning every key built on the old one.
func (m *Memory) Bump(_ context.Context, family string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.gens[family]++
	return nil
}
