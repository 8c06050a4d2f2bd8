package scenario

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// This file reads config.payload as Artillery 2.0.34 does (its
// readPayload hands the file to csv-parse 4 with skip_empty_lines and cast
// on, from_line 2 for skipHeader, payload.options laid over them).

var payloadKeys = []string{"path", "fields", "order", "skipHeader", "delimiter", "name", "cast", "skipEmptyLines", "loadAll", "options"}

// csvOptionKeys are the csv-parse options payload.options may set.
var csvOptionKeys = []string{"delimiter", "cast", "skip_empty_lines", "from_line", "ltrim", "rtrim", "trim", "relax_column_count", "relax", "comment", "bom"}

// csvOptions is how one payload file is read.
type csvOptions struct {
	delim      rune
	comment    rune
	fromLine   int // the first line read, from 1
	keepEmpty  bool
	lazyQuotes bool
	ltrim      bool
	rtrim      bool
	bom        bool
}

func (l *loader) payload(n *yaml.Node, path string) (Payload, bool) {
	n = l.deref(n)
	pl := Payload{Order: "random", Delimiter: ',', Cast: true, SkipEmptyLines: true}
	opts := csvOptions{fromLine: 1}
	before := len(l.errs)
	var pathN, orderN, nameN, optionsN *yaml.Node
	l.object(n, path, payloadKeys, nil, func(p pair, fp string) {
		switch p.key {
		case "path":
			pathN = l.deref(p.v)
			pl.Path, _ = l.str(p.v, fp)
		case "fields":
			for i, f := range l.list(p.v, fp, false) {
				pl.Fields = append(pl.Fields, l.name(f, index(fp, i)))
			}
		case "order":
			orderN = l.deref(p.v)
			s, ok := l.str(p.v, fp)
			if ok && s != "random" && s != "sequence" {
				l.errorf(l.deref(p.v), fp, "must be random or sequence, got %q%s", s, didYouMean(s, []string{"random", "sequence"}))
			}
			pl.Order = s
		case "skipHeader":
			pl.SkipHeader, _ = l.boolean(p.v, fp)
		case "delimiter":
			pl.Delimiter = l.delimiter(p.v, fp)
		case "name":
			nameN = l.deref(p.v)
			pl.Name = l.name(p.v, fp)
		case "cast":
			pl.Cast, _ = l.boolean(p.v, fp)
		case "skipEmptyLines":
			pl.SkipEmptyLines, _ = l.boolean(p.v, fp)
		case "loadAll":
			pl.LoadAll, _ = l.boolean(p.v, fp)
		case "options":
			optionsN = p.v
		}
	})
	if n.Kind != yaml.MappingNode {
		return pl, false
	}
	if pl.SkipHeader {
		opts.fromLine = 2
	}
	if optionsN != nil {
		// Laid over the keys above, as Artillery's Object.assign does.
		l.csvOptions(optionsN, join(path, "options"), &pl, &opts)
	}
	opts.delim, opts.keepEmpty = pl.Delimiter, !pl.SkipEmptyLines
	if pathN == nil && !l.unchosenEnv {
		l.required(n, join(path, "path"), "is required: the CSV file, relative to the script")
	}
	switch {
	case pl.LoadAll && pl.Name == "":
		l.required(n, join(path, "name"), "is required with loadAll: the variable that holds every row")
	case pl.LoadAll && orderN != nil:
		l.errorf(orderN, join(path, "order"), "does not go with loadAll, which binds every row; give one of them")
	case !pl.LoadAll && nameN != nil:
		l.warnf(nameN, join(path, "name"), "has no effect without loadAll: true; the fields are variables of their own, as in Artillery")
		pl.Name = ""
	}
	if len(pl.Fields) == 0 && !pl.LoadAll {
		l.required(n, join(path, "fields"), "is required: the variable names bound to the CSV columns")
	}
	if len(l.errs) != before {
		return pl, false
	}
	if pathN == nil {
		// An environment -e did not choose, whose path -p gives when it
		// runs: its fields still name variables (see otherEnvNames).
		return pl, true
	}
	resolved, err := l.payloadPath(pl.Path)
	if err != nil {
		l.errorf(pathN, join(path, "path"), "%v", err)
		return pl, false
	}
	pl.Path = resolved
	rows, err := readCSV(resolved, opts, csvLimits{bytes: MaxPayloadBytes, rows: MaxPayloadRows})
	if err != nil {
		l.errorf(pathN, join(path, "path"), "%v", err)
		return pl, false
	}
	if pl.LoadAll {
		pl.All = allRows(rows, pl.Fields, pl.Cast)
	} else {
		pl.Rows = rows
	}
	return pl, true
}

// delimiter reads one delimiter character.
func (l *loader) delimiter(n *yaml.Node, path string) rune {
	s, ok := l.str(n, path)
	r, size := utf8.DecodeRuneInString(s)
	if ok && (size != len(s) || s == "" || r == '"' || r == '\r' || r == '\n' || r == utf8.RuneError) {
		l.errorf(l.deref(n), path, "must be one character other than a quote or newline, got %q", s)
	}
	return r
}

// csvOptions reads payload.options, csv-parse's own option names.
func (l *loader) csvOptions(n *yaml.Node, path string, pl *Payload, o *csvOptions) {
	l.object(n, path, csvOptionKeys, nil, func(p pair, fp string) {
		switch p.key {
		case "delimiter":
			pl.Delimiter = l.delimiter(p.v, fp)
		case "cast":
			pl.Cast, _ = l.boolean(p.v, fp)
		case "skip_empty_lines":
			pl.SkipEmptyLines, _ = l.boolean(p.v, fp)
		case "from_line":
			o.fromLine, _ = l.count(p.v, fp, 1)
		case "ltrim":
			o.ltrim, _ = l.boolean(p.v, fp)
		case "rtrim":
			o.rtrim, _ = l.boolean(p.v, fp)
		case "trim":
			b, _ := l.boolean(p.v, fp)
			o.ltrim, o.rtrim = b, b
		case "relax_column_count":
			// Rows of any length are read already: a short row leaves
			// its last fields undefined.
			l.boolean(p.v, fp)
		case "relax":
			o.lazyQuotes, _ = l.boolean(p.v, fp)
		case "bom":
			o.bom, _ = l.boolean(p.v, fp)
		case "comment":
			s, ok := l.str(p.v, fp)
			r, size := utf8.DecodeRuneInString(s)
			if ok && (size != len(s) || s == "" || r == '"' || r == pl.Delimiter) {
				l.errorf(l.deref(p.v), fp, "must be one character other than a quote or the delimiter, got %q", s)
			}
			o.comment = r
		}
	})
}

// allRows is the table loadAll binds: one object per row keyed by fields,
// or the rows themselves when there are no fields.
func allRows(rows [][]string, fields []string, cast bool) []any {
	out := make([]any, len(rows))
	for i, row := range rows {
		if len(fields) == 0 {
			r := make([]any, len(row))
			for j, f := range row {
				r[j] = CSVValue(f, cast)
			}
			out[i] = r
			continue
		}
		m := make(map[string]any, len(fields))
		for j, name := range fields {
			if j < len(row) {
				m[name] = CSVValue(row[j], cast)
			}
		}
		out[i] = m
	}
	return out
}

// CSVValue is a payload field as a virtual user sees it: with cast, a
// field that csv-parse's cast reads as a number becomes that number
// (float64), else the text. csv-parse 4 casts when Number(s) - parseFloat(s)
// + 1 >= 0, and then gives parseFloat(s): "1" → 1, " 2.5 " → 2.5, "007" → 7,
// "1e3" → 1000, "12abc" and "" stay text. Booleans stay text, as there.
func CSVValue(s string, cast bool) any {
	if !cast {
		return s
	}
	n, p := jsNumber(s), jsParseFloat(s)
	if d := n - p + 1; math.IsNaN(d) || d < 0 {
		return s
	}
	if p == 0 {
		return 0.0 // -0 prints as 0 in JavaScript
	}
	return p
}

var (
	jsDecimal       = regexp.MustCompile(`^[+-]?(?:Infinity|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)$`)
	jsDecimalPrefix = regexp.MustCompile(`^[+-]?(?:Infinity|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)`)
	jsRadix         = regexp.MustCompile(`^0([xXoObB])([0-9a-fA-F]+)$`)
)

// jsSpace is what JavaScript's Number and parseFloat trim.
const jsSpace = " \t\n\v\f\r\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"

// jsNumber is JavaScript's Number(s) for a string.
func jsNumber(s string) float64 {
	s = strings.Trim(s, jsSpace)
	if s == "" {
		return 0
	}
	if m := jsRadix.FindStringSubmatch(s); m != nil {
		base := map[byte]int{'x': 16, 'o': 8, 'b': 2}[m[1][0]|0x20]
		v, err := strconv.ParseUint(m[2], base, 64)
		if err != nil {
			return math.NaN()
		}
		return float64(v)
	}
	if !jsDecimal.MatchString(s) {
		return math.NaN()
	}
	return parseJSDecimal(s)
}

// jsParseFloat is JavaScript's parseFloat(s): the longest decimal prefix
// after leading space.
func jsParseFloat(s string) float64 {
	m := jsDecimalPrefix.FindString(strings.TrimLeft(s, jsSpace))
	if m == "" {
		return math.NaN()
	}
	// "1e" or "1e+" is read as "1" by the prefix rule.
	return parseJSDecimal(m)
}

func parseJSDecimal(s string) float64 {
	switch strings.TrimLeft(s, "+") {
	case "Infinity":
		return math.Inf(1)
	case "-Infinity":
		return math.Inf(-1)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return math.NaN()
	}
	return f
}

// payloadPath resolves p against the script's folder and refuses, unless
// allowed, anything that ends up outside it (.., absolute paths, symlinks).
func (l *loader) payloadPath(p string) (string, error) {
	full := p
	if !filepath.IsAbs(full) {
		full = filepath.Join(l.dir, p)
	}
	if l.trustedPayload != "" && full == l.trustedPayload {
		return full, nil
	}
	return ResolveFile(l.dir, p, l.opts.AllowOutsidePayload)
}

// ResolveFile resolves p, a file a script names (a payload, a formData
// fromFile, a PEM file), against the script's folder dir, and refuses,
// unless allowOutside (--allow-outside-payload), anything that ends up
// outside it (.., absolute paths, symlinks): a shared script must not read
// or upload arbitrary files.
func ResolveFile(dir, p string, allowOutside bool) (string, error) {
	full := p
	if !filepath.IsAbs(full) {
		full = filepath.Join(dir, p)
	}
	if allowOutside {
		return full, nil
	}
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("resolve script folder: %w", err)
	}
	abs, err := filepath.Abs(full)
	if err != nil {
		return "", fmt.Errorf("resolve %s: %w", p, err)
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	if real, err := filepath.EvalSymlinks(absDir); err == nil {
		absDir = real
	}
	rel, err := filepath.Rel(absDir, abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("%s is outside the script's folder %s; move it next to the script or allow it with --allow-outside-payload", p, dir)
	}
	return full, nil
}

// errPayloadTooLarge is returned by capReader past its limit.
var errPayloadTooLarge = errors.New("payload too large")

// capReader fails once more than n bytes were read, so the CSV reader
// stops at the limit instead of seeing a silently cut-off last row.
type capReader struct {
	r io.Reader
	n int64
}

func (c *capReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n -= int64(n)
	if c.n < 0 {
		return n, errPayloadTooLarge
	}
	return n, err
}

// lineFilter feeds encoding/csv what csv-parse would read: lines before
// from_line dropped, and, when empty lines count (skip_empty_lines:
// false), each empty line outside a quoted field turned into one empty
// field, which encoding/csv would otherwise skip.
type lineFilter struct {
	r         *bufio.Reader
	skip      int
	keepEmpty bool
	inQuote   bool
	pending   []byte
	err       error
}

func (f *lineFilter) Read(p []byte) (int, error) {
	for len(f.pending) == 0 {
		if f.err != nil {
			return 0, f.err
		}
		line, err := f.r.ReadBytes('\n')
		f.err = err
		if len(line) == 0 {
			continue
		}
		if f.skip > 0 {
			// from_line counts lines, quoted or not, as csv-parse does.
			f.skip--
			continue
		}
		if f.keepEmpty && !f.inQuote && (len(bytes.TrimRight(line, "\r\n")) == 0) {
			line = []byte("\"\"\n")
		}
		if bytes.Count(line, []byte{'"'})%2 == 1 {
			f.inQuote = !f.inQuote
		}
		f.pending = line
	}
	n := copy(p, f.pending)
	f.pending = f.pending[n:]
	return n, nil
}

// csvLimits are the bounds readCSV enforces: MaxPayloadBytes and
// MaxPayloadRows, smaller in tests.
type csvLimits struct {
	bytes int64
	rows  int
}

// readCSV streams the file, so memory holds the rows and not the file as
// well, and stops at the limits.
func readCSV(path string, o csvOptions, lim csvLimits) ([][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open payload: %w", err)
	}
	defer f.Close()
	in := bufio.NewReader(&capReader{r: f, n: lim.bytes})
	if o.bom {
		if b, err := in.Peek(3); err == nil && bytes.Equal(b, []byte("\xef\xbb\xbf")) {
			in.Discard(3)
		}
	}
	r := csv.NewReader(&lineFilter{r: in, skip: o.fromLine - 1, keepEmpty: o.keepEmpty})
	r.Comma = o.delim
	r.Comment = o.comment
	r.LazyQuotes = o.lazyQuotes
	r.TrimLeadingSpace = o.ltrim
	r.FieldsPerRecord = -1
	var rows [][]string
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if errors.Is(err, errPayloadTooLarge) {
			return nil, fmt.Errorf("payload %s is larger than %d MiB (MaxPayloadBytes)", path, lim.bytes>>20)
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			// Its lines count from from_line; the file's from 1.
			pe.StartLine += o.fromLine - 1
			pe.Line += o.fromLine - 1
		}
		if err != nil {
			return nil, fmt.Errorf("payload %s: %w", path, err)
		}
		if len(rows) == lim.rows {
			return nil, fmt.Errorf("payload %s has more than %d rows (MaxPayloadRows)", path, lim.rows)
		}
		if o.rtrim {
			for i := range rec {
				rec[i] = strings.TrimRight(rec[i], " \t")
			}
		}
		rows = append(rows, rec)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("payload %s has no rows", path)
	}
	return rows, nil
}
