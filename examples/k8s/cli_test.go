package k8s

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/primeload/primeload/cmd"
)

// TestScenarioValidates runs `primeload validate` on the ConfigMap's script,
// which checks its phases, templates and SLO metric names.
func TestScenarioValidates(t *testing.T) {
	t.Parallel()
	objs := loadManifest(t, "loadtest-job.yaml")
	cm := only[corev1.ConfigMap](t, objs, "primeload-scenario")
	path := filepath.Join(t.TempDir(), "script.yml")
	if err := os.WriteFile(path, []byte(cm.Data["script.yml"]), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	env := map[string]string{"API_TOKEN": "test-token"}
	if code := cmd.Execute(context.Background(), cmd.TestState(&out, &errOut, env), []string{"validate", path}); code != cmd.ExitOK {
		t.Fatalf("primeload validate exit %d, want %d\nstdout: %s\nstderr: %s", code, cmd.ExitOK, out.String(), errOut.String())
	}
}
