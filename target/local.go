package target

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/primeload/primeload/target/cache"
	"github.com/primeload/primeload/target/logistics"
	"github.com/primeload/primeload/target/memstore"
)

// DefaultSeedRows is how many synthetic goods a memory store starts with.
const DefaultSeedRows = 10_000

// localBcryptCost is bcrypt's minimum, 2^4 rounds against the default 2^10:
// about a millisecond a login instead of tens.
const localBcryptCost = bcrypt.MinCost

// LocalOptions configures StartLocal.
type LocalOptions struct {
	Token    string // bearer token the script will send (API_TOKEN); required
	SeedRows int    // goods in the memory store; 0 means DefaultSeedRows
	// The knobs of Config, for SLO demonstrations.
	Latency       time.Duration
	LatencyJitter time.Duration
	ErrorRate     float64
}

// StartLocal starts a reference target in this process on a free 127.0.0.1
// port, with a seeded memory store and memory cache, accepting opts.Token.
// It returns the base URL (http://127.0.0.1:PORT) and stop, which drains
// in-flight requests (cut short when ctx ends) and returns once the server's
// goroutine has exited. ctx only bounds start-up.
func StartLocal(ctx context.Context, opts LocalOptions) (baseURL string, stop func(context.Context) error, err error) {
	if opts.Token == "" {
		return "", nil, errors.New("start local target: no token")
	}
	if opts.SeedRows <= 0 {
		opts.SeedRows = DefaultSeedRows
	}
	now := time.Now()
	srv, err := New(Config{
		Store:         memstore.New(logistics.Generate(opts.SeedRows, now, 1)),
		Cache:         cache.NewMemory(0, nil),
		Token:         opts.Token,
		Latency:       opts.Latency,
		LatencyJitter: opts.LatencyJitter,
		ErrorRate:     opts.ErrorRate,
		// In-process, every login's bcrypt runs on the CPUs the load
		// generator needs to time its requests: at the default cost the
		// seed's 10% of logins starved it (black-friday quick: 26k requests
		// instead of 90k on two cores). Logins stay the costliest route.
		BcryptCost: localBcryptCost,
	})
	if err != nil {
		return "", nil, fmt.Errorf("start local target: %w", err)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("start local target: %w", err)
	}
	hs := srv.HTTPServer()
	done := make(chan error, 1)
	go func() { done <- hs.Serve(newBatchListener(ln)) }()
	stop = func(ctx context.Context) error {
		err := hs.Shutdown(ctx)
		if err != nil {
			hs.Close() // ctx ended first: cut the stragglers
			err = fmt.Errorf("stop local target: %w", err)
		}
		<-done // Serve has returned: no goroutine outlives stop
		return err
	}
	return "http://" + ln.Addr().String(), stop, nil
}
