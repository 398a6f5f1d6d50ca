package graph

import (
	"context"
	"testing"

	"github.com/vektah/gqlparser/v2"
)

// Queries that read inside a base are not the fast path's or the replay's:
// both know only the workspace list, and a base's contents are read live.
func TestBaseQueriesTakeTheGeneralPath(t *testing.T) {
	srv := &fastSchema{plans: newPlanCache(1 << 30)}
	for _, c := range []struct {
		query            string
		fast, replayable bool
	}{
		{`{ workspaces { id tables { name } } }`, true, true},
		{`{ dtable(uuid: "e3b0c442-98fc-4c14-9afb-f4c8996fb924") { name } }`, true, true},
		{`{ workspaces { tables { tables { name } } } }`, false, false},
		{`{ dtable(uuid: "e3b0c442-98fc-4c14-9afb-f4c8996fb924") { table(name: "T") { rows { nodes { values } } } } }`, false, false},
		{`{ workspace(id: "1") { tables { ...B } } } fragment B on DTable { name tables { id } }`, false, false},
		{`{ dtable(uuid: "e3b0c442-98fc-4c14-9afb-f4c8996fb924") { ... on DTable { table(name: "T") { id } } } }`, false, false},
	} {
		doc, errs := gqlparser.LoadQuery(parsedSchema, c.query)
		if errs != nil {
			t.Fatalf("%s: %v", c.query, errs)
		}
		opCtx := newOpContext(doc)
		if fast := srv.plans.plan(context.Background(), srv, opCtx) != nil; fast != c.fast {
			t.Errorf("%s: fast path %v, want %v", c.query, fast, c.fast)
		}
		if r := readsOf(opCtx.Operation).replayable; r != c.replayable {
			t.Errorf("%s: replayable %v, want %v", c.query, r, c.replayable)
		}
	}
}

func TestRowCursors(t *testing.T) {
	const u = "e3b0c442-98fc-4c14-9afb-f4c8996fb924"
	c := rowCursor(u, "0000", "vIn1", 41)
	if n, err := rowOffset(c, u, "0000", "vIn1"); err != nil || n != 41 {
		t.Fatalf("round trip: %d %v", n, err)
	}
	for _, other := range [][3]string{{u, "0000", ""}, {u, "tK5a", "vIn1"}, {"f3b0c442-98fc-4c14-9afb-f4c8996fb924", "0000", "vIn1"}} {
		if _, err := rowOffset(c, other[0], other[1], other[2]); err == nil {
			t.Errorf("cursor accepted for %v", other)
		}
	}
	for _, bad := range []string{"", "x", globalID(kindTable, u+":0000"), idEncoding.EncodeToString([]byte("rows:" + u + ":0000:vIn1:-1")), idEncoding.EncodeToString([]byte("rows:" + u + ":0000:vIn1:01"))} {
		if _, err := rowOffset(bad, u, "0000", "vIn1"); err == nil {
			t.Errorf("bad cursor %q accepted", bad)
		}
	}
}

func TestBaseGlobalIDs(t *testing.T) {
	const u = "e3b0c442-98fc-4c14-9afb-f4c8996fb924"
	for _, c := range []struct {
		key               string
		uuid, table, rest string
		ok                bool
	}{
		{u + ":0000", u, "0000", "", true},
		{u + ":0000:vIn1", u, "0000", "vIn1", true},
		{u + ":0000:row:with:colons", u, "0000", "row:with:colons", true},
		{"E3B0C442-98FC-4C14-9AFB-F4C8996FB924:0000", "", "", "", false}, // ids are made lower case
		{u, "", "", "", false},
		{u + ":", "", "", "", false},
	} {
		uuid, table, rest, ok := splitBaseKey(c.key)
		if ok != c.ok || ok && (uuid != c.uuid || table != c.table || rest != c.rest) {
			t.Errorf("splitBaseKey(%q) = %q %q %q %v", c.key, uuid, table, rest, ok)
		}
	}
	// A Table id with a row part, or a Row id without one, is not ours.
	ctx := context.Background()
	for _, id := range []string{globalID(kindTable, u+":0000:x"), globalID(kindRow, u+":0000"), globalID(kindView, "nope")} {
		if _, err := resolveNode(ctx, id); err == nil {
			t.Errorf("%s accepted", id)
		}
	}
}
