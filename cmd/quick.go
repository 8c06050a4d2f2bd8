package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
)

// QuickOptions is everything `primeload quick` needs: Artillery's quick
// command, a smoke test of one URL without a script.
type QuickOptions struct {
	URL      string
	Count    int    // virtual users, all arriving within one second
	Num      int    // GET requests each user sends, one after another
	Output   string // JSON report, as run -o
	Insecure bool
	Quiet    bool
}

// Artillery 2.0.34's defaults for quick's --count and --num.
const (
	quickDefaultCount = 10
	quickDefaultNum   = 10
)

func newQuickCmd(s *State) *cobra.Command {
	return newQuickCmdF(s, func(ctx context.Context, o *QuickOptions) error { return runQuick(ctx, s, o) })
}

// newQuickCmdF builds the quick command with runF doing the work, so tests
// can check flag parsing without sending load.
func newQuickCmdF(s *State, runF func(context.Context, *QuickOptions) error) *cobra.Command {
	o := &QuickOptions{}
	c := &cobra.Command{
		Use:   "quick URL",
		Short: "Send a few GETs to one URL without a script, as artillery quick does",
		Long: `quick writes the script Artillery's quick command writes: --count users
arrive within one second, each sends --num GETs to URL one after another,
and the run is judged and reported as primeload run judges it.`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			o.URL = args[0]
			if o.Count < 1 || o.Num < 1 {
				return usageError(s, fmt.Errorf("--count %d, --num %d: each must be 1 or more", o.Count, o.Num))
			}
			return runF(c.Context(), o)
		},
	}
	f := c.Flags()
	f.IntVarP(&o.Count, "count", "c", quickDefaultCount, "number of virtual users to create")
	f.IntVarP(&o.Num, "num", "n", quickDefaultNum, "number of requests each virtual user sends")
	f.StringVarP(&o.Output, "output", "o", "", "write the JSON report to `FILE`")
	f.BoolVarP(&o.Insecure, "insecure", "k", false, "skip TLS certificate checks")
	f.BoolVarP(&o.Quiet, "quiet", "q", false, "plain one-line period summaries even on a terminal")
	return c
}

// quickScript is the script Artillery's quick command builds (quick.ts):
// the URL's scheme and host as the target, one phase of Count arrivals in
// one second, and a flow of Num GETs of the URL.
func quickScript(o *QuickOptions) ([]byte, error) {
	u, err := url.Parse(o.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("quick %q: want an http:// or https:// URL with a host", o.URL)
	}
	if !isLoopbackHost(u.Hostname()) {
		return nil, fmt.Errorf("quick %q: only a loopback host (127.0.0.1, [::1], localhost) is a load target", o.URL)
	}
	var step any = map[string]any{"get": map[string]any{"url": o.URL}}
	if o.Num > 1 {
		step = map[string]any{"loop": []any{step}, "count": o.Num}
	}
	config := map[string]any{
		"target": u.Scheme + "://" + u.Host,
		"phases": []any{map[string]any{"duration": 1, "arrivalCount": o.Count}},
	}
	if o.Insecure && u.Scheme == "https" {
		config["tls"] = map[string]any{"rejectUnauthorized": false}
	}
	// JSON is YAML, and the loader checks it as any script.
	return json.MarshalIndent(map[string]any{
		"config":    config,
		"scenarios": []any{map[string]any{"flow": []any{step}}},
	}, "", "  ")
}

// runQuick writes the script to a temporary folder and runs it as run does.
func runQuick(ctx context.Context, s *State, o *QuickOptions) error {
	src, err := quickScript(o)
	if err != nil {
		return usageError(s, err)
	}
	dir, err := os.MkdirTemp("", "primeload-quick-")
	if err != nil {
		return &ExitError{Code: ExitRuntime, Err: fmt.Errorf("quick: make a folder for the script: %w", err)}
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "quick.yml")
	if err := os.WriteFile(path, src, 0o600); err != nil {
		return &ExitError{Code: ExitRuntime, Err: fmt.Errorf("quick: write the script: %w", err)}
	}
	return runRun(ctx, s, &RunOptions{
		Script: path, Output: o.Output, Insecure: o.Insecure, Quiet: o.Quiet,
		Period: 10 * time.Second, Grace: 5 * time.Second, Count: 1,
	})
}
