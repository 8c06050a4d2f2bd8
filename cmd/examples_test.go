package cmd

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExamplesValidate keeps every script users copy from examples/ valid,
// with its quick environment too where it has one: the bench and example
// shell scripts build on examples/seed-no-login.yml, so a break there
// would otherwise surface only in a ten-minute benchmark.
func TestExamplesValidate(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("../examples/*.yml")
	if err != nil || len(files) < 4 {
		t.Fatalf("examples: %v %v", files, err)
	}
	env := map[string]string{"API_TOKEN": "t"}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		runs := [][]string{{"validate", f}}
		if strings.Contains(string(data), "\n    quick:") {
			runs = append(runs, []string{"validate", "-e", "quick", f})
		}
		for _, args := range runs {
			var out, errOut bytes.Buffer
			if code := Execute(context.Background(), TestState(&out, &errOut, env), args); code != ExitOK {
				t.Errorf("primeload %s: exit %d\n%s", strings.Join(args, " "), code, errOut.String())
			}
		}
	}
}
