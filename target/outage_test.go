package target_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/primeload/primeload/target"
	"github.com/primeload/primeload/target/logistics"
	"github.com/primeload/primeload/target/pgstore"
)

// tcpProxy forwards connections to the real PostgreSQL. Stopping it is a
// database restart as the target sees it, without touching the machine's
// PostgreSQL that other tests share.
type tcpProxy struct {
	t      *testing.T
	addr   string
	to     string
	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]bool
	wg     sync.WaitGroup
	closed bool
}

func startProxy(t *testing.T, to string) *tcpProxy {
	p := &tcpProxy{t: t, addr: "127.0.0.1:0", to: to}
	p.start()
	t.Cleanup(p.stop)
	return p
}

func (p *tcpProxy) start() {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatal(err)
	}
	p.mu.Lock()
	p.ln, p.addr, p.conns, p.closed = ln, ln.Addr().String(), map[net.Conn]bool{}, false
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", p.to)
			if err != nil {
				c.Close()
				continue
			}
			if !p.track(c, up) {
				return
			}
			for _, pair := range [][2]net.Conn{{c, up}, {up, c}} {
				p.wg.Add(1)
				go func() {
					defer p.wg.Done()
					io.Copy(pair[0], pair[1])
					pair[0].Close()
					pair[1].Close()
				}()
			}
		}
	}()
}

func (p *tcpProxy) track(cs ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range cs {
		if p.closed {
			c.Close()
			continue
		}
		p.conns[c] = true
	}
	return !p.closed
}

// stop closes the listener and every connection, and waits for the copiers.
func (p *tcpProxy) stop() {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		p.ln.Close()
		for c := range p.conns {
			c.Close()
		}
	}
	p.mu.Unlock()
	p.wg.Wait()
}

func TestPostgresRestartFailsFastAndRecovers(t *testing.T) {
	real := envURL(t, "PRIMELOAD_TEST_DATABASE_URL")
	u, err := url.Parse(real)
	if err != nil {
		t.Fatal(err)
	}
	p := startProxy(t, u.Host)
	u.Host = p.addr
	store := openPG(t, pgstore.Config{URL: u.String(), MaxConns: 4, ConnectTimeout: time.Second})
	if _, err := store.Seed(context.Background(), 50, testNow); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, store, nil, func(c *target.Config) { c.StoreTimeout = 2 * time.Second })
	list := func() int { return e.do("GET", "/api/goods-received/", "").Code }
	if code := list(); code != 200 {
		t.Fatalf("list before the restart: %d", code)
	}

	p.stop()
	for i := range 5 {
		start := time.Now()
		w := e.do("GET", "/api/goods-received/", "")
		t.Logf("request %d with PostgreSQL down: %d in %v", i, w.Code, time.Since(start))
		if w.Code != 503 || w.Header().Get("Retry-After") == "" {
			t.Errorf("with PostgreSQL down: %d %s, want 503 with Retry-After", w.Code, w.Body)
		}
	}
	if w := e.do("POST", "/api/tracking-updates/", `{"goods_id":5,"status":"in_transit","location":"x"}`); w.Code != 503 {
		t.Errorf("write with PostgreSQL down: %d, want 503", w.Code)
	}
	if w := e.do("GET", "/readyz", ""); w.Code != 503 {
		t.Errorf("readyz with PostgreSQL down: %d, want 503", w.Code)
	}
	if w := e.do("GET", "/healthz", ""); w.Code != 200 {
		t.Errorf("healthz with PostgreSQL down: %d, want 200 (the process is up)", w.Code)
	}

	p.start() // same address: the pool reconnects by itself
	eventually(t, "recovery after PostgreSQL returned", func() bool { return list() == 200 })
	if w := e.do("GET", "/readyz", ""); w.Code != 200 {
		t.Errorf("readyz after recovery: %d", w.Code)
	}
}

func TestPostgresBackendsTerminated(t *testing.T) {
	u, err := url.Parse(envURL(t, "PRIMELOAD_TEST_DATABASE_URL"))
	if err != nil {
		t.Fatal(err)
	}
	// A name of its own, so only this pool's backends are terminated, never
	// those of other tests sharing the database.
	app := uniqueName(t)
	q := u.Query()
	q.Set("application_name", app)
	u.RawQuery = q.Encode()
	store := openPG(t, pgstore.Config{URL: u.String(), MaxConns: 4})
	if _, err := store.Seed(context.Background(), 50, testNow); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, store, nil, nil)
	var wg sync.WaitGroup
	for range 8 { // warm several pool connections at once
		wg.Add(1)
		go func() { defer wg.Done(); e.do("GET", "/api/dashboard/stats/", "") }()
	}
	wg.Wait()
	// What a PostgreSQL restart does to open connections.
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, envURL(t, "PRIMELOAD_TEST_DATABASE_URL"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var killed int
	if err := conn.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1`, app).Scan(&killed); err != nil {
		t.Fatal(err)
	}
	if killed == 0 {
		t.Fatal("no backend of the pool found to terminate")
	}
	codes := map[int]int{}
	for range 20 {
		codes[e.do("GET", "/api/goods-received/", "").Code]++
	}
	t.Logf("terminated %d backends, then: %v", killed, codes)
	for code := range codes {
		if code != 200 && code != 503 {
			t.Errorf("got status %d, want only 200 or 503", code)
		}
	}
	eventually(t, "recovery after backends were terminated", func() bool {
		return e.do("GET", "/api/goods-received/", "").Code == 200
	})
}

func TestPostgresMigrateAndSeedOnce(t *testing.T) {
	ctx := context.Background()
	first := openPG(t, pgstore.Config{})
	schema := uniqueName(t) + "_again"
	t.Cleanup(func() { dropSchema(t, schema) })
	for i, want := range []int{25, 0} { // the second start keeps what is there
		s := openPG(t, pgstore.Config{Schema: schema})
		n, err := s.Seed(ctx, 25, testNow)
		if err != nil || n != want {
			t.Errorf("start %d: seeded %d, %v; want %d", i+1, n, err, want)
		}
		var migrations int
		if err := s.Pool().QueryRow(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&migrations); err != nil || migrations != 1 {
			t.Errorf("start %d: %d migrations recorded, %v; want 1", i+1, migrations, err)
		}
	}
	// Identity sequences moved past the copied ids: a new goods gets id 26.
	s := openPG(t, pgstore.Config{Schema: schema})
	g, err := s.Create(ctx, logistics.NewGoods{Customer: "c", Location: "l", Quantity: 1, Status: "pending", ShippingMark: "m"}, testNow)
	if err != nil || g.ID != 26 {
		t.Errorf("create after seed: id %d, %v; want 26", g.ID, err)
	}
	if err := first.Ping(ctx); err != nil {
		t.Errorf("ping: %v", err)
	}
}

// TestServerErrorsLoggedSparingly checks that a failing store does not
// flood the log: one line however many requests fail within a second.
func TestServerErrorsLoggedSparingly(t *testing.T) {
	var buf bytes.Buffer
	e := newEnv(t, failingStore{memoryStore()}, nil, func(c *target.Config) {
		c.Log = slog.New(slog.NewTextHandler(&buf, nil))
	})
	for range 50 {
		if w := e.do("GET", "/api/dashboard/stats/", ""); w.Code != 503 {
			t.Fatalf("status %d, want 503", w.Code)
		}
	}
	if n := strings.Count(buf.String(), "request failed"); n != 1 {
		t.Errorf("%d log lines for 50 failures within a second, want 1:\n%s", n, buf.String())
	}
	e.clock.Advance(2 * time.Second)
	e.do("GET", "/api/dashboard/stats/", "")
	if n := strings.Count(buf.String(), "request failed"); n != 2 {
		t.Errorf("%d log lines after a quiet second, want 2", n)
	}
	if got := e.metric(t, "primepre_store_errors_total"); got != 51 {
		t.Errorf("store errors counted %v, want 51", got)
	}
}

// failingStore answers every Stats call as an unreachable database would.
type failingStore struct{ target.Store }

func (failingStore) Stats(context.Context, time.Time) (logistics.Stats, error) {
	return logistics.Stats{}, fmt.Errorf("dial: %w", logistics.ErrUnavailable)
}
