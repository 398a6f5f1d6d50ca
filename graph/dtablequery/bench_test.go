package dtablequery

import (
	"fmt"
	"testing"
	"time"

	"github.com/seatable-graphql/seatable-graphql/upstream"
)

// BenchmarkPaginate measures one dtables page over 2,500 bases: the whole
// list is filtered and ordered on every request (SeaTable has no paging).
func BenchmarkPaginate(b *testing.B) {
	ds := make([]*upstream.DTable, 2500)
	for i := range ds {
		t := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i*7919%2500) * time.Minute)
		ds[i] = &upstream.DTable{UUID: fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i), Name: fmt.Sprintf("Ärger Base %d", i*31%2500), UpdatedAt: &t}
	}
	first := 100
	needle := "base 1"
	for _, o := range []Order{{Field: ByName}, {Field: ByUpdatedAt, Desc: true}} {
		b.Run(o.String(), func(b *testing.B) {
			for b.Loop() {
				f := &Filter{NameContains: &needle}
				if _, err := Paginate(f.Apply(ds, nil), o, Args{First: &first}); err != nil {
					b.Fatal(err)
				}
				if _, err := Paginate(ds, o, Args{First: &first}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
