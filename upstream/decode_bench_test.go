package upstream_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/seatable-graphql/seatable-graphql/internal/testenv"
	"github.com/seatable-graphql/seatable-graphql/upstream"
	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

// BenchmarkDecodeWorkspaceList decodes one body of each response generation
// and the generated small and large datasets the load script uses.
func BenchmarkDecodeWorkspaceList(b *testing.B) {
	cases := []struct {
		name string
		body []byte
	}{
		{"seed", fakeseatable.Fixture(fakeseatable.Seed)},
		{"era1", fakeseatable.Fixture(fakeseatable.Era2020)},
		{"typed", fakeseatable.Fixture(fakeseatable.Typed)},
		{"current", fakeseatable.Fixture(fakeseatable.Current)},
		{"current-nodetail", fakeseatable.Fixture(fakeseatable.CurrentNoDetail)},
		{"small-20x10", fakeseatable.Generate(20, 10)},
		{"large-500x50", fakeseatable.Generate(500, 50)},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.body)))
			b.ReportAllocs()
			cpu := testenv.ProcessCPU()
			for b.Loop() {
				if _, err := upstream.DecodeWorkspaceListBytes(c.body); err != nil {
					b.Fatal(err)
				}
			}
			reportCPU(b, cpu)
		})
		if !strings.HasPrefix(c.name, "small") && !strings.HasPrefix(c.name, "large") {
			continue
		}
		// The yardstick, run beside each generated body so that a shared
		// machine's noise hits both alike: encoding/json only validating
		// the same bytes, building nothing.
		b.Run(c.name+"-json.Valid", func(b *testing.B) {
			b.SetBytes(int64(len(c.body)))
			cpu := testenv.ProcessCPU()
			for b.Loop() {
				if !json.Valid(c.body) {
					b.Fatal("invalid")
				}
			}
			reportCPU(b, cpu)
		})
	}
}

// reportCPU reports the process's CPU time per operation since start
// (testenv.ProcessCPU), garbage collection included.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(testenv.ProcessCPU()-start)/float64(b.N), "cpu-ns/op")
}
