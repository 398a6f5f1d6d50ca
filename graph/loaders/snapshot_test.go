package loaders

import (
	"reflect"
	"testing"

	"github.com/seatable-graphql/seatable-graphql/upstream"
	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

func ptr(s string) *string { return &s }

// A cache may hand the same list to many requests at once, so indexing it
// must never change it; the share details of a base shared with the caller
// must still reach the entry a lookup returns.
func TestSnapshotIndexesWithoutChangingTheList(t *testing.T) {
	const shared, own = "11111111-2222-4333-8444-555555555555", "22222222-2222-4333-8444-555555555555"
	starredCopy := &upstream.DTable{UUID: shared, Name: "Budget", WorkspaceID: "3", Starred: true}
	list := &upstream.WorkspaceList{Workspaces: []*upstream.Workspace{
		{ID: "starred", Type: upstream.WorkspaceStarred, Tables: []*upstream.DTable{starredCopy,
			{UUID: own, Name: "Plan", WorkspaceID: "1", Starred: true}}},
		{ID: "shared", Type: upstream.WorkspaceShared, Tables: []*upstream.DTable{
			{UUID: shared, Name: "Budget", WorkspaceID: "3", Starred: true, Permission: ptr("rw"), FromUserName: ptr("Bob")}}},
		{ID: "1", Type: upstream.WorkspacePersonal, Tables: []*upstream.DTable{{UUID: own, Name: "Plan", WorkspaceID: "1", Starred: true, Color: ptr("#fff")}},
			Folders: []*upstream.Folder{{ID: "9", Name: "Work", Items: []upstream.FolderItem{{ItemType: "dtable", ItemID: own}}}}},
	}}
	before := *starredCopy
	s := NewSnapshot(list)
	if !reflect.DeepEqual(*starredCopy, before) {
		t.Errorf("NewSnapshot changed a listed entry: %+v", *starredCopy)
	}
	all := s.DTables()
	if len(all) != 2 || all[0].UUID != shared || all[1].UUID != own {
		t.Fatalf("DTables = %+v", all)
	}
	if d := s.DTable(shared); d.Permission == nil || *d.Permission != "rw" || *d.FromUserName != "Bob" {
		t.Errorf("share details not merged into the chosen entry: %+v", d)
	}
	if d := s.DTable(own); d.Color == nil || d.WorkspaceID != "1" {
		t.Errorf("home entry not preferred: %+v", d)
	}
	if got := len(s.ListedIn(own)); got != 2 {
		t.Errorf("ListedIn(own) = %d workspaces, want 2", got)
	}
	if f := s.FolderOf(s.DTable(own)); f == nil || f.Name != "Work" {
		t.Errorf("FolderOf = %+v", f)
	}
	if s.DTableByName("3", "Budget") == nil || s.DTableByName("1", "plan") != nil {
		t.Errorf("DTableByName must find shared bases by workspace id and compare names exactly")
	}
}

// Canonical, which avoids building the full base index, answers for every
// listed entry what the index answers, on every fixture generation, a
// generated list and the hand-made list above.
func TestCanonicalAgreesWithTheIndex(t *testing.T) {
	bodies := map[string][]byte{"generated": fakeseatable.Generate(20, 10)}
	for _, name := range []string{fakeseatable.Seed, fakeseatable.Era2020, fakeseatable.Typed, fakeseatable.Current, fakeseatable.Demo} {
		bodies[name] = fakeseatable.Fixture(name)
	}
	for name, body := range bodies {
		list, err := upstream.DecodeWorkspaceListBytes(body)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		// Two snapshots: Canonical must not lean on an index built first.
		fresh, indexed := NewSnapshot(list), NewSnapshot(list)
		n := 0
		for _, ws := range list.Workspaces {
			for _, d := range append(append([]*upstream.DTable{}, ws.Tables...), ws.GroupSharedTables...) {
				n++
				if got, want := fresh.Canonical(ws, d), indexed.DTable(d.UUID); got != want && !reflect.DeepEqual(got, want) {
					t.Errorf("%s: %s in %s: Canonical %+v, index %+v", name, d.UUID, ws.ID, got, want)
				}
			}
		}
		if n == 0 && name != fakeseatable.Seed {
			t.Errorf("%s lists no bases", name)
		}
	}
}
