//go:build unix

package upstream_test

import (
	"syscall"
	"time"
)

// processCPU is the CPU time this process has used, every thread (the
// garbage collector's too): on a shared machine it grows with the work
// done, where wall time also grows with the neighbours' load.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
