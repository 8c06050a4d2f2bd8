package cmd

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/primeload/primeload/scenario"
)

// inputFile is a file a command reads, named as a message names it.
type inputFile struct {
	name string // "the script", "payload", "--config file"
	path string
}

// checkFiles refuses, before any load, every output that could not be
// written or that would destroy a file the command reads or another of its
// outputs: -o script.yml must not replace the script, -o x --html x must
// not let one report replace the other, and a read-only folder must show
// now, not after an hour of load. Paths that are "" are not asked for.
func checkFiles(inputs []inputFile, outs []output) error {
	var errs []error
	for i, o := range outs {
		if o.path == "" {
			continue
		}
		if err := checkWritable(o); err != nil {
			errs = append(errs, err)
			continue
		}
		for _, in := range inputs {
			if in.path != "" && sameFile(o.path, in.path) {
				errs = append(errs, fmt.Errorf("%s %s would overwrite %s %s: write the output elsewhere", o.name, o.path, in.name, in.path))
			}
		}
		for _, p := range outs[:i] {
			// A device or pipe is written through, one output after the
			// other: -o /dev/null --html /dev/null replaces nothing.
			if p.path != "" && sameFile(o.path, p.path) && isRegularOrAbsent(o.path) {
				errs = append(errs, fmt.Errorf("%s %s and %s %s are the same file: give each output its own", p.name, p.path, o.name, o.path))
			}
		}
	}
	return errors.Join(errs...)
}

// checkWritable makes sure o can be written as its writer will: replaced
// through a temporary file in its folder (report.WriteAtomic), or, for an
// existing file written in place, opened for writing. It changes nothing.
func checkWritable(o output) error {
	path := o.path
	if resolved, err := filepath.EvalSymlinks(path); err == nil {
		path = resolved // as WriteAtomic does: the link's target is replaced
	}
	if fi, err := os.Stat(path); err == nil {
		switch {
		case fi.IsDir():
			return fmt.Errorf("%s %s: is a folder, want a file name", o.name, o.path)
		case !fi.Mode().IsRegular():
			return nil // a device or pipe is written through, never replaced
		case o.inPlace:
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				return fmt.Errorf("%s %s: cannot be written: %w", o.name, o.path, err)
			}
			return f.Close()
		}
	}
	dir := filepath.Dir(path)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return fmt.Errorf("%s %s: folder %s does not exist", o.name, o.path, dir)
	}
	// Permission bits do not tell: a read-only mount, an ACL or root's
	// override decide. Creating the kind of file the writer creates does.
	f, err := os.CreateTemp(dir, ".primeload-check-*")
	if err != nil {
		return fmt.Errorf("%s %s: folder %s is not writable: %w", o.name, o.path, dir, err)
	}
	f.Close()
	return os.Remove(f.Name())
}

// sameFile reports whether paths a and b name one file: the same file on
// disk when both exist (hard links, symbolic links, ./x and x), else the
// same absolute path once the folder's links are resolved.
func sameFile(a, b string) bool {
	ai, aerr := os.Stat(a)
	bi, berr := os.Stat(b)
	switch {
	case aerr == nil && berr == nil:
		return os.SameFile(ai, bi)
	case aerr == nil || berr == nil:
		return false // one exists and the other does not
	}
	return resolvedPath(a) == resolvedPath(b)
}

// resolvedPath is p made absolute and clean, its folder's symbolic links
// resolved where the folder exists.
func resolvedPath(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		return filepath.Clean(p)
	}
	dir, base := filepath.Split(abs)
	if d, err := filepath.EvalSymlinks(dir); err == nil {
		return filepath.Join(d, base)
	}
	return abs
}

// isRegularOrAbsent reports whether path is a regular file or nothing yet.
func isRegularOrAbsent(path string) bool {
	fi, err := os.Stat(path)
	return err != nil || fi.Mode().IsRegular()
}

// scriptInputs lists what a run of script reads: the script, its payload
// files, and the files the settings and the shaping flags named.
func scriptInputs(path string, script *scenario.Script, shape ScriptShape, settingsFile string) []inputFile {
	in := []inputFile{{"the script", path}}
	for _, p := range script.Config.Payloads {
		in = append(in, inputFile{"payload", p.Path})
	}
	return append(in,
		inputFile{"--config file", shape.ConfigFile},
		inputFile{"--dotenv file", shape.DotenvFile},
		inputFile{"settings file", settingsFile})
}
