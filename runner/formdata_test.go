package runner_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/primeload/primeload/runner"
	"github.com/primeload/primeload/scenario"
)

// TestFormDataOnTheWire: multipart formData as Artillery's form-data
// writes it (issue 18), parsed by a real server: text fields, a
// contentType, files streamed from disk with their name, type and every
// byte, a templated fromFile; one that is not there counts errors.ENOENT
// and sends nothing.
func TestFormDataOnTheWire(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<18) // 4 MiB
	files := map[string][]byte{"photo.png": []byte("\x89PNG fake"), "data.bin": big, "a.csv": []byte("x,y\n")}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var got seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength <= 0 {
			got.add("no Content-Length")
		}
		if err := r.ParseMultipartForm(1 << 20); err != nil {
			got.add("bad multipart: " + err.Error())
			return
		}
		var fields []string
		for k, v := range r.MultipartForm.Value {
			fields = append(fields, k+"="+strings.Join(v, ","))
		}
		for k, fhs := range r.MultipartForm.File {
			for _, fh := range fhs {
				f, _ := fh.Open()
				b, _ := io.ReadAll(f)
				f.Close()
				fields = append(fields, fmt.Sprintf("%s:%s:%s:%x", k, fh.Filename, fh.Header.Get("Content-Type"), sha256.Sum256(b))[:60])
			}
		}
		got.add(strings.Join(slices.Sorted(slices.Values(fields)), " "))
	}))
	t.Cleanup(srv.Close)
	sum := func(name, field, ct string) string {
		return fmt.Sprintf("%s:%s:%s:%x", field, name, ct, sha256.Sum256(files[name]))[:60]
	}
	tests := []struct {
		name, form string
		want       []string
		enoent     int64
	}{
		{"text and files", `{title: "pic {{ n }}", note: {value: hi, contentType: text/plain}, pic: {fromFile: photo.png}, blob: {fromFile: ./data.bin, contentType: application/x-test}}`,
			[]string{strings.Join(slices.Sorted(slices.Values([]string{"title=pic 7", "note=hi", sum("photo.png", "pic", "image/png"), sum("data.bin", "blob", "application/x-test")})), " ")}, 0},
		{"templated fromFile", `{f: {fromFile: "{{ file }}"}}`, []string{sum("a.csv", "f", "text/csv")}, 0},
		{"templated fromFile missing", `{f: {fromFile: "{{ missing }}"}}`, nil, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got.mu.Lock()
			got.list = nil
			got.mu.Unlock()
			src := "config:\n  target: http://127.0.0.1:9\n  phases: [{duration: 0.1, arrivalCount: 2}]\n  variables: {n: 7, file: a.csv, missing: nope.bin}\n" +
				"scenarios:\n  - flow:\n      - post: {url: /up, formData: " + tt.form + "}\n"
			script, err := scenario.Parse(filepath.Join(dir, "f.yml"), []byte(src), scenario.LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			_, rep := faultRun(t, script, srv.URL, runner.Options{})
			if g := got.distinct(); strings.Join(g, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("server saw:\n%s\nwant:\n%s", strings.Join(g, "\n"), strings.Join(tt.want, "\n"))
			}
			c := rep.Aggregate.Counters
			if c["errors.ENOENT"] != tt.enoent || (tt.enoent > 0 && c["http.requests"] != 0) {
				t.Errorf("errors.ENOENT = %d, want %d (and no request sent); counters %v", c["errors.ENOENT"], tt.enoent, c)
			}
		})
	}
}
