package app

import (
	"errors"
	"io"
	"log/slog"
	"math"
	"os"
	"runtime/debug"
	"testing"

	"github.com/KimMachineGun/automemlimit/memlimit"
)

// keepRuntimeMemory restores the process's GOGC and memory limit after a
// test that changes them, and clears the variables TuneMemory reads.
func keepRuntimeMemory(t *testing.T) {
	t.Helper()
	gc := debug.SetGCPercent(-1)
	debug.SetGCPercent(gc)
	limit := debug.SetMemoryLimit(-1)
	t.Cleanup(func() {
		debug.SetGCPercent(gc)
		debug.SetMemoryLimit(limit)
	})
	for _, k := range []string{"GOGC", "GOMEMLIMIT", "AUTOMEMLIMIT"} {
		t.Setenv(k, "") // restored after the test
		os.Unsetenv(k)  // memlimit tells an empty AUTOMEMLIMIT from none
	}
	debug.SetGCPercent(100)
	debug.SetMemoryLimit(math.MaxInt64)
}

func cgroupLimit(n uint64) memlimit.Provider {
	return func() (uint64, error) { return n, nil }
}

func TestTuneMemory(t *testing.T) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	const gib = 1 << 30
	tests := []struct {
		name   string
		env    map[string]string
		cgroup memlimit.Provider
		// applied mimics the runtime, which read GOGC/GOMEMLIMIT at start.
		applyGC    int
		applyLimit int64
		want       MemorySettings
	}{
		{
			name:   "container limit: 90% of it, and GOGC raised",
			cgroup: cgroupLimit(gib),
			want:   MemorySettings{Limit: gib * 9 / 10, LimitFrom: "cgroup", GCPercent: GCPercentWithLimit, GCFrom: "memory limit"},
		},
		{
			name:   "no container limit: the runtime's defaults stay",
			cgroup: func() (uint64, error) { return 0, memlimit.ErrNoLimit },
			want:   MemorySettings{GCPercent: 100, GCFrom: "default"},
		},
		{
			name:   "limit unreadable: the runtime's defaults stay",
			cgroup: func() (uint64, error) { return 0, errors.New("no cgroup") },
			want:   MemorySettings{GCPercent: 100, GCFrom: "default"},
		},
		{
			name:   "GOGC set: it wins, the limit is still applied",
			env:    map[string]string{"GOGC": "150"},
			cgroup: cgroupLimit(gib), applyGC: 150,
			want: MemorySettings{Limit: gib * 9 / 10, LimitFrom: "cgroup", GCPercent: 150, GCFrom: "GOGC"},
		},
		{
			name:       "GOMEMLIMIT set: it wins over the container, GOGC raised",
			env:        map[string]string{"GOMEMLIMIT": "512MiB"},
			cgroup:     func() (uint64, error) { t.Error("the cgroup was read although GOMEMLIMIT is set"); return gib, nil },
			applyLimit: 512 << 20,
			want:       MemorySettings{Limit: 512 << 20, LimitFrom: "GOMEMLIMIT", GCPercent: GCPercentWithLimit, GCFrom: "memory limit"},
		},
		{
			name:   "AUTOMEMLIMIT=off: no limit from the container",
			env:    map[string]string{"AUTOMEMLIMIT": "off"},
			cgroup: cgroupLimit(gib),
			want:   MemorySettings{GCPercent: 100, GCFrom: "default"},
		},
		{
			name:   "AUTOMEMLIMIT ratio",
			env:    map[string]string{"AUTOMEMLIMIT": "0.5"},
			cgroup: cgroupLimit(gib),
			want:   MemorySettings{Limit: gib / 2, LimitFrom: "cgroup", GCPercent: GCPercentWithLimit, GCFrom: "memory limit"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keepRuntimeMemory(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			if tt.applyGC != 0 {
				debug.SetGCPercent(tt.applyGC)
			}
			if tt.applyLimit != 0 {
				debug.SetMemoryLimit(tt.applyLimit)
			}
			getenv := func(k string) string { return tt.env[k] }
			got := tuneMemory(getenv, tt.cgroup, quiet)
			if got != tt.want {
				t.Errorf("settings %+v, want %+v", got, tt.want)
			}
			gc := debug.SetGCPercent(-1)
			debug.SetGCPercent(gc)
			if gc != tt.want.GCPercent {
				t.Errorf("runtime GOGC %d, want %d", gc, tt.want.GCPercent)
			}
			limit := debug.SetMemoryLimit(-1)
			if want := tt.want.Limit; (want == 0 && limit != math.MaxInt64) || (want != 0 && limit != want) {
				t.Errorf("runtime memory limit %d, want %d", limit, want)
			}
		})
	}
}
