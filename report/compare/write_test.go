package compare

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"flag"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/primeload/primeload/report/reporttest"
)

var update = flag.Bool("update", false, "rewrite golden files")

func goldenResult(t *testing.T) *Result {
	t.Helper()
	base := run{seed: 1, n: 500}.report(t)
	slow := run{seed: 2, n: 500, shift: 20 * time.Millisecond, errEvery: 100}.report(t)
	res, err := Compare(base, slow, Options{Gates: mustGates(t, DefaultGates), Seed: 1, Replicates: 2000})
	if err != nil {
		t.Fatal(err)
	}
	res.Base.File, res.New.File = "main.json", "pr.json"
	return res
}

func TestWriters(t *testing.T) {
	t.Parallel()
	res := goldenResult(t)
	for _, tt := range []struct {
		file  string
		write func(io.Writer, *Result) error
	}{
		{"testdata/compare.txt", WriteText},
		{"testdata/compare.md", WriteMarkdown},
		{"testdata/compare.xml", WriteJUnit},
	} {
		var b bytes.Buffer
		if err := tt.write(&b, res); err != nil {
			t.Fatal(err)
		}
		reporttest.Golden(t, tt.file, b.Bytes(), *update)
	}
}

func TestWriteTextFitsATerminal(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := WriteText(&b, goldenResult(t)); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(b.String(), "\n") {
		// Settings and notes are sentences a terminal wraps; the tables must not be.
		if strings.HasPrefix(line, "  ") && len([]rune(line)) > 100 {
			t.Errorf("table line of %d columns: %q", len([]rune(line)), line)
		}
	}
}

func TestWriteJUnitFailsOnRegressions(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := WriteJUnit(&b, goldenResult(t)); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
	}
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	// 4 rows x 4 gates: every p50, p95 and p99 regressed, and errors (1%
	// from 0) overall only: 5 errors in 500 requests of one endpoint is
	// within noise.
	if doc.Tests != 16 || doc.Failures != 13 {
		t.Errorf("tests %d, failures %d: want 16 and 13", doc.Tests, doc.Failures)
	}
}

func TestWriteHTML(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := WriteHTML(&b, goldenResult(t)); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, want := range []string{"regression in 4 of 4", `data-spectrum="0"`, `data-spectrum="3"`, "uPlot", "MIT"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// Self-contained: nothing is fetched.
	if m := regexp.MustCompile(`(?i)<(script|link|img)[^>]+(src|href)=`).FindString(page); m != "" {
		t.Errorf("page loads an external resource: %s", m)
	}
	// The spectra are valid JSON with both runs per row.
	i := strings.Index(page, "const primeloadSpectra = ")
	j := strings.Index(page[i:], ";</script>")
	var spectra map[string]htmlSpectrum
	if err := json.Unmarshal([]byte(page[i+len("const primeloadSpectra = "):i+j]), &spectra); err != nil {
		t.Fatal(err)
	}
	s := spectra["1"]
	if len(spectra) != 4 || len(s.X) == 0 || len(s.Base) != len(s.X) || len(s.New) != len(s.X) || s.New[len(s.New)/2] <= s.Base[len(s.Base)/2] {
		t.Errorf("spectra %d rows, row 1 %d points: want 4 rows with new above base", len(spectra), len(s.X))
	}
}

// TestHTMLInBrowser opens the page in headless Chromium: every row's
// spectrum chart draws its canvas, with no console error and no fetch.
func TestHTMLInBrowser(t *testing.T) {
	reporttest.NeedBrowser(t)
	path := filepath.Join(t.TempDir(), "compare.html")
	var b bytes.Buffer
	if err := WriteHTML(&b, goldenResult(t)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	got := reporttest.Browse(t, path, `Array.from(document.querySelectorAll("[data-spectrum]")).map(e => e.dataset.spectrum + ":" + e.querySelectorAll("canvas").length)`)
	if s, want := strings.Join(got, " "), "0:1 1:1 2:1 3:1"; s != want {
		t.Errorf("spectrum canvases %q, want %q", s, want)
	}
}
