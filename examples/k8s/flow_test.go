package k8s

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/primeload/primeload/cmd"
	"github.com/primeload/primeload/report"
	"github.com/primeload/primeload/target"
)

// TestJobFlowOnLoopback plays the two Jobs of loadtest-job.yaml with the
// real CLI against the real reference target on 127.0.0.1: the load pods'
// exact arguments, expanded as the kubelet expands $(VAR), all started
// together, then the merge pod's exact arguments over their parts. Only the
// phases are shortened and the paths moved into a temporary folder.
func TestJobFlowOnLoopback(t *testing.T) {
	objs := loadManifest(t, "loadtest-job.yaml")
	load := only[batchv1.Job](t, objs, "primeload-load")
	merge := only[batchv1.Job](t, objs, "primeload-merge")
	cm := only[corev1.ConfigMap](t, objs, "primeload-scenario")
	n := int(deref(load.Spec.Completions))

	dir := t.TempDir()
	paths := strings.NewReplacer("/scenario/", filepath.Join(dir, "scenario")+"/", "/reports/", filepath.Join(dir, "reports")+"/")
	for _, d := range []string{"scenario", "reports"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	// 8 arrivals per segment over 2 s: enough for every segment to send some.
	const arrivals = 8
	script := shortPhases(t, cm.Data["script.yml"], 2, arrivals*n)
	if err := os.WriteFile(filepath.Join(dir, "scenario", "script.yml"), script, 0o600); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const token = "flow-test-token"
	base, stop, err := target.StartLocal(ctx, target.LocalOptions{Token: token, SeedRows: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := stop(context.Background()); err != nil {
			t.Error(err)
		}
	}()

	lc := container(t, load.Spec.Template.Spec, "primeload")
	start := time.Now().Add(2 * time.Second).UTC().Format(time.RFC3339Nano)
	codes := make([]int, n)
	outs := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		// What the pod would see: the Job controller's index, the sed-filled
		// start and the Secret's token under the name the script reads.
		env := map[string]string{"JOB_COMPLETION_INDEX": strconv.Itoa(i), "START_AT": start, "API_TOKEN": token}
		args := expandArgs(lc.Args, env)
		for j := range args {
			args[j] = paths.Replace(args[j])
		}
		args = append(args, "--target="+base)
		wg.Go(func() {
			var out bytes.Buffer
			codes[i] = cmd.Execute(ctx, cmd.TestState(&out, &out, env), args)
			outs[i] = out.String()
		})
	}
	wg.Wait()

	var parts []*report.Report
	for i := range n {
		rep := readReport(t, filepath.Join(dir, "reports", "part-"+strconv.Itoa(i)+".json"))
		parts = append(parts, rep)
		// A part leaves its verdict to the merge, so a pod never fails and
		// the Job never retries it (which would send its load again).
		if codes[i] != cmd.ExitOK {
			t.Errorf("load pod %d exit %d, want 0\n%s", i, codes[i], outs[i])
		}
		if got, want := rep.Segment, strconv.Itoa(i+1)+"/"+strconv.Itoa(n); got != want {
			t.Errorf("part %d segment = %q, want %q", i, got, want)
		}
	}

	mc := container(t, merge.Spec.Template.Spec, "primeload")
	margs := make([]string, len(mc.Args))
	for j, a := range mc.Args {
		margs[j] = paths.Replace(a)
	}
	var out bytes.Buffer
	code := cmd.Execute(ctx, cmd.TestState(&out, &out, nil), margs)
	merged := readReport(t, filepath.Join(dir, "reports", "merged.json"))
	if want := wantCode(merged, cmd.ExitOK); code != want {
		t.Fatalf("merge exit %d, want %d\n%s", code, want, out.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "reports", "junit.xml")); err != nil {
		t.Errorf("merge wrote no JUnit report: %v", err)
	}

	// The parts together are the whole schedule, and the merge adds them up.
	var created, requests int64
	for _, p := range parts {
		created += p.Aggregate.Counters["vusers.created"]
		requests += p.Aggregate.Counters["http.requests"]
	}
	counts := []struct {
		name      string
		got, want int64
	}{
		{"parts' vusers.created", created, arrivals * int64(n)},
		{"merged vusers.created", merged.Aggregate.Counters["vusers.created"], arrivals * int64(n)},
		{"merged http.requests", merged.Aggregate.Counters["http.requests"], requests},
		{"merged vusers.failed", merged.Aggregate.Counters["vusers.failed"], 0},
	}
	for _, c := range counts {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
	if len(merged.SLO) == 0 {
		t.Errorf("the merged report has no SLO results: the merge Job's --slo did not gate")
	}
}

// expandArgs replaces $(NAME) with env[NAME], as the kubelet does for a
// container's args; an unknown name stays as written, as there.
func expandArgs(args []string, env map[string]string) []string {
	ref := regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = ref.ReplaceAllStringFunc(a, func(m string) string {
			if v, ok := env[m[2:len(m)-1]]; ok {
				return v
			}
			return m
		})
	}
	return out
}

// shortPhases replaces the script's phases with one phase of count arrivals
// over seconds, keeping everything else.
func shortPhases(t *testing.T, script string, seconds, count int) []byte {
	t.Helper()
	var doc map[string]any
	if err := yaml.Unmarshal([]byte(script), &doc); err != nil {
		t.Fatalf("scenario: %v", err)
	}
	config, ok := doc["config"].(map[string]any)
	if !ok {
		t.Fatal("scenario has no config section")
	}
	config["phases"] = []any{map[string]any{"duration": seconds, "arrivalCount": count, "name": "short"}}
	out, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func readReport(t *testing.T, path string) *report.Report {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read report: %v", err)
	}
	rep, err := report.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	return rep
}

// wantCode is want, or 3 when the report shows the generator fell behind:
// that depends on how busy the machine is, not on the manifests.
func wantCode(rep *report.Report, want int) int {
	if untrusted, _ := rep.Untrusted(); untrusted {
		return cmd.ExitUntrusted
	}
	return want
}
