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
	closeAll(m.files)
	m.files = nil
	return nil
}

// upload is a rendered formData body: each part's text, and each file's
// path with the size it had when first opened. It outlives the stream, read
// once, so that a redirect repeating the body sends it whole again, its
// files opened anew (see vu.redirect).
type upload struct {
	parts []uploadPart
	size  int
}

// uploadPart is text, or a file (path set) sent as its first n bytes.
type uploadPart struct {
	text string
	path string
	n    int64
}

// quoteEscaper writes a name or file name inside a quoted
// Content-Disposition parameter.
var quoteEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\r", "%0D", "\n", "%0A")

// setMultipart makes req's body the formData fields, as Artillery's
// form-data package writes them: a part per field, a file part named by
// its base name with its extension's Content-Type (application/octet-stream
// when unknown), and the body's Content-Length, which primeload always
// sends (form-data streams without one). A fromFile that does not open is
// returned as the error, and nothing is sent. The rendered body is kept in
// v.upload for a redirect to send again.
func (v *vu) setMultipart(req *fasthttp.Request, r *scenario.Request) error {
	tc := &v.tc
	const digits = "0123456789"
	b := []byte("--------------------------")
	for range 24 {
		b = append(b, digits[tc.Rand.IntN(10)])
	}
	boundary := string(b)
	u := &upload{}
	var files []*os.File
	add := func(s string) {
		u.parts = append(u.parts, uploadPart{text: s})
		u.size += len(s)
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
			closeAll(files)
			return err
		}
		files = append(files, file)
		if ct == "" {
			ct = uploadType(file.Name())
		}
		add(head + "; filename=\"" + quoteEscaper.Replace(filepath.Base(file.Name())) + "\"\r\nContent-Type: " + ct + "\r\n\r\n")
		u.parts = append(u.parts, uploadPart{path: file.Name(), n: n})
		u.size += int(n)
		add("\r\n")
	}
	add("--" + boundary + "--\r\n")
	u.send(req, files)
	req.Header.SetContentType("multipart/form-data; boundary=" + boundary)
	v.upload = u
	return nil
}

// resend makes req's body the upload again, each file opened anew by the
// path it was first opened by. A file gone since counts as one that never
// opened.
func (u *upload) resend(req *fasthttp.Request) error {
	var files []*os.File
	for _, p := range u.parts {
		if p.path == "" {
			continue
		}
		f, err := os.Open(p.path)
		if err != nil {
			closeAll(files)
			return &uploadError{err: err}
		}
		files = append(files, f)
	}
	u.send(req, files)
	return nil
}

// send sets req's body stream to the upload's parts over files, its file
// parts' files in order.
func (u *upload) send(req *fasthttp.Request, files []*os.File) {
	readers := make([]io.Reader, 0, len(u.parts))
	next := 0
	for _, p := range u.parts {
		if p.path == "" {
			readers = append(readers, strings.NewReader(p.text))
			continue
		}
		// A file that grows while it is sent is cut at its first size; one
		// that shrinks fails the request.
		readers = append(readers, io.LimitReader(files[next], p.n))
		next++
	}
	req.SetBodyStream(&multipartBody{Reader: io.MultiReader(readers...), files: files}, u.size)
}

func closeAll(files []*os.File) {
	for _, f := range files {
		f.Close()
	}
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
