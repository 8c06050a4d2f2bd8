package target_test

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/primeload/primeload/target"
	"github.com/primeload/primeload/target/cache"
	"github.com/primeload/primeload/target/logistics"
)

func TestWriteVisibleWithCache(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			e := b.env(t, nil)
			list := func() listBody { return decode[listBody](t, e.do("GET", "/api/goods-received/?status=pending", "")) }
			stats := func() logistics.Stats { return decode[logistics.Stats](t, e.do("GET", "/api/dashboard/stats/", "")) }
			before, st := list(), stats()
			hits := e.metric(t, "primepre_cache_hits_total")
			if again := list(); again.Count != before.Count {
				t.Fatalf("second read differs: %d vs %d", again.Count, before.Count)
			}
			stats()
			if b.name != "memory-nocache" && e.metric(t, "primepre_cache_hits_total") != hits+2 {
				t.Errorf("repeated reads did not hit the cache")
			}

			w := e.do("POST", "/api/goods-received/", `{"customer":"Fresh Customer","location":"Guangzhou warehouse"}`)
			g := decode[logistics.Goods](t, w)
			after := list()
			if after.Count != before.Count+1 || after.Results[0].ID != g.ID {
				t.Errorf("list after create: count %d (before %d), first %d, want the new goods %d first", after.Count, before.Count, after.Results[0].ID, g.ID)
			}
			if st2 := stats(); st2.TotalShipments != st.TotalShipments+1 || st2.PendingShipments != st.PendingShipments+1 {
				t.Errorf("stats after create: total %d pending %d, want %d %d", st2.TotalShipments, st2.PendingShipments, st.TotalShipments+1, st.PendingShipments+1)
			}

			detail := fmt.Sprintf("/api/goods-received/%d/", g.ID)
			e.do("GET", detail, "") // cache the detail
			e.do("POST", "/api/tracking-updates/", fmt.Sprintf(`{"goods_id":%d,"status":"in_transit","location":"Shanghai port"}`, g.ID))
			if d := decode[logistics.GoodsDetail](t, e.do("GET", detail, "")); d.Status != "in_transit" || len(d.TrackingUpdates) != 1 {
				t.Errorf("detail after tracking update: status %s, %d updates", d.Status, len(d.TrackingUpdates))
			}
			if l := list(); l.Count != before.Count {
				t.Errorf("pending list after the goods moved on: %d, want %d", l.Count, before.Count)
			}
			if st3 := stats(); st3.InTransitShipments != st.InTransitShipments+1 {
				t.Errorf("in transit after tracking update: %d, want %d", st3.InTransitShipments, st.InTransitShipments+1)
			}
			e.do("DELETE", detail, "")
			if st4 := stats(); st4.TotalShipments != st.TotalShipments {
				t.Errorf("total after delete: %d, want %d", st4.TotalShipments, st.TotalShipments)
			}
		})
	}
}

// redisServer runs a private redis-server on a free port that the test can
// kill and start again, never touching the machine's own Redis.
type redisServer struct {
	t    *testing.T
	port int
	dir  string
	cmd  *exec.Cmd
}

func startRedis(t *testing.T) *redisServer {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		envURL(t, "PRIMELOAD_TEST_REDIS_URL") // skip or, under CI, fail like the other service tests
		t.Fatalf("redis-server is not installed: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	r := &redisServer{t: t, port: port, dir: t.TempDir()}
	r.start()
	t.Cleanup(r.kill)
	return r
}

func (r *redisServer) url() string { return "redis://127.0.0.1:" + strconv.Itoa(r.port) + "/0" }

func (r *redisServer) start() {
	r.t.Helper()
	r.cmd = exec.Command("redis-server", "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", r.dir)
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	for range 200 { // up to 10 s for the port to open
		if c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(r.port)); err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.t.Fatal("redis-server did not start")
}

func (r *redisServer) kill() {
	if r.cmd != nil && r.cmd.Process != nil {
		r.cmd.Process.Kill()
		r.cmd.Wait()
		r.cmd = nil
	}
}

// eventually polls cond a bounded number of times.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 100 {
		if cond() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s never happened", what)
}

func TestRedisKilledMidTest(t *testing.T) {
	rs := startRedis(t)
	c := openRedis(t, rs.url())
	if err := c.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, memoryStore(), c, nil)
	read := func() int {
		w := e.do("GET", "/api/goods-received/?page_size=5", "")
		if w.Code != 200 {
			t.Fatalf("list: %d %s", w.Code, w.Body)
		}
		return decode[listBody](t, w).Count
	}
	read()
	read()
	if e.metric(t, "primepre_cache_hits_total") < 1 {
		t.Fatal("no cache hit while Redis was up")
	}

	// Readers keep the API busy through the kill and the return; not one
	// of their requests may fail.
	stop := make(chan struct{})
	var failed, served atomic.Int64
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				w := e.do("GET", "/api/dashboard/stats/", "")
				served.Add(1)
				if w.Code != 200 {
					failed.Add(1)
				}
			}
		}()
	}
	defer func() {
		close(stop)
		wg.Wait()
		t.Logf("%d background requests during the outage, %d failed", served.Load(), failed.Load())
		if failed.Load() > 0 {
			t.Errorf("%d of %d requests failed while Redis went away and came back", failed.Load(), served.Load())
		}
	}()

	rs.kill()
	for range 20 {
		if got := read(); got != seedRows {
			t.Fatalf("count with Redis down = %d, want %d", got, seedRows)
		}
	}
	// A write while Redis is away could not tell other replicas sharing it:
	// refused, and nothing written.
	if w := e.do("POST", "/api/goods-received/", `{"customer":"During outage","location":"Tema port"}`); w.Code != 503 || w.Header().Get("Retry-After") == "" {
		t.Fatalf("create with Redis down: %d %s, want 503 with Retry-After", w.Code, w.Body)
	}
	if got := read(); got != seedRows {
		t.Errorf("count after a refused write with Redis down = %d, want %d", got, seedRows)
	}
	if e.metric(t, "primepre_cache_errors_total") < 1 {
		t.Error("cache errors not counted")
	}
	if w := e.do("GET", "/readyz", ""); w.Code != 200 {
		t.Errorf("readyz with Redis down: %d; the store still answers", w.Code)
	}

	rs.start()
	eventually(t, "a write accepted after Redis returned", func() bool {
		return e.do("POST", "/api/goods-received/", `{"customer":"After outage","location":"Tema port"}`).Code == 201
	})
	hits := e.metric(t, "primepre_cache_hits_total")
	eventually(t, "cache hits after Redis returned", func() bool {
		if got := read(); got != seedRows+1 {
			t.Fatalf("count after Redis returned = %d, want %d", got, seedRows+1)
		}
		return e.metric(t, "primepre_cache_hits_total") > hits
	})
}

// gatedStore counts Stats calls and holds each until release is closed.
type gatedStore struct {
	target.Store
	calls   atomic.Int32
	release chan struct{}
}

func (g *gatedStore) Stats(ctx context.Context, now time.Time) (logistics.Stats, error) {
	g.calls.Add(1)
	<-g.release
	return g.Store.Stats(ctx, now)
}

func TestConcurrentMissesLoadOnce(t *testing.T) {
	store := &gatedStore{Store: memoryStore(), release: make(chan struct{})}
	e := newEnv(t, store, cache.NewMemory(0, nil), nil)
	const n = 20
	codes := make(chan int, n)
	for range n {
		go func() { codes <- e.do("GET", "/api/dashboard/stats/", "").Code }()
	}
	eventually(t, "all requests waiting", func() bool { return e.metric(t, "primepre_http_requests_in_flight") >= n+1 })
	close(store.release)
	for range n {
		if code := <-codes; code != 200 {
			t.Errorf("status %d", code)
		}
	}
	if got := store.calls.Load(); got != 1 {
		t.Errorf("store computed stats %d times for %d concurrent misses, want once", got, n)
	}
}

// TestMemoryCacheBoundedByBytes replays the attack that took a server to
// 2.55 GB: full pages under ever new start_date values, each a new cache
// key. The cache must hold no more than its byte cap however many keys come.
func TestMemoryCacheBoundedByBytes(t *testing.T) {
	const capBytes = 1 << 20
	c := cache.NewMemory(capBytes, nil)
	e := newEnv(t, memoryStore(), c, nil)
	day := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	var sent int64
	const n = 300
	for i := range n {
		q := "/api/goods-received/?page_size=100&start_date=" + day.AddDate(0, 0, -i).Format(time.DateOnly)
		w := e.do("GET", q, "")
		if w.Code != 200 {
			t.Fatalf("%s: %d %s", q, w.Code, w.Body)
		}
		sent += int64(w.Body.Len())
		if b := c.Bytes(); b > capBytes {
			t.Fatalf("after %d distinct pages the cache holds %d bytes, cap %d", i+1, b, capBytes)
		}
	}
	t.Logf("%d pages, %d bytes answered; cache holds %d entries, %d bytes", n, sent, c.Len(), c.Bytes())
	if sent < 4*capBytes {
		t.Fatalf("only %d bytes answered: the test does not go past the cap", sent)
	}
	if c.Len() >= n || c.Len() == 0 {
		t.Errorf("%d entries for %d distinct pages: want some, not all, kept", c.Len(), n)
	}
}
