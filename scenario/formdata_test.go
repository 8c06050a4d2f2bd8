package scenario

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFormDataLoad: formData fields load with their kinds; a fromFile
// without templates that is not there is an error at its line, named as
// Node names it (issue 18).
func TestFormDataLoad(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.png"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	src := script(defaultPhases, "      - post:\n          url: /\n          setContentLengthHeader: true\n          formData:\n            t: text\n            f: {fromFile: a.png, contentType: image/png}\n            v: {value: \"{{ $uuid }}\"}\n")
	s, err := Parse(filepath.Join(dir, "f.yml"), []byte(src), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fd := s.Scenarios[0].Flow[0].Request.FormData
	if len(fd) != 3 || fd[0].Value == nil || fd[1].File == nil || fd[1].ContentType == nil || fd[2].Value == nil {
		t.Errorf("formData = %+v", fd)
	}
	for _, tt := range []struct{ form, want string }{
		{"{f: {fromFile: nope.png}}", "formData.f.fromFile: ENOENT: no such file"},
		{"{f: {fromFile: ../x.png}}", "is outside the script's folder"},
		{"{f: {}}", "formData.f: needs fromFile (a file to upload) or value (text)"},
		{"{f: {fromFile: a.png, value: x}}", "formData.f: a field is fromFile or value, not both"},
		{"{f: {file: a.png}}", "formData.f.file: unknown key; valid keys here: fromFile, value, contentType"},
	} {
		got := parseErr(t, filepath.Join(dir, "f.yml"), script(defaultPhases, "      - post: {url: /, formData: "+tt.form+"}\n"))
		if !strings.Contains(got, tt.want) {
			t.Errorf("%s: %q, want %q", tt.form, got, tt.want)
		}
	}
	if got := parseErr(t, filepath.Join(dir, "f.yml"), script(defaultPhases, "      - post: {url: /, json: {}, formData: {t: x}}\n")); !strings.Contains(got, "a request has one body; this one has json and formData") {
		t.Errorf("two bodies: %q", got)
	}
}
