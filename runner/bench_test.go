package runner

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/primeload/primeload/scenario"
	"github.com/valyala/fasthttp"
)

// nopRecorder discards measurements so benchmarks see the runner's own cost.
type nopRecorder struct{}

func (nopRecorder) Sink(int) Sink                              { return nopRecorder{} }
func (nopRecorder) Response(string, time.Duration, int, int64) {}
func (nopRecorder) Count(string, int64)                        {}
func (nopRecorder) Lag(time.Duration)                          {}
func (nopRecorder) Session(time.Duration)                      {}
func (nopRecorder) ServerTiming(string, time.Duration)         {}
func (nopRecorder) Timings(Timings)                            {}

// nopSampler is nopRecorder keeping failure samples, which a success must
// not touch.
type nopSampler struct{ nopRecorder }

func (nopSampler) WantSample(string, string) bool { return true }
func (nopSampler) Sample(FailureSample)           { panic("a success was sampled as a failure") }

// benchEngine builds an engine for flow against a small JSON server. The
// server is fasthttp's, which allocates nothing per request, so the
// allocations reported are the runner's own.
func benchEngine(b testing.TB, flow []scenario.Step) *engine {
	return benchEngineConfig(b, flow, scenario.Config{})
}

// benchEngineConfig is benchEngine with cfg's http settings.
func benchEngineConfig(b testing.TB, flow []scenario.Step, cfg scenario.Config) *engine {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	body := []byte(`{"id":42,"items":[{"sku":"A1","qty":3}]}`)
	srv := &fasthttp.Server{Handler: func(c *fasthttp.RequestCtx) {
		c.SetContentType("application/json")
		c.Write(body)
	}}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	b.Cleanup(func() {
		srv.Shutdown()
		<-served
	})
	script := newScript("http://"+ln.Addr().String(), []scenario.Phase{count(1, time.Second)}, flow)
	script.Config.HTTP = cfg.HTTP
	e, err := newEngine(script, nopRecorder{}, Options{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(e.http.close)
	e.fixed = map[string]any{}
	return e
}

// benchFlow runs one virtual user per op and returns how many ran. The
// users hand one connection on, as a closed-model worker's iterations do,
// so an op measures a request over a kept-alive connection, not a dial.
func benchFlow(b *testing.B, e *engine) int64 {
	ctx := context.Background()
	conns := &userConns{http: e.http}
	defer conns.close()
	b.ReportAllocs()
	var k int64
	var v vu // reused from user to user, as workers and closed-model slots do
	for b.Loop() {
		e.resetVU(&v, k, 0)
		v.conns = conns
		if v.runScenario(ctx) != flowOK {
			b.Fatal("flow failed")
		}
		k++
	}
	return k
}

// BenchmarkRequest is the hot path of one arrival: a virtual user is made,
// picks its scenario, renders and sends one GET over a kept-alive
// connection, reads the body and records the response.
func BenchmarkRequest(b *testing.B) {
	benchFlow(b, benchEngine(b, []scenario.Step{get("/api/goods-received/")}))
}

// BenchmarkRequestSampling is BenchmarkRequest with a Recorder that keeps
// failure samples: a success costs what it did without one.
func BenchmarkRequestSampling(b *testing.B) {
	e := benchEngine(b, []scenario.Step{get("/api/goods-received/")})
	e.samples = newSampler(nopSampler{})
	benchFlow(b, e)
}

// BenchmarkRequestExtended is BenchmarkRequest under
// config.http.extendedMetrics: what recording Timings adds.
func BenchmarkRequestExtended(b *testing.B) {
	benchFlow(b, benchEngineConfig(b, []scenario.Step{get("/api/goods-received/")}, scenario.Config{HTTP: scenario.HTTPConfig{ExtendedMetrics: true}}))
}

// BenchmarkRequestDial is an arrival as the open model runs it by default:
// a new virtual user dials its own connection, sends one GET and closes.
func BenchmarkRequestDial(b *testing.B) {
	benchDial(b, benchEngine(b, []scenario.Step{get("/api/goods-received/")}))
}

// BenchmarkRequestDialExtended is BenchmarkRequestDial under
// config.http.extendedMetrics: what timing the dial adds.
func BenchmarkRequestDialExtended(b *testing.B) {
	benchDial(b, benchEngineConfig(b, []scenario.Step{get("/api/goods-received/")}, scenario.Config{HTTP: scenario.HTTPConfig{ExtendedMetrics: true}}))
}

// benchDial runs one new virtual user per op, each dialling.
func benchDial(b *testing.B, e *engine) {
	ctx := context.Background()
	b.ReportAllocs()
	for k := int64(0); b.Loop(); k++ {
		v := e.newVU(k, 0)
		if v.runScenario(ctx) != flowOK {
			b.Fatal("flow failed")
		}
		v.conns.close()
	}
}

// BenchmarkRequestPool is BenchmarkRequest with config.http.pool: each new
// virtual user takes the pooled connection and gives it back.
func BenchmarkRequestPool(b *testing.B) {
	e := benchEngineConfig(b, []scenario.Step{get("/api/goods-received/")}, scenario.Config{HTTP: scenario.HTTPConfig{Pool: 1}})
	ctx := context.Background()
	b.ReportAllocs()
	for k := int64(0); b.Loop(); k++ {
		if e.newVU(k, 0).runScenario(ctx) != flowOK {
			b.Fatal("flow failed")
		}
	}
}

// BenchmarkRequestCapture adds a JSON capture and a templated second request,
// the shape of the seed's multi-step scenario.
func BenchmarkRequestCapture(b *testing.B) {
	k := benchFlow(b, benchEngine(b, []scenario.Step{
		withCapture(get("/api/goods-received/"), jsonCapture("$.id", "id")),
		get("/api/goods-received/{{ id }}/"),
	}))
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(2*k), "ns/request")
}

// BenchmarkArrival is the scheduler's own cost per arrival: due, lag
// recorded, a virtual user made and started on its goroutine, its (empty)
// flow finished and counted. One op is one arrival of a burst.
func BenchmarkArrival(b *testing.B) {
	script := newScript("http://127.0.0.1:9", []scenario.Phase{count(b.N, time.Millisecond)}, []scenario.Step{})
	b.ReportAllocs()
	b.ResetTimer()
	out, err := Run(context.Background(), script, nopRecorder{}, Options{Seed: 1})
	if err != nil || out.Completed != int64(b.N) {
		b.Fatalf("Run: %v, %d of %d completed", err, out.Completed, b.N)
	}
}

// BenchmarkRequestPoolWait has more users than pooled connections, so most
// requests wait for one, as they do when a generator runs at its limit.
// Each goroutine is a worker reusing its user, as open-model arrivals do.
func BenchmarkRequestPoolWait(b *testing.B) {
	e := benchEngineConfig(b, []scenario.Step{get("/api/goods-received/")}, scenario.Config{HTTP: scenario.HTTPConfig{Pool: 1}})
	ctx := context.Background()
	b.ReportAllocs()
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		var v vu
		for k := int64(0); pb.Next(); k++ {
			e.resetVU(&v, k, 0)
			if v.runScenario(ctx) != flowOK {
				b.Error("flow failed")
				return
			}
			v.conns.close()
		}
	})
}

// BenchmarkPoolHandOver is the pool alone at a generator's limit: more
// goroutines than pooled connections take one and give it back, with no
// request in between, so an op is the pool's own cost of a wait and a
// hand-over (the network is paid only for the first dials).
func BenchmarkPoolHandOver(b *testing.B) {
	e := benchEngineConfig(b, []scenario.Step{get("/")}, scenario.Config{HTTP: scenario.HTTPConfig{Pool: 2}})
	host := []byte(e.target[len("http://"):])
	ctx := context.Background()
	b.ReportAllocs()
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		uc := &userConns{http: e.http}
		for pb.Next() {
			conn, err := e.http.pool.acquire(ctx, e.http, uc, false, false, host, time.Now().Add(time.Minute))
			if err != nil {
				b.Error(err)
				return
			}
			e.http.pool.release(e.http, conn, true)
		}
	})
}

// BenchmarkBuild is the request building of one step alone, without the
// exchange: a static URL (the common case) and one rendered per user.
func BenchmarkBuild(b *testing.B) {
	for _, url := range []string{"/api/goods-received/", "/api/goods-received/{{ $loopCount }}"} {
		b.Run(url, func(b *testing.B) {
			step := get(url)
			e := benchEngine(b, []scenario.Step{step})
			var v vu
			e.resetVU(&v, 0, 0)
			req := fasthttp.AcquireRequest()
			defer fasthttp.ReleaseRequest(req)
			b.ReportAllocs()
			for b.Loop() {
				req.Reset()
				if err := v.build(req, step.Request); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
