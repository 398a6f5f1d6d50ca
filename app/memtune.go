package app

import (
	"log/slog"
	"math"
	"runtime/debug"

	"github.com/KimMachineGun/automemlimit/memlimit"
)

// GCPercentWithLimit is the collector's GOGC when a memory limit is known
// and GOGC is not set: the heap may grow to five times what is live
// between collections, which cuts the collector's share of CPU per request
// (about a fifth of it on the benchmarks), while the limit makes the
// collector work harder, not the process die, as the heap nears it.
// Without a limit the runtime's default (100) stays, so memory stays
// bounded by the live data alone.
const GCPercentWithLimit = 400

// MemorySettings is what TuneMemory left in effect, for the start-up log.
type MemorySettings struct {
	// Limit is the soft memory limit in bytes (GOMEMLIMIT); 0: none.
	Limit int64
	// LimitFrom says where it came from: "GOMEMLIMIT", "cgroup" or "".
	LimitFrom string
	// GCPercent is GOGC; GCFrom is "GOGC", "memory limit" or "default".
	GCPercent int
	GCFrom    string
}

// TuneMemory fits the garbage collector to the container, once, at start:
// without GOMEMLIMIT it sets the soft memory limit to 90% of the cgroup's
// memory limit (github.com/KimMachineGun/automemlimit; AUTOMEMLIMIT=0.8
// changes the ratio, AUTOMEMLIMIT=off turns it off), and without GOGC it
// raises GOGC to GCPercentWithLimit when a limit is known. GOMEMLIMIT and
// GOGC set in the environment always win. It changes the runtime's
// settings for the whole process, so only a program's main should call it.
func TuneMemory(getenv func(string) string, log *slog.Logger) MemorySettings {
	return tuneMemory(getenv, memlimit.FromCgroup, log)
}

func tuneMemory(getenv func(string) string, cgroup memlimit.Provider, log *slog.Logger) MemorySettings {
	var s MemorySettings
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
		s.GCFrom, s.GCPercent = "memory limit", GCPercentWithLimit
		debug.SetGCPercent(GCPercentWithLimit)
	default:
		s.GCFrom = "default"
		s.GCPercent = debug.SetGCPercent(-1)
		debug.SetGCPercent(s.GCPercent)
	}
	return s
}
