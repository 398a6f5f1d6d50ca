package upstream

import (
	"runtime"
	"testing"

	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

// decodeBytes is the fewest bytes allocated by decoding body with fields
// over a few runs (another goroutine of the test binary may allocate in
// between; it can only add).
func decodeBytes(t *testing.T, body []byte, fields Fields) uint64 {
	t.Helper()
	least := ^uint64(0)
	for range 3 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		if _, err := decodeWorkspaceList(body, fields); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		least = min(least, after.TotalAlloc-before.TotalAlloc)
	}
	return least
}

// TestArenaSizedByFields checks that a read leaving out optional fields
// does not allocate arena room for them: the small list decoded for Q1
// (update times only) must take at least 10 KB less than with every field
// (room for two strings and a second time per base, 200 bases). Sized by
// the base count alone, both took 91 KB.
func TestArenaSizedByFields(t *testing.T) {
	body := fakeseatable.Generate(20, 10)
	all := decodeBytes(t, body, AllFields)
	q1 := decodeBytes(t, body, FieldUpdatedAt)
	t.Logf("all fields %d bytes, updatedAt only %d bytes", all, q1)
	if q1+10_000 > all {
		t.Fatalf("updatedAt only allocated %d bytes, all fields %d: want at least 10 KB less", q1, all)
	}
}
