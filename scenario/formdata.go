package scenario

import (
	"fmt"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"
)

// formFieldKeys are the keys of a formData field given as a mapping, as
// Artillery reads them (fromFile or value, and contentType).
var formFieldKeys = []string{"fromFile", "value", "contentType"}

// requestFormData reads formData: name: text, or name: {fromFile: path} /
// {value: text}, each with an optional contentType. A fromFile path
// without templates must name a file when the script loads.
func (l *loader) requestFormData(b *requestBuild, v *yaml.Node, path string) {
	for _, p := range l.pairs(v, path) {
		fp := join(path, p.key)
		f := FormField{Name: p.key, Pos: l.pos(p.k)}
		if vn := l.deref(p.v); vn.Kind != yaml.MappingNode {
			f.Value = l.template(p.v, fp, b.sc)
			if f.Value != nil {
				b.r.FormData = append(b.r.FormData, f)
			}
			continue
		}
		var fileN *yaml.Node
		l.object(p.v, fp, formFieldKeys, nil, func(q pair, qp string) {
			t := l.template(q.v, qp, b.sc)
			switch q.key {
			case "fromFile":
				f.File, fileN = t, l.deref(q.v)
			case "value":
				f.Value = t
			case "contentType":
				f.ContentType = t
			}
		})
		switch {
		case f.File != nil && f.Value != nil:
			l.errorf(l.deref(p.v), fp, "a field is fromFile or value, not both")
			continue
		case f.File == nil && f.Value == nil:
			l.errorf(l.deref(p.v), fp, "needs fromFile (a file to upload) or value (text)")
			continue
		case f.File != nil:
			if src, static := f.File.Static(); static {
				if err := l.checkUpload(src); err != nil {
					l.errorf(fileN, join(fp, "fromFile"), "%v", err)
					continue
				}
			}
		}
		b.r.FormData = append(b.r.FormData, f)
	}
}

// checkUpload reports a fromFile path that will not open, as Node names
// the error, so a missing file is found before any load.
func (l *loader) checkUpload(p string) error {
	full, err := ResolveFile(l.dir, p, l.opts.AllowOutsidePayload)
	if err != nil {
		return err
	}
	fi, err := os.Stat(full)
	switch {
	case os.IsNotExist(err):
		return fmt.Errorf("ENOENT: no such file %s (fromFile is relative to the script's folder %s)", full, l.dir)
	case err != nil:
		return fmt.Errorf("cannot read %s: %w", full, err)
	case !fi.Mode().IsRegular():
		return fmt.Errorf("%s is not a regular file", strings.TrimSpace(full))
	}
	return nil
}
