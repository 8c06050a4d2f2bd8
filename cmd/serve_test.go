package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/spf13/cobra"
)

// parseWith runs a command's flag handling only, through its runF seam,
// returning the options runF received or the error, with what the command
// printed to stderr (usage errors are printed one per line before the exit
// code). Any command built as newXCmdF(s, runF) fits.
func parseWith[O any](t *testing.T, newCmdF func(*State, func(context.Context, *O) error) *cobra.Command, args []string, env map[string]string) (*O, error) {
	t.Helper()
	var got *O
	var stderr bytes.Buffer
	s := TestState(&bytes.Buffer{}, &stderr, env)
	c := newCmdF(s, func(_ context.Context, o *O) error {
		got = o
		return nil
	})
	c.SetArgs(args)
	c.SetOut(&bytes.Buffer{})
	c.SetErr(&bytes.Buffer{})
	if err := c.ExecuteContext(context.Background()); err != nil {
		return nil, fmt.Errorf("%w: %s", err, stderr.String())
	}
	return got, nil
}

// checkOptions is the shared assertion of the option-parsing tables: either
// an error naming every wantErr, or exactly the want options.
func checkOptions[O any](t *testing.T, got *O, err error, want O, wantErr []string) {
	t.Helper()
	if len(wantErr) > 0 {
		if err == nil {
			t.Fatalf("got options %+v, want an error containing %q", got, wantErr)
		}
		for _, w := range wantErr {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q does not contain %q", err, w)
			}
		}
		return
	}
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
	if !reflect.DeepEqual(*got, want) {
		t.Errorf("options:\n got %+v\nwant %+v", *got, want)
	}
}

func TestServeOptions(t *testing.T) {
	t.Parallel()
	defaults := ServeOptions{Addr: "127.0.0.1:8080", Store: "memory", Cache: "memory", SeedRows: 10_000, DBMaxConns: 10, CacheMaxMiB: 64}
	with := func(f func(*ServeOptions)) ServeOptions { o := defaults; f(&o); return o }
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		want    ServeOptions
		wantErr []string
	}{
		{name: "defaults", want: defaults},
		{
			name: "every flag",
			args: []string{"--addr", "[::1]:9000", "--store", "postgres", "--database-url", "postgres://u@127.0.0.1/db",
				"--cache", "redis", "--redis-url", "redis://127.0.0.1:6379/1", "--seed-rows", "100000", "--db-max-conns", "20",
				"--token", "secret", "--latency", "20ms", "--latency-jitter", "5ms", "--error-rate", "0.01",
				"--cache-max-mib", "512", "--login-slots", "3"},
			want: ServeOptions{Addr: "[::1]:9000", Store: "postgres", DatabaseURL: "postgres://u@127.0.0.1/db", Cache: "redis",
				RedisURL: "redis://127.0.0.1:6379/1", SeedRows: 100_000, DBMaxConns: 20, Token: "secret",
				Latency: 20 * time.Millisecond, LatencyJitter: 5 * time.Millisecond, ErrorRate: 0.01,
				CacheMaxMiB: 512, LoginSlots: 3},
		},
		{
			name: "environment",
			env: map[string]string{"PRIMELOAD_DATABASE_URL": "postgres://env@127.0.0.1/db", "PRIMELOAD_REDIS_URL": "redis://127.0.0.1:6379/2",
				"PRIMELOAD_TOKEN": "envtok", "PRIMELOAD_STORE": "postgres", "PRIMELOAD_CACHE": "redis", "PRIMELOAD_LATENCY": "1s",
				"PRIMELOAD_ERROR_RATE": "0.5", "PRIMELOAD_SEED_ROWS": "5"},
			want: with(func(o *ServeOptions) {
				o.DatabaseURL, o.RedisURL, o.Token, o.Store, o.Cache = "postgres://env@127.0.0.1/db", "redis://127.0.0.1:6379/2", "envtok", "postgres", "redis"
				o.Latency, o.ErrorRate, o.SeedRows = time.Second, 0.5, 5
			}),
		},
		{
			name: "flag beats environment",
			args: []string{"--token", "flagtok", "--seed-rows", "7"},
			env:  map[string]string{"PRIMELOAD_TOKEN": "envtok", "PRIMELOAD_SEED_ROWS": "5"},
			want: with(func(o *ServeOptions) { o.Token, o.SeedRows = "flagtok", 7 }),
		},
		{name: "database url selects postgres", args: []string{"--database-url", "postgres://u@127.0.0.1/db"},
			want: with(func(o *ServeOptions) { o.Store, o.DatabaseURL = "postgres", "postgres://u@127.0.0.1/db" })},
		{name: "redis url selects redis", env: map[string]string{"PRIMELOAD_REDIS_URL": "redis://127.0.0.1:6379/3"},
			want: with(func(o *ServeOptions) { o.Cache, o.RedisURL = "redis", "redis://127.0.0.1:6379/3" })},
		{name: "database url with the memory store", args: []string{"--store", "memory", "--database-url", "postgres://u:hunter2@127.0.0.1/db"},
			wantErr: []string{"--database-url is a PostgreSQL URL but --store memory", "drop one"}},
		{name: "redis url with no cache", args: []string{"--cache", "none", "--redis-url", "redis://127.0.0.1:6379/0"},
			wantErr: []string{"--redis-url is a Redis URL but --cache none"}},
		{name: "redis url given as database url", args: []string{"--database-url", "redis://127.0.0.1:6379/0"},
			wantErr: []string{"--database-url: redis://127.0.0.1:6379/0 is not a postgres URL; give it as --redis-url"}},
		{name: "database url given as redis url", env: map[string]string{"PRIMELOAD_REDIS_URL": "postgres://127.0.0.1/db"},
			wantErr: []string{"PRIMELOAD_REDIS_URL: postgres://127.0.0.1/db is not a redis URL; give it as --database-url"}},
		{name: "not a url", args: []string{"--database-url", "127.0.0.1:5432"},
			wantErr: []string{"--database-url: ", "is not a postgres URL (want postgres://... or postgresql://...)"}},
		{name: "localhost allowed", args: []string{"--addr", "localhost:0"}, want: with(func(o *ServeOptions) { o.Addr = "localhost:0" })},

		{name: "postgres without url", args: []string{"--store", "postgres"}, wantErr: []string{"--store postgres needs --database-url or PRIMELOAD_DATABASE_URL"}},
		{name: "redis without url", env: map[string]string{"PRIMELOAD_CACHE": "redis"}, wantErr: []string{"PRIMELOAD_CACHE redis needs --redis-url"}},
		{name: "unknown store", args: []string{"--store", "mysql"}, wantErr: []string{`--store: "mysql" is not a store (use memory or postgres)`}},
		{name: "unknown cache", args: []string{"--cache", "memcached"}, wantErr: []string{`--cache: "memcached" is not a cache`}},
		{name: "not loopback", args: []string{"--addr", "0.0.0.0:8080"}, wantErr: []string{"--addr", "not a loopback address", "--allow-remote"}},
		{name: "remote by explicit opt-in", args: []string{"--addr", "0.0.0.0:8080", "--allow-remote"}, want: with(func(o *ServeOptions) { o.Addr, o.AllowRemote = "0.0.0.0:8080", true })},
		{name: "remote opt-in from the environment", env: map[string]string{"PRIMELOAD_ADDR": ":8080", "PRIMELOAD_ALLOW_REMOTE": "true"}, want: with(func(o *ServeOptions) { o.Addr, o.AllowRemote = ":8080", true })},
		{name: "no port", args: []string{"--addr", "127.0.0.1"}, wantErr: []string{"--addr", "not HOST:PORT"}},
		{name: "error rate above 1", args: []string{"--error-rate", "2"}, wantErr: []string{"--error-rate", "from 0 to 1"}},
		{name: "error rate not a number from env", env: map[string]string{"PRIMELOAD_ERROR_RATE": "1%"}, wantErr: []string{"PRIMELOAD_ERROR_RATE", "from 0 to 1"}},
		{name: "negative latency", args: []string{"--latency", "-1s"}, wantErr: []string{"--latency: -1s is negative"}},
		{name: "bad seed rows from env", env: map[string]string{"PRIMELOAD_SEED_ROWS": "many"}, wantErr: []string{"PRIMELOAD_SEED_ROWS", "not a whole number"}},
		{name: "pool too small", args: []string{"--db-max-conns", "0"}, wantErr: []string{"--db-max-conns: 0 is out of range"}},
		{name: "cache too small", args: []string{"--cache-max-mib", "0"}, wantErr: []string{"--cache-max-mib: 0 is out of range"}},
		{name: "negative login slots", env: map[string]string{"PRIMELOAD_LOGIN_SLOTS": "-1"}, wantErr: []string{"PRIMELOAD_LOGIN_SLOTS: -1 is out of range"}},
		{name: "arguments", args: []string{"extra"}, wantErr: []string{"unknown command"}},
		{
			name:    "all problems at once",
			args:    []string{"--store", "x", "--cache", "y", "--addr", "10.0.0.1:80", "--latency-jitter", "-1ms"},
			wantErr: []string{"--store", "--cache", "--addr", "--latency-jitter"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseWith(t, newServeCmdF, tt.args, tt.env)
			checkOptions(t, got, err, tt.want, tt.wantErr)
		})
	}
}

// syncBuffer is a bytes.Buffer safe to read while the server writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string { b.mu.Lock(); defer b.mu.Unlock(); return b.b.String() }

// startServe runs `primeload serve args...` with env until the banner
// names its URL, and returns the URL, the output and a stop function that
// sends SIGTERM and returns the exit code.
func startServe(t *testing.T, env map[string]string, args ...string) (base string, out *syncBuffer, stop func() int) {
	t.Helper()
	var errOut syncBuffer
	out = &syncBuffer{}
	s := TestState(out, &errOut, env)
	sigs := make(chan os.Signal, 1)
	s.Signals = sigs
	code := make(chan int, 1)
	go func() {
		code <- Execute(context.Background(), s, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...))
	}()
	stop = func() int {
		sigs <- syscall.SIGTERM
		select {
		case c := <-code:
			return c
		case <-time.After(30 * time.Second):
			t.Fatal("serve did not stop on SIGTERM")
			return -1
		}
	}
	urlRe := regexp.MustCompile(`on (http://127\.0\.0\.1:\d+)`)
	for range 600 { // the PostgreSQL seed may take a while on a loaded machine
		if m := urlRe.FindStringSubmatch(out.String()); m != nil {
			return m[1], out, stop
		}
		select {
		case c := <-code:
			t.Fatalf("serve exited %d before listening: %s%s", c, out.String(), errOut.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	stop()
	t.Fatalf("no start-up banner: %s%s", out.String(), errOut.String())
	return "", nil, nil
}

// getJSON sends GET path with a bearer token and decodes the answer.
func getJSON(t *testing.T, url, token string, v any) int {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if v != nil {
		json.NewDecoder(resp.Body).Decode(v)
	}
	return resp.StatusCode
}

// TestServeEndToEnd starts the real command on a free port, logs in as the
// demo user, uses the fixed token and stops it with SIGTERM.
func TestServeEndToEnd(t *testing.T) {
	base, out, stop := startServe(t, map[string]string{"PRIMELOAD_TOKEN": "fixed-tok"}, "--seed-rows", "100")
	for _, want := range []string{"store memory with 100 goods", "/api/auth/login/", `"username":"demo","password":"demo-pass"`, "--token"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("banner lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "fixed-tok") {
		t.Error("the fixed token was printed")
	}

	resp, err := http.Post(base+"/api/auth/login/", "application/json", strings.NewReader(`{"username":"demo","password":"demo-pass"}`))
	if err != nil {
		t.Fatal(err)
	}
	var tok struct{ Token string }
	json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	for _, bearer := range []string{tok.Token, "fixed-tok"} {
		if code := getJSON(t, base+"/api/dashboard/stats/", bearer, nil); code != 200 {
			t.Errorf("stats with token %.8q...: %d", bearer, code)
		}
	}
	if c := stop(); c != ExitOK || !strings.Contains(out.String(), "stopped") {
		t.Errorf("exit %d, out %q; want 0 and stopped", c, out.String())
	}
}

// TestServePostgresRedis wires serve to the real PostgreSQL and Redis, in a
// schema of its own (search_path in the URL) so the shared database is not
// touched. Unset service URLs skip, except under CI.
func TestServePostgresRedis(t *testing.T) {
	dbURL, redisURL := os.Getenv("PRIMELOAD_TEST_DATABASE_URL"), os.Getenv("PRIMELOAD_TEST_REDIS_URL")
	if dbURL == "" || redisURL == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("PRIMELOAD_TEST_DATABASE_URL and PRIMELOAD_TEST_REDIS_URL must be set under CI")
		}
		t.Skip("PRIMELOAD_TEST_DATABASE_URL or PRIMELOAD_TEST_REDIS_URL is not set")
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	schema := pgx.Identifier{fmt.Sprintf("pl_cmd_serve_%d", time.Now().UnixNano()%1_000_000_000)}
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema.Sanitize()); err != nil {
		t.Fatal(err)
	}
	defer conn.Exec(ctx, "DROP SCHEMA "+schema.Sanitize()+" CASCADE")
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema[0])
	u.RawQuery = q.Encode()

	env := map[string]string{"PRIMELOAD_DATABASE_URL": u.String(), "PRIMELOAD_REDIS_URL": redisURL, "PRIMELOAD_TOKEN": "pg-tok"}
	// The URLs alone choose the postgres store and the redis cache.
	base, out, stop := startServe(t, env, "--seed-rows", "60", "--db-max-conns", "3")
	if want := "store postgres, pool of 3, 60 goods loaded, cache redis"; !strings.Contains(out.String(), want) {
		t.Errorf("banner lacks %q:\n%s", want, out.String())
	}
	var page struct{ Count int }
	for range 2 { // the second answer comes from Redis
		if code := getJSON(t, base+"/api/goods-received/?page_size=1", "pg-tok", &page); code != 200 || page.Count != 60 {
			t.Errorf("list: %d, count %d; want 200 and the 60 seeded goods", code, page.Count)
		}
	}
	var ready struct{ Status string }
	if code := getJSON(t, base+"/readyz", "", &ready); code != 200 || ready.Status != "ready" {
		t.Errorf("readyz: %d %+v", code, ready)
	}
	if c := stop(); c != ExitOK {
		t.Errorf("exit %d, want 0", c)
	}
	var goods int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+schema.Sanitize()+".goods_received").Scan(&goods); err != nil || goods != 60 {
		t.Errorf("goods in the schema: %d, %v; want 60", goods, err)
	}
}

// TestServeRuntimeFailure: valid options but a database that does not
// answer is a runtime failure (exit 4), not invalid input (2).
func TestServeRuntimeFailure(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	code := Execute(ctx, TestState(&out, &errOut, nil), []string{"serve", "--addr", "127.0.0.1:0", "--database-url", "postgres://postgres@127.0.0.1:1/none?connect_timeout=2"})
	if code != ExitRuntime || !strings.Contains(errOut.String(), "connect to database") {
		t.Errorf("exit %d, want %d; stderr:\n%s", code, ExitRuntime, errOut.String())
	}
}
