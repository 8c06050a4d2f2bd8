package target

import (
	"context"
	"errors"
	"fmt"
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
	// pending holds families whose Bump failed, each with the value of
	// marks when it was marked. Until a Bump gets through, the cache may
	// hold answers older than the store, so nothing is read from it.
	pending map[string]int64
	marks   int64 // counts pending marks, so a bump clears only older ones
}

func newCacheAside(c Cache, m *metrics, log *slog.Logger, loadTimeout time.Duration) *cacheAside {
	return &cacheAside{c: c, m: m, log: log, loadTimeout: loadTimeout, pending: map[string]int64{}}
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
// returns it. Cache failures are counted and never fail a read (writes: see
// write).
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

// errInvalidationDown refuses a write whose invalidation could not be
// published to the cache: other replicas sharing it would go on serving
// the old answer (a replica whose Redis link was down acknowledged a write
// and another served the old value for 20 s and more).
var errInvalidationDown = errors.New("cache unreachable, so other replicas could not be told of the write")

// invalidationRetry is how often a bump that failed after the store write
// is retried while the request's deadline lasts.
const invalidationRetry = 50 * time.Millisecond

// write runs do, one store write, so that no replica sharing the cache
// serves an answer older than a write this one acknowledged:
//
//   - Before the store is touched, families are bumped. If the cache cannot
//     be reached (or failed within the last cacheBackoff), write returns
//     errInvalidationDown and nothing is written; the client gets 503 with
//     Retry-After.
//   - After do succeeds, families are bumped again, since a replica may
//     have cached what it read from the store meanwhile. That bump is
//     retried until the request's deadline; if the cache stays unreachable
//     the write is still acknowledged (it is stored: a retried POST would
//     store it twice), the families are left pending, and this replica
//     reads nothing from the cache until they are bumped. Only answers
//     another replica loaded from the store during this write's own few
//     milliseconds can then outlive it, until this replica reaches the
//     cache again or their TTL ends.
//
// With no cache configured, do simply runs.
func (ca *cacheAside) write(ctx context.Context, do func() error, families ...string) error {
	if ca.c == nil {
		return do()
	}
	if err := ca.bumpNow(ctx, families, true); err != nil {
		ca.m.writesRefused.Inc()
		return fmt.Errorf("%w: %v", errInvalidationDown, err)
	}
	if err := do(); err != nil {
		return err
	}
	// Pending until bumped, so this replica's own reads skip the cache.
	ca.mu.Lock()
	ca.marks++
	for _, fam := range families {
		ca.pending[fam] = ca.marks
	}
	ca.mu.Unlock()
	for ctx.Err() == nil {
		if ca.bumpNow(ctx, families, false) == nil {
			return nil
		}
		t := time.NewTimer(invalidationRetry)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
	return nil // acknowledged, families left pending: see above
}

// bumpNow bumps families; with backoff, it fails at once while the cache is
// in its backoff. Families it bumps are no longer pending when they were
// marked before it started: this bump is later than the write that marked
// them. A mark made meanwhile may be for a write its INCR preceded.
func (ca *cacheAside) bumpNow(ctx context.Context, families []string, backoff bool) error {
	ca.mu.Lock()
	skipping := backoff && time.Now().Before(ca.skipUntil)
	started := ca.marks
	ca.mu.Unlock()
	if skipping {
		return errors.New("it failed within the last second")
	}
	for _, fam := range families {
		// Not under mu: readers take it for every request.
		if err := ca.c.Bump(ctx, fam); err != nil {
			ca.fail("bump", err)
			return err
		}
		ca.mu.Lock()
		if mark, ok := ca.pending[fam]; ok && mark <= started {
			delete(ca.pending, fam)
		}
		ca.mu.Unlock()
	}
	return nil
}
