package upstream

import "time"

// arena hands out the optional fields of one decoded workspace list
// (*string, *bool, *time.Time) from blocks instead of one allocation each.
// A base has up to twenty of them, so a list of a few hundred bases went
// from thousands of small allocations to a few dozen blocks; the garbage
// collector's work per request shrinks with it. Everything it hands out
// lives as long as the list, which is read-only once decoded (models.go),
// so sharing a block between fields is safe.
type arena struct {
	strs  []string
	bools []bool
	times []time.Time
	bases []DTable
}

// arenaBlock is how many values a block holds.
const arenaBlock = 128

// dtable returns a zero DTable from the current block.
func (a *arena) dtable() *DTable {
	if len(a.bases) == cap(a.bases) {
		a.bases = make([]DTable, 0, arenaBlock)
	}
	a.bases = a.bases[:len(a.bases)+1]
	return &a.bases[len(a.bases)-1]
}

// str returns nil when the field was absent, null or of another type.
func (a *arena) str(s looseString) *string {
	if !s.Set {
		return nil
	}
	if len(a.strs) == cap(a.strs) {
		a.strs = make([]string, 0, arenaBlock)
	}
	a.strs = append(a.strs, s.Value)
	return &a.strs[len(a.strs)-1]
}

func (a *arena) bool(v looseBool) *bool {
	if !v.Set {
		return nil
	}
	if len(a.bools) == cap(a.bools) {
		a.bools = make([]bool, 0, arenaBlock)
	}
	a.bools = append(a.bools, v.Value)
	return &a.bools[len(a.bools)-1]
}

// time returns the parsed instant (parseTime), or nil.
func (a *arena) time(s looseString) *time.Time {
	t, ok := parseTime(s)
	if !ok {
		return nil
	}
	if len(a.times) == cap(a.times) {
		a.times = make([]time.Time, 0, arenaBlock)
	}
	a.times = append(a.times, t)
	return &a.times[len(a.times)-1]
}
