//go:build unix

package capacity

import (
	"syscall"
	"time"
)

// processCPU is the user and system CPU time this process used so far; 0
// when the system will not say, which turns the CPU check off.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
