package cmd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/primeload/primeload/report"
	"github.com/primeload/primeload/report/dashboard"
	"github.com/primeload/primeload/runner/loadtest"
	"github.com/spf13/pflag"
)

// DashboardOptions are run's live-dashboard flags.
type DashboardOptions struct {
	// served: Addr serves the dashboard; Hold keeps serving the final report.
	served
}

func addDashboardFlags(f *pflag.FlagSet) {
	f.String("dashboard", "", "serve the HTML report live on `HOST:PORT` while the run goes (loopback; \":8089\" means 127.0.0.1:8089): it updates each second and ends as the final report, the same as --html's")
	boolFlag(f, "dashboard-public", "", "let --dashboard listen on a non-loopback address, readable by anyone who reaches it")
	durationFlag(f, "dashboard-hold", 0, "keep serving the final report this long after the run (Ctrl-C ends it); with 0 the process exits once open pages have the final report (at most 3s)")
}

func dashboardOptions(st *settings) (DashboardOptions, error) {
	sv, err := readServed(st, "dashboard", "dashboard-public", "dashboard-hold")
	return DashboardOptions{served: sv}, err
}

// served is what a flag trio such as --metrics-addr, --metrics-public and
// --metrics-hold says about a loopback HTTP server a run keeps.
type served struct {
	// Addr is HOST:PORT to serve on; "" serves none.
	Addr string
	// Public lets Addr be a non-loopback address.
	Public bool
	// Hold keeps serving the final state this long after the run.
	Hold time.Duration
}

// readServed reads the address, public and hold flags named by the keys.
func readServed(st *settings, addrKey, publicKey, holdKey string) (served, error) {
	sv := served{Addr: st.String(addrKey)}
	var errs []error
	var err error
	sv.Public, err = st.Bool(publicKey)
	errs = append(errs, err)
	sv.Hold, err = st.Duration(holdKey)
	errs = append(errs, err)
	if err == nil && sv.Hold < 0 {
		errs = append(errs, st.errorf(holdKey, "%s is negative", sv.Hold))
	}
	sv.Addr, err = serveAddr(st, addrKey, publicKey, sv.Addr, sv.Public)
	errs = append(errs, err)
	return sv, errors.Join(errs...)
}

// serveAddr checks an address to serve on, given by flag key: HOST:PORT,
// with an empty host meaning loopback, and a non-loopback host only with
// the flag publicKey set.
func serveAddr(st *settings, key, publicKey, addr string, public bool) (string, error) {
	if addr == "" {
		return "", nil
	}
	host, port, err := net.SplitHostPort(addr)
	switch {
	case err != nil:
		return addr, st.errorf(key, "%q is not HOST:PORT (e.g. 127.0.0.1:9464)", addr)
	case host == "":
		return net.JoinHostPort("127.0.0.1", port), nil // loopback unless asked otherwise
	case !public:
		return addr, checkLoopback(addr, st.source(key)+" (add --"+publicKey+" to serve other machines)")
	}
	return addr, nil
}

// liveDashboard is a run's dashboard, wired into its hooks.
type liveDashboard struct {
	srv   *dashboard.Server
	hold  time.Duration
	ctx   context.Context
	final bool // the final report was published
}

// startDashboard listens before any load; nil without --dashboard.
func startDashboard(ctx context.Context, o DashboardOptions) (*liveDashboard, error) {
	if o.Addr == "" {
		return nil, nil
	}
	srv, err := dashboard.Listen(ctx, o.Addr, o.Public)
	if err != nil {
		return nil, err
	}
	return &liveDashboard{srv: srv, hold: o.Hold, ctx: context.WithoutCancel(ctx)}, nil
}

// wire adds the dashboard to hooks, after what they already do.
func (d *liveDashboard) wire(h *loadtest.Hooks) {
	col, period := h.Collector, h.Period
	h.Collector = func(c *report.Collector) {
		if col != nil {
			col(c)
		}
		d.srv.Start(d.ctx, c)
	}
	h.Period = func(m *report.Metrics, sm loadtest.Sample) {
		if period != nil {
			period(m, sm)
		}
		d.srv.Period(m, sm.Arrivals)
	}
	step := h.Step
	h.Step = func(sm loadtest.Sample) {
		if step != nil {
			step(sm)
		}
		d.srv.Step(sm.Arrivals)
	}
}

// publish makes rep, the judged report the outputs were written from, the
// dashboard's final page.
func (d *liveDashboard) publish(rep *report.Report, log func(string)) {
	if err := d.srv.Finish(rep); err != nil {
		log(fmt.Sprintf("dashboard: %v", err))
		return
	}
	d.final = true
}

// close holds a published final report for --dashboard-hold, until ctx
// ends, and stops serving once open pages have it.
func (d *liveDashboard) close(ctx context.Context, log func(string)) {
	if d.final && d.hold > 0 {
		log(fmt.Sprintf("dashboard holds the final report on http://%s/ for %s (Ctrl-C ends it)", d.srv.Addr(), d.hold))
		t := time.NewTimer(d.hold)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
	if err := d.srv.Err(); err != nil {
		log(fmt.Sprintf("dashboard: a live render failed: %v", err))
	}
	d.srv.Close(ctx)
}
