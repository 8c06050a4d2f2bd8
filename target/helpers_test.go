package target_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/bcrypt"

	"github.com/primeload/primeload/target"
	"github.com/primeload/primeload/target/cache"
	"github.com/primeload/primeload/target/logistics"
	"github.com/primeload/primeload/target/memstore"
	"github.com/primeload/primeload/target/pgstore"
)

const (
	testToken = "test-token"
	seedRows  = 300
)

// testNow is the fixed clock the seeded data and the server share.
var testNow = time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC)

// clock is a settable time source for token expiry tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// envURL returns a test service URL from the environment. Unset, the test
// skips, except under CI where it fails: CI must exercise the real services.
func envURL(t testing.TB, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not set: CI must run the PostgreSQL and Redis tests", name)
		}
		t.Skipf("%s is not set", name)
	}
	return v
}

var schemaSafe = regexp.MustCompile(`[^a-z0-9]+`)

// uniqueName is a per-test identifier safe as a schema name or key prefix,
// so parallel tests and packages sharing the database do not clash.
func uniqueName(t testing.TB) string {
	n := strings.ToLower(t.Name())
	n = schemaSafe.ReplaceAllString(n, "_")
	if len(n) > 30 {
		n = n[len(n)-30:]
	}
	return fmt.Sprintf("pl_%s_%d", n, time.Now().UnixNano()%1_000_000_000)
}

// openPG opens a store in a fresh schema that is dropped when the test ends.
func openPG(t testing.TB, cfg pgstore.Config) *pgstore.Store {
	t.Helper()
	if cfg.URL == "" {
		cfg.URL = envURL(t, "PRIMELOAD_TEST_DATABASE_URL")
	}
	if cfg.Schema == "" {
		cfg.Schema = uniqueName(t)
		t.Cleanup(func() { dropSchema(t, cfg.Schema) })
	}
	ctx := context.Background()
	s, err := pgstore.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("open postgres store: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

func dropSchema(t testing.TB, schema string) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, os.Getenv("PRIMELOAD_TEST_DATABASE_URL"))
	if err != nil {
		t.Errorf("drop schema %s: %v", schema, err)
		return
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
		t.Errorf("drop schema %s: %v", schema, err)
	}
}

// openRedis returns a Redis cache whose keys are private to the test.
func openRedis(t testing.TB, url string) *cache.Redis {
	t.Helper()
	if url == "" {
		url = envURL(t, "PRIMELOAD_TEST_REDIS_URL")
	}
	c, err := cache.NewRedis(url, uniqueName(t)+":")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// backend is a store and cache combination the handler tests run against.
type backend struct {
	name string
	open func(t *testing.T) (target.Store, target.Cache)
}

func memoryStore() target.Store { return memstore.New(logistics.Generate(seedRows, testNow, 1)) }

var backends = []backend{
	{"memory", func(*testing.T) (target.Store, target.Cache) { return memoryStore(), cache.NewMemory(0, nil) }},
	{"memory-nocache", func(*testing.T) (target.Store, target.Cache) { return memoryStore(), nil }},
	{"postgres-redis", func(t *testing.T) (target.Store, target.Cache) {
		s := openPG(t, pgstore.Config{MaxConns: 4})
		if _, err := s.Seed(context.Background(), seedRows, testNow); err != nil {
			t.Fatal(err)
		}
		return s, openRedis(t, "")
	}},
}

// env starts a server over a fresh instance of the backend.
func (b backend) env(t *testing.T, mod func(*target.Config)) *env {
	s, c := b.open(t)
	return newEnv(t, s, c, mod)
}

// env is one server under test with its clock.
type env struct {
	srv   *target.Server
	clock *clock
}

func newEnv(t testing.TB, store target.Store, c target.Cache, mod func(*target.Config)) *env {
	t.Helper()
	clk := &clock{t: testNow}
	cfg := target.Config{Store: store, Cache: c, Token: testToken, BcryptCost: bcrypt.MinCost, Now: clk.Now}
	if mod != nil {
		mod(&cfg)
	}
	srv, err := target.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &env{srv: srv, clock: clk}
}

// do sends one request through the handler with the test token unless
// headers say otherwise ("Authorization" set to "" sends none).
func (e *env) do(method, path, body string, headers ...string) *httptest.ResponseRecorder {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, r)
	req.Header.Set("Authorization", "Bearer "+testToken)
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i] == "Host" {
			req.Host = headers[i+1] // the server reads r.Host, not the header map
			continue
		}
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
		} else {
			req.Header.Set(headers[i], headers[i+1])
		}
	}
	w := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(w, req)
	return w
}

// decode unmarshals a response body, failing the test on invalid JSON.
func decode[T any](t testing.TB, w *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
		t.Fatalf("response %d is not the JSON expected: %v\n%s", w.Code, err, w.Body)
	}
	return v
}

type listBody struct {
	Count    int               `json:"count"`
	Next     *string           `json:"next"`
	Previous *string           `json:"previous"`
	Results  []logistics.Goods `json:"results"`
}

type errBody struct {
	Error string `json:"error"`
	Field string `json:"field"`
}

// metric reads one sample from /metrics, 0 when absent.
func (e *env) metric(t testing.TB, name string) float64 {
	t.Helper()
	w := e.do("GET", "/metrics", "")
	var sum float64
	for _, line := range strings.Split(w.Body.String(), "\n") {
		if strings.HasPrefix(line, name+" ") || strings.HasPrefix(line, name+"{") || (strings.HasSuffix(name, `"`) && strings.HasPrefix(line, name)) {
			f, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
			if err != nil {
				t.Fatalf("metric line %q: %v", line, err)
			}
			sum += f
		}
	}
	return sum
}

func jsonBody(v any) string {
	var b bytes.Buffer
	json.NewEncoder(&b).Encode(v)
	return b.String()
}

func contextWithCancel(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithCancel(r.Context())
}
