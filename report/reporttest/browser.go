package reporttest

import (
	"context"
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
func NeedBrowser(t *testing.T) {
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

// Browse opens the page at path in headless Chromium, evaluates probe (a
// JavaScript expression giving an array of strings) once the page has run,
// and fails the test on any console error or exception and on any resource
// the page fetched: a report page must open offline.
func Browse(t *testing.T, path, probe string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	actx, acancel := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(Chromium),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.UserDataDir(filepath.Join(t.TempDir(), "profile")),
		chromedp.WindowSize(1200, 900),
	)
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()
	const done = "primeload-test-done"
	messages := chromedp.Console(bctx)
	if err := chromedp.Do(bctx, chromedp.Navigate("file://"+path)); err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	got, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](probe))
	if err != nil {
		t.Fatal(err)
	}
	fetched, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](`performance.getEntriesByType("resource").map(e => e.name)`))
	if err != nil {
		t.Fatal(err)
	}
	if len(fetched) > 0 {
		t.Errorf("the page fetched %v; it must open offline", fetched)
	}
	if err := chromedp.Do(bctx, chromedp.Evaluate[chromedp.Void](`console.log("`+done+`")`)); err != nil {
		t.Fatal(err)
	}
	for m, err := range messages {
		if err != nil {
			t.Fatalf("console: %v", err)
		}
		if m.Type == chromedp.ConsoleLog && m.Text == done {
			break
		}
		if m.Type == chromedp.ConsoleError || m.IsException() {
			t.Errorf("console %s at %s:%d", m, m.URL, m.Line+1)
		}
	}
	return got
}
