package runner

import (
	"syscall"
	"unsafe"
)

// canAwait is true where answered is written: an exchange over a user's
// own connection waits for the answer before taking its read buffer, and
// an idle connection is looked at for a close before it is reused.
const canAwait = true

// answered is a syscall.RawConn Read callback that reads nothing: it is
// done once the socket has a byte to read, or EOF or an error for the read
// that follows to report, and asks to wait for readability otherwise. It
// never blocks, so it also tells whether a socket is readable now.
func answered(fd uintptr) bool {
	var b byte
	for {
		_, _, errno := syscall.Syscall6(syscall.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&b)), 1,
			syscall.MSG_PEEK|syscall.MSG_DONTWAIT, 0, 0)
		if errno != syscall.EINTR {
			return errno != syscall.EAGAIN
		}
	}
}
