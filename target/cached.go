package target

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/primeload/primeload/target/cache"
)

// Resource families: a write bumps the generation of each family it
// affects, and every key embeds its family's generation.
const (
	familyGoods     = "goods"     // lists and details
	familyDashboard = "dashboard" // stats and charts
)

// TTLs as in the seed course: 15 minutes for lists, 30 for dashboard stats.
const (
	ttlList  = 15 * time.Minute
	ttlStats = 30 * time.Minute
)

// cacheBackoff is how long the cache is left alone after an error, so a dead
// Redis costs one failed dial per interval instead of one per request.
const cacheBackoff = time.Second

// cacheAside serves responses from a Cache and falls back to the store
// whenever the cache fails, counting each failure.
type cacheAside struct {
	c   Cache // nil: caching off
	m   *metrics
	log *slog.Logger
	// loads coalesces concurrent misses of one key into one store call, so
	// a popular key that expires (or a bumped generation) does not send
	// every waiting request to the database at once.
	loads       singleflight.Group
	loadTimeout time.Duration

	mu        sync.Mutex
	skipUntil time.Time
	// pending holds families whose Bump failed. Until a Bump gets through,
	// the cache may hold answers older than the store, so nothing is read
	// from it.
	pending map[string]bool
}

func newCacheAside(c Cache, m *metrics, log *slog.Logger, loadTimeout time.Duration) *cacheAside {
	return &cacheAside{c: c, m: m, log: log, loadTimeout: loadTimeout, pending: map[string]bool{}}
}

// usable reports whether the cache may be read now, first retrying any
// invalidation that failed before.
func (ca *cacheAside) usable(ctx context.Context) bool {
	if ca.c == nil {
		return false
	}
	ca.mu.Lock()
	defer ca.mu.Unlock()
	if time.Now().Before(ca.skipUntil) {
		return false
	}
	for fam := range ca.pending {
		if err := ca.c.Bump(ctx, fam); err != nil {
			ca.failLocked("bump", err)
			return false
		}
		delete(ca.pending, fam)
	}
	return true
}

func (ca *cacheAside) fail(op string, err error) {
	ca.mu.Lock()
	defer ca.mu.Unlock()
	ca.failLocked(op, err)
}

func (ca *cacheAside) failLocked(op string, err error) {
	ca.m.cacheErrors.WithLabelValues(op).Inc()
	if time.Now().After(ca.skipUntil) {
		ca.log.Warn("cache failed, answering from the store", "op", op, "err", err)
	}
	ca.skipUntil = time.Now().Add(cacheBackoff)
}

// fetch returns the cached answer for key in family, or loads, stores and
// returns it. Cache failures are counted and never reach the client.
func (ca *cacheAside) fetch(ctx context.Context, family, resource, key string, ttl time.Duration, load func(context.Context) ([]byte, error)) ([]byte, error) {
	if !ca.usable(ctx) {
		return load(ctx)
	}
	gen, err := ca.c.Generation(ctx, family)
	if err != nil {
		ca.fail("generation", err)
		return load(ctx)
	}
	// The generation is read before loading: if a write lands meanwhile, it
	// bumps the generation and this possibly stale answer goes under a key
	// nobody reads any more.
	full := family + ":" + strconv.FormatInt(gen, 10) + ":" + key
	val, err := ca.c.Get(ctx, full)
	switch {
	case err == nil:
		ca.m.cacheHits.WithLabelValues(resource).Inc()
		return val, nil
	case errors.Is(err, cache.ErrMiss):
		ca.m.cacheMisses.WithLabelValues(resource).Inc()
	default:
		ca.fail("get", err)
		return load(ctx)
	}
	shared, err, _ := ca.loads.Do(full, func() (any, error) {
		// Shared by every caller waiting on this key: one caller leaving
		// must not fail the others, so only the timeout bounds it.
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ca.loadTimeout)
		defer cancel()
		val, err := load(lctx)
		if err != nil {
			return nil, err
		}
		if err := ca.c.Set(lctx, full, val, ttl); err != nil {
			ca.fail("set", err)
		}
		return val, nil
	})
	if err != nil {
		return nil, err
	}
	return shared.([]byte), nil
}

// invalidate bumps families after a write. A failed bump is remembered and
// retried before the cache is read again.
func (ca *cacheAside) invalidate(ctx context.Context, families ...string) {
	if ca.c == nil {
		return
	}
	for _, fam := range families {
		ca.mu.Lock()
		skipping := time.Now().Before(ca.skipUntil)
		ca.mu.Unlock()
		var err error
		if !skipping {
			err = ca.c.Bump(ctx, fam)
		}
		if skipping || err != nil {
			ca.mu.Lock()
			ca.pending[fam] = true
			if err != nil {
				ca.failLocked("bump", err)
			}
			ca.mu.Unlock()
		}
	}
}
