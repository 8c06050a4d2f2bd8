// Package dashboard serves a run's HTML report live (primeload run
// --dashboard): the page report/html writes, re-rendered from the
// collector after each period and each second's point of the fine series,
// and pushed to the browsers watching it as server-sent events, and at the
// end the final report, the very bytes of the --html file.
//
// The run never waits on it: a period or a step hands over a pointer and
// returns; a goroutine of the dashboard's own renders at most once per
// MinInterval; each browser holds only the latest event, so one that reads
// slowly skips updates (each carries the whole report so far) instead of
// holding anything up.
package dashboard

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/primeload/primeload/report"
	"github.com/primeload/primeload/report/html"
)

// Limits.
const (
	// MinInterval is the shortest time between two renders: a run with
	// 100 ms periods would otherwise spend a core re-rendering its page.
	MinInterval = time.Second
	// RenderShare bounds the share of a core renders take: after a render
	// that took d, the next waits at least RenderShare times d. A day-long
	// run's page takes 137 ms to render (report/html's BenchmarkLive), so
	// it updates every 2.7 s instead of spending 14% of a core each second.
	RenderShare = 20
	// MaxClients bounds the browsers following one run; more are refused
	// with 503.
	MaxClients = 32
	// WriteTimeout drops a browser that takes longer to accept one event.
	WriteTimeout = 30 * time.Second
	// FinalTimeout bounds how long Close waits for every browser to have
	// the final report.
	FinalTimeout = 3 * time.Second
)

// Server is the dashboard of one run.
type Server struct {
	srv    *http.Server
	addr   string
	public bool
	served chan struct{}

	// The run's state, handed over by Start and Period.
	col      *report.Collector
	wake     chan struct{} // a period came; capacity 1, so periods coalesce
	stop     chan struct{} // closed by halt
	stopOnce sync.Once
	rendered chan struct{} // closed when the render loop has returned

	mu       sync.Mutex
	periods  []*report.Metrics
	arrivals []report.PhaseArrivals
	page     []byte // the page / serves; nil before the first render
	event    []byte // the last event, as written to the stream
	final    bool
	clients  map[*client]struct{}
	left     chan struct{} // signalled when a client leaves; capacity 1
	lastErr  error
}

// Listen binds addr (checked by the caller: loopback unless public) and
// serves the dashboard there until Close. Listening comes before any load,
// so a taken port costs none.
func Listen(ctx context.Context, addr string, public bool) (*Server, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dashboard: %w", err)
	}
	s := &Server{
		addr: ln.Addr().String(), public: public, served: make(chan struct{}),
		wake: make(chan struct{}, 1), stop: make(chan struct{}), rendered: make(chan struct{}),
		clients: map[*client]struct{}{}, left: make(chan struct{}, 1),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.servePage)
	mux.HandleFunc("GET /events", s.serveEvents)
	// Browsers ask for an icon; the page has none, and a 404 is a console error.
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	s.srv = &http.Server{Handler: s.checkHost(mux), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		defer close(s.served)
		_ = s.srv.Serve(ln) // fails only if the listener breaks; the run goes on without it
	}()
	return s, nil
}

// Addr is the address the dashboard listens on.
func (s *Server) Addr() string { return s.addr }

// Start renders the run recorded in col after each Period and Step, on a
// goroutine of its own, until Finish or ctx ends. The first render is at
// once.
func (s *Server) Start(ctx context.Context, col *report.Collector) {
	s.col = col
	s.wake <- struct{}{}
	go s.renderLoop(ctx)
}

// Period hands over a closed period and each phase's arrivals so far
// (Expected of the report). It only keeps pointers: m must not change
// afterwards, as the collector's periods do not.
func (s *Server) Period(m *report.Metrics, arrivals []report.PhaseArrivals) {
	thin := *m
	// The page draws periods from their counters and summaries; their
	// histograms would only hold memory.
	thin.HDR, thin.Histograms = nil, nil
	s.mu.Lock()
	s.periods = append(s.periods, &thin)
	s.arrivals = arrivals
	s.mu.Unlock()
	s.due()
}

// Step hands over each phase's arrivals after the collector closed a point
// of its fine series (each whole second), so the page's time charts move
// every second, not every period; the totals still move with the periods.
func (s *Server) Step(arrivals []report.PhaseArrivals) {
	s.mu.Lock()
	s.arrivals = arrivals
	s.mu.Unlock()
	s.due()
}

// due asks for a render without waiting: wake holds one request, so
// periods and steps coming faster than MinInterval coalesce.
func (s *Server) due() {
	select {
	case s.wake <- struct{}{}:
	default: // a render is due already
	}
}

func (s *Server) renderLoop(ctx context.Context) {
	defer close(s.rendered)
	var last time.Time
	gap := MinInterval
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.stop:
			return
		case <-s.wake:
		}
		if wait := gap - time.Since(last); wait > 0 && !last.IsZero() {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-s.stop:
				t.Stop()
				return
			case <-t.C:
			}
		}
		last = time.Now()
		s.renderLive()
		gap = nextGap(time.Since(last))
	}
}

// nextGap is the shortest wait after a render that took took.
func nextGap(took time.Duration) time.Duration {
	return max(MinInterval, RenderShare*took)
}

// renderLive renders the report so far: the collector's aggregate as of
// its last period, and the periods handed over.
func (s *Server) renderLive() {
	r := s.col.Report()
	s.mu.Lock()
	r.Intermediate = slices.Clone(s.periods)
	if s.arrivals != nil {
		r.Expected = s.arrivals
	}
	s.mu.Unlock()
	page, upd, err := html.Live(r, true)
	s.publish(page, upd, err, false)
}

// Finish stops the live renders and publishes r, the judged report of the
// finished run: / serves what html.Write writes of it, and every browser
// following the run gets it as its last event.
func (s *Server) Finish(r *report.Report) error {
	s.halt()
	page, upd, err := html.Live(r, false)
	s.publish(page, upd, err, true)
	return err
}

// publish makes page what / serves and upd the event every client gets
// next. A failed render keeps the last good one; Err says why.
func (s *Server) publish(page, upd []byte, err error, final bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.lastErr = err
		return
	}
	name := "update"
	if final {
		name = "final"
	}
	s.page, s.event, s.final = page, sseEvent(name, upd), final
	for c := range s.clients {
		c.offer(s.event, final)
	}
}

// Err is the last render's failure, nil when every render succeeded.
func (s *Server) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastErr
}

// sseEvent frames data (one line: JSON has no raw newline) as a named
// server-sent event.
func sseEvent(name string, data []byte) []byte {
	b := make([]byte, 0, len(name)+len(data)+16)
	b = append(b, "event: "...)
	b = append(b, name...)
	b = append(b, "\ndata: "...)
	b = append(b, data...)
	return append(b, "\n\n"...)
}

// Close waits up to FinalTimeout (or until ctx ends) for every browser
// still connected to have the final report, if one was published, and
// then stops serving. It returns once the dashboard's goroutines have.
func (s *Server) Close(ctx context.Context) {
	s.halt()
	t := time.NewTimer(FinalTimeout)
	defer t.Stop()
wait:
	for s.awaitingFinal() {
		select {
		case <-s.left:
		case <-t.C:
			break wait
		case <-ctx.Done():
			break wait
		}
	}
	s.srv.Close()
	<-s.served
}

// awaitingFinal reports whether a browser is yet to get the final report.
func (s *Server) awaitingFinal() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.final && len(s.clients) > 0
}

// halt ends the live renders and waits for the one under way, if any.
func (s *Server) halt() {
	s.stopOnce.Do(func() { close(s.stop) })
	if s.col != nil {
		<-s.rendered
	}
}
