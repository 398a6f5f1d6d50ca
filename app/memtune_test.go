package app

import (
	"errors"
	"io"
	"log/slog"
	"math"
	"os"
	"runtime"
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
	liveHeap := MemorySettings{GCPercent: GCPercentWithLimit, GCFrom: "live heap", Headroom: HeadroomWithoutLimit}
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
			name:   "no container limit: GOGC follows the live heap",
			cgroup: func() (uint64, error) { return 0, memlimit.ErrNoLimit },
			want:   liveHeap,
		},
		{
			name:   "limit unreadable: no limit, GOGC follows the live heap",
			cgroup: func() (uint64, error) { return 0, errors.New("no cgroup") },
			want:   liveHeap,
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
			want:   liveHeap,
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
			got, stop := tuneMemory(getenv, tt.cgroup, quiet)
			t.Cleanup(stop) // before keepRuntimeMemory's: cleanups run last first
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

// TestGCPercentFor pins the no-limit collector setting: the heap may grow
// by the headroom over what is live, never by less than the runtime's
// default (100: large lists keep the memory they had) and never by more
// than GCPercentWithLimit.
func TestGCPercentFor(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		live uint64
		want int
	}{
		{0, GCPercentWithLimit},
		{4 * mib, GCPercentWithLimit},
		{16 * mib, 400},
		{32 * mib, 200},
		{48 * mib, 133},
		{64 * mib, 100},
		{500 * mib, 100},
	}
	for _, tt := range tests {
		if got := gcPercentFor(tt.live, HeadroomWithoutLimit); got != tt.want {
			t.Errorf("gcPercentFor(%d MiB) = %d, want %d", tt.live/mib, got, tt.want)
		}
	}
}

// TestFollowLiveHeapRetunesAfterCollections checks that the tuner sets
// GOGC from the live heap after a collection, not just once: GOGC is put
// at 123 by hand, and a collection later it must be what gcPercentFor says
// for the live heap again. The finalizer that tunes runs on the runtime's
// finalizer goroutine, so the test collects until it has run (bounded).
func TestFollowLiveHeapRetunesAfterCollections(t *testing.T) {
	keepRuntimeMemory(t)
	// A headroom so large that any live heap gives the maximum.
	stop := followLiveHeap(1 << 50)
	t.Cleanup(stop)
	debug.SetGCPercent(123)
	for i := 0; i < 1000; i++ {
		runtime.GC()
		gc := debug.SetGCPercent(-1)
		debug.SetGCPercent(gc)
		if gc == GCPercentWithLimit {
			stop()
			// Stopped: GOGC stays what it is set to.
			debug.SetGCPercent(123)
			runtime.GC()
			runtime.GC()
			if gc := debug.SetGCPercent(123); gc != 123 {
				t.Fatalf("GOGC %d after stop, want 123 (the tuner went on)", gc)
			}
			return
		}
		runtime.Gosched()
	}
	t.Fatal("GOGC not retuned after 1000 collections")
}
