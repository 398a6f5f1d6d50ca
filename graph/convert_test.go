package graph

import (
	"testing"

	"github.com/seatable-graphql/seatable-graphql/graph/loaders"
	"github.com/seatable-graphql/seatable-graphql/upstream"
)

// TestCanonicalCopiesOnlyWhenAnEntryMaps: a list whose entries are all at
// home comes back as it is, without allocating; a list holding a base
// also listed elsewhere comes back as a copy with the canonical entry, and
// the snapshot's own list is left as it was.
func TestCanonicalCopiesOnlyWhenAnEntryMaps(t *testing.T) {
	home1 := &upstream.DTable{UUID: "u1", WorkspaceID: "1", Name: "home"}
	home2 := &upstream.DTable{UUID: "u2", WorkspaceID: "1", Name: "home too"}
	starred := &upstream.DTable{UUID: "u1", WorkspaceID: "1", Name: "starred copy"}
	ws1 := &upstream.Workspace{ID: "1", Tables: []*upstream.DTable{home1, home2}}
	star := &upstream.Workspace{ID: "star", Type: upstream.WorkspaceStarred, Tables: []*upstream.DTable{starred}}
	snap := loaders.NewSnapshot(&upstream.WorkspaceList{Workspaces: []*upstream.Workspace{ws1, star}})

	got := canonical(snap, star, star.Tables)
	want := snap.Canonical(star, starred)
	if want == starred {
		t.Fatalf("fixture: the starred entry should map to another entry")
	}
	if len(got) != 1 || got[0] != want {
		t.Fatalf("canonical(starred) = %v, want [%p]", got, want)
	}
	if star.Tables[0] != starred {
		t.Fatalf("canonical changed the snapshot's list")
	}

	plain := &upstream.Workspace{ID: "2", Tables: []*upstream.DTable{{UUID: "u3", WorkspaceID: "2"}}}
	snap2 := loaders.NewSnapshot(&upstream.WorkspaceList{Workspaces: []*upstream.Workspace{plain}})
	out := canonical(snap2, plain, plain.Tables)
	if len(out) != 1 || &out[0] != &plain.Tables[0] {
		t.Fatalf("a canonical list should come back as it is")
	}
	if n := testing.AllocsPerRun(100, func() { canonical(snap2, plain, plain.Tables) }); n != 0 {
		t.Fatalf("canonical of a canonical list allocates %v times", n)
	}
}
