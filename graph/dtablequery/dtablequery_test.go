package dtablequery

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/seatable-graphql/seatable-graphql/internal/apperr"
	"github.com/seatable-graphql/seatable-graphql/upstream"
)

func TestFoldMatchesAcrossCaseAndNormalisation(t *testing.T) {
	cases := []struct {
		name, needle string
		want         bool
	}{
		{"Ärger im Büro", "ärger", true},
		{"ÄRGER", "ärger", true},
		{"A\u0308rger", "ärger", true}, // decomposed Ä
		{"Ärger", "a\u0308r", true},
		{"Straße", "STRASSE", true},
		{"STRASSE", "straße", true},
		{"日本語のデータ", "日本語", true},
		{"Arger", "ärger", false},
		{`He said "hi" <b>`, `"HI" <B>`, true},
		{"ΣΊΣΥΦΟΣ", "σίσυφος", true}, // final sigma folds alike
	}
	for _, c := range cases {
		if got := strings.Contains(Fold(c.name), Fold(c.needle)); got != c.want {
			t.Errorf("Contains(Fold(%q), Fold(%q)) = %v, want %v", c.name, c.needle, got, c.want)
		}
	}
}

func base(i int, name string, created *time.Time) *upstream.DTable {
	return &upstream.DTable{UUID: fmt.Sprintf("%08x-0000-4000-8000-000000000000", i), Name: name, CreatedAt: created}
}

func at(s string) *time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	t = t.UTC()
	return &t
}

func names(ds []*upstream.DTable) string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Name)
	}
	return strings.Join(out, ",")
}

func TestOrderNullsLastBothWaysAndUUIDTiebreak(t *testing.T) {
	ds := []*upstream.DTable{
		base(3, "c", nil),
		base(2, "b", at("2026-01-01T10:00:00+01:00")),
		base(1, "a", at("2026-01-01T09:00:00Z")), // same instant as b
		base(4, "d", at("2025-01-01T00:00:00Z")),
		base(5, "e", nil),
	}
	if got := names(Sort(ds, Order{Field: ByCreatedAt})); got != "d,a,b,c,e" {
		t.Errorf("CREATED_AT ASC = %s", got)
	}
	if got := names(Sort(ds, Order{Field: ByCreatedAt, Desc: true})); got != "b,a,d,e,c" {
		t.Errorf("CREATED_AT DESC = %s", got)
	}
}

func TestNameOrderIsCollation(t *testing.T) {
	ds := []*upstream.DTable{base(1, "zeta", nil), base(2, "Ärger", nil), base(3, "apple", nil), base(4, "Banana", nil), base(5, "Arger", nil)}
	if got := names(Sort(ds, Order{Field: ByName})); got != "apple,Arger,Ärger,Banana,zeta" {
		t.Errorf("NAME ASC = %s", got)
	}
}

func TestPaginateRejectsBadArguments(t *testing.T) {
	ds := []*upstream.DTable{base(1, "a", nil), base(2, "b", nil)}
	p, err := Paginate(ds, Order{Field: ByName}, Args{})
	if err != nil || len(p.Nodes) != 2 {
		t.Fatalf("default page: %v %v", p, err)
	}
	otherOrder, err := Paginate(ds, Order{Field: ByCreatedAt}, Args{})
	if err != nil {
		t.Fatal(err)
	}
	neg, big, ok := -1, MaxPageSize+1, MaxPageSize
	plain := func(s string) *string { return &s }
	cases := []struct {
		name string
		args Args
	}{
		{"negative first", Args{First: &neg}},
		{"negative last", Args{Last: &neg}},
		{"first above max", Args{First: &big}},
		{"last above max", Args{Last: &big}},
		{"not base64", Args{First: &ok, After: plain("!!!")}},
		{"base64 of junk", Args{First: &ok, After: plain(base64.RawURLEncoding.EncodeToString([]byte("junk")))}},
		{"wrong version", Args{First: &ok, After: plain(base64.RawURLEncoding.EncodeToString([]byte(`{"v":2,"o":"NAME:ASC","n":"a","u":"00000001-0000-4000-8000-000000000000"}`)))}},
		{"bad uuid", Args{First: &ok, After: plain(base64.RawURLEncoding.EncodeToString([]byte(`{"v":1,"o":"NAME:ASC","n":"a","u":"x"}`)))}},
		{"other orderBy", Args{First: &ok, Before: &otherOrder.Cursors[0]}},
	}
	for _, c := range cases {
		if _, err := Paginate(ds, Order{Field: ByName}, c.args); apperr.CodeOf(err) != apperr.BadUserInput {
			t.Errorf("%s: err %v, want BAD_USER_INPUT", c.name, err)
		}
	}
}

func TestCursorOfVanishedBaseKeepsPosition(t *testing.T) {
	ds := []*upstream.DTable{base(1, "a", nil), base(2, "b", nil), base(3, "c", nil)}
	one := 1
	p, err := Paginate(ds, Order{Field: ByName}, Args{First: &one, After: nil})
	if err != nil {
		t.Fatal(err)
	}
	p2, _ := Paginate(ds, Order{Field: ByName}, Args{First: &one, After: &p.Cursors[0]})
	// "b" is deleted; its cursor still points between a and c.
	p3, err := Paginate([]*upstream.DTable{ds[0], ds[2]}, Order{Field: ByName}, Args{First: &one, After: &p2.Cursors[0]})
	if err != nil || names(p3.Nodes) != "c" || !p3.HasPreviousPage || p3.HasNextPage {
		t.Errorf("after vanished cursor: %+v %v", p3, err)
	}
}

// TestEmptyCursorIsNoCursor: genqlient and other Go clients send an unset
// optional String as "", which graphql-relay-js reads as no cursor.
func TestEmptyCursorIsNoCursor(t *testing.T) {
	ds := []*upstream.DTable{base(1, "a", nil), base(2, "b", nil), base(3, "c", nil)}
	two, empty := 2, ""
	for _, c := range []struct {
		args Args
		want string
	}{
		{Args{First: &two, After: &empty}, "a,b"},
		{Args{Last: &two, Before: &empty}, "b,c"},
		{Args{First: &two, After: &empty, Before: &empty}, "a,b"},
	} {
		p, err := Paginate(ds, Order{Field: ByName}, c.args)
		if err != nil || names(p.Nodes) != c.want {
			t.Errorf("%+v: %v %v, want %s", c.args, p, err, c.want)
		}
	}
}
