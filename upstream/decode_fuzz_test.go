package upstream

import (
	"testing"

	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

// FuzzDecodeWorkspaceList: whatever SeaTable (or something pretending to
// be it) sends, the decoder returns a list or an error, never panics, and
// what it returns holds the invariants the resolvers rely on. Seeds: every
// fixture generation (added here) plus odd shapes in
// testdata/fuzz/FuzzDecodeWorkspaceList.
func FuzzDecodeWorkspaceList(f *testing.F) {
	for _, name := range []string{fakeseatable.Seed, fakeseatable.Era2020, fakeseatable.Typed, fakeseatable.Current, fakeseatable.CurrentNoDetail, fakeseatable.Demo} {
		f.Add(fakeseatable.Fixture(name))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		list, err := DecodeWorkspaceListBytes(body)
		if err != nil {
			if list != nil {
				t.Fatal("error with a non-nil list")
			}
			return
		}
		if list == nil || list.Workspaces == nil {
			t.Fatal("success without a list")
		}
		for _, ws := range list.Workspaces {
			if ws == nil {
				t.Fatal("nil workspace")
			}
			for _, tables := range [][]*DTable{ws.Tables, ws.GroupSharedTables, ws.GroupSharedViews} {
				for _, d := range tables {
					if d == nil || len(d.UUID) != 36 || NormalizeUUID(d.UUID) != d.UUID {
						t.Fatalf("base with a non-normalised uuid: %+v", d)
					}
				}
			}
		}
	})
}
