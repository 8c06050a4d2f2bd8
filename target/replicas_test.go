package target_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/primeload/primeload/target"
	"github.com/primeload/primeload/target/cache"
	"github.com/primeload/primeload/target/logistics"
	"github.com/primeload/primeload/target/pgstore"
)

// replicas are two servers sharing one PostgreSQL schema and one Redis key
// space, as the Kubernetes example runs them. a reaches Redis through a
// proxy the test can cut; b directly.
type replicas struct {
	a, b  *env
	proxy *tcpProxy
	store *pgstore.Store
}

// startReplicas starts the pair; wrapA, when set, wraps a's cache.
func startReplicas(t *testing.T, wrapA func(target.Cache) target.Cache, mod func(*target.Config)) *replicas {
	t.Helper()
	redisURL := envURL(t, "PRIMELOAD_TEST_REDIS_URL")
	u, err := url.Parse(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	p := startProxy(t, u.Host)
	viaProxy := *u
	viaProxy.Host = p.addr
	prefix := uniqueName(t) + ":" // one key space for both
	open := func(url string) *cache.Redis {
		c, err := cache.NewRedis(url, prefix)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	schema := uniqueName(t)
	t.Cleanup(func() { dropSchema(t, schema) })
	sa := openPG(t, pgstore.Config{MaxConns: 4, Schema: schema})
	if _, err := sa.Seed(context.Background(), seedRows, testNow); err != nil {
		t.Fatal(err)
	}
	sb := openPG(t, pgstore.Config{MaxConns: 4, Schema: schema})
	var ca target.Cache = open(viaProxy.String())
	if wrapA != nil {
		ca = wrapA(ca)
	}
	return &replicas{a: newEnv(t, sa, ca, mod), b: newEnv(t, sb, open(redisURL), mod), proxy: p, store: sa}
}

// customer reads goods id's customer through e.
func customer(t *testing.T, e *env, id int64) string {
	t.Helper()
	w := e.do("GET", fmt.Sprintf("/api/goods-received/%d/", id), "")
	if w.Code != 200 {
		t.Fatalf("read goods %d: %d %s", id, w.Code, w.Body)
	}
	return decode[logistics.GoodsDetail](t, w).Customer
}

// TestReplicaWithoutRedisLeavesNoStaleCache cuts one replica's link to the
// shared Redis and writes through it. Before, the write was acknowledged
// and the other replica served the old value for as long as it stayed
// cached (seen for 20 s and more). The guarantee now: whatever a replica
// acknowledges, the other serves at once.
func TestReplicaWithoutRedisLeavesNoStaleCache(t *testing.T) {
	r := startReplicas(t, nil, nil)
	const id = 5
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 13))
	patch := func(e *env) (code int, name string, retryAfter string) {
		name = fmt.Sprintf("Customer %08x", rng.Uint32())
		w := e.do("PATCH", fmt.Sprintf("/api/goods-received/%d/", id), jsonBody(map[string]string{"customer": name}))
		return w.Code, name, w.Header().Get("Retry-After")
	}
	// b caches the detail, and serves it from Redis.
	want := customer(t, r.b, id)
	hits := r.b.metric(t, "primepre_cache_hits_total")
	if customer(t, r.b, id) != want || r.b.metric(t, "primepre_cache_hits_total") != hits+1 {
		t.Fatal("b does not serve the detail from the shared cache")
	}

	// Each write on a is either refused, leaving the store as it was, or
	// acknowledged and then seen by b.
	check := func(phase string, code int, name, retryAfter string) (acked bool) {
		t.Helper()
		stored, err := r.store.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case code == 200:
			want = name
			if got := customer(t, r.b, id); got != want {
				t.Errorf("%s: a acknowledged customer %q, b serves %q", phase, want, got)
			}
			return true
		case code == 503 && retryAfter != "":
			if stored.Customer != want {
				t.Errorf("%s: a refused the write but stored %q", phase, stored.Customer)
			}
			if got := customer(t, r.b, id); got != want {
				t.Errorf("%s: b serves %q, want %q", phase, got, want)
			}
			return false
		default:
			t.Fatalf("%s: write answered %d (Retry-After %q), want 200, or 503 with Retry-After", phase, code, retryAfter)
			return false
		}
	}
	if code, name, ra := patch(r.a); !check("link up", code, name, ra) {
		t.Fatal("a refused a write with its Redis link up")
	}

	r.proxy.stop()
	refused := 0
	for range 5 {
		code, name, ra := patch(r.a)
		if !check("link down", code, name, ra) {
			refused++
		}
	}
	if refused == 0 {
		t.Error("every write with a's Redis link down was acknowledged")
	}
	if got := r.a.metric(t, "primepre_writes_refused_total"); got != float64(refused) {
		t.Errorf("refused writes counted %v, want %d", got, refused)
	}
	// b's reads keep coming from the cache meanwhile.
	hits = r.b.metric(t, "primepre_cache_hits_total")
	customer(t, r.b, id)
	customer(t, r.b, id)
	if r.b.metric(t, "primepre_cache_hits_total") <= hits {
		t.Error("b stopped using the cache while only a's link was down")
	}

	r.proxy.start() // same address: a's client redials
	eventually(t, "a acknowledging a write after its link returned", func() bool {
		code, name, ra := patch(r.a)
		return check("link back", code, name, ra)
	})
	for range 3 {
		code, name, ra := patch(r.a)
		if !check("link back", code, name, ra) {
			t.Error("a refused a write after its link returned")
		}
	}
}

// bumpGate is a cache whose Bump fails while failing is set.
type bumpGate struct {
	target.Cache
	failing atomic.Bool
	failed  atomic.Int32
}

func (g *bumpGate) Bump(ctx context.Context, family string) error {
	if g.failing.Load() {
		g.failed.Add(1)
		return fmt.Errorf("bump %s: link cut by the test", family)
	}
	return g.Cache.Bump(ctx, family)
}

// readDuringWrite is a store whose Update lets the other replica read (and
// cache) the old row before committing, and cuts the cache link when asked
// right after: the narrowest window, between the two bumps of a write.
type readDuringWrite struct {
	*pgstore.Store
	during func()
}

func (s *readDuringWrite) Update(ctx context.Context, id int64, p logistics.GoodsPatch, at time.Time) (logistics.Goods, error) {
	s.during()
	return s.Store.Update(ctx, id, p, at)
}

func TestReplicaLinkCutMidWrite(t *testing.T) {
	tests := []struct {
		name string
		// heal is how long after the store write the link comes back;
		// longer than the request's deadline means never during it.
		heal      time.Duration
		wantFresh bool // b serves the new value right after the write
	}{
		{"link back within the request", 150 * time.Millisecond, true},
		{"link back after the request", time.Hour, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gate := &bumpGate{}
			r := startReplicas(t, func(c target.Cache) target.Cache { gate.Cache = c; return gate },
				func(c *target.Config) { c.StoreTimeout = 600 * time.Millisecond })
			const id = 7
			old := customer(t, r.b, id)
			// a's store is wrapped so the cut lands between the bumps.
			ws := &readDuringWrite{Store: r.store}
			ws.during = func() {
				customer(t, r.b, id) // b loads the old row under the new generation
				gate.failing.Store(true)
				if tt.heal < time.Hour {
					time.AfterFunc(tt.heal, func() { gate.failing.Store(false) })
				}
			}
			a := newEnv(t, ws, gate, func(c *target.Config) { c.StoreTimeout = 600 * time.Millisecond })
			w := a.do("PATCH", fmt.Sprintf("/api/goods-received/%d/", id), `{"customer":"Moved on"}`)
			if w.Code != 200 {
				t.Fatalf("write: %d %s; the store has it, so it must be acknowledged", w.Code, w.Body)
			}
			if gate.failed.Load() == 0 {
				t.Fatal("no bump failed: the cut missed the window")
			}
			got := customer(t, r.b, id)
			if tt.wantFresh && got != "Moved on" {
				t.Errorf("b serves %q after a acknowledged the write (link back within the request)", got)
			}
			if !tt.wantFresh && got != old && got != "Moved on" {
				t.Errorf("b serves %q, neither old nor new", got)
			}
			// a never serves its own stale answer...
			if got := customer(t, a, id); got != "Moved on" {
				t.Errorf("a serves %q after its own write", got)
			}
			// ...and once its link is back, its next request publishes the
			// pending bump, so b is fresh too.
			gate.failing.Store(false)
			eventually(t, "b fresh once a reached Redis again", func() bool {
				a.do("GET", "/api/dashboard/stats/", "")
				return customer(t, r.b, id) == "Moved on"
			})
		})
	}
}
