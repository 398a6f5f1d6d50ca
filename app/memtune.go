package app

import (
	"log/slog"
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"

	"github.com/KimMachineGun/automemlimit/memlimit"
)

// GCPercentWithLimit is the least GOGC when a memory limit is known and
// GOGC is not set: the heap may grow to at least five times what is live
// between collections, which cuts the collector's share of CPU per request
// (about a fifth of it on the benchmarks), while the limit makes the
// collector work harder, not the process die, as the heap nears it.
const GCPercentWithLimit = 400

// GCHeadroom is the spare heap the collector may use when GOGC is not set:
// after each collection GOGC is set so that the next one comes when the
// heap has grown by this much (gcPercentFor), never sooner than the
// runtime's default 100 would (GCPercentWithLimit under a memory limit).
// A server with a small live heap (many users, small lists: 3-6 MiB live)
// then collects about four times less often than at GOGC 400, which took
// about a quarter off its CPU per request for about 40 MiB more RSS
// (docs/performance.md); one with a live heap of 64 MiB or more (large
// lists) keeps GOGC 100, so its peak memory stays what the live data alone
// sets, and the memory traded for CPU is bounded by this figure.
const GCHeadroom = 64 << 20

// maxGCPercent bounds GOGC for a nearly empty heap, where the headroom
// alone would ask for a figure in the tens of thousands.
const maxGCPercent = 1600

// MemorySettings is what TuneMemory left in effect, for the start-up log.
type MemorySettings struct {
	// Limit is the soft memory limit in bytes (GOMEMLIMIT); 0: none.
	Limit int64
	// LimitFrom says where it came from: "GOMEMLIMIT", "cgroup" or "".
	LimitFrom string
	// GCPercent is GOGC; GCFrom is "GOGC", "memory limit" or
	// "live heap" (for the last two GCPercent is where it starts: see
	// Headroom).
	GCPercent int
	GCFrom    string
	// Headroom is the spare heap GOGC follows ("live heap" and "memory
	// limit"); 0 when GOGC is set.
	Headroom int64
}

// TuneMemory fits the garbage collector to the container, once, at start:
// without GOMEMLIMIT it sets the soft memory limit to 90% of the cgroup's
// memory limit (github.com/KimMachineGun/automemlimit; AUTOMEMLIMIT=0.8
// changes the ratio, AUTOMEMLIMIT=off turns it off). Without GOGC, GOGC
// follows the live heap for the life of the process (GCHeadroom), never
// below GCPercentWithLimit when a limit is known. GOMEMLIMIT and GOGC set
// in the environment always win. It changes the runtime's settings for the
// whole process, so only a program's main should call it.
func TuneMemory(getenv func(string) string, log *slog.Logger) MemorySettings {
	s, _ := tuneMemory(getenv, memlimit.FromCgroup, log)
	return s
}

// tuneMemory is TuneMemory; stop ends the GOGC tuning it may have started
// (tests restore the runtime's settings after it).
func tuneMemory(getenv func(string) string, cgroup memlimit.Provider, log *slog.Logger) (s MemorySettings, stop func()) {
	stop = func() {}
	if getenv("GOMEMLIMIT") != "" {
		s.LimitFrom = "GOMEMLIMIT" // the runtime has applied it
	} else {
		// memlimit.Set reads GOMEMLIMIT and AUTOMEMLIMIT itself; no
		// cgroup limit (or not Linux) leaves the runtime's "no limit".
		_, err := memlimit.Set(memlimit.WithProvider(cgroup), memlimit.WithRatio(0.9))
		switch {
		case err != nil:
			log.Warn("memory limit: could not read the container's limit; none set", "err", err)
		case debug.SetMemoryLimit(-1) != math.MaxInt64:
			s.LimitFrom = "cgroup"
		}
	}
	if l := debug.SetMemoryLimit(-1); l != math.MaxInt64 {
		s.Limit = l
	}
	switch {
	case getenv("GOGC") != "":
		s.GCFrom = "GOGC"
		s.GCPercent = debug.SetGCPercent(-1)
		debug.SetGCPercent(s.GCPercent) // reading it turned it off: put it back
	case s.Limit > 0:
		s.GCFrom, s.GCPercent, s.Headroom = "memory limit", GCPercentWithLimit, GCHeadroom
		stop = followLiveHeap(GCHeadroom, GCPercentWithLimit)
	default:
		s.GCFrom, s.GCPercent, s.Headroom = "live heap", GCPercentWithLimit, GCHeadroom
		stop = followLiveHeap(GCHeadroom, 100)
	}
	return s, stop
}

// gcPercentFor is the GOGC that lets the heap grow by headroom before the
// next collection, between least and maxGCPercent. The runtime's heap goal
// is live + (live + stacks + globals) * GOGC/100, so scan is that sum and
// the heap grows by headroom, not by headroom times scan/live.
func gcPercentFor(scan, headroom uint64, least int) int {
	if scan == 0 {
		return maxGCPercent
	}
	return int(min(max(headroom*100/scan, uint64(least)), maxGCPercent))
}

// followLiveHeap sets GOGC now and after every collection from what the
// collection left to scan (gcPercentFor), until stop is called. It learns
// of each collection from a finalizer, which the runtime runs once the
// object it guards has been found unreachable: the guarded object is new
// each cycle, as in Uber's and TiDB's GC tuners.
func followLiveHeap(headroom uint64, least int) (stop func()) {
	t := newLiveHeapTuner(headroom, least)
	debug.SetGCPercent(GCPercentWithLimit) // nothing is live yet
	t.arm()
	return func() {
		t.mu.Lock()
		defer t.mu.Unlock()
		t.stopped = true
	}
}

// newLiveHeapTuner reads what the runtime's heap goal adds up: the live
// heap, the stacks and the globals.
func newLiveHeapTuner(headroom uint64, least int) *liveHeapTuner {
	return &liveHeapTuner{headroom: headroom, least: least, sample: []metrics.Sample{
		{Name: "/gc/heap/live:bytes"}, {Name: "/gc/scan/stack:bytes"}, {Name: "/gc/scan/globals:bytes"},
	}}
}

type liveHeapTuner struct {
	headroom uint64
	least    int
	mu       sync.Mutex // held while GOGC is set, so that stop is final
	stopped  bool
	sample   []metrics.Sample
}

// gcSentinel is garbage as soon as it is made; its finalizer marks a
// completed collection. A pointer field keeps it out of the tiny
// allocator, whose blocks are freed together and late.
type gcSentinel struct{ _ *int }

func (t *liveHeapTuner) arm() {
	runtime.SetFinalizer(&gcSentinel{}, func(*gcSentinel) {
		if t.tune() {
			t.arm()
		}
	})
}

// tune sets GOGC from the live heap; false once stopped.
func (t *liveHeapTuner) tune() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return false
	}
	metrics.Read(t.sample)
	var scan uint64
	for _, m := range t.sample {
		if m.Value.Kind() == metrics.KindUint64 {
			scan += m.Value.Uint64()
		}
	}
	debug.SetGCPercent(gcPercentFor(scan, t.headroom, t.least))
	return true
}
