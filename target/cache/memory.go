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

// DefaultMaxBytes bounds the memory cache by what it holds, not by how many
// entries: entries were capped at 50,000, and list pages of 100 goods under
// distinct start_date values are ~50 KB each, which took a server to 2.5 GB.
const DefaultMaxBytes = 64 << 20

// EntryOverhead is what one entry is charged besides its key and value: the
// map slot, the entry and the slice and string headers, rounded up, so
// millions of tiny values cannot exceed the cap either.
const EntryOverhead = 96

// Memory is a process-local cache with TTLs, safe for concurrent use. The
// bytes of its keys and values plus EntryOverhead each never exceed its cap.
type Memory struct {
	mu      sync.Mutex
	entries map[string]memEntry
	gens    map[string]int64
	max     int64 // bytes
	used    int64 // bytes charged for the entries held
	now     func() time.Time
}

type memEntry struct {
	val     []byte
	expires time.Time
}

// cost is what an entry is charged against the cap.
func cost(key string, val []byte) int64 { return int64(len(key)+len(val)) + EntryOverhead }

// NewMemory returns a cache holding at most maxBytes (DefaultMaxBytes when
// 0 or less), reading time from now (time.Now when nil).
func NewMemory(maxBytes int64, now func() time.Time) *Memory {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	if now == nil {
		now = time.Now
	}
	return &Memory{entries: map[string]memEntry{}, gens: map[string]int64{}, max: maxBytes, now: now}
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

// Set stores val for ttl. Callers must not modify val afterwards. A value
// larger than the whole cap is not stored (the next Get misses).
func (m *Memory) Set(_ context.Context, key string, val []byte, ttl time.Duration) error {
	c := cost(key, val)
	if c > m.max {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if old, ok := m.entries[key]; ok {
		m.used -= cost(key, old.val)
		delete(m.entries, key)
	}
	if m.used+c > m.max {
		m.evict(now, c)
	}
	m.entries[key] = memEntry{val: val, expires: now.Add(ttl)}
	m.used += c
	return nil
}

// evict drops expired entries, and when that frees too little room for
// need bytes, arbitrary ones until a tenth of the cap is free besides:
// entries of old generations are never read again, so losing a few live
// ones only costs a miss, and the slack keeps eviction from running on
// every Set.
func (m *Memory) evict(now time.Time, need int64) {
	for k, e := range m.entries {
		if !now.Before(e.expires) {
			m.used -= cost(k, e.val)
			delete(m.entries, k)
		}
	}
	target := m.max - need - m.max/10
	for k, e := range m.entries {
		if m.used <= target {
			break
		}
		m.used -= cost(k, e.val)
		delete(m.entries, k)
	}
}

// Bytes returns what the stored entries are charged against the cap,
// expired ones included.
func (m *Memory) Bytes() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.used
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
