package upstream

import (
	"testing"

	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

// BenchmarkDecodeForQ1 decodes the small list with only the optional
// field Q1 of the load script shows (updatedAt), as its requests do.
func BenchmarkDecodeForQ1(b *testing.B) {
	body := fakeseatable.Generate(20, 10)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeWorkspaceList(body, FieldUpdatedAt); err != nil {
			b.Fatal(err)
		}
	}
}
