//go:build !unix

package report

import "errors"

func syscallMkfifo(string) error { return errors.New("named pipes are Unix only") }
