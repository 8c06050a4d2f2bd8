// Package k8s holds the Kubernetes example manifests; its tests decode every
// document strictly into the Kubernetes API types so a misspelled field or a
// value that drifted from the seed fails CI instead of a user's cluster.
package k8s

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// newObject returns an empty typed object for a document's apiVersion and
// kind; a kind missing here is a test failure, so every document is checked.
func newObject(apiVersion, kind string) (any, bool) {
	switch apiVersion + " " + kind {
	case "apps/v1 Deployment":
		return &appsv1.Deployment{}, true
	case "v1 Service":
		return &corev1.Service{}, true
	case "v1 ConfigMap":
		return &corev1.ConfigMap{}, true
	case "v1 PersistentVolumeClaim":
		return &corev1.PersistentVolumeClaim{}, true
	case "v1 ServiceAccount":
		return &corev1.ServiceAccount{}, true
	case "policy/v1 PodDisruptionBudget":
		return &policyv1.PodDisruptionBudget{}, true
	case "autoscaling/v2 HorizontalPodAutoscaler":
		return &autoscalingv2.HorizontalPodAutoscaler{}, true
	case "batch/v1 Job":
		return &batchv1.Job{}, true
	case "rbac.authorization.k8s.io/v1 Role":
		return &rbacv1.Role{}, true
	case "rbac.authorization.k8s.io/v1 RoleBinding":
		return &rbacv1.RoleBinding{}, true
	}
	return nil, false
}

// decodeDocs splits a multi-document YAML stream and decodes each document
// strictly: unknown or duplicated fields are errors.
func decodeDocs(name string, data []byte) ([]any, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var objs []any
	for i := 1; ; i++ {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read %s document %d: %w", name, i, err)
		}
		if len(bytes.TrimSpace(stripComments(doc))) == 0 {
			continue
		}
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal(doc, &tm); err != nil {
			return nil, fmt.Errorf("decode %s document %d type: %w", name, i, err)
		}
		obj, ok := newObject(tm.APIVersion, tm.Kind)
		if !ok {
			return nil, fmt.Errorf("%s document %d: no type known for apiVersion %q kind %q", name, i, tm.APIVersion, tm.Kind)
		}
		if err := decodeStrict(doc, obj); err != nil {
			return nil, fmt.Errorf("decode %s document %d (%s): %w", name, i, tm.Kind, err)
		}
		objs = append(objs, obj)
	}
}

// decodeStrict decodes as the API server's strict field validation does:
// case-sensitive names (encoding/json would take "httpget" for "httpGet"),
// no unknown fields, no duplicates.
func decodeStrict(doc []byte, obj any) error {
	j, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return err
	}
	strict, err := kjson.UnmarshalStrict(j, obj, kjson.DisallowDuplicateFields, kjson.DisallowUnknownFields)
	if err != nil {
		return err
	}
	return errors.Join(strict...)
}

func stripComments(doc []byte) []byte {
	var out []byte
	for line := range bytes.Lines(doc) {
		if t := bytes.TrimSpace(line); len(t) > 0 && t[0] != '#' {
			out = append(out, line...)
		}
	}
	return out
}

func loadManifest(t *testing.T, path string) []any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read manifest: %v", err)
	}
	objs, err := decodeDocs(path, data)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

// only returns the single object of type T with the given name.
func only[T any](t *testing.T, objs []any, name string) *T {
	t.Helper()
	var found []*T
	for _, o := range objs {
		if v, ok := o.(*T); ok {
			if m, ok := any(v).(metav1.Object); ok && m.GetName() == name {
				found = append(found, v)
			}
		}
	}
	if len(found) != 1 {
		var zero T
		t.Fatalf("want exactly one %T named %q, found %d", zero, name, len(found))
	}
	return found[0]
}

func TestDecodeIsStrict(t *testing.T) {
	t.Parallel()
	base := `apiVersion: apps/v1
kind: Deployment
metadata:
  name: x
spec:
  replicas: 2
  selector:
    matchLabels: {app: x}
  template:
    metadata:
      labels: {app: x}
    spec:
      containers:
        - name: x
          image: x
          readinessProbe:
            httpGet: {path: /readyz, port: 8080}
`
	tests := []struct {
		name    string
		doc     string
		wantErr string // "" means it must decode
	}{
		{"valid", base, ""},
		{"misspelled spec field", strings.Replace(base, "replicas:", "replica:", 1), `unknown field "spec.replica"`},
		{"wrongly cased probe field", strings.Replace(base, "httpGet:", "httpget:", 1), `unknown field "spec.template.spec.containers[0].readinessProbe.httpget"`},
		{"duplicated field", base + "          image: y\n", `already set`},
		{"wrong type", strings.Replace(base, "replicas: 2", "replicas: two", 1), `replicas`},
		{"unknown kind", strings.Replace(base, "kind: Deployment", "kind: Deploymnet", 1), `no type known`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := decodeDocs("test.yaml", []byte(tt.doc))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("got error %v, want none", err)
			case tt.wantErr != "" && err == nil:
				t.Fatalf("got no error, want one containing %q", tt.wantErr)
			case tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr):
				t.Fatalf("got error %q, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestTargetDeployment(t *testing.T) {
	t.Parallel()
	objs := loadManifest(t, "target.yaml")
	d := only[appsv1.Deployment](t, objs, "primepre-target")

	if d.Spec.Replicas == nil || *d.Spec.Replicas < 2 {
		t.Errorf("replicas = %v, want 2 or more", d.Spec.Replicas)
	}
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		t.Fatalf("deployment selector: %v", err)
	}
	if !sel.Matches(labels.Set(d.Spec.Template.Labels)) {
		t.Errorf("deployment selector %v does not match its pod labels %v", sel, d.Spec.Template.Labels)
	}
	c := container(t, d.Spec.Template.Spec, "target")
	if got := c.Args; len(got) == 0 || got[0] != "serve" {
		t.Errorf("args = %q, want primeload serve", got)
	}
	// Replicas share one store and one cache, or each would serve its own data.
	for flag, want := range map[string]string{"--store": "postgres", "--cache": "redis"} {
		if got := flagValues(c.Args)[flag]; got != want {
			t.Errorf("serve %s = %q, want %q", flag, got, want)
		}
	}

	probes := []struct {
		name     string
		probe    *corev1.Probe
		wantPath string
	}{
		{"readiness", c.ReadinessProbe, "/readyz"},
		{"liveness", c.LivenessProbe, "/healthz"},
	}
	for _, p := range probes {
		if p.probe == nil || p.probe.HTTPGet == nil {
			t.Errorf("%s probe: want an httpGet probe", p.name)
			continue
		}
		if got := p.probe.HTTPGet.Path; got != p.wantPath {
			t.Errorf("%s probe path = %q, want %q", p.name, got, p.wantPath)
		}
		if !portNamed(c, p.probe.HTTPGet.Port) {
			t.Errorf("%s probe port %v is not a port of the container", p.name, p.probe.HTTPGet.Port.String())
		}
	}

	for _, list := range []struct {
		name string
		rl   corev1.ResourceList
	}{{"requests", c.Resources.Requests}, {"limits", c.Resources.Limits}} {
		for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			if q, ok := list.rl[r]; !ok || q.IsZero() {
				t.Errorf("resources.%s.%s is missing: the HPA needs requests, and limits bound a pod", list.name, r)
			}
		}
	}
	if req, lim := c.Resources.Requests.Cpu(), c.Resources.Limits.Cpu(); req.Cmp(*lim) > 0 {
		t.Errorf("cpu request %v is above its limit %v", req, lim)
	}

	wantEnv := []string{"PRIMELOAD_DATABASE_URL", "PRIMELOAD_REDIS_URL", "PRIMELOAD_TOKEN"}
	for _, name := range wantEnv {
		ref := secretRef(c, name)
		if ref == nil {
			t.Errorf("env %s: want it from a secretKeyRef", name)
			continue
		}
		if ref.Name != "primepre-target" || ref.Key != name {
			t.Errorf("env %s from secret %s key %s, want secret primepre-target key %s", name, ref.Name, ref.Key, name)
		}
		if ref.Optional != nil && *ref.Optional {
			t.Errorf("env %s: the secret key must not be optional", name)
		}
	}
	if slices.ContainsFunc(c.Env, func(e corev1.EnvVar) bool { return e.Value != "" && strings.Contains(e.Name, "TOKEN") }) {
		t.Errorf("a token is given in plain text; it must come from the Secret")
	}
	checkNonRoot(t, "target", d.Spec.Template.Spec)

	svc := only[corev1.Service](t, objs, "primepre-target")
	if len(svc.Spec.Selector) == 0 || !labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(d.Spec.Template.Labels)) {
		t.Errorf("service selector %v does not match the deployment's pods %v", svc.Spec.Selector, d.Spec.Template.Labels)
	}
	for _, p := range svc.Spec.Ports {
		if !portNamed(c, p.TargetPort) {
			t.Errorf("service targetPort %v is not a port of the container", p.TargetPort.String())
		}
	}
}

func TestTargetHPAIsTheSeeds(t *testing.T) {
	t.Parallel()
	objs := loadManifest(t, "target.yaml")
	h := only[autoscalingv2.HorizontalPodAutoscaler](t, objs, "primepre-target")
	d := only[appsv1.Deployment](t, objs, "primepre-target")

	ref := h.Spec.ScaleTargetRef
	if ref.APIVersion != "apps/v1" || ref.Kind != "Deployment" || ref.Name != d.Name {
		t.Errorf("scaleTargetRef = %+v, want apps/v1 Deployment %s", ref, d.Name)
	}
	// Figures from the seed, module 08, part 4, step 1.
	ints := []struct {
		name      string
		got, want int32
	}{
		{"minReplicas", deref(h.Spec.MinReplicas), 2},
		{"maxReplicas", h.Spec.MaxReplicas, 10},
		{"cpu averageUtilization", utilization(t, h, corev1.ResourceCPU), 70},
		{"memory averageUtilization", utilization(t, h, corev1.ResourceMemory), 80},
		{"scaleUp stabilizationWindowSeconds", deref(rules(t, h.Spec.Behavior, "up").StabilizationWindowSeconds), 60},
		{"scaleDown stabilizationWindowSeconds", deref(rules(t, h.Spec.Behavior, "down").StabilizationWindowSeconds), 300},
	}
	for _, tt := range ints {
		if tt.got != tt.want {
			t.Errorf("%s = %d, want %d", tt.name, tt.got, tt.want)
		}
	}
	policies := []struct {
		dir  string
		want autoscalingv2.HPAScalingPolicy
	}{
		{"up", autoscalingv2.HPAScalingPolicy{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15}},
		{"down", autoscalingv2.HPAScalingPolicy{Type: autoscalingv2.PercentScalingPolicy, Value: 10, PeriodSeconds: 60}},
	}
	for _, p := range policies {
		got := rules(t, h.Spec.Behavior, p.dir).Policies
		if len(got) != 1 || got[0] != p.want {
			t.Errorf("scale%s policies = %+v, want [%+v]", p.dir, got, p.want)
		}
	}
}

func TestLoadtestJob(t *testing.T) {
	t.Parallel()
	objs := loadManifest(t, "loadtest-job.yaml")
	job := only[batchv1.Job](t, objs, "primeload-load")

	if job.Spec.CompletionMode == nil || *job.Spec.CompletionMode != batchv1.IndexedCompletion {
		t.Errorf("completionMode = %v, want Indexed", job.Spec.CompletionMode)
	}
	n := deref(job.Spec.Completions)
	if n < 2 {
		t.Fatalf("completions = %d, want 2 or more for a distributed run", n)
	}
	if got := deref(job.Spec.Parallelism); got != n {
		t.Errorf("parallelism = %d, want completions (%d): segments must run together", got, n)
	}

	c := container(t, job.Spec.Template.Spec, "primeload")
	args := flagValues(c.Args)
	if len(c.Args) < 2 || c.Args[0] != "run" || c.Args[1] != "/scenario/script.yml" {
		t.Errorf("args = %q, want run /scenario/script.yml ...", c.Args)
	}
	wantArgs := map[string]string{
		"--segments": strconv.Itoa(int(n)),
		"--start-at": "$(START_AT)",
		"--output":   "/reports/part-$(JOB_COMPLETION_INDEX).json",
	}
	for flag, want := range wantArgs {
		if got := args[flag]; got != want {
			t.Errorf("%s = %q, want %q", flag, got, want)
		}
	}
	if start := envValue(c, "START_AT"); start != "@START_AT@" {
		t.Errorf("START_AT = %q, want the @START_AT@ placeholder the README's sed replaces", start)
	}
	if ref := secretRef(c, "API_TOKEN"); ref == nil || ref.Name != "primepre-target" {
		t.Errorf("API_TOKEN: want it from the primepre-target Secret, got %+v", ref)
	}

	pod := job.Spec.Template.Spec
	cm := only[corev1.ConfigMap](t, objs, "primeload-scenario")
	if _, ok := cm.Data["script.yml"]; !ok {
		t.Errorf("ConfigMap %s has no script.yml", cm.Name)
	}
	if v := volumeAt(t, pod, c, "/scenario"); v.ConfigMap == nil || v.ConfigMap.Name != cm.Name {
		t.Errorf("/scenario is not the %s ConfigMap", cm.Name)
	}
	pvc := only[corev1.PersistentVolumeClaim](t, objs, "primeload-reports")
	if v := volumeAt(t, pod, c, "/reports"); v.PersistentVolumeClaim == nil || v.PersistentVolumeClaim.ClaimName != pvc.Name {
		t.Errorf("/reports of the load pods is not the %s claim", pvc.Name)
	}
	if !slices.Contains(pvc.Spec.AccessModes, corev1.ReadWriteMany) {
		t.Errorf("claim access modes %v: pods on several nodes need ReadWriteMany", pvc.Spec.AccessModes)
	}
	checkNonRoot(t, "load", pod)

	merge := only[batchv1.Job](t, objs, "primeload-merge")
	mpod := merge.Spec.Template.Spec
	mc := container(t, mpod, "primeload")
	var parts []string
	for i := range n {
		parts = append(parts, fmt.Sprintf("/reports/part-%d.json", i))
	}
	if got, want := positional(mc.Args), append([]string{"report"}, parts...); !slices.Equal(got, want) {
		t.Errorf("merge args = %q, want every part: %q", got, want)
	}
	margs := flagValues(mc.Args)
	if margs["--output"] != "/reports/merged.json" || margs["--junit"] == "" || margs["--slo"] == "" {
		t.Errorf("merge flags = %v, want --output=/reports/merged.json, --junit and --slo", margs)
	}
	// The merge gates; a segment that gated on its own share would fail its
	// pod and the load Job before the merge could run.
	if strings.Contains(cm.Data["script.yml"], "ensure:") {
		t.Errorf("the scenario has an ensure section: SLOs belong to the merge Job's --slo")
	}
	if v := volumeAt(t, mpod, mc, "/reports"); v.PersistentVolumeClaim == nil || v.PersistentVolumeClaim.ClaimName != pvc.Name {
		t.Errorf("/reports of the merge pod is not the %s claim", pvc.Name)
	}
	if got := deref(merge.Spec.BackoffLimit); got != 0 {
		t.Errorf("merge backoffLimit = %d, want 0: the merge is the verdict", got)
	}
	// The merge must start only after the load Job is complete.
	if len(mpod.InitContainers) != 1 {
		t.Fatalf("merge pod has %d init containers, want the one that waits", len(mpod.InitContainers))
	}
	w := mpod.InitContainers[0]
	if !slices.Contains(w.Args, "job/"+job.Name) || !slices.Contains(w.Args, "--for=condition=Complete") {
		t.Errorf("init container args %q do not wait for job/%s to complete", w.Args, job.Name)
	}
	checkNonRoot(t, "merge", mpod)
	checkWaitRBAC(t, objs, mpod.ServiceAccountName)
}

func checkWaitRBAC(t *testing.T, objs []any, sa string) {
	t.Helper()
	only[corev1.ServiceAccount](t, objs, sa)
	var role *rbacv1.Role
	for _, o := range objs {
		rb, ok := o.(*rbacv1.RoleBinding)
		if !ok || !slices.ContainsFunc(rb.Subjects, func(s rbacv1.Subject) bool { return s.Kind == "ServiceAccount" && s.Name == sa }) {
			continue
		}
		role = only[rbacv1.Role](t, objs, rb.RoleRef.Name)
	}
	if role == nil {
		t.Fatalf("no RoleBinding gives service account %s a Role", sa)
	}
	for _, verb := range []string{"get", "list", "watch"} {
		if !slices.ContainsFunc(role.Rules, func(r rbacv1.PolicyRule) bool {
			return slices.Contains(r.APIGroups, "batch") && slices.Contains(r.Resources, "jobs") && slices.Contains(r.Verbs, verb)
		}) {
			t.Errorf("role %s cannot %s batch jobs, which kubectl wait needs", role.Name, verb)
		}
	}
}

func TestDockerfile(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var froms, users []string
	var entrypoint string
	var static bool
	for line := range strings.Lines(string(data)) {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		switch strings.ToUpper(f[0]) {
		case "FROM":
			froms = append(froms, strings.Join(f[1:], " "))
		case "USER":
			users = append(users, f[1])
		case "ENTRYPOINT":
			entrypoint = strings.Join(f[1:], " ")
		case "RUN":
			if strings.Contains(line, "CGO_ENABLED=0") && strings.Contains(line, "go build") {
				static = true
			}
		}
	}
	if len(froms) < 2 || !strings.HasPrefix(froms[0], "golang:") {
		t.Errorf("stages %q: want a golang builder stage and a final stage", froms)
	}
	if last := froms[len(froms)-1]; !strings.HasPrefix(last, "gcr.io/distroless/static") && last != "scratch" {
		t.Errorf("final stage %q: want distroless/static or scratch", last)
	}
	if !static {
		t.Errorf("no RUN builds with CGO_ENABLED=0: the binary would need a C library")
	}
	if len(users) == 0 || slices.Contains([]string{"0", "root", "0:0"}, users[len(users)-1]) {
		t.Errorf("USER %q: want a non-root user", users)
	}
	if !strings.Contains(entrypoint, "primeload") {
		t.Errorf("ENTRYPOINT %q: want the primeload binary", entrypoint)
	}
}

func container(t *testing.T, pod corev1.PodSpec, name string) corev1.Container {
	t.Helper()
	for _, c := range pod.Containers {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no container named %q", name)
	return corev1.Container{}
}

func checkNonRoot(t *testing.T, what string, pod corev1.PodSpec) {
	t.Helper()
	sc := pod.SecurityContext
	if sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || deref(sc.RunAsUser) == 0 {
		t.Errorf("%s pod: want runAsNonRoot with a non-zero runAsUser", what)
	}
	for _, c := range append(slices.Clone(pod.InitContainers), pod.Containers...) {
		if c.SecurityContext == nil || c.SecurityContext.AllowPrivilegeEscalation == nil || *c.SecurityContext.AllowPrivilegeEscalation {
			t.Errorf("%s pod container %s: want allowPrivilegeEscalation: false", what, c.Name)
		}
	}
}

func portNamed(c corev1.Container, p intstr.IntOrString) bool {
	return slices.ContainsFunc(c.Ports, func(cp corev1.ContainerPort) bool {
		if p.Type == intstr.String {
			return cp.Name == p.StrVal
		}
		return cp.ContainerPort == p.IntVal
	})
}

func secretRef(c corev1.Container, name string) *corev1.SecretKeySelector {
	for _, e := range c.Env {
		if e.Name == name && e.ValueFrom != nil {
			return e.ValueFrom.SecretKeyRef
		}
	}
	return nil
}

func envValue(c corev1.Container, name string) string {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

func volumeAt(t *testing.T, pod corev1.PodSpec, c corev1.Container, path string) corev1.Volume {
	t.Helper()
	for _, m := range c.VolumeMounts {
		if m.MountPath != path {
			continue
		}
		for _, v := range pod.Volumes {
			if v.Name == m.Name {
				return v
			}
		}
		t.Fatalf("container %s mounts %s from volume %q, which the pod does not define", c.Name, path, m.Name)
	}
	t.Fatalf("container %s mounts nothing at %s", c.Name, path)
	return corev1.Volume{}
}

// flagValues maps "--name=value" arguments to their values.
func flagValues(args []string) map[string]string {
	m := map[string]string{}
	for _, a := range args {
		if name, value, ok := strings.Cut(a, "="); ok && strings.HasPrefix(name, "-") {
			m[name] = value
		}
	}
	return m
}

// positional returns the arguments that are not flags.
func positional(args []string) []string {
	var p []string
	for _, a := range args {
		if !strings.HasPrefix(a, "-") {
			p = append(p, a)
		}
	}
	return p
}

func utilization(t *testing.T, h *autoscalingv2.HorizontalPodAutoscaler, r corev1.ResourceName) int32 {
	t.Helper()
	for _, m := range h.Spec.Metrics {
		if m.Type == autoscalingv2.ResourceMetricSourceType && m.Resource != nil && m.Resource.Name == r {
			if m.Resource.Target.Type != autoscalingv2.UtilizationMetricType {
				t.Errorf("%s target type = %s, want Utilization", r, m.Resource.Target.Type)
			}
			return deref(m.Resource.Target.AverageUtilization)
		}
	}
	t.Errorf("no %s resource metric", r)
	return 0
}

func rules(t *testing.T, b *autoscalingv2.HorizontalPodAutoscalerBehavior, dir string) *autoscalingv2.HPAScalingRules {
	t.Helper()
	if b != nil && dir == "up" && b.ScaleUp != nil {
		return b.ScaleUp
	}
	if b != nil && dir == "down" && b.ScaleDown != nil {
		return b.ScaleDown
	}
	t.Fatalf("no scale%s behaviour", dir)
	return nil
}

func deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}
