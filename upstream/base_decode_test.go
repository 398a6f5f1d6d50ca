package upstream_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seatable-graphql/seatable-graphql/upstream"
)

// goldenRow shows Values as the exact bytes the decoder produced, so the
// golden file pins that cells pass through verbatim.
type goldenRow struct {
	ID       string
	Created  *time.Time
	Modified *time.Time
	Values   string
}

func goldenRows(rows []upstream.Row) []goldenRow {
	out := make([]goldenRow, len(rows))
	for i, r := range rows {
		out[i] = goldenRow{r.ID, r.Created, r.Modified, string(r.Values)}
	}
	return out
}

// goldenColumn shows Data as its bytes.
type goldenTable struct {
	ID, Name string
	Columns  []struct{ Key, Name, Type, Data string }
	Views    []upstream.View
}

func goldenMetadata(md *upstream.BaseMetadata) any {
	tables := make([]goldenTable, len(md.Tables))
	for i, t := range md.Tables {
		g := goldenTable{ID: t.ID, Name: t.Name, Views: t.Views}
		for _, c := range t.Columns {
			g.Columns = append(g.Columns, struct{ Key, Name, Type, Data string }{c.Key, c.Name, c.Type, string(c.Data)})
		}
		tables[i] = g
	}
	return map[string]any{"Version": md.Version, "Tables": tables}
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The base server's answers as the SDK sources and the developer manual
// show them, with loose types and members the decoder does not know.
func TestDecodeBaseFixtures(t *testing.T) {
	md, err := upstream.DecodeMetadata(readTestdata(t, "base-metadata-current.json"))
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "base-metadata-current", goldenMetadata(md))

	rows, err := upstream.DecodeRows(readTestdata(t, "base-rows-current.json"))
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "base-rows-current", goldenRows(rows))

	row, ok, err := upstream.DecodeOneRow(readTestdata(t, "base-row-current.json"))
	if err != nil || !ok {
		t.Fatalf("one row: %v %v", ok, err)
	}
	checkGolden(t, "base-row-current", goldenRows([]upstream.Row{row}))
}

// The fake's content for the demo base "hello", decoded: the golden file
// pins what `go run .` shows.
func TestDecodeDemoBase(t *testing.T) {
	bh := newBaseHarness(t)
	ctx := context.Background()
	md := mustMetadata(t, ctx, bh.bases, tokA, hello)
	checkGolden(t, "base-demo-metadata", goldenMetadata(md))
	rows, err := bh.bases.Rows(ctx, tokA, hello, upstream.RowsQuery{Table: "Projects", View: "Big budgets", Limit: 6})
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "base-demo-rows", goldenRows(rows))
}

func TestDecodeBaseOdd(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		ok         bool
	}{
		{"metadata", `{"metadata":{"tables":[]}}`, true},
		{"no metadata", `{"tables":[]}`, false},
		{"metadata null", `{"metadata":null}`, false},
		{"metadata is a list", `{"metadata":[]}`, false},
		{"not json", `<html>`, false},
		{"tables is a string", `{"metadata":{"tables":"x","version":"7"}}`, true},
	} {
		md, err := upstream.DecodeMetadata([]byte(tc.body))
		if (err == nil) != tc.ok || (err == nil) != (md != nil) {
			t.Errorf("metadata %s: %v, %v", tc.name, md, err)
		}
	}
	for _, tc := range []struct {
		name, body string
		n          int
		ok         bool
	}{
		{"empty", `{"rows":[]}`, 0, true},
		{"no rows", `{"x":[]}`, 0, false},
		{"rows null", `{"rows":null}`, 0, false},
		{"rows is an object", `{"rows":{}}`, 0, false},
		{"stray elements", `{"rows":[1,"x",null,[],{"_id":"a"}]}`, 1, true},
		{"not json", `{"rows":[`, 0, false},
	} {
		rows, err := upstream.DecodeRows([]byte(tc.body))
		if (err == nil) != tc.ok || len(rows) != tc.n {
			t.Errorf("rows %s: %d rows, %v", tc.name, len(rows), err)
		}
	}
	// A row keeps cells byte for byte (whitespace aside) and in order.
	rows, err := upstream.DecodeRows([]byte(`{"rows":[{"b":1.50,"_id":"r","a":1E400,"c":"\u00e9\n","d":{"y":1,"x":2}}]}`))
	if err != nil || len(rows) != 1 {
		t.Fatal(err)
	}
	if got, want := string(rows[0].Values), `{"b":1.50,"a":1E400,"c":"\u00e9\n","d":{"y":1,"x":2}}`; got != want {
		t.Fatalf("values\n got %s\nwant %s", got, want)
	}
	// {"row": {...}} as some servers wrap one row; {} is no row.
	if r, ok, err := upstream.DecodeOneRow([]byte(`{"row":{"_id":"x","A":1}}`)); !ok || err != nil || r.ID != "x" {
		t.Fatalf("wrapped row: %+v %v %v", r, ok, err)
	}
	if _, ok, _ := upstream.DecodeOneRow([]byte(`{}`)); ok {
		t.Fatal("an empty object decoded as a row")
	}
	var m map[string]any
	if err := json.Unmarshal(rows[0].Values, &m); err != nil && !strings.Contains(err.Error(), "1E400") {
		// 1E400 overflows float64 for encoding/json: the bytes are still
		// valid JSON, which is what the client gets.
		if !json.Valid(rows[0].Values) {
			t.Fatal("values are not valid JSON")
		}
	}
	if !bytes.Contains(rows[0].Values, []byte("1E400")) {
		t.Fatal("number re-encoded")
	}
}

func TestRateLimitReset(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	for v, want := range map[string]time.Duration{
		"":             0,
		"x":            0,
		"-5":           0,
		"30":           30 * time.Second, // seconds from now, as some proxies send
		"1800000042":   42 * time.Second, // unix time
		"1799999999":   0,                // past
		"1900000000":   24 * time.Hour,   // capped
		"999999999":    24 * time.Hour,   // a huge delay, capped
		"1800000000":   0,                // now
		" 1800000001 ": time.Second,
	} {
		if got := upstream.RateLimitReset(v, now); got != want {
			t.Errorf("RateLimitReset(%q) = %v, want %v", v, got, want)
		}
	}
}
