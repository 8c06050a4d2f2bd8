package k8s

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/primeload/primeload/cmd"
)

// TestArgsParseWithTheRealCLI parses every primeload container's arguments
// with primeload's own command tree, so a renamed or removed flag breaks
// this test rather than a pod at 3 a.m.
func TestArgsParseWithTheRealCLI(t *testing.T) {
	t.Parallel()
	var containers []corev1.Container
	for _, file := range []string{"target.yaml", "loadtest-job.yaml"} {
		for _, o := range loadManifest(t, file) {
			switch v := o.(type) {
			case *batchv1.Job:
				containers = append(containers, v.Spec.Template.Spec.Containers...)
			case *appsv1.Deployment:
				containers = append(containers, v.Spec.Template.Spec.Containers...)
			}
		}
	}
	checked := map[string]bool{}
	for _, c := range containers {
		if !strings.HasPrefix(c.Image, "primeload:") {
			continue
		}
		root := cmd.NewRootCmd(cmd.TestState(&bytes.Buffer{}, &bytes.Buffer{}, nil))
		sub, rest, err := root.Find(c.Args)
		if err != nil || sub == root {
			t.Errorf("container %s: args %q name no primeload command: %v", c.Name, c.Args, err)
			continue
		}
		if err := sub.ParseFlags(rest); err != nil {
			t.Errorf("container %s: primeload %s %q: %v", c.Name, sub.Name(), rest, err)
		}
		if sub.Name() == "serve" {
			// serve refuses a non-loopback --addr without the opt-in, a
			// check flag parsing alone does not make.
			addr, _ := sub.Flags().GetString("addr")
			remote, _ := sub.Flags().GetBool("allow-remote")
			if host, _, _ := net.SplitHostPort(addr); !remote && !isLoopback(host) {
				t.Errorf("container %s: serve --addr %s needs --allow-remote in a pod", c.Name, addr)
			}
		}
		checked[sub.Name()] = true
	}
	for _, want := range []string{"serve", "run", "report"} {
		if !checked[want] {
			t.Errorf("no container runs primeload %s", want)
		}
	}
}

func isLoopback(host string) bool {
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}

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
