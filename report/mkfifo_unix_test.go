//go:build unix

package report

import "syscall"

func syscallMkfifo(path string) error { return syscall.Mkfifo(path, 0o600) }
