package target_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/primeload/primeload/target"
	"github.com/primeload/primeload/target/cache"
	"github.com/primeload/primeload/target/logistics"
	"github.com/primeload/primeload/target/memstore"
	"github.com/primeload/primeload/target/pgstore"
)

// benchRows is the table size of the seed course's "database query time <
// 100 ms" goal as the issue states it.
const benchRows = 100_000

// benchSchema keeps the 100,000 benchmark rows between runs, so only the
// first run pays for the COPY.
const benchSchema = "primeload_bench_target"

type benchBackend struct {
	name  string
	store func(b *testing.B) target.Store
	cache func(b *testing.B) target.Cache
}

func benchBackends() []benchBackend {
	var mem target.Store
	memory := func(*testing.B) target.Store {
		if mem == nil {
			mem = memstore.New(logistics.Generate(benchRows, testNow, 1))
		}
		return mem
	}
	postgres := func(b *testing.B) target.Store {
		s := openPG(b, pgstore.Config{Schema: benchSchema, MaxConns: 8})
		if _, err := s.Seed(context.Background(), benchRows, testNow); err != nil {
			b.Fatal(err)
		}
		return s
	}
	none := func(*testing.B) target.Cache { return nil }
	return []benchBackend{
		{"memory/uncached", memory, none},
		{"memory/cached", memory, func(*testing.B) target.Cache { return cache.NewMemory(0, nil) }},
		{"postgres/uncached", postgres, none},
		{"postgres/cached-redis", postgres, func(b *testing.B) target.Cache { return openRedis(b, "") }},
	}
}

func benchGet(b *testing.B, path string) {
	for _, bb := range benchBackends() {
		b.Run(bb.name, func(b *testing.B) {
			e := newEnv(b, bb.store(b), bb.cache(b), nil)
			h := e.srv.Handler()
			req := httptest.NewRequest("GET", path, nil)
			req.Header.Set("Authorization", "Bearer "+testToken)
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != 200 {
					b.Fatalf("status %d: %s", w.Code, w.Body)
				}
			}
		})
	}
}

func BenchmarkList(b *testing.B) { benchGet(b, "/api/goods-received/?page=3") }

func BenchmarkListFiltered(b *testing.B) {
	benchGet(b, "/api/goods-received/?status=in_transit&location=Shanghai+port&page_size=50")
}

func BenchmarkStats(b *testing.B) { benchGet(b, "/api/dashboard/stats/") }

func BenchmarkCharts(b *testing.B) { benchGet(b, "/api/dashboard/charts/") }

// BenchmarkStatsQuery times the uncached stats statement alone on PostgreSQL
// and logs its EXPLAIN ANALYZE, the evidence for the < 100 ms goal.
func BenchmarkStatsQuery(b *testing.B) {
	s := openPG(b, pgstore.Config{Schema: benchSchema, MaxConns: 2})
	ctx := context.Background()
	if _, err := s.Seed(ctx, benchRows, testNow); err != nil {
		b.Fatal(err)
	}
	sql, args := pgstore.StatsSQL(testNow)
	rows, err := s.Pool().Query(ctx, "EXPLAIN (ANALYZE, BUFFERS) "+sql, args...)
	if err != nil {
		b.Fatal(err)
	}
	var plan []string
	for rows.Next() {
		var line string
		rows.Scan(&line)
		plan = append(plan, line)
	}
	b.Logf("EXPLAIN ANALYZE on %d rows:\n%s", benchRows, strings.Join(plan, "\n"))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Stats(ctx, testNow); err != nil {
			b.Fatal(err)
		}
	}
}
