// Package target is PRIMEPRE, the reference logistics API that primeload
// bundles as something real to load test: JSON handlers over a Store
// (memory or PostgreSQL) with an optional cache-aside layer (memory or
// Redis), token auth, Prometheus metrics and knobs that add latency and
// errors. It knows nothing of the rest of primeload.
package target

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/primeload/primeload/target/logistics"
)

// Store is where goods live. Implementations answer logistics.ErrNotFound for
// unknown ids and wrap failures to reach their backend with
// logistics.ErrUnavailable.
type Store interface {
	Ping(ctx context.Context) error
	List(ctx context.Context, q logistics.ListQuery) (logistics.Page, error)
	Get(ctx context.Context, id int64) (logistics.GoodsDetail, error)
	Create(ctx context.Context, g logistics.NewGoods, at time.Time) (logistics.Goods, error)
	Update(ctx context.Context, id int64, p logistics.GoodsPatch, at time.Time) (logistics.Goods, error)
	Delete(ctx context.Context, id int64) error
	AddTracking(ctx context.Context, t logistics.NewTracking, at time.Time) (logistics.TrackingUpdate, error)
	Stats(ctx context.Context, now time.Time) (logistics.Stats, error)
	Charts(ctx context.Context, now time.Time) (logistics.Charts, error)
}

// Cache stores rendered responses. Get answers cache.ErrMiss for absent keys.
// Generation and Bump keep one counter per resource family that is folded
// into keys, so a write invalidates a whole family without scanning keys.
type Cache interface {
	Get(ctx context.Context, key string) ([]byte, error)
	Set(ctx context.Context, key string, val []byte, ttl time.Duration) error
	Generation(ctx context.Context, family string) (int64, error)
	Bump(ctx context.Context, family string) error
}

// Defaults for Config's zero values.
const (
	DefaultTokenTTL          = 24 * time.Hour
	DefaultStoreTimeout      = 2 * time.Second
	DefaultDrainTimeout      = 10 * time.Second
	DefaultReadHeaderTimeout = 5 * time.Second
	DefaultReadTimeout       = 30 * time.Second
	DefaultIdleTimeout       = 120 * time.Second
)

// DefaultLoginSlots is half the CPUs Go may use (at least one): bcrypt is
// pure CPU, so the other half stays free for every other route however
// many logins arrive.
func DefaultLoginSlots() int { return max(1, runtime.GOMAXPROCS(0)/2) }

// LoginWait is how long a login waits for a free password-check slot
// before it is refused with 503 and Retry-After.
const LoginWait = 100 * time.Millisecond

// Request size limits: larger headers get 431, larger bodies 413.
const (
	MaxHeaderBytes = 64 << 10
	MaxBodyBytes   = 1 << 20
)

// Config configures a Server. Store is required; the rest have defaults.
type Config struct {
	Store Store
	Cache Cache // nil: no caching
	// Token is accepted as a bearer token besides those issued by login, so
	// scripts can use a fixed API_TOKEN. Empty: only issued tokens.
	Token    string
	TokenTTL time.Duration // lifetime of issued tokens
	// Users maps username to password; nil means DemoUsers.
	Users      map[string]string
	BcryptCost int // 0 means bcrypt.DefaultCost; tests use bcrypt.MinCost
	// LoginSlots is how many password checks may run at once; 0 means
	// DefaultLoginSlots. More are refused with 503 after LoginWait.
	LoginSlots int

	Latency       time.Duration // added to every /api/ response
	LatencyJitter time.Duration // Latency varies uniformly by ± this much
	ErrorRate     float64       // share of /api/ requests answered 503, 0..1

	StoreTimeout      time.Duration // per store call, so a dead database fails fast
	DrainTimeout      time.Duration // how long Serve waits for in-flight requests
	ReadHeaderTimeout time.Duration // slowloris guard
	Now               func() time.Time
	Log               *slog.Logger // nil discards
}

// DemoUser and DemoPassword are the documented demo account.
const (
	DemoUser     = "demo"
	DemoPassword = "demo-pass"
)

// DemoUsers returns the seeded accounts: the documented demo user and two
// warehouse staff.
func DemoUsers() map[string]string {
	return map[string]string{DemoUser: DemoPassword, "guangzhou-desk": "gz-warehouse-2024", "tema-desk": "tema-port-2024"}
}

// Server is the PRIMEPRE API. It is safe for concurrent use.
type Server struct {
	cfg     Config
	auth    *auth
	cache   *cacheAside
	metrics *metrics
	handler http.Handler
	// lastErrorLog is when a server error was last logged (Unix ns).
	lastErrorLog atomic.Int64
	// lastList is the last list answer rendered (see renderedList).
	lastList atomic.Pointer[renderedList]
}

// New checks cfg and builds a Server. It hashes the users' passwords, which
// takes a moment at bcrypt's default cost.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, errors.New("target: no store")
	}
	if cfg.ErrorRate < 0 || cfg.ErrorRate > 1 {
		return nil, fmt.Errorf("target: error rate %v: want 0 to 1", cfg.ErrorRate)
	}
	if cfg.Latency < 0 || cfg.LatencyJitter < 0 {
		return nil, errors.New("target: latency and jitter must not be negative")
	}
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = DefaultTokenTTL
	}
	if cfg.StoreTimeout <= 0 {
		cfg.StoreTimeout = DefaultStoreTimeout
	}
	if cfg.DrainTimeout <= 0 {
		cfg.DrainTimeout = DefaultDrainTimeout
	}
	if cfg.ReadHeaderTimeout <= 0 {
		cfg.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Users == nil {
		cfg.Users = DemoUsers()
	}
	if cfg.LoginSlots < 0 {
		return nil, fmt.Errorf("target: login slots %d: want 1 or more (0 for the default)", cfg.LoginSlots)
	}
	if cfg.LoginSlots == 0 {
		cfg.LoginSlots = DefaultLoginSlots()
	}
	a, err := newAuth(cfg.Users, cfg.BcryptCost, cfg.LoginSlots, cfg.Token, cfg.TokenTTL, cfg.Now)
	if err != nil {
		return nil, err
	}
	m := newMetrics()
	s := &Server{cfg: cfg, auth: a, metrics: m, cache: newCacheAside(cfg.Cache, m, cfg.Log, cfg.StoreTimeout)}
	s.handler = s.routes()
	return s, nil
}

// Handler returns the HTTP handler of every route.
func (s *Server) Handler() http.Handler { return s.handler }

// HTTPServer returns an http.Server for the handler with the timeouts and
// header limit that keep slow or hostile clients from tying it up.
func (s *Server) HTTPServer() *http.Server {
	return &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		ReadTimeout:       DefaultReadTimeout,
		// Long enough for the --latency knob plus a slow store call.
		WriteTimeout:   DefaultReadTimeout + s.cfg.Latency + s.cfg.LatencyJitter + s.cfg.StoreTimeout,
		IdleTimeout:    DefaultIdleTimeout,
		MaxHeaderBytes: MaxHeaderBytes,
		ErrorLog:       slog.NewLogLogger(s.cfg.Log.Handler(), slog.LevelWarn),
		ConnContext:    connContext,
	}
}

// Serve answers requests on ln until ctx is done, then stops accepting,
// waits up to DrainTimeout for in-flight requests and returns. It closes ln.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := s.HTTPServer()
	done := make(chan error, 1)
	go func() { done <- hs.Serve(newBatchListener(ln)) }()
	select {
	case err := <-done:
		return fmt.Errorf("serve %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	drain, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.DrainTimeout)
	defer cancel()
	err := hs.Shutdown(drain)
	if err != nil {
		// Drain time is up: cut the stragglers so the goroutine below ends.
		hs.Close()
		err = fmt.Errorf("drain %s: %w", ln.Addr(), err)
	}
	if serr := <-done; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = fmt.Errorf("serve %s: %w", ln.Addr(), serr)
	}
	return err
}
