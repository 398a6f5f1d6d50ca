package upstream_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/seatable-graphql/seatable-graphql/upstream"
	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

// ---------------------------------------------------------------------------
// Helpers

func sp(s string) *string { return &s }
func bp(b bool) *bool     { return &b }
func ip(n int) *int       { return &n }

// ts parses an expected instant. Expected values are written in UTC ("Z") by
// hand, so the test does not reuse the decoder's own offset arithmetic.
func ts(s string) *time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(fmt.Sprintf("bad expected timestamp %q: %v", s, err))
	}
	if _, off := t.Zone(); off != 0 {
		panic(fmt.Sprintf("expected timestamp %q must be UTC", s))
	}
	return &t
}

// decodeFixture decodes one of fakeseatable's fixtures and fails the test on
// an error.
func decodeFixture(t *testing.T, name string) *upstream.WorkspaceList {
	t.Helper()
	return mustDecode(t, string(fakeseatable.Fixture(name)))
}

// mustDecode decodes body and fails the test on an error.
func mustDecode(t *testing.T, body string) *upstream.WorkspaceList {
	t.Helper()
	list, err := upstream.DecodeWorkspaceListBytes([]byte(body))
	if err != nil {
		t.Fatalf("DecodeWorkspaceListBytes: unexpected error: %v", err)
	}
	if list == nil {
		t.Fatal("DecodeWorkspaceListBytes: nil list without error")
	}
	return list
}

// assertWorkspaces compares every field of got and want and reports each
// difference with its path. Nil and empty slices are treated as equal (the
// models do not promise either); timestamps must be the same instant, in
// UTC, with whole seconds.
func assertWorkspaces(t *testing.T, got, want []*upstream.Workspace) {
	t.Helper()
	var diffs []string
	diffValue("Workspaces", reflect.ValueOf(got), reflect.ValueOf(want), &diffs)
	if len(diffs) == 0 {
		return
	}
	const maxShown = 40
	if len(diffs) > maxShown {
		diffs = append(diffs[:maxShown], fmt.Sprintf("... and %d more", len(diffs)-maxShown))
	}
	t.Errorf("decoded workspaces differ from expected (%d differences):\n  %s", len(diffs), strings.Join(diffs, "\n  "))
}

var timeType = reflect.TypeOf(time.Time{})

func diffValue(path string, got, want reflect.Value, out *[]string) {
	if got.Type() == timeType {
		g, w := got.Interface().(time.Time), want.Interface().(time.Time)
		switch {
		case !g.Equal(w):
			*out = append(*out, fmt.Sprintf("%s: got %s, want %s", path, g.Format(time.RFC3339Nano), w.Format(time.RFC3339Nano)))
		case g.Location() != time.UTC:
			*out = append(*out, fmt.Sprintf("%s: got location %s, want UTC", path, g.Location()))
		case g.Nanosecond() != 0:
			*out = append(*out, fmt.Sprintf("%s: got sub-second part %dns, want whole seconds", path, g.Nanosecond()))
		}
		return
	}
	switch got.Kind() {
	case reflect.Pointer:
		switch {
		case got.IsNil() && want.IsNil():
		case got.IsNil() || want.IsNil():
			*out = append(*out, fmt.Sprintf("%s: got %s, want %s", path, show(got), show(want)))
		default:
			diffValue(path, got.Elem(), want.Elem(), out)
		}
	case reflect.Slice:
		if got.Len() != want.Len() {
			*out = append(*out, fmt.Sprintf("%s: got %d elements, want %d\n    got:  %s\n    want: %s", path, got.Len(), want.Len(), show(got), show(want)))
			return
		}
		for i := 0; i < got.Len(); i++ {
			diffValue(fmt.Sprintf("%s[%d]", path, i), got.Index(i), want.Index(i), out)
		}
	case reflect.Struct:
		for i := 0; i < got.NumField(); i++ {
			diffValue(path+"."+got.Type().Field(i).Name, got.Field(i), want.Field(i), out)
		}
	default:
		if !reflect.DeepEqual(got.Interface(), want.Interface()) {
			*out = append(*out, fmt.Sprintf("%s: got %s, want %s", path, show(got), show(want)))
		}
	}
}

func show(v reflect.Value) string {
	b, err := json.Marshal(v.Interface())
	if err != nil {
		return fmt.Sprintf("%#v", v.Interface())
	}
	return string(b)
}

// ---------------------------------------------------------------------------
// Expected models, one builder per fixture generation. Each returns fresh
// values so tests cannot interfere with each other.

func wantSeed() []*upstream.Workspace {
	return []*upstream.Workspace{
		{
			ID:        "1",
			Type:      "", // the seed generation does not say
			Name:      "one",
			OwnerName: sp("one"),
			RepoID:    sp("a2ae53f1-5c93-459f-a0bc-e36a04b2dc1d"),
			Tables: []*upstream.DTable{
				{
					ID: "3", UUID: "951b925d-0063-4fd2-96a8-7db3694a286f", Name: "he", WorkspaceID: "1",
					CreatedAt: ts("2019-06-25T06:46:43Z"), UpdatedAt: ts("2019-06-25T06:47:49Z"),
					Creator: sp("one"), Modifier: sp("one"),
				},
				{
					ID: "4", UUID: "b406b9ba-b74e-49c8-aa4e-5567076e5c25", Name: "hello", WorkspaceID: "1",
					CreatedAt: ts("2019-06-25T06:48:40Z"), UpdatedAt: ts("2019-06-25T07:01:07Z"),
					Creator: sp("one"), Modifier: sp("one"),
				},
			},
		},
		{
			ID:        "2",
			Name:      "group one",
			OwnerName: sp("group one"),
			RepoID:    sp("f6b1d0fe-f467-48e4-9e3d-b6cdb7f558b2"),
			Tables: []*upstream.DTable{
				{
					ID: "5", UUID: "3a4f848c-5fc9-4cc8-bbda-96d7d49a944a", Name: "testing", WorkspaceID: "2",
					CreatedAt: ts("2019-06-25T06:49:28Z"), UpdatedAt: ts("2019-06-25T06:53:20Z"),
					Creator: sp("8"), Modifier: sp("one"),
				},
			},
		},
	}
}

func wantEra2020() []*upstream.Workspace {
	return []*upstream.Workspace{
		{
			ID:        "7",
			Type:      upstream.WorkspacePersonal, // owner_type "Personal"
			Name:      "Lina",                     // no name: owner_name
			OwnerName: sp("Lina"),
			RepoID:    sp("0c1a9f8e-2b44-4a1d-9d0e-6f2f3c4b5a61"),
			Tables: []*upstream.DTable{
				{
					ID: "21", UUID: "8d5c2e7a-1b3f-4c6d-9e0a-1b2c3d4e5f60", Name: "Inventar", WorkspaceID: "7",
					CreatedAt: ts("2020-05-12T01:15:02Z"), UpdatedAt: ts("2020-10-01T10:40:11Z"),
					Creator: sp("Lina"), Modifier: sp("Lina"),
					Color: sp("#E91E63"), TextColor: sp("#FFFFFF"), Icon: sp("icon-dollar"),
					Starred: false,
				},
				{
					ID: "22", UUID: "2f6e1c0a-9b8d-4e7f-a1b2-c3d4e5f60718", Name: "Reading list", WorkspaceID: "7",
					CreatedAt: ts("2020-06-01T00:00:00Z"), UpdatedAt: nil, // "" upstream
					Creator: sp("Lina"), Modifier: sp("Lina"),
					Starred: true,
				},
			},
		},
		{
			ID:          "9",
			Type:        upstream.WorkspaceGroup, // owner_type "Group"
			Name:        "Lab group",
			OwnerName:   sp("Lab group"),
			RepoID:      sp("7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d"),
			GroupID:     sp("3"), // a string upstream
			GroupOwner:  sp("4ab1e7c0d2@auth.local"),
			GroupAdmins: []string{"4ab1e7c0d2@auth.local", "9f8e7d6c5b@auth.local"},
			Tables: []*upstream.DTable{
				{
					ID: "30", UUID: "c0ffee00-1234-4abc-8def-0123456789ab", Name: "Samples", WorkspaceID: "9",
					CreatedAt: ts("2020-03-03T02:00:00Z"), UpdatedAt: ts("2020-09-09T02:00:00Z"),
					Creator: sp("Tom"), Modifier: sp("Lina"),
					Color: sp("#2196F3"), Icon: sp("icon-flask"),
					Starred: true, // false here, but listed (32-hex) in starred_dtable_list
				},
			},
		},
	}
}

func wantTyped() []*upstream.Workspace {
	nice := func(starredFlag bool) *upstream.DTable {
		return &upstream.DTable{
			ID: "3", UUID: "64155cad-ee23-4752-9f56-1773ddc15d92", Name: "nice", WorkspaceID: "5",
			CreatedAt: ts("2019-12-27T17:56:08Z"), UpdatedAt: ts("2019-12-27T17:56:08Z"),
			Creator: sp("Alex"), Modifier: sp("Alex"),
			Starred: starredFlag,
		}
	}
	hello := func() *upstream.DTable {
		return &upstream.DTable{
			ID: "1", UUID: "46620d70-c8e5-49ab-8874-9d4a2dc4608c", Name: "hello", WorkspaceID: "1",
			CreatedAt: ts("2020-02-25T19:34:08Z"), UpdatedAt: ts("2020-11-27T20:03:09Z"),
			Creator: sp("Alex"), Modifier: sp("Alex"),
			Color: sp("#FF8000"), Icon: sp("icon-worksheet"),
		}
	}
	vlogger := func() *upstream.DTable {
		return &upstream.DTable{
			ID: "216", UUID: "35484f72-3973-4a6d-9515-81d18a8c3b64", Name: "Vlogger Bibliothek", WorkspaceID: "1",
			CreatedAt: ts("2020-11-27T21:06:29Z"), UpdatedAt: ts("2020-11-27T21:06:29Z"),
			Creator: sp("Alex"), Modifier: sp("Alex"),
		}
	}
	groupView := vlogger()
	groupView.ViewShareID = sp("1")
	return []*upstream.Workspace{
		{
			ID: "starred", Type: upstream.WorkspaceStarred, Name: "starred",
			Tables: []*upstream.DTable{nice(true)},
		},
		{
			ID: "shared", Type: upstream.WorkspaceShared, Name: "shared",
			Tables: []*upstream.DTable{
				{
					ID: "2", UUID: "3af86401-f477-4fd4-b9b5-bda49e6a5238", Name: "good", WorkspaceID: "2",
					CreatedAt: ts("2019-11-29T23:58:04Z"), UpdatedAt: ts("2020-03-29T22:35:03Z"),
					Creator: sp("Bob"), Modifier: sp("Bob"),
					Permission: sp("rw"), FromUser: sp("2@2.com"), FromUserName: sp("Bob"),
					FromUserAvatar: sp("http://127.0.0.1:8001/media/avatars/default.png"),
				},
			},
			SharedViews: []*upstream.SharedView{
				{
					ID: "1", DTableName: "nice", WorkspaceID: sp("2"),
					FromUser: sp("2@2.com"), FromUserName: sp("Bob"),
					FromUserAvatar: sp("http://127.0.0.1:8001/media/avatars/default.png"),
					ToUser:         sp("1@1.com"), ToUserName: sp("Alex"),
					Permission: sp("rw"), TableID: sp("0000"), ViewID: sp("0000"),
				},
			},
		},
		{
			ID: "1", Type: upstream.WorkspacePersonal, Name: "personal",
			Tables: []*upstream.DTable{hello(), vlogger()},
		},
		{
			ID: "5", Type: upstream.WorkspaceGroup, Name: "我的群组",
			GroupID:          sp("22"), // an int upstream
			GroupOwner:       sp("1@1.com"),
			GroupAdmins:      []string{"1@1.com", "2@2.com"},
			GroupMemberCount: ip(2),
			Tables:           []*upstream.DTable{nice(true)},
			GroupSharedTables: []*upstream.DTable{
				hello(),
			},
			GroupSharedViews: []*upstream.DTable{groupView},
		},
	}
}

func wantCurrent() []*upstream.Workspace {
	crm := func() *upstream.DTable {
		return &upstream.DTable{
			ID: "51", UUID: "e3b0c442-98fc-4c14-9afb-f4c8996fb924", Name: "CRM", WorkspaceID: "12",
			CreatedAt: ts("2025-01-10T08:00:00Z"), UpdatedAt: ts("2026-02-20T15:45:30Z"),
			Color: sp("#E91E63"), Icon: sp("icon-users"),
			IsEncrypted: bp(false), InStorage: bp(true),
			Starred: true,
		}
	}
	budget := func() *upstream.DTable {
		return &upstream.DTable{
			ID: "41", UUID: "5b1e0c2d-7f3a-4e9b-8c6d-2a1f0e9d8c7b", Name: "Budget 2026", WorkspaceID: "17",
			CreatedAt: ts("2025-09-01T06:12:44Z"), UpdatedAt: ts("2026-03-06T09:25:09Z"),
			Color: sp("#4CAF50"), TextColor: sp("#FFFFFF"), Icon: sp("icon-dollar"),
			IsEncrypted: bp(false), InStorage: bp(true),
			Starred:   true,
			ShareID:   sp("7"),
			ShareType: sp("dtable-share"),
			FromUser:  sp("b0b5e1d2c3@auth.local"), FromUserName: sp("Bob"),
			FromUserAvatar: sp("https://cloud.example.com/media/avatars/default.png"),
			Permission:     sp("r"),
		}
	}
	return []*upstream.Workspace{
		{
			ID: "starred", Type: upstream.WorkspaceStarred, Name: "starred",
			Tables: []*upstream.DTable{crm(), budget()},
		},
		{
			ID: "shared", Type: upstream.WorkspaceShared, Name: "shared",
			Tables: []*upstream.DTable{budget()},
			SharedViews: []*upstream.SharedView{
				{
					ID: "3", DTableName: "Roadmap", WorkspaceID: sp("18"),
					FromUser: sp("c4a1d2e3f4@auth.local"), FromUserName: sp("Carol"),
					FromUserAvatar: sp("https://cloud.example.com/media/avatars/default.png"),
					ToUser:         sp("a9b8c7d6e5@auth.local"), ToUserName: sp("Dana"),
					Permission: sp("r"), TableID: sp("0000"), ViewID: sp("Xy12"),
					SharedName: sp("Q3 plan"), ShareID: sp("3"), ShareType: sp("view-share"),
				},
			},
			ShareFolders: []*upstream.ShareFolder{
				{ID: "2", Name: "From Bob", Username: sp("a9b8c7d6e5@auth.local")},
			},
		},
		{
			ID: "12", Type: upstream.WorkspacePersonal, Name: "personal",
			Tables: []*upstream.DTable{
				crm(),
				{
					ID: "52", UUID: "0a1b2c3d-4e5f-4061-8273-94a5b6c7d8e9", Name: "Travel", WorkspaceID: "12",
					CreatedAt: ts("2024-07-14T19:01:02Z"), UpdatedAt: ts("2024-07-14T19:01:02Z"),
					IsEncrypted: bp(true), InStorage: bp(false),
				},
			},
			Folders: []*upstream.Folder{
				{
					ID: "1", Name: "Work", WorkspaceID: sp("12"),
					Items: []upstream.FolderItem{{ItemType: "dtable", ItemID: "e3b0c442-98fc-4c14-9afb-f4c8996fb924"}},
				},
			},
			// future_field is not modelled and must be ignored.
		},
		{
			ID: "15", Type: upstream.WorkspaceGroup, Name: "Marketing",
			GroupID: sp("4"), GroupOwner: sp("f1e2d3c4b5@auth.local"), IsAdmin: bp(true),
			Tables: []*upstream.DTable{
				{
					ID: "60", UUID: "7c9e6679-7425-40de-944b-e07fc1f90ae7", Name: "Campaigns", WorkspaceID: "15",
					CreatedAt: ts("2025-11-03T10:11:11Z"), UpdatedAt: ts("2026-01-15T06:30:00Z"),
					Color: sp("#FF9800"), TextColor: sp("#000000"), Icon: sp("icon-megaphone"),
					IsEncrypted: bp(false), InStorage: bp(true),
				},
			},
			GroupSharedTables: []*upstream.DTable{
				{
					ID: "70", UUID: "9b2d5c1e-3f4a-4b6c-8d7e-1f2a3b4c5d6e", Name: "Assets", WorkspaceID: "19",
					CreatedAt: ts("2025-05-05T03:05:05Z"), UpdatedAt: ts("2025-06-06T04:06:06Z"),
					IsEncrypted: bp(false), InStorage: bp(true),
					ShareID:     sp("11"), // from dtable_share_id
					Permission:  sp("rw"),
					FromGroupID: sp("6"), FromGroupName: sp("IT"), FromUser: sp("6@seafile_group"),
				},
			},
			GroupSharedViews: []*upstream.DTable{
				{
					ID: "71", UUID: "d4c3b2a1-0f9e-4d8c-b7a6-958473625140", Name: "Tickets", WorkspaceID: "19",
					CreatedAt: ts("2025-02-02T01:02:02Z"), UpdatedAt: ts("2025-02-03T01:02:02Z"),
					IsEncrypted: bp(false), InStorage: bp(true),
					ViewShareID: sp("5"), SharedName: sp("Open tickets"),
					FromUser: sp("e5d4c3b2a1@auth.local"), FromUserName: sp("Erin"), FromUserAvatar: sp(""),
				},
			},
		},
		{
			ID: "16", Type: upstream.WorkspaceGroup, Name: "Sales",
			GroupID: sp("9"), GroupOwner: sp("system admin"), IsAdmin: bp(false), DepartmentID: sp("3"),
		},
	}
}

func wantCurrentNoDetail() []*upstream.Workspace {
	return []*upstream.Workspace{
		{ID: "starred", Type: upstream.WorkspaceStarred, Name: "starred"},
		{ID: "shared", Type: upstream.WorkspaceShared, Name: "shared"},
		{ID: "12", Type: upstream.WorkspacePersonal, Name: "personal"},
		{
			ID: "15", Type: upstream.WorkspaceGroup, Name: "Marketing",
			GroupID: sp("4"), GroupOwner: sp("f1e2d3c4b5@auth.local"), IsAdmin: bp(true),
		},
		{
			ID: "16", Type: upstream.WorkspaceGroup, Name: "Sales",
			GroupID: sp("9"), GroupOwner: sp("system admin"), IsAdmin: bp(false), DepartmentID: sp("3"),
		},
	}
}

// ---------------------------------------------------------------------------
// Fixture generations

func TestDecodeFixtureGenerations(t *testing.T) {
	tests := []struct {
		fixture string
		want    func() []*upstream.Workspace
	}{
		{fakeseatable.Seed, wantSeed},
		{fakeseatable.Era2020, wantEra2020},
		{fakeseatable.Typed, wantTyped},
		{fakeseatable.Current, wantCurrent},
		{fakeseatable.CurrentNoDetail, wantCurrentNoDetail},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			list := decodeFixture(t, tt.fixture)
			if list.Detail {
				t.Error("DecodeWorkspaceListBytes set Detail; only the client knows what was asked")
			}
			assertWorkspaces(t, list.Workspaces, tt.want())
		})
	}
}

// TestDecodeFixtureHighlights names the normalisation rules the full
// comparison above covers, so a regression in one of them reads plainly.
func TestDecodeFixtureHighlights(t *testing.T) {
	t.Run("pseudo-workspace id becomes its type", func(t *testing.T) {
		for _, name := range []string{fakeseatable.Typed, fakeseatable.Current, fakeseatable.CurrentNoDetail} {
			ws := decodeFixture(t, name).Workspaces
			if ws[0].ID != "starred" || ws[1].ID != "shared" {
				t.Errorf("%s: ids %q, %q; want \"starred\", \"shared\"", name, ws[0].ID, ws[1].ID)
			}
		}
	})
	t.Run("int ids become decimal strings", func(t *testing.T) {
		ws := decodeFixture(t, fakeseatable.Current).Workspaces
		if ws[2].ID != "12" || ws[2].Tables[1].ID != "52" || ws[2].Tables[1].WorkspaceID != "12" {
			t.Errorf("got ws %q, base %q in ws %q; want 12, 52, 12", ws[2].ID, ws[2].Tables[1].ID, ws[2].Tables[1].WorkspaceID)
		}
	})
	t.Run("group_id string and int", func(t *testing.T) {
		era1 := decodeFixture(t, fakeseatable.Era2020).Workspaces[1]
		typed := decodeFixture(t, fakeseatable.Typed).Workspaces[3]
		if era1.GroupID == nil || *era1.GroupID != "3" {
			t.Errorf("era1 group_id \"3\": got %v", era1.GroupID)
		}
		if typed.GroupID == nil || *typed.GroupID != "22" {
			t.Errorf("typed group_id 22: got %v", typed.GroupID)
		}
	})
	t.Run("owner_type maps to type", func(t *testing.T) {
		ws := decodeFixture(t, fakeseatable.Era2020).Workspaces
		if ws[0].Type != upstream.WorkspacePersonal || ws[1].Type != upstream.WorkspaceGroup {
			t.Errorf("got types %q, %q; want personal, group", ws[0].Type, ws[1].Type)
		}
	})
	t.Run("name falls back to owner_name", func(t *testing.T) {
		ws := decodeFixture(t, fakeseatable.Seed).Workspaces
		if ws[0].Name != "one" || ws[1].Name != "group one" {
			t.Errorf("got names %q, %q; want \"one\", \"group one\"", ws[0].Name, ws[1].Name)
		}
	})
	t.Run("offsets converted to UTC and empty timestamp is nil", func(t *testing.T) {
		era1 := decodeFixture(t, fakeseatable.Era2020).Workspaces[0].Tables
		if got := era1[0].CreatedAt; got == nil || !got.Equal(*ts("2020-05-12T01:15:02Z")) || got.Location() != time.UTC {
			t.Errorf("+08:00: got %v, want 2020-05-12T01:15:02Z", got)
		}
		if era1[1].UpdatedAt != nil {
			t.Errorf(`"" timestamp: got %v, want nil`, era1[1].UpdatedAt)
		}
		budget := decodeFixture(t, fakeseatable.Current).Workspaces[1].Tables[0]
		if got := budget.CreatedAt; got == nil || !got.Equal(*ts("2025-09-01T06:12:44Z")) || got.Location() != time.UTC {
			t.Errorf("+02:00: got %v, want 2025-09-01T06:12:44Z", got)
		}
		if got := budget.UpdatedAt; got == nil || !got.Equal(*ts("2026-03-06T09:25:09Z")) || got.Location() != time.UTC {
			t.Errorf("+01:00: got %v, want 2026-03-06T09:25:09Z", got)
		}
	})
	t.Run("32-hex upper-case uuid normalised", func(t *testing.T) {
		got := decodeFixture(t, fakeseatable.Era2020).Workspaces[0].Tables[0].UUID
		if got != "8d5c2e7a-1b3f-4c6d-9e0a-1b2c3d4e5f60" {
			t.Errorf("got %q", got)
		}
	})
	t.Run("null color is nil", func(t *testing.T) {
		d := decodeFixture(t, fakeseatable.Era2020).Workspaces[0].Tables[1]
		if d.Color != nil || d.TextColor != nil || d.Icon != nil {
			t.Errorf("got color %v, text_color %v, icon %v; want all nil", d.Color, d.TextColor, d.Icon)
		}
	})
	t.Run("starred from starred_dtable_list", func(t *testing.T) {
		if d := decodeFixture(t, fakeseatable.Era2020).Workspaces[1].Tables[0]; !d.Starred {
			t.Errorf("%s: starred false, want true (listed in starred_dtable_list)", d.Name)
		}
	})
	t.Run("unknown future_field ignored", func(t *testing.T) {
		ws := decodeFixture(t, fakeseatable.Current).Workspaces
		if len(ws) != 5 || ws[2].Name != "personal" || len(ws[2].Tables) != 2 || len(ws[2].Folders) != 1 {
			t.Errorf("personal workspace next to future_field not decoded intact: %s", show(reflect.ValueOf(ws)))
		}
	})
}

// ---------------------------------------------------------------------------
// Odd and hostile inputs that must decode

const (
	uuidA = "64155cad-ee23-4752-9f56-1773ddc15d92"
	uuidB = "46620d70-c8e5-49ab-8874-9d4a2dc4608c"
	uuidC = "35484f72-3973-4a6d-9515-81d18a8c3b64"
)

// nested returns an unknown JSON value nested depth levels deep.
func nested(depth int) string {
	var b strings.Builder
	for i := 0; i < depth; i++ {
		if i%2 == 0 {
			b.WriteString(`{"k":`)
		} else {
			b.WriteString(`[1,"x",null,`)
		}
	}
	b.WriteString(`{"leaf":true}`)
	for i := depth - 1; i >= 0; i-- {
		if i%2 == 0 {
			b.WriteString(`}`)
		} else {
			b.WriteString(`]`)
		}
	}
	return b.String()
}

func TestDecodeOddInputs(t *testing.T) {
	// A body with an odd table_list in the first workspace and a normal
	// second workspace: the odd list is empty, everything else intact.
	oddTableList := func(v string) string {
		return `{"workspace_list":[
			{"id":1,"name":"personal","type":"personal","table_list":` + v + `,
			 "folders":[{"id":4,"name":"F","workspace_id":1,"items":[]}]},
			{"id":5,"name":"G","type":"group","group_id":5,"table_list":[{"id":3,"uuid":"` + uuidA + `","name":"kept"}]}]}`
	}
	oddTableListWant := func() []*upstream.Workspace {
		return []*upstream.Workspace{
			{
				ID: "1", Type: upstream.WorkspacePersonal, Name: "personal",
				Folders: []*upstream.Folder{{ID: "4", Name: "F", WorkspaceID: sp("1")}},
			},
			{
				ID: "5", Type: upstream.WorkspaceGroup, Name: "G", GroupID: sp("5"),
				// no workspace_id on the base: it belongs to the listing workspace
				Tables: []*upstream.DTable{{ID: "3", UUID: uuidA, Name: "kept", WorkspaceID: "5"}},
			},
		}
	}
	deep := nested(300)

	tests := []struct {
		name string
		body string
		want []*upstream.Workspace
	}{
		{
			name: "float ids 5.0 and string ids",
			body: `{"workspace_list":[
				{"id":5.0,"name":"G","type":"group","group_id":22.0,"group_member_count":"3",
				 "table_list":[{"id":7.0,"workspace_id":5.0,"uuid":"` + uuidA + `","name":"n"}]},
				{"id":"12","name":"personal","type":"personal"}]}`,
			want: []*upstream.Workspace{
				{
					ID: "5", Type: upstream.WorkspaceGroup, Name: "G", GroupID: sp("22"), GroupMemberCount: ip(3),
					Tables: []*upstream.DTable{{ID: "7", UUID: uuidA, Name: "n", WorkspaceID: "5"}},
				},
				{ID: "12", Type: upstream.WorkspacePersonal, Name: "personal"},
			},
		},
		{
			name: "group_id and other optionals null",
			body: `{"workspace_list":[{"id":5,"name":"G","type":"group","group_id":null,"group_owner":null,
				"is_admin":null,"department_id":null,"group_admins":null,"group_member_count":null}]}`,
			want: []*upstream.Workspace{{ID: "5", Type: upstream.WorkspaceGroup, Name: "G"}},
		},
		{name: "table_list is a string", body: oddTableList(`"oops"`), want: oddTableListWant()},
		{name: "table_list is an object", body: oddTableList(`{"uuid":"` + uuidB + `","name":"obj"}`), want: oddTableListWant()},
		{name: "table_list is null", body: oddTableList(`null`), want: oddTableListWant()},
		{name: "table_list is a number", body: oddTableList(`42`), want: oddTableListWant()},
		{
			name: "table_list elements of the wrong type dropped, siblings kept",
			body: `{"workspace_list":[{"id":1,"name":"personal","type":"personal","table_list":[
				"oops", 42, true, null, [],
				{"id":1,"workspace_id":1,"uuid":"` + uuidA + `","name":"a"},
				"between",
				{"id":2,"workspace_id":1,"uuid":"` + uuidB + `","name":"b"}]}]}`,
			want: []*upstream.Workspace{{
				ID: "1", Type: upstream.WorkspacePersonal, Name: "personal",
				Tables: []*upstream.DTable{
					{ID: "1", UUID: uuidA, Name: "a", WorkspaceID: "1"},
					{ID: "2", UUID: uuidB, Name: "b", WorkspaceID: "1"},
				},
			}},
		},
		{
			name: "bases without a valid uuid dropped",
			body: `{"workspace_list":[{"id":1,"name":"personal","type":"personal","table_list":[
				{"id":1,"uuid":"not-a-uuid","name":"bad"},
				{"id":2,"name":"no uuid"},
				{"id":3,"uuid":null,"name":"null uuid"},
				{"id":4,"uuid":12345,"name":"number uuid"},
				{"id":5,"uuid":"` + uuidA + `x","name":"too long"},
				{"id":6,"uuid":"` + uuidA + `","name":"good"}]}]}`,
			want: []*upstream.Workspace{{
				ID: "1", Type: upstream.WorkspacePersonal, Name: "personal",
				Tables: []*upstream.DTable{{ID: "6", UUID: uuidA, Name: "good", WorkspaceID: "1"}},
			}},
		},
		{
			name: "timestamp forms",
			body: `{"workspace_list":[{"id":1,"name":"personal","type":"personal","table_list":[
				{"uuid":"` + uuidA + `","created_at":"2020-01-02 03:04:05","updated_at":"garbage"},
				{"uuid":"` + uuidB + `","created_at":"2020-01-02T03:04:05.987654+02:00","updated_at":null},
				{"uuid":"` + uuidC + `","created_at":1577934245,"updated_at":"2020-01-02 03:04:05+08:00"},
				{"uuid":"` + strings.ToUpper(strings.ReplaceAll(uuidC, "-", "")) + `","created_at":"2020-01-02T03:04:05","updated_at":" "}]}]}`,
			want: []*upstream.Workspace{{
				ID: "1", Type: upstream.WorkspacePersonal, Name: "personal",
				Tables: []*upstream.DTable{
					// naive Django timestamps are read as UTC; garbage is nil
					{UUID: uuidA, WorkspaceID: "1", CreatedAt: ts("2020-01-02T03:04:05Z"), UpdatedAt: nil},
					// fractional seconds are truncated
					{UUID: uuidB, WorkspaceID: "1", CreatedAt: ts("2020-01-02T01:04:05Z"), UpdatedAt: nil},
					// a number is not a timestamp
					{UUID: uuidC, WorkspaceID: "1", CreatedAt: nil, UpdatedAt: ts("2020-01-01T19:04:05Z")},
					{UUID: uuidC, WorkspaceID: "1", CreatedAt: ts("2020-01-02T03:04:05Z"), UpdatedAt: nil},
				},
			}},
		},
		{
			name: "loose booleans",
			body: `{"workspace_list":[{"id":5,"name":"G","type":"group","is_admin":"true","table_list":[
				{"uuid":"` + uuidA + `","is_encrypted":"true","in_storage":1,"starred":"1"},
				{"uuid":"` + uuidB + `","is_encrypted":"false","in_storage":0,"starred":0},
				{"uuid":"` + uuidC + `","is_encrypted":"yes","in_storage":null,"starred":"maybe"}]}]}`,
			want: []*upstream.Workspace{{
				ID: "5", Type: upstream.WorkspaceGroup, Name: "G", IsAdmin: bp(true),
				Tables: []*upstream.DTable{
					{UUID: uuidA, WorkspaceID: "5", IsEncrypted: bp(true), InStorage: bp(true), Starred: true},
					{UUID: uuidB, WorkspaceID: "5", IsEncrypted: bp(false), InStorage: bp(false)},
					{UUID: uuidC, WorkspaceID: "5"},
				},
			}},
		},
		{
			name: "starred propagated from the starred pseudo-workspace",
			body: `{"workspace_list":[
				{"id":"","name":"starred","type":"starred","table_list":[
					{"id":1,"workspace_id":1,"uuid":"` + uuidA + `","name":"a"},
					{"id":9,"uuid":"` + uuidC + `","name":"c"}]},
				{"id":1,"name":"personal","type":"personal","table_list":[
					{"id":1,"workspace_id":1,"uuid":"` + strings.ToUpper(strings.ReplaceAll(uuidA, "-", "")) + `","name":"a","starred":false},
					{"id":2,"workspace_id":1,"uuid":"` + uuidB + `","name":"b"}]},
				{"id":5,"name":"G","type":"group","group_id":5,"group_shared_views":[
					{"id":9,"workspace_id":7,"uuid":"` + uuidC + `","name":"c"}]}]}`,
			want: []*upstream.Workspace{
				{
					ID: "starred", Type: upstream.WorkspaceStarred, Name: "starred",
					Tables: []*upstream.DTable{
						{ID: "1", UUID: uuidA, Name: "a", WorkspaceID: "1", Starred: true},
						// the pseudo-workspace has no real id to lend its bases
						{ID: "9", UUID: uuidC, Name: "c", WorkspaceID: "", Starred: true},
					},
				},
				{
					ID: "1", Type: upstream.WorkspacePersonal, Name: "personal",
					Tables: []*upstream.DTable{
						{ID: "1", UUID: uuidA, Name: "a", WorkspaceID: "1", Starred: true},
						{ID: "2", UUID: uuidB, Name: "b", WorkspaceID: "1"},
					},
				},
				{
					ID: "5", Type: upstream.WorkspaceGroup, Name: "G", GroupID: sp("5"),
					GroupSharedViews: []*upstream.DTable{{ID: "9", UUID: uuidC, Name: "c", WorkspaceID: "7", Starred: true}},
				},
			},
		},
		{
			name: "workspace_list entries of the wrong type dropped",
			body: `{"workspace_list":["x", 1, null, true, {"id":1,"name":"personal","type":"personal"}]}`,
			want: []*upstream.Workspace{{ID: "1", Type: upstream.WorkspacePersonal, Name: "personal"}},
		},
		{
			name: "deeply nested unknown fields ignored",
			body: `{"unknown_top":` + deep + `,"workspace_list":[{"id":1,"name":"personal","type":"personal","x":` + deep +
				`,"table_list":[{"uuid":"` + uuidA + `","name":"a","y":` + deep + `}]}],"starred_dtable_list":` + deep + `}`,
			want: []*upstream.Workspace{{
				ID: "1", Type: upstream.WorkspacePersonal, Name: "personal",
				Tables: []*upstream.DTable{{UUID: uuidA, Name: "a", WorkspaceID: "1"}},
			}},
		},
		{
			name: "starred_dtable_list of the wrong type ignored",
			body: `{"workspace_list":[{"id":1,"name":"personal","type":"personal","table_list":[{"uuid":"` + uuidA + `"}]}],
				"starred_dtable_list":"` + uuidA + `"}`,
			want: []*upstream.Workspace{{
				ID: "1", Type: upstream.WorkspacePersonal, Name: "personal",
				Tables: []*upstream.DTable{{UUID: uuidA, WorkspaceID: "1"}},
			}},
		},
		{
			name: "empty workspace_list",
			body: `{"workspace_list":[]}`,
			want: nil,
		},
		{
			name: "trailing whitespace accepted",
			body: "{\"workspace_list\":[]}\r\n\t \n",
			want: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertWorkspaces(t, mustDecode(t, tt.body).Workspaces, tt.want)
		})
	}
}

// ---------------------------------------------------------------------------
// Bodies that must be rejected

func TestDecodeRejects(t *testing.T) {
	tests := []struct {
		name         string
		body         string
		unknownShape bool // must wrap upstream.ErrUnknownShape
	}{
		{name: "workspace_list missing", body: `{}`, unknownShape: true},
		{name: "workspace_list misspelt", body: `{"workspaces":[{"id":1}]}`, unknownShape: true},
		{name: "workspace_list is a string", body: `{"workspace_list":"[]"}`, unknownShape: true},
		{name: "workspace_list is an object", body: `{"workspace_list":{"0":{"id":1}}}`, unknownShape: true},
		{name: "workspace_list is null", body: `{"workspace_list":null}`, unknownShape: true},
		{name: "workspace_list is a number", body: `{"workspace_list":1}`, unknownShape: true},
		{name: "top-level array", body: `[{"workspace_list":[]}]`},
		{name: "top-level string", body: `"workspace_list"`},
		{name: "top-level null", body: `null`},
		{name: "not JSON", body: `<html><body>502 Bad Gateway</body></html>`},
		{name: "trailing garbage", body: `{"workspace_list":[]} garbage`},
		{name: "second JSON value", body: `{"workspace_list":[]}{"workspace_list":[]}`},
		{name: "truncated", body: `{"workspace_list":[{"id":1,"name":"personal"`},
		{name: "syntax error inside the list", body: `{"workspace_list":[{"id":1,}]}`},
		{name: "empty body", body: ``},
		{name: "whitespace only", body: " \n\t "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			list, err := upstream.DecodeWorkspaceListBytes([]byte(tt.body))
			if err == nil {
				t.Fatalf("no error; decoded %d workspaces", len(list.Workspaces))
			}
			if list != nil {
				t.Errorf("got a list together with error %v", err)
			}
			if tt.unknownShape && !errors.Is(err, upstream.ErrUnknownShape) {
				t.Errorf("error %q does not wrap ErrUnknownShape", err)
			}
		})
	}
}

// ---------------------------------------------------------------------------
// NormalizeUUID

func TestNormalizeUUID(t *testing.T) {
	const canon = "951b925d-0063-4fd2-96a8-7db3694a286f"
	tests := []struct {
		name, in, want string
	}{
		{"valid 36", canon, canon},
		{"valid 32", "951b925d00634fd296a87db3694a286f", canon},
		{"upper case 36", "951B925D-0063-4FD2-96A8-7DB3694A286F", canon},
		{"upper case 32", "951B925D00634FD296A87DB3694A286F", canon},
		{"braces", "{" + canon + "}", canon},
		{"surrounding space", "  " + canon + "\n", canon},
		{"empty", "", ""},
		{"35 chars", canon[:35], ""},
		{"37 chars", canon + "0", ""},
		{"31 hex", "951b925d00634fd296a87db3694a286", ""},
		{"33 hex", "951b925d00634fd296a87db3694a286f0", ""},
		{"non-hex 36", "951b925d-0063-4fd2-96a8-7db3694a286g", ""},
		{"non-hex 32", "951b925d00634fd296a87db3694a286z", ""},
		{"misplaced dashes", "951b925d0-063-4fd2-96a8-7db3694a286f", ""},
		{"dashes in the wrong groups", "951b-925d-0063-4fd2-96a87db3694a286f", ""},
		{"partial dashes", "951b925d-00634fd2-96a8-7db3694a286f", ""},
		{"urn prefix", "urn:uuid:" + canon, ""},
		{"inner space", "951b925d-0063-4fd2-96a8 7db3694a286f", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := upstream.NormalizeUUID(tt.in); got != tt.want {
				t.Errorf("NormalizeUUID(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
