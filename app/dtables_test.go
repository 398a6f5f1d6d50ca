package app

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/collate"
	"golang.org/x/text/language"

	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

// genBase is one generated base as the test knows it.
type genBase struct {
	UUID, Name, WorkspaceID string
	Created, Updated        *time.Time
	Starred                 bool
	Color                   string
	Shared                  bool // listed only in the shared pseudo-workspace
}

// nameStems include Unicode, quotes and HTML; "A\u0308rger" is the
// decomposed spelling of "Ärger".
var nameStems = []string{"Ärger", "ärger", "A\u0308rger", "日本語", `He said "hi"`, "<b>bold</b> & co", "Straße",
	"STRASSE", "apple", "Banana", "zeta", "Émile", "emile"}

var offsets = []string{"+00:00", "+01:00", "+08:00", "-05:00", "+05:30"}

// genBases builds a current-generation workspace list with n bases spread
// over a personal workspace (10), an administered group (11), a group the
// caller does not administer (12) and bases shared with the caller from an
// invisible workspace (99). Every seventh base is starred and so listed
// twice upstream; names repeat (ties for the uuid tiebreaker), some dates
// are missing, and dates come with several offsets.
func genBases(n int) ([]byte, []genBase) {
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	var bases []genBase
	lists := map[string][]any{}
	var starredList, sharedList []any
	for i := range n {
		b := genBase{
			UUID:  fmt.Sprintf("%08x-0000-4000-8000-%012x", i*2654435761%(1<<32), i),
			Name:  fmt.Sprintf("%s %d", nameStems[i%len(nameStems)], i/(2*len(nameStems))),
			Color: []string{"#E91E63", "#2196F3", "#4caf50"}[i%3],
		}
		entry := map[string]any{"id": i + 1, "uuid": b.UUID, "name": b.Name, "color": b.Color,
			"text_color": nil, "icon": "icon-x", "is_encrypted": false, "in_storage": true}
		// Several bases share an instant, written with different offsets.
		created := start.Add(time.Duration(i/3) * time.Hour)
		updated := start.Add(time.Duration((i*7919)%n) * time.Minute)
		off := offsets[i%len(offsets)]
		zone := time.FixedZone(off, offsetSeconds(off))
		if i%11 != 5 {
			b.Created = &created
			entry["created_at"] = created.In(zone).Format("2006-01-02T15:04:05-07:00")
		} else {
			entry["created_at"] = ""
		}
		if i%13 != 7 {
			b.Updated = &updated
			entry["updated_at"] = updated.In(zone).Format("2006-01-02T15:04:05-07:00")
		}
		switch {
		case i%50 == 49:
			b.Shared, b.WorkspaceID = true, "99"
			entry["workspace_id"] = 99
			entry["permission"], entry["from_user"], entry["from_user_name"] = "rw", "x@auth.local", "Xavier"
			entry["share_id"], entry["share_type"] = i, "dtable-share"
			sharedList = append(sharedList, entry)
		default:
			b.WorkspaceID = []string{"10", "11", "12"}[i%3]
			entry["workspace_id"] = map[string]int{"10": 10, "11": 11, "12": 12}[b.WorkspaceID]
			lists[b.WorkspaceID] = append(lists[b.WorkspaceID], entry)
		}
		if i%7 == 0 {
			b.Starred = true
			entry["starred"] = true
			cp := map[string]any{}
			for k, v := range entry {
				cp[k] = v
			}
			starredList = append(starredList, cp)
		} else {
			entry["starred"] = false
		}
		bases = append(bases, b)
	}
	doc := map[string]any{"workspace_list": []any{
		map[string]any{"id": "", "name": "starred", "type": "starred", "table_list": starredList},
		map[string]any{"id": "", "name": "shared", "type": "shared", "shared_table_list": sharedList, "shared_view_list": []any{}, "share_folders": []any{}},
		map[string]any{"id": 10, "name": "personal", "type": "personal", "table_list": lists["10"], "folders": []any{}},
		map[string]any{"id": 11, "name": "Team Ärger", "type": "group", "group_id": 1, "group_owner": "a@auth.local", "is_admin": true, "table_list": lists["11"]},
		map[string]any{"id": 12, "name": "日本語 team", "type": "group", "group_id": 2, "group_owner": "b@auth.local", "is_admin": false, "table_list": lists["12"]},
	}}
	body, err := json.Marshal(doc)
	if err != nil {
		panic(err)
	}
	return body, bases
}

func offsetSeconds(off string) int {
	var h, m int
	fmt.Sscanf(off[1:], "%d:%d", &h, &m)
	s := h*3600 + m*60
	if off[0] == '-' {
		return -s
	}
	return s
}

// expectedOrder sorts bases the way the schema documents: the field (names
// by root-locale collation, then bytes), nulls last either way, uuid last.
func expectedOrder(bases []genBase, field, direction string) []string {
	coll := collate.New(language.Und)
	sorted := slices.Clone(bases)
	slices.SortFunc(sorted, func(a, b genBase) int {
		var at, bt *time.Time
		switch field {
		case "CREATED_AT":
			at, bt = a.Created, b.Created
		case "UPDATED_AT":
			at, bt = a.Updated, b.Updated
		}
		c := 0
		if field != "NAME" {
			switch {
			case at == nil && bt == nil:
			case at == nil:
				return 1
			case bt == nil:
				return -1
			default:
				c = at.Compare(*bt)
			}
		} else if c = coll.CompareString(a.Name, b.Name); c == 0 {
			c = strings.Compare(a.Name, b.Name)
		}
		if c == 0 {
			c = strings.Compare(a.UUID, b.UUID)
		}
		if direction == "DESC" {
			c = -c
		}
		return c
	})
	out := make([]string, len(sorted))
	for i, b := range sorted {
		out[i] = b.UUID
	}
	return out
}

type connection struct {
	TotalCount int
	Edges      []struct {
		Cursor string
		Node   struct{ UUID, Name string }
	}
	PageInfo struct {
		HasNextPage, HasPreviousPage bool
		StartCursor, EndCursor       *string
	}
}

const pageQuery = `query($order: DTableOrder, $filter: DTableFilter, $first: Int, $after: String, $last: Int, $before: String) {
	dtables(orderBy: $order, filter: $filter, first: $first, after: $after, last: $last, before: $before) {
		totalCount edges { cursor node { uuid name } }
		pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`

func (e *testEnv) page(t *testing.T, vars map[string]any) connection {
	t.Helper()
	status, resp := e.post(t, "Token "+tokA, pageQuery, vars)
	if status != 200 || len(resp.Errors) > 0 {
		t.Fatalf("dtables %v: status %d errors %+v", vars, status, resp.Errors)
	}
	var data struct{ Dtables connection }
	if err := json.Unmarshal(resp.Data, &data); err != nil {
		t.Fatal(err)
	}
	return data.Dtables
}

func TestPagingOver2500BasesEveryOrderBothWays(t *testing.T) {
	e := newTestEnv(t)
	body, bases := genBases(2500)
	e.fake.SetToken(tokA, body)
	const size = 400
	for _, field := range []string{"NAME", "CREATED_AT", "UPDATED_AT"} {
		for _, dir := range []string{"ASC", "DESC"} {
			t.Run(field+"_"+dir, func(t *testing.T) {
				want := expectedOrder(bases, field, dir)
				order := map[string]any{"field": field, "direction": dir}

				var forward []string
				var after any
				for pages := 0; ; pages++ {
					if pages > 10 {
						t.Fatal("forward walk does not end")
					}
					c := e.page(t, map[string]any{"order": order, "first": size, "after": after})
					if c.TotalCount != len(bases) {
						t.Fatalf("totalCount %d, want %d", c.TotalCount, len(bases))
					}
					if c.PageInfo.HasPreviousPage != (pages > 0) {
						t.Errorf("page %d: hasPreviousPage %v", pages, c.PageInfo.HasPreviousPage)
					}
					for _, ed := range c.Edges {
						forward = append(forward, ed.Node.UUID)
					}
					if !c.PageInfo.HasNextPage {
						break
					}
					after = *c.PageInfo.EndCursor
				}
				if !slices.Equal(forward, want) {
					t.Fatalf("forward walk: %d bases, order differs from expected (first difference at %d)", len(forward), firstDiff(forward, want))
				}

				var backward []string
				var before any
				for pages := 0; ; pages++ {
					if pages > 10 {
						t.Fatal("backward walk does not end")
					}
					c := e.page(t, map[string]any{"order": order, "last": size, "before": before})
					if c.PageInfo.HasNextPage != (pages > 0) {
						t.Errorf("backward page %d: hasNextPage %v", pages, c.PageInfo.HasNextPage)
					}
					var got []string
					for _, ed := range c.Edges {
						got = append(got, ed.Node.UUID)
					}
					backward = append(got, backward...)
					if !c.PageInfo.HasPreviousPage {
						break
					}
					before = *c.PageInfo.StartCursor
				}
				if !slices.Equal(backward, want) {
					t.Fatalf("backward walk: %d bases, order differs (first difference at %d)", len(backward), firstDiff(backward, want))
				}
			})
		}
	}
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func TestCursorsSurviveNewQueriesAndAreValidated(t *testing.T) {
	e := newTestEnv(t)
	body, bases := genBases(300)
	e.fake.SetToken(tokA, body)
	order := map[string]any{"field": "UPDATED_AT", "direction": "DESC"}
	filter := map[string]any{"nameContains": "ärger"}
	p1 := e.page(t, map[string]any{"order": order, "filter": filter, "first": 5})
	p2 := e.page(t, map[string]any{"order": order, "filter": filter, "first": 5, "after": *p1.PageInfo.EndCursor})
	// The same arguments in a new request give the same page.
	p2again := e.page(t, map[string]any{"order": order, "filter": filter, "first": 5, "after": p1.Edges[4].Cursor})
	if len(p2.Edges) != 5 || p2.Edges[0].Node.UUID == p1.Edges[4].Node.UUID {
		t.Fatalf("second page overlaps the first: %+v", p2.Edges)
	}
	for i := range p2.Edges {
		if p2.Edges[i].Node.UUID != p2again.Edges[i].Node.UUID || p2.Edges[i].Cursor != p2again.Edges[i].Cursor {
			t.Fatalf("cursor did not survive a new query")
		}
	}
	// Going back from the second page's start gives the first page.
	back := e.page(t, map[string]any{"order": order, "filter": filter, "last": 5, "before": *p2.PageInfo.StartCursor})
	for i := range back.Edges {
		if back.Edges[i].Node.UUID != p1.Edges[i].Node.UUID {
			t.Fatalf("last/before did not return the first page")
		}
	}
	// Without first or last, the documented default page size applies.
	if all := e.page(t, map[string]any{}); len(all.Edges) != 100 || all.TotalCount != len(bases) || !all.PageInfo.HasNextPage {
		t.Errorf("default page: %d edges of %d", len(all.Edges), all.TotalCount)
	}
	if zero := e.page(t, map[string]any{"first": 0}); len(zero.Edges) != 0 || zero.TotalCount != len(bases) || zero.PageInfo.EndCursor != nil {
		t.Errorf("first: 0 must give only the count, got %+v", zero)
	}

	e.fake.ResetCounts()
	bad := []map[string]any{
		{"first": 1001},
		{"first": -1},
		{"last": 1001},
		{"after": "not a cursor"},
		{"before": "eyJ2IjoxfQ"},
		{"first": 5, "after": *p1.PageInfo.EndCursor}, // from UPDATED_AT DESC, used with the default NAME ASC
		{"order": map[string]any{"field": "UPDATED_AT", "direction": "ASC"}, "after": *p1.PageInfo.EndCursor},
	}
	for _, vars := range bad {
		status, resp := e.post(t, "Token "+tokA, pageQuery, vars)
		if status != 200 || len(resp.Errors) != 1 || code(resp.Errors[0]) != "BAD_USER_INPUT" {
			t.Errorf("%v: status %d errors %+v, want BAD_USER_INPUT", vars, status, resp.Errors)
		}
	}
}

func TestDTablesTotalCountPerFilter(t *testing.T) {
	e := newTestEnv(t)
	body, bases := genBases(2500)
	e.fake.SetToken(tokA, body)
	count := func(keep func(genBase) bool) int {
		n := 0
		for _, b := range bases {
			if keep(b) {
				n++
			}
		}
		return n
	}
	cut := time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name   string
		filter map[string]any
		want   int
	}{
		{"none", map[string]any{}, len(bases)},
		// Composed, decomposed, upper and lower case Ärger all match.
		{"ärger", map[string]any{"nameContains": "ärger"}, count(func(b genBase) bool {
			return strings.HasPrefix(b.Name, "Ärger") || strings.HasPrefix(b.Name, "ärger") || strings.HasPrefix(b.Name, "A\u0308rger")
		})},
		{"ÄRGER decomposed", map[string]any{"nameContains": "A\u0308RGER"}, count(func(b genBase) bool {
			return strings.Contains(strings.ToLower(b.Name), "rger")
		})},
		{"strasse", map[string]any{"nameContains": "strasse"}, count(func(b genBase) bool {
			return strings.HasPrefix(b.Name, "Straße") || strings.HasPrefix(b.Name, "STRASSE")
		})},
		{"日本語", map[string]any{"nameContains": "日本語"}, count(func(b genBase) bool { return strings.HasPrefix(b.Name, "日本語") })},
		{"quotes", map[string]any{"nameContains": `said "HI"`}, count(func(b genBase) bool { return strings.HasPrefix(b.Name, "He said") })},
		{"html", map[string]any{"nameContains": "<B>bold</b> &"}, count(func(b genBase) bool { return strings.HasPrefix(b.Name, "<b>") })},
		{"starred", map[string]any{"starred": true}, count(func(b genBase) bool { return b.Starred })},
		{"not starred", map[string]any{"starred": false}, count(func(b genBase) bool { return !b.Starred })},
		{"workspace 11", map[string]any{"workspaceId": "11"}, count(func(b genBase) bool { return b.WorkspaceID == "11" })},
		{"workspace starred", map[string]any{"workspaceId": "starred"}, count(func(b genBase) bool { return b.Starred })},
		{"type SHARED", map[string]any{"workspaceType": "SHARED"}, count(func(b genBase) bool { return b.Shared })},
		{"type GROUP", map[string]any{"workspaceType": "GROUP"}, count(func(b genBase) bool { return !b.Shared && b.WorkspaceID != "10" })},
		{"color any case", map[string]any{"color": "#4CAF50"}, count(func(b genBase) bool { return b.Color == "#4caf50" })},
		// The same instant written with two offsets is the same bound.
		{"createdAfter +01:00", map[string]any{"createdAfter": "2024-02-01T01:00:00+01:00"}, count(func(b genBase) bool { return b.Created != nil && !b.Created.Before(cut) })},
		{"createdAfter Z", map[string]any{"createdAfter": "2024-02-01T00:00:00Z"}, count(func(b genBase) bool { return b.Created != nil && !b.Created.Before(cut) })},
		{"createdBefore -05:00", map[string]any{"createdBefore": "2024-01-31T19:00:00-05:00"}, count(func(b genBase) bool { return b.Created != nil && b.Created.Before(cut) })},
		{"updated window", map[string]any{"updatedAfter": "2024-01-01T10:00:00+08:00", "updatedBefore": "2024-01-02T00:00:00Z"}, count(func(b genBase) bool {
			return b.Updated != nil && !b.Updated.Before(time.Date(2024, 1, 1, 2, 0, 0, 0, time.UTC)) && b.Updated.Before(time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC))
		})},
		{"combined", map[string]any{"nameContains": "e", "starred": true, "workspaceType": "PERSONAL"}, count(func(b genBase) bool {
			return b.Starred && b.WorkspaceID == "10" && !b.Shared && strings.Contains(strings.ToLower(b.Name), "e")
		})},
	}
	for _, c := range cases {
		got := e.page(t, map[string]any{"filter": c.filter, "first": 0})
		if got.TotalCount != c.want || c.want == 0 && c.name != "none" {
			t.Errorf("%s: totalCount %d, want %d (and want > 0)", c.name, got.TotalCount, c.want)
		}
	}
}

func TestStarredBasesListedTwiceAppearOnce(t *testing.T) {
	e := newTestEnv(t)
	body, bases := genBases(200)
	e.fake.SetToken(tokA, body)
	var data struct {
		Dtables struct {
			TotalCount int
			Nodes      []struct {
				UUID       string
				Starred    bool
				Workspace  *struct{ ID string }
				Permission *string
			}
		}
		StarredDTables []struct{ UUID string }
	}
	e.mustData(t, "Token "+tokA, `{ dtables(first: 1000) { totalCount nodes { uuid starred workspace { id: seatableId } permission } }
		starredDTables { uuid } }`, &data)
	if data.Dtables.TotalCount != len(bases) || len(data.Dtables.Nodes) != len(bases) {
		t.Fatalf("got %d bases (total %d), want %d", len(data.Dtables.Nodes), data.Dtables.TotalCount, len(bases))
	}
	seen := map[string]bool{}
	for _, n := range data.Dtables.Nodes {
		if seen[n.UUID] {
			t.Fatalf("base %s listed twice", n.UUID)
		}
		seen[n.UUID] = true
	}
	wantStarred := 0
	byUUID := map[string]genBase{}
	for _, b := range bases {
		byUUID[b.UUID] = b
		if b.Starred {
			wantStarred++
		}
	}
	for _, n := range data.Dtables.Nodes {
		b := byUUID[n.UUID]
		if n.Starred != b.Starred {
			t.Errorf("%s: starred %v, want %v", n.UUID, n.Starred, b.Starred)
		}
		// The home entry is preferred: its workspace resolves.
		if !b.Shared && (n.Workspace == nil || n.Workspace.ID != b.WorkspaceID) {
			t.Errorf("%s: workspace %+v, want %s", n.UUID, n.Workspace, b.WorkspaceID)
		}
		// A shared base starred too keeps its share details.
		if b.Shared && deref(n.Permission) != "rw" {
			t.Errorf("shared base %s lost its permission", n.UUID)
		}
	}
	if len(data.StarredDTables) != wantStarred {
		t.Errorf("starredDTables: %d, want %d", len(data.StarredDTables), wantStarred)
	}
}

func TestWorkspaceFilterAndTablesArguments(t *testing.T) {
	e := newTestEnv(t)
	body, _ := genBases(100)
	e.fake.SetToken(tokA, body)
	var data struct {
		Groups  []struct{ ID string }
		Unicode []struct{ ID string }
		Ws      struct {
			Tables []struct {
				Name      string
				CreatedAt *string
			}
		}
	}
	e.mustData(t, "Token "+tokA, `{
		groups: workspaces(filter: {type: GROUP}) { id: seatableId }
		unicode: workspaces(filter: {nameContains: "ÄRGER"}) { id: seatableId }
		ws: workspace(id: "10") { tables(filter: {nameContains: "e"}, orderBy: {field: CREATED_AT, direction: DESC}) { name createdAt } }
	}`, &data)
	if len(data.Groups) != 2 || data.Groups[0].ID != "11" || data.Groups[1].ID != "12" {
		t.Errorf("type filter: %+v", data.Groups)
	}
	if len(data.Unicode) != 1 || data.Unicode[0].ID != "11" {
		t.Errorf("nameContains filter: %+v", data.Unicode)
	}
	tables := data.Ws.Tables
	if len(tables) < 5 {
		t.Fatalf("tables(filter) returned %d", len(tables))
	}
	for i, tb := range tables {
		if !strings.Contains(strings.ToLower(tb.Name), "e") {
			t.Errorf("%q does not match the filter", tb.Name)
		}
		if i > 0 && tables[i-1].CreatedAt != nil && tb.CreatedAt != nil && *tables[i-1].CreatedAt < *tb.CreatedAt {
			t.Errorf("not descending at %d", i)
		}
		if i > 0 && tables[i-1].CreatedAt == nil && tb.CreatedAt != nil {
			t.Errorf("null createdAt before a date at %d", i)
		}
	}
}

func TestBasePageLookupsAndCurrentGenerationTypes(t *testing.T) {
	e := newTestEnv(t)
	e.fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Demo))
	var data struct {
		ByName *struct {
			UUID   string
			Folder *struct{ ID, Name string }
		}
		Missing    *struct{ UUID string }
		Shared     *struct{ Name string }
		Workspaces []struct {
			ID      string
			Folders []struct {
				ID, Name string
				Items    []struct{ ItemType, ItemID string }
				Tables   []struct{ Name string }
			}
			SharedViews []struct {
				ID, DtableName                       string
				SharedName, FromUserName, Permission *string
				ShareType                            *string
			}
			Tables []struct {
				Name                               string
				Permission, FromUser, FromUserName *string
				ShareID, ShareType                 *string
			}
		}
	}
	e.mustData(t, "Token "+tokA, `{
		byName: dtableByName(workspaceId: "1", name: "he") { uuid folder { id name } }
		missing: dtableByName(workspaceId: "1", name: "HE") { uuid }
		shared: dtableByName(workspaceId: "3", name: "Team budget") { name }
		workspaces { id
			folders { id name items { itemType itemId } tables { name } }
			sharedViews { id dtableName sharedName fromUserName permission shareType }
			tables { name permission fromUser fromUserName shareId shareType } } }`, &data)
	if data.ByName == nil || data.ByName.UUID != "951b925d-0063-4fd2-96a8-7db3694a286f" || data.ByName.Folder == nil || data.ByName.Folder.Name != "Drafts" {
		t.Errorf("dtableByName: %+v", data.ByName)
	}
	if data.Missing != nil {
		t.Errorf("names are exact: got %+v", data.Missing)
	}
	if data.Shared == nil {
		t.Errorf("a base shared from an invisible workspace must be found by its workspace id")
	}
	shared, personal := data.Workspaces[1], data.Workspaces[2]
	if len(shared.SharedViews) != 1 || deref(shared.SharedViews[0].SharedName) != "Q3 plan" || deref(shared.SharedViews[0].ShareType) != "view-share" || shared.SharedViews[0].DtableName != "Roadmap" {
		t.Errorf("sharedViews: %+v", shared.SharedViews)
	}
	if tb := shared.Tables[0]; deref(tb.Permission) != "rw" || deref(tb.FromUserName) != "Bob" || deref(tb.ShareID) != "7" || deref(tb.ShareType) != "dtable-share" {
		t.Errorf("share details: %+v", tb)
	}
	if f := personal.Folders; len(f) != 1 || len(f[0].Items) != 1 || f[0].Items[0].ItemType != "dtable" || len(f[0].Tables) != 1 || f[0].Tables[0].Name != "he" {
		t.Errorf("folders: %+v", f)
	}
}

func TestCurrentFixtureGroupShares(t *testing.T) {
	e := newTestEnv(t)
	e.fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Current))
	var data struct {
		Workspaces []struct {
			ID                string
			ShareFolders      []struct{ ID, Name string }
			GroupSharedTables []struct {
				Name                      string
				Permission, FromGroupName *string
			}
			GroupSharedViews []struct {
				ViewShareID, SharedName *string
				Dtable                  struct{ Name string }
			}
		}
	}
	e.mustData(t, "Token "+tokA, `{ workspaces { id shareFolders { id name }
		groupSharedTables { name permission fromGroupName } groupSharedViews { viewShareId sharedName dtable { name } } } }`, &data)
	var gst, gsv, sf int
	for _, ws := range data.Workspaces {
		gst += len(ws.GroupSharedTables)
		gsv += len(ws.GroupSharedViews)
		sf += len(ws.ShareFolders)
		for _, v := range ws.GroupSharedViews {
			if v.ViewShareID == nil || v.Dtable.Name == "" {
				t.Errorf("group-shared view without viewShareId: %+v", v)
			}
		}
	}
	raw := string(fakeseatable.Fixture(fakeseatable.Current))
	if want := strings.Count(raw, `"dtable_share_id"`); gst != want || want == 0 {
		t.Errorf("groupSharedTables: %d, fixture has %d", gst, want)
	}
	if want := strings.Count(raw, `"view_share_id"`); gsv != want {
		t.Errorf("groupSharedViews: %d, fixture has %d", gsv, want)
	}
	if strings.Contains(raw, `"share_folders": [{`) && sf == 0 {
		t.Errorf("shareFolders dropped")
	}
}

func TestNewQueriesMakeOneUpstreamCall(t *testing.T) {
	e := newTestEnv(t)
	body, _ := genBases(500)
	e.fake.SetToken(tokA, body)
	e.fake.ResetCounts()
	var data map[string]any
	e.mustData(t, "Token "+tokA, `{
		a: dtables(first: 3, filter: {nameContains: "ä"}) { totalCount nodes { name folder { name } workspace { name tables(orderBy: {field: NAME}) { name } } } }
		b: dtables(last: 2, orderBy: {field: UPDATED_AT, direction: DESC}) { edges { cursor node { uuid } } }
		c: dtableByName(workspaceId: "10", name: "Ärger 0") { uuid folder { id } }
		d: starredDTables { uuid workspace { id } }
		e: workspaces(filter: {type: GROUP}) { id folders { tables { name } } groupSharedTables { name } }
		f: workspace(id: "11") { tables(filter: {starred: true}) { name } }
	}`, &data)
	if n := e.fake.Calls(); n != 1 {
		t.Errorf("%d upstream calls, want 1", n)
	}
}

// A dtables page costs its children times its page size, so a large page of
// deep selections is refused before SeaTable is called, a small one is not.
func TestDTablesComplexityScalesWithPageSize(t *testing.T) {
	e := newTestEnv(t)
	e.fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Current))
	query := func(first int) string {
		return fmt.Sprintf(`{ dtables(first: %d) { edges { node { workspace { tables { workspace { tables { name } } } } } } } }`, first)
	}
	_, small := e.post(t, "Token "+tokA, query(10), nil)
	if len(small.Errors) != 0 {
		t.Fatalf("first: 10 refused: %+v", small.Errors)
	}
	e.fake.ResetCounts()
	_, large := e.post(t, "Token "+tokA, query(1000), nil)
	if len(large.Errors) != 1 || code(large.Errors[0]) != "GRAPHQL_VALIDATION_FAILED" {
		t.Fatalf("first: 1000 = %+v, want one GRAPHQL_VALIDATION_FAILED", large.Errors)
	}
	if n := e.fake.Calls(); n != 0 {
		t.Errorf("a refused query made %d upstream calls", n)
	}
}
