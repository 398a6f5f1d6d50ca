//go:build unix

package testenv

import (
	"syscall"
	"time"
)

// ProcessCPU is the CPU time this process has used, every thread (the
// garbage collector's too): benchmarks report it per operation because on a
// shared machine it grows with the work done, where wall time also grows
// with the neighbours' load.
func ProcessCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
