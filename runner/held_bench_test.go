//go:build linux

package runner

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/primeload/primeload/scenario"
	"github.com/valyala/fasthttp"
)

// heldServerEnv makes TestHeldServer serve: the benchmark runs its target
// in a process of its own, so the memory it measures is the users' alone.
const heldServerEnv = "PRIMELOAD_HELD_SERVER"

// usersPerAddr is how many users connect to one loopback address: Linux
// hands out 28,232 ephemeral ports (32768-60999) per destination, the even
// half first and the odd half only by a slow search in system time, so
// 50,000 users need several, each below 14,116 (bench/compare.sh's (c)
// held 48,363 of 50,000 at 16,700 an address, all of them at 10,000).
const usersPerAddr = 12_000

// raiseNoFile lifts the descriptor limit to n, hard limit too where the
// process may (root).
func raiseNoFile(tb testing.TB, n uint64) {
	tb.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		tb.Fatalf("getrlimit: %v", err)
	}
	if lim.Cur >= n {
		return
	}
	want := syscall.Rlimit{Cur: n, Max: max(lim.Max, n)}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err != nil {
		want = syscall.Rlimit{Cur: lim.Max, Max: lim.Max}
		if lim.Max < n || syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want) != nil {
			tb.Skipf("need %d descriptors, the limit is %d: %v", n, lim.Max, err)
		}
	}
}

// TestHeldServer is the benchmark's target when heldServerEnv names the
// addresses to listen on (comma-separated): it prints them, bound, on one
// line and serves until its standard input closes. Otherwise it skips.
func TestHeldServer(t *testing.T) {
	addrs := os.Getenv(heldServerEnv)
	if addrs == "" {
		t.Skip("the held-users benchmark's target; runs only under it")
	}
	// As many descriptors as it may have; the benchmark checked its own
	// limit, which is the same, against its users.
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil {
		lim.Cur = lim.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
	srv := &fasthttp.Server{
		Handler:     func(c *fasthttp.RequestCtx) { c.SetContentType("application/json"); c.WriteString(`{"ok":true}`) },
		Concurrency: 1 << 20,
	}
	var bound []string
	for _, a := range strings.Split(addrs, ",") {
		ln, err := net.Listen("tcp", a)
		if err != nil {
			t.Fatal(err)
		}
		bound = append(bound, ln.Addr().String())
		go srv.Serve(ln)
	}
	fmt.Println(strings.Join(bound, ","))
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
	srv.Shutdown()
}

// startHeldServer runs TestHeldServer in a child process on n loopback
// addresses (127.0.0.1, .2, ...) and returns their host:port.
func startHeldServer(b *testing.B, n int) []string {
	b.Helper()
	var addrs []string
	for i := range n {
		addrs = append(addrs, fmt.Sprintf("127.0.0.%d:0", i+1))
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHeldServer$", "-test.v=false")
	cmd.Env = append(os.Environ(), heldServerEnv+"="+strings.Join(addrs, ","))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatalf("start the target: %v", err)
	}
	b.Cleanup(func() {
		stdin.Close()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b.Fatalf("the target did not start: %v", err)
	}
	return strings.Split(strings.TrimSpace(line), ",")
}

// responseCounter is nopRecorder counting responses, to know when every
// user holds its connection.
type responseCounter struct {
	nopRecorder
	n *atomic.Int64
}

func (r responseCounter) Sink(int) Sink { return r }
func (r responseCounter) Response(string, time.Duration, int, int64) {
	r.n.Add(1)
}

// heldMem is what the users' memory lives in, after a collection.
// rss is the resident set the machine sees, garbage not yet collected
// and freed pages not yet returned included: what bench/compare.sh's peak
// RSS divides.
type heldMem struct{ heap, stacks, rss uint64 }

func readHeldMem(tb testing.TB) heldMem {
	tb.Helper()
	var rss uint64
	statm, err := os.ReadFile("/proc/self/statm")
	if err == nil {
		_, err = fmt.Sscan(string(statm), new(uint64), &rss)
	}
	if err != nil {
		tb.Fatalf("read /proc/self/statm: %v", err)
	}
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return heldMem{m.HeapInuse, m.StackInuse, rss * uint64(os.Getpagesize())}
}

// BenchmarkHeldUsers is the memory of idle virtual users holding a
// kept-alive connection each: n users arrive, send one GET and think; once
// all of them think, KiB/user is the heap and stacks in use after a
// collection, grown since before the run, divided by n: everything a held
// user keeps (its goroutine and stack, vu, variables, userConns, socket,
// timer, the run's bookkeeping of it). rss-KiB/user is the resident set
// grown by then, before that collection: garbage of the ramp and freed
// pages not yet returned included, as a peak RSS sees them. Run it with
// -benchtime=1x (an op is a whole run) in a fresh process (-count=1) for an
// RSS a run would see. 50,000 users need 51,000 descriptors: where the hard
// limit is lower and cannot be raised (no CAP_SYS_RESOURCE), that size
// skips and says so.
func BenchmarkHeldUsers(b *testing.B) {
	for _, n := range []int{10_000, 50_000} {
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
			raiseNoFile(b, uint64(n)+1000)
			hosts := startHeldServer(b, (n+usersPerAddr-1)/usersPerAddr)
			var flows [][]scenario.Step
			for _, h := range hosts {
				flows = append(flows, []scenario.Step{get("http://" + h + "/json"), {Think: time.Hour}})
			}
			for b.Loop() {
				m := heldUsersBytes(b, n, flows)
				b.ReportMetric((m.heap+m.stacks)/1024, "KiB/user")
				b.ReportMetric(m.heap/1024, "heap-KiB/user")
				b.ReportMetric(m.stacks/1024, "stack-KiB/user")
				b.ReportMetric(m.rss/1024, "rss-KiB/user")
			}
		})
	}
}

// perUser is heldMem grown over a run, per user.
type perUser struct{ heap, stacks, rss float64 }

// heldUsersBytes runs n users of flows and returns the bytes each costs
// while all of them think.
func heldUsersBytes(b *testing.B, n int, flows [][]scenario.Step) perUser {
	script := newScript("http://127.0.0.1", []scenario.Phase{count(n, time.Duration(n)*100*time.Microsecond)}, flows...)
	var responses atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	before := readHeldMem(b)
	type ran struct {
		out *Outcome
		err error
	}
	done := make(chan ran, 1)
	go func() {
		out, err := Run(ctx, script, responseCounter{n: &responses}, Options{Seed: 1, Grace: -1})
		done <- ran{out, err}
	}()
	limit := time.After(2 * time.Minute)
	for responses.Load() < int64(n) {
		select {
		case r := <-done:
			b.Fatalf("the run ended with %d of %d responses: %v", responses.Load(), n, r.err)
		case <-limit:
			b.Fatalf("%d of %d responses after 2 minutes", responses.Load(), n)
		case <-time.After(50 * time.Millisecond):
		}
	}
	time.Sleep(200 * time.Millisecond) // the last responses' users start thinking
	after := readHeldMem(b)
	cancel()
	r := <-done
	if r.err != nil {
		b.Fatal(r.err)
	}
	if r.out.Created != n {
		b.Fatalf("%d users created, want %d", r.out.Created, n)
	}
	grown := func(a, b uint64) float64 { return (float64(a) - float64(b)) / float64(n) }
	return perUser{grown(after.heap, before.heap), grown(after.stacks, before.stacks), grown(after.rss, before.rss)}
}

// BenchmarkRequestCPU is the generator's CPU time per request, from the
// process's own rusage, with the target in a child process so its CPU is
// not counted: users, 16 per GOMAXPROCS, each send GETs over a kept-alive
// connection of their own. Run it with -cpu 1,2: cpu-ns/request staying
// put as procs are added means no contention grows with cores, and the
// requests a machine of n cores can send are about n / cpu-ns/request.
// The Recorder discards, so what is measured is the runner's own work.
func BenchmarkRequestCPU(b *testing.B) {
	hosts := startHeldServer(b, 1)
	script := newScript("http://"+hosts[0], []scenario.Phase{count(1, time.Second)}, []scenario.Step{get("/json")})
	e, err := newEngine(script, nopRecorder{}, Options{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(e.http.close)
	ctx := context.Background()
	var keys atomic.Int64
	b.SetParallelism(16)
	before := cpuTime(b)
	b.RunParallel(func(pb *testing.PB) {
		conns := &userConns{http: e.http}
		defer conns.close()
		var v vu
		for pb.Next() {
			e.resetVU(&v, keys.Add(1), 0)
			v.conns = conns
			if v.runScenario(ctx) != flowOK {
				b.Error("flow failed")
				return
			}
		}
	})
	used := cpuTime(b) - before
	b.ReportMetric(float64(used.Nanoseconds())/float64(b.N), "cpu-ns/request")
}

// cpuTime is the user and system CPU time the process has used.
func cpuTime(tb testing.TB) time.Duration {
	tb.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
