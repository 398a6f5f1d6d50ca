package app

import (
	"errors"
	"io"
	"log/slog"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
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
	liveHeap := MemorySettings{GCPercent: GCPercentWithLimit, GCFrom: "live heap", Headroom: GCHeadroom}
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
			want:   MemorySettings{Limit: gib * 9 / 10, LimitFrom: "cgroup", GCPercent: GCPercentWithLimit, GCFrom: "memory limit", Headroom: GCHeadroom},
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
			want:       MemorySettings{Limit: 512 << 20, LimitFrom: "GOMEMLIMIT", GCPercent: GCPercentWithLimit, GCFrom: "memory limit", Headroom: GCHeadroom},
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
			want:   MemorySettings{Limit: gib / 2, LimitFrom: "cgroup", GCPercent: GCPercentWithLimit, GCFrom: "memory limit", Headroom: GCHeadroom},
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

// TestGCPercentFor pins the collector setting: the heap may grow by the
// headroom over what the runtime counts toward its goal (live heap, stacks
// and globals), never by less than the least (100 without a memory limit:
// large lists keep the memory they had; 400 under one) and never by more
// than maxGCPercent.
func TestGCPercentFor(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		scan  uint64
		least int
		want  int
	}{
		{0, 100, maxGCPercent},
		{1 * mib / 2, 100, maxGCPercent},
		{4 * mib, 100, 1600},
		{5 * mib, 100, 1280},
		{16 * mib, 100, 400},
		{32 * mib, 100, 200},
		{48 * mib, 100, 133},
		{64 * mib, 100, 100},
		{500 * mib, 100, 100},
		{4 * mib, GCPercentWithLimit, 1600},
		{32 * mib, GCPercentWithLimit, GCPercentWithLimit},
		{500 * mib, GCPercentWithLimit, GCPercentWithLimit},
	}
	for _, tt := range tests {
		if got := gcPercentFor(tt.scan, GCHeadroom, tt.least); got != tt.want {
			t.Errorf("gcPercentFor(%d MiB, least %d) = %d, want %d", tt.scan/mib, tt.least, got, tt.want)
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
	stop := followLiveHeap(1<<50, 100)
	t.Cleanup(stop)
	debug.SetGCPercent(123)
	for i := 0; i < 1000; i++ {
		runtime.GC()
		gc := debug.SetGCPercent(-1)
		debug.SetGCPercent(gc)
		if gc == maxGCPercent {
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

// TestTunerReadsKnownMetrics checks that every metric the tuner sums is
// one this Go version has: runtime/metrics reports a name it does not know
// as KindBad, which the tuner would read as nothing and so run the heap at
// a larger GOGC than the headroom allows.
func TestTunerReadsKnownMetrics(t *testing.T) {
	known := map[string]bool{}
	for _, d := range metrics.All() {
		known[d.Name] = d.Kind == metrics.KindUint64
	}
	for _, s := range newLiveHeapTuner(GCHeadroom, 100).sample {
		if !known[s.Name] {
			t.Errorf("metric %q: not a uint64 metric of this Go version", s.Name)
		}
	}
}
