package upstream

import (
	"math/bits"
	"time"
)

// arena hands out the values of one decoded workspace list from blocks
// instead of one allocation each: the bases (DTable), the slices of base
// pointers, and the optional fields (*string, *bool, *time.Time). A base
// has up to twenty optional fields, so a list of a few hundred bases went
// from thousands of small allocations to a few dozen blocks; the garbage
// collector's work per request shrinks with it. Everything it hands out
// lives as long as the list, which is read-only once decoded (models.go),
// so sharing a block between values is safe.
type arena struct {
	strs  []string
	bools []bool
	times []time.Time
	bases []DTable
	ptrs  []*DTable
	// first is the size of each kind's first block (0: firstBlock), in
	// quarters of a value per base: see expect.
	first int
	// The quarters of a value per base of each kind that the fields
	// decoded take (expect); 0: the defaults grow uses without expect.
	strsPer, boolsPer, timesPer int
}

// expect sizes the first blocks for about n bases with the optional
// fields decoded, so that a list is a block or two of each kind rather
// than a doubling series, and a kind the fields leave out takes only
// room for the workspaces' own values (a workspace is about a tenth of
// the bases): a read of update times alone allocated room for two strings
// and two times per base, a sixth of the list's bytes, and used none of
// the strings and half of the times.
func (a *arena) expect(n int, fields Fields) {
	a.first = min(max(n, firstBlock), arenaBlock)
	per := func(kind Fields, most int) int {
		q := 4 * min(bits.OnesCount32(uint32(fields&kind)), most)
		return max(q, 1) // a quarter: the workspaces' values
	}
	a.strsPer = per(FieldCreator|FieldModifier|FieldColor|FieldTextColor|FieldIcon, 2)
	a.boolsPer = per(FieldIsEncrypted|FieldInStorage, 1)
	a.timesPer = per(FieldCreatedAt|FieldUpdatedAt, 2)
}

// A block holds twice as many values as the one before, from
// firstBlock up to arenaBlock: a write's single base takes a small block,
// a list of thousands of bases a few large ones.
const (
	firstBlock = 8
	arenaBlock = 1024
)

// grow returns the capacity of the block after one of capacity n, per
// base of a list (perBase values of the kind to a base, or quarters of
// one after expect: quarters).
func (a *arena) grow(n, perBase, quarters int) int {
	if n == 0 && a.first > 0 {
		if quarters > 0 {
			return max(a.first*quarters/4, firstBlock)
		}
		return a.first * perBase
	}
	return min(max(2*n, firstBlock), arenaBlock*perBase)
}

// dtable returns a zero DTable from the current block.
func (a *arena) dtable() *DTable {
	if len(a.bases) == cap(a.bases) {
		a.bases = make([]DTable, 0, a.grow(cap(a.bases), 1, 4))
	}
	a.bases = a.bases[:len(a.bases)+1]
	return &a.bases[len(a.bases)-1]
}

// unget gives back d, which must be the last DTable handed out, zeroed:
// an entry that turned out not to be a base takes no slot.
func (a *arena) unget(d *DTable) {
	if n := len(a.bases); n > 0 && &a.bases[n-1] == d {
		*d = DTable{}
		a.bases = a.bases[:n-1]
	}
}

// dtables returns a copy of list in arena memory (never nil), with no room
// to grow into the next copy.
func (a *arena) dtables(list []*DTable) []*DTable {
	n := len(list)
	if n == 0 {
		return []*DTable{}
	}
	if cap(a.ptrs)-len(a.ptrs) < n {
		a.ptrs = make([]*DTable, 0, max(n, a.grow(cap(a.ptrs), 1, 4)))
	}
	start := len(a.ptrs)
	a.ptrs = append(a.ptrs, list...)
	return a.ptrs[start : start+n : start+n]
}

// str returns a pointer to a copy of v.
func (a *arena) str(v string) *string {
	if len(a.strs) == cap(a.strs) {
		a.strs = make([]string, 0, a.grow(cap(a.strs), 2, a.strsPer))
	}
	a.strs = append(a.strs, v)
	return &a.strs[len(a.strs)-1]
}

func (a *arena) bool(v bool) *bool {
	if len(a.bools) == cap(a.bools) {
		a.bools = make([]bool, 0, a.grow(cap(a.bools), 1, a.boolsPer))
	}
	a.bools = append(a.bools, v)
	return &a.bools[len(a.bools)-1]
}

func (a *arena) time(t time.Time) *time.Time {
	if len(a.times) == cap(a.times) {
		a.times = make([]time.Time, 0, a.grow(cap(a.times), 2, a.timesPer))
	}
	a.times = append(a.times, t)
	return &a.times[len(a.times)-1]
}
