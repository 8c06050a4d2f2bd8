package reporttest

import (
	"context"
	"iter"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Chromium is Debian's binary; CI installs it (.ci/run).
const Chromium = "/usr/bin/chromium"

// NeedBrowser skips the test when Chromium is missing (failing instead
// when CI is set) or when -short is given.
func NeedBrowser(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath(Chromium); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("chromium is required in CI: %v", err)
		}
		t.Skipf("chromium not installed: %v", err)
	}
	if testing.Short() {
		t.Skip("starts a browser")
	}
}

// Browser is one headless Chromium tab, its console followed from the start.
type Browser struct {
	Ctx      context.Context
	messages iter.Seq2[chromedp.ConsoleMessage, error]
}

// StartBrowser launches Chromium with a 1200x900 window for at most
// timeout, after NeedBrowser. It stops when the test ends.
func StartBrowser(t testing.TB, timeout time.Duration) *Browser {
	t.Helper()
	NeedBrowser(t)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	actx, acancel := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(Chromium),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(filepath.Join(t.TempDir(), "profile")),
		chromedp.WindowSize(1200, 900),
	)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(func() { bcancel(); acancel(); cancel() })
	// Subscribed before any navigation, so no message is missed.
	return &Browser{Ctx: bctx, messages: chromedp.Console(bctx)}
}

// CheckConsole fails the test on every console error or exception so far.
func (b *Browser) CheckConsole(t testing.TB) {
	t.Helper()
	const done = "primeload-test-done"
	if err := chromedp.Do(b.Ctx, chromedp.Evaluate[chromedp.Void](`console.log("`+done+`")`)); err != nil {
		t.Fatal(err)
	}
	for m, err := range b.messages {
		if err != nil {
			t.Fatalf("console: %v", err)
		}
		if m.Type == chromedp.ConsoleLog && m.Text == done {
			return
		}
		if m.Type == chromedp.ConsoleError || m.IsException() {
			t.Errorf("console %s at %s:%d", m, m.URL, m.Line+1)
		}
	}
}

// CheckOffline fails the test if the page fetched anything: a report page
// must open offline.
func (b *Browser) CheckOffline(t testing.TB) {
	t.Helper()
	fetched, err := chromedp.Run(b.Ctx, chromedp.Evaluate[[]string](`performance.getEntriesByType("resource").map(e => e.name)`))
	if err != nil {
		t.Fatal(err)
	}
	if len(fetched) > 0 {
		t.Errorf("the page fetched %v; it must open offline", fetched)
	}
}

// Browse opens the page at path in headless Chromium, evaluates probe (a
// JavaScript expression giving an array of strings) once the page has run,
// and fails the test on any console error or exception and on any resource
// the page fetched.
func Browse(t *testing.T, path, probe string) []string {
	t.Helper()
	b := StartBrowser(t, 90*time.Second)
	if err := chromedp.Do(b.Ctx, chromedp.Navigate("file://"+path)); err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	got, err := chromedp.Run(b.Ctx, chromedp.Evaluate[[]string](probe))
	if err != nil {
		t.Fatal(err)
	}
	b.CheckOffline(t)
	b.CheckConsole(t)
	return got
}
