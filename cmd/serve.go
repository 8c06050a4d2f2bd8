package cmd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/primeload/primeload/target"
	"github.com/primeload/primeload/target/cache"
	"github.com/primeload/primeload/target/logistics"
	"github.com/primeload/primeload/target/memstore"
	"github.com/primeload/primeload/target/pgstore"
)

// ServeOptions is everything `primeload serve` needs, resolved from flags,
// the PRIMELOAD_* environment and primeload.yaml.
type ServeOptions struct {
	Addr          string // host:port to listen on; loopback unless AllowRemote
	AllowRemote   bool   // listen on an address other machines can reach (a pod's)
	Store         string // memory or postgres
	DatabaseURL   string // for the postgres store
	Cache         string // none, memory or redis
	RedisURL      string // for the redis cache
	SeedRows      int    // synthetic goods to start with
	DBMaxConns    int    // PostgreSQL pool size
	Token         string // fixed bearer token accepted besides issued ones
	Latency       time.Duration
	LatencyJitter time.Duration
	ErrorRate     float64
	CacheMaxMiB   int // memory cache cap
	LoginSlots    int // password checks at once; 0: half the CPUs
}

func newServeCmd(s *State) *cobra.Command {
	return newServeCmdF(s, func(ctx context.Context, opts *ServeOptions) error {
		return runServe(ctx, s, opts)
	})
}

// newServeCmdF builds the serve command with runF doing the work, so tests
// can check flag parsing without starting a server.
func newServeCmdF(s *State, runF func(context.Context, *ServeOptions) error) *cobra.Command {
	c := &cobra.Command{
		Use:   "serve",
		Short: "Run PRIMEPRE, the reference logistics API, as a target to load test",
		Long: `Serve PRIMEPRE, the logistics backend of the seed course, on a loopback
address: goods received, tracking updates, dashboard stats, token login.
The memory store needs no set-up; --database-url (PostgreSQL) and
--redis-url (Redis) use the real services, as the course's lessons on
indexes and caching do: a database URL selects the postgres store and a
Redis URL the redis cache.

Log in as demo / demo-pass for a token, or fix one with --token
(PRIMELOAD_TOKEN) so scripts can send Bearer {{ $processEnvironment.API_TOKEN }}.
Every flag is also a PRIMELOAD_* variable (--database-url is
PRIMELOAD_DATABASE_URL) and a key of the settings file (--settings).
Ctrl-C or SIGTERM stops accepting, drains in-flight requests and exits 0;
during seeding it exits 130. An unreachable database exits 4.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			opts, err := serveOptions(s, c)
			if err != nil {
				return &ExitError{Code: ExitUsage, Err: err}
			}
			return runF(c.Context(), opts)
		},
	}
	addSettingsFlag(c)
	f := c.Flags()
	f.String("addr", "127.0.0.1:8080", "`HOST:PORT` to listen on, loopback unless --allow-remote")
	boolFlag(f, "allow-remote", "", "allow a non-loopback --addr (e.g. 0.0.0.0:8080 in a Kubernetes pod); the demo password is public, so keep such a target private")
	f.String("store", "memory", "where goods live: memory, or postgres (the default when --database-url is given)")
	f.String("database-url", "", "PostgreSQL `URL` (postgres://user@127.0.0.1:5432/db); selects --store postgres")
	f.String("cache", "memory", "response cache: none, memory, or redis (the default when --redis-url is given)")
	f.String("redis-url", "", "Redis `URL` (redis://127.0.0.1:6379/0); selects --cache redis")
	intFlag(f, "seed-rows", target.DefaultSeedRows, "synthetic goods to start with (postgres: only into an empty table)")
	intFlag(f, "db-max-conns", 10, "PostgreSQL connection pool size")
	f.String("token", "", "fixed bearer `TOKEN` accepted besides those login issues")
	durationFlag(f, "latency", 0, "added to every /api/ response, e.g. 20ms")
	durationFlag(f, "latency-jitter", 0, "the added latency varies by ± this much")
	floatFlag(f, "error-rate", 0, "share of /api/ requests answered 503, 0 to 1 (e.g. 0.01)")
	intFlag(f, "cache-max-mib", cache.DefaultMaxBytes>>20, "memory cache size in MiB (keys, values and a fixed overhead per entry)")
	intFlag(f, "login-slots", 0, "password checks run at once, the rest answered 503 after 100ms; 0 means half the CPUs")
	return c
}

// serveOptions resolves and checks the options, reporting every problem at once.
func serveOptions(s *State, c *cobra.Command) (*ServeOptions, error) {
	st, err := loadSettings(s, c)
	if err != nil {
		return nil, err
	}
	o := &ServeOptions{
		Addr:        st.String("addr"),
		Store:       st.String("store"),
		DatabaseURL: st.String("database-url"),
		Cache:       st.String("cache"),
		RedisURL:    st.String("redis-url"),
		Token:       st.String("token"),
	}
	var errs []error
	collect := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	o.AllowRemote, err = st.Bool("allow-remote")
	collect(err)
	o.SeedRows, err = st.Int("seed-rows")
	collect(err)
	if err == nil && (o.SeedRows < 0 || o.SeedRows > 10_000_000) {
		collect(st.errorf("seed-rows", "%d is out of range (0 to 10000000)", o.SeedRows))
	}
	o.DBMaxConns, err = st.Int("db-max-conns")
	collect(err)
	if err == nil && (o.DBMaxConns < 1 || o.DBMaxConns > 1000) {
		collect(st.errorf("db-max-conns", "%d is out of range (1 to 1000)", o.DBMaxConns))
	}
	o.CacheMaxMiB, err = st.Int("cache-max-mib")
	collect(err)
	if err == nil && (o.CacheMaxMiB < 1 || o.CacheMaxMiB > 1<<20) {
		collect(st.errorf("cache-max-mib", "%d is out of range (1 to 1048576)", o.CacheMaxMiB))
	}
	o.LoginSlots, err = st.Int("login-slots")
	collect(err)
	if err == nil && (o.LoginSlots < 0 || o.LoginSlots > 1024) {
		collect(st.errorf("login-slots", "%d is out of range (0 to 1024)", o.LoginSlots))
	}
	o.Latency, err = st.Duration("latency")
	collect(err)
	if err == nil && o.Latency < 0 {
		collect(st.errorf("latency", "%s is negative", o.Latency))
	}
	o.LatencyJitter, err = st.Duration("latency-jitter")
	collect(err)
	if err == nil && o.LatencyJitter < 0 {
		collect(st.errorf("latency-jitter", "%s is negative", o.LatencyJitter))
	}
	o.ErrorRate, err = strconv.ParseFloat(strings.TrimSpace(st.String("error-rate")), 64)
	if err != nil || !(o.ErrorRate >= 0 && o.ErrorRate <= 1) {
		collect(st.errorf("error-rate", "%q is not a share from 0 to 1 (e.g. 0.01)", st.String("error-rate")))
	}
	// A URL chooses its backend: a --database-url that silently fed the
	// memory store made a whole lesson measure the wrong thing.
	collect(backendURL(st, "database-url", "postgres", []string{"postgres://", "postgresql://"}, "redis-url", []string{"redis://", "rediss://", "unix://"}))
	collect(backendURL(st, "redis-url", "redis", []string{"redis://", "rediss://", "unix://"}, "database-url", []string{"postgres://", "postgresql://"}))
	if o.DatabaseURL != "" && !st.IsSet("store") {
		o.Store = "postgres"
	}
	if o.RedisURL != "" && !st.IsSet("cache") {
		o.Cache = "redis"
	}
	switch o.Store {
	case "memory":
		if o.DatabaseURL != "" {
			collect(fmt.Errorf("%s is a PostgreSQL URL but %s memory keeps goods in memory: drop one, or use --store postgres", st.source("database-url"), st.source("store")))
		}
	case "postgres":
		if o.DatabaseURL == "" {
			collect(fmt.Errorf("%s postgres needs --database-url or PRIMELOAD_DATABASE_URL", st.source("store")))
		}
	default:
		collect(st.errorf("store", "%q is not a store (use memory or postgres)", o.Store))
	}
	switch o.Cache {
	case "none", "memory":
		if o.RedisURL != "" {
			collect(fmt.Errorf("%s is a Redis URL but %s %s does not use Redis: drop one, or use --cache redis", st.source("redis-url"), st.source("cache"), o.Cache))
		}
	case "redis":
		if o.RedisURL == "" {
			collect(fmt.Errorf("%s redis needs --redis-url or PRIMELOAD_REDIS_URL", st.source("cache")))
		}
	default:
		collect(st.errorf("cache", "%q is not a cache (use none, memory or redis)", o.Cache))
	}
	if err := checkAddr(o.Addr, o.AllowRemote); err != nil {
		collect(st.errorf("addr", "%v", err))
	}
	return o, errors.Join(errs...)
}

// backendURL checks that the URL in key has one of the schemes its backend
// takes, and points to the other flag when it is the other backend's URL.
func backendURL(st *settings, key, backend string, schemes []string, otherKey string, otherSchemes []string) error {
	u := strings.TrimSpace(st.String(key))
	if u == "" {
		return nil
	}
	has := func(ss []string) bool {
		return slices.ContainsFunc(ss, func(p string) bool { return strings.HasPrefix(strings.ToLower(u), p) })
	}
	switch {
	case has(schemes):
		return nil
	case has(otherSchemes):
		return st.errorf(key, "%s is not a %s URL; give it as --%s", redactURL(u), backend, otherKey)
	}
	return st.errorf(key, "%s is not a %s URL (want %s...)", redactURL(u), backend, strings.Join(schemes, "... or "))
}

// redactURL hides a URL's password in messages.
func redactURL(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	return "the value"
}

// checkAddr refuses, unless allowRemote, addresses other machines could
// reach: the reference target has a published demo password and exists to be
// hammered locally. A Kubernetes pod must listen on its own address, so the
// opt-in exists for examples/k8s.
func checkAddr(addr string, allowRemote bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not HOST:PORT", addr)
	}
	if allowRemote {
		return nil
	}
	if !isLoopbackHost(host) {
		return fmt.Errorf("%q is not a loopback address (use 127.0.0.1:PORT, [::1]:PORT or localhost:PORT, or --allow-remote)", addr)
	}
	return nil
}

// runServe serves until ctx ends or a signal arrives, then drains. A
// failure once the options were valid (a busy port, an unreachable
// database) exits ExitRuntime; an interrupt before serving exits 130.
func runServe(parent context.Context, s *State, o *ServeOptions) error {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	log := slog.New(slog.NewTextHandler(s.Err, &slog.HandlerOptions{Level: slog.LevelWarn}))

	// Signals are heard from the start: seeding a large database takes a while.
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		select {
		case sig := <-s.Signals:
			fmt.Fprintf(s.Err, "primeload: %s: stopping; in-flight requests are drained\n", sig)
			cancel()
		case <-ctx.Done():
			if parent.Err() != nil {
				fmt.Fprintln(s.Err, "primeload: interrupted: stopping; in-flight requests are drained")
			}
		}
	}()
	defer func() { cancel(); <-watched }()

	// Listen first, so a busy port fails before a long seed.
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", o.Addr)
	if ierr := interrupted(ctx, "starting"); ierr != nil {
		if err == nil {
			ln.Close()
		}
		return ierr
	}
	if err != nil {
		return &ExitError{Code: ExitRuntime, Err: fmt.Errorf("listen on %s: %w", o.Addr, err)}
	}
	defer ln.Close()

	store, storeInfo, closeStore, err := openServeStore(ctx, s, o)
	if ierr := interrupted(ctx, "opening the store"); ierr != nil {
		if err == nil {
			closeStore()
		}
		return ierr
	}
	if err != nil {
		return &ExitError{Code: ExitRuntime, Err: err}
	}
	defer closeStore()
	c, closeCache, err := openServeCache(ctx, o, log)
	if err != nil {
		return &ExitError{Code: ExitRuntime, Err: err}
	}
	defer closeCache()

	srv, err := target.New(target.Config{
		Store: store, Cache: c, Token: o.Token,
		Latency: o.Latency, LatencyJitter: o.LatencyJitter, ErrorRate: o.ErrorRate, Log: log,
		LoginSlots: o.LoginSlots,
	})
	if err != nil {
		return &ExitError{Code: ExitRuntime, Err: err}
	}
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(s.Out, "PRIMEPRE reference target on %s (store %s, cache %s)\n", base, storeInfo, o.Cache)
	fmt.Fprintf(s.Out, "Get a token:\n  curl -s -X POST %s/api/auth/login/ -H 'Content-Type: application/json' -d '{\"username\":%q,\"password\":%q}'\n",
		base, target.DemoUser, target.DemoPassword)
	if o.Token != "" {
		fmt.Fprintln(s.Out, "The fixed token from --token / PRIMELOAD_TOKEN is accepted too: export API_TOKEN with it for scripts.")
	} else {
		fmt.Fprintln(s.Out, "Or fix one with --token (PRIMELOAD_TOKEN) and export API_TOKEN with it for scripts.")
	}
	fmt.Fprintf(s.Out, "Health %s/healthz, readiness %s/readyz, Prometheus %s/metrics. Ctrl-C drains and stops.\n", base, base, base)

	err = srv.Serve(ctx, ln)
	if err != nil {
		return &ExitError{Code: ExitRuntime, Err: err}
	}
	fmt.Fprintln(s.Out, "stopped")
	return nil
}

func openServeStore(ctx context.Context, s *State, o *ServeOptions) (target.Store, string, func(), error) {
	if o.Store == "memory" {
		return memstore.New(logistics.Generate(o.SeedRows, time.Now(), 1)),
			fmt.Sprintf("memory with %d goods", o.SeedRows), func() {}, nil
	}
	ps, err := pgstore.Open(ctx, pgstore.Config{URL: o.DatabaseURL, MaxConns: int32(o.DBMaxConns)})
	if err != nil {
		return nil, "", nil, fmt.Errorf("open postgres store: %w", err)
	}
	n, err := ps.Seed(ctx, o.SeedRows, time.Now())
	if err != nil {
		ps.Close()
		return nil, "", nil, err
	}
	info := fmt.Sprintf("postgres, pool of %d, existing goods kept", o.DBMaxConns)
	if n > 0 {
		info = fmt.Sprintf("postgres, pool of %d, %d goods loaded", o.DBMaxConns, n)
	}
	return ps, info, ps.Close, nil
}

func openServeCache(ctx context.Context, o *ServeOptions, log *slog.Logger) (target.Cache, func(), error) {
	switch o.Cache {
	case "memory":
		return cache.NewMemory(int64(o.CacheMaxMiB)<<20, nil), func() {}, nil
	case "redis":
		rc, err := cache.NewRedis(o.RedisURL, "primepre:")
		if err != nil {
			return nil, nil, err
		}
		if err := rc.Ping(ctx); err != nil {
			// Not fatal: the target answers from the store and uses Redis once it is up.
			log.Warn("redis unreachable at start, answering from the store until it is up", "err", err)
		}
		return rc, func() { rc.Close() }, nil
	}
	return nil, func() {}, nil
}
