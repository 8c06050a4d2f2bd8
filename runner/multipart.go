package runner

import (
	"io"
	"mime"
	"os"
	"path/filepath"
	"strings"

	"github.com/primeload/primeload/scenario"
	"github.com/valyala/fasthttp"
)

// multipartBody streams a formData body: the parts' headers and text from
// memory, each file from disk as it is sent, so an upload costs a user no
// more memory than its buffers. fasthttp closes it (and so the files) once
// written or when the request is released.
type multipartBody struct {
	io.Reader
	files []*os.File
}

func (m *multipartBody) Close() error {
	for _, f := range m.files {
		f.Close()
	}
	m.files = nil
	return nil
}

// quoteEscaper writes a name or file name inside a quoted
// Content-Disposition parameter.
var quoteEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\r", "%0D", "\n", "%0A")

// setMultipart makes req's body the formData fields, as Artillery's
// form-data package writes them: a part per field, a file part named by
// its base name with its extension's Content-Type (application/octet-stream
// when unknown), and the body's Content-Length, which primeload always
// sends (form-data streams without one). A fromFile that does not open is
// returned as the error, and nothing is sent.
func (v *vu) setMultipart(req *fasthttp.Request, r *scenario.Request) error {
	tc := &v.tc
	const digits = "0123456789"
	b := []byte("--------------------------")
	for range 24 {
		b = append(b, digits[tc.Rand.IntN(10)])
	}
	boundary := string(b)
	body := &multipartBody{}
	var parts []io.Reader
	size := 0
	add := func(s string) {
		parts = append(parts, strings.NewReader(s))
		size += len(s)
	}
	for i := range r.FormData {
		f := &r.FormData[i]
		head := "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + quoteEscaper.Replace(f.Name) + "\""
		ct := ""
		if f.ContentType != nil {
			ct = f.ContentType.Render(tc)
		}
		if f.File == nil {
			if ct != "" {
				head += "\r\nContent-Type: " + ct
			}
			add(head + "\r\n\r\n" + f.Value.Render(tc) + "\r\n")
			continue
		}
		file, n, err := v.openUpload(f.File.Render(tc))
		if err != nil {
			body.Close()
			return err
		}
		body.files = append(body.files, file)
		if ct == "" {
			ct = uploadType(file.Name())
		}
		add(head + "; filename=\"" + quoteEscaper.Replace(filepath.Base(file.Name())) + "\"\r\nContent-Type: " + ct + "\r\n\r\n")
		// A file that grows while it is sent is cut at its size here; one
		// that shrinks fails the request.
		parts = append(parts, io.LimitReader(file, n))
		size += int(n)
		add("\r\n")
	}
	add("--" + boundary + "--\r\n")
	body.Reader = io.MultiReader(parts...)
	req.SetBodyStream(body, size)
	req.Header.SetContentType("multipart/form-data; boundary=" + boundary)
	return nil
}

// openUpload opens a fromFile path under the script's folder rule.
func (v *vu) openUpload(p string) (*os.File, int64, error) {
	s := v.e.script
	full, err := scenario.ResolveFile(s.FileDir, p, s.AllowOutsideFiles)
	if err != nil {
		return nil, 0, &uploadError{err: err}
	}
	f, err := os.Open(full)
	if err != nil {
		return nil, 0, &uploadError{err: err}
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil, 0, &uploadError{err: &os.PathError{Op: "open", Path: full, Err: os.ErrNotExist}}
	}
	return f, fi.Size(), nil
}

// uploadError is a fromFile that could not be opened.
type uploadError struct{ err error }

func (e *uploadError) Error() string { return "formData fromFile: " + e.err.Error() }
func (e *uploadError) Unwrap() error { return e.err }

// uploadType is a file's Content-Type by its extension, without
// parameters, as the mime-types package form-data uses gives it.
func uploadType(name string) string {
	if t := mime.TypeByExtension(filepath.Ext(name)); t != "" {
		if mt, _, err := mime.ParseMediaType(t); err == nil {
			return mt
		}
	}
	return "application/octet-stream"
}
