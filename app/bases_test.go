package app

// Inside a base, end to end (issue 21): through the whole handler and the
// fake SeaTable over HTTP, counting every SeaTable call by kind.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

// seatableCalls are the calls the fake received, by kind.
type seatableCalls struct{ List, Exchange, Metadata, Rows, Row int64 }

// calls counts what reached the fake since the last reset; every call that
// is not a base call is a list read (these tests make no writes).
func (e *testEnv) calls() seatableCalls {
	c := seatableCalls{
		Exchange: e.fake.BaseCalls(fakeseatable.KindExchange), Metadata: e.fake.BaseCalls(fakeseatable.KindMetadata),
		Rows: e.fake.BaseCalls(fakeseatable.KindRows), Row: e.fake.BaseCalls(fakeseatable.KindRow),
	}
	c.List = e.fake.Calls() - c.Exchange - c.Metadata - c.Rows - c.Row
	return c
}

func (e *testEnv) resetCalls() {
	e.fake.ResetCounts()
	e.fake.ResetBaseCalls()
}

// wantCalls fails t unless exactly want reached the fake since the last
// reset; then it resets.
func (e *testEnv) wantCalls(t *testing.T, what string, want seatableCalls) {
	t.Helper()
	if got := e.calls(); got != want {
		t.Errorf("%s: SeaTable calls %+v, want %+v", what, got, want)
	}
	e.resetCalls()
}

// basesEnv serves tokA a generated account of workspaces*per bases.
func basesEnv(t *testing.T, workspaces, per int, opts ...func(*envOptions)) (*testEnv, []string) {
	t.Helper()
	e := newTestEnv(t, opts...)
	e.fake.SetToken(tokA, fakeseatable.Generate(workspaces, per))
	var data struct {
		Dtables struct{ Nodes []struct{ UUID string } }
	}
	e.mustData(t, "Token "+tokA, `{ dtables(first: 1000, orderBy: {field: NAME}) { nodes { uuid } } }`, &data)
	var uuids []string
	for _, n := range data.Dtables.Nodes {
		uuids = append(uuids, n.UUID)
	}
	if len(uuids) < workspaces*per {
		t.Fatalf("fixture lists %d bases, want %d", len(uuids), workspaces*per)
	}
	e.resetCalls()
	return e, uuids
}

type baseTablesData struct {
	Name   string
	Tables []struct {
		ID, SeatableID, Name string
		Columns              []struct {
			Key, Name, Type string
			Data            json.RawMessage
		}
		Views []struct{ ID, SeatableID, Name string }
	}
}

func TestBasesTablesOfSeveralBasesColdAndWarm(t *testing.T) {
	e, uuids := basesEnv(t, 2, 5)
	q := `{ workspaces { tables { uuid name tables { id seatableId name columns { key name type data } views { id name } } } } }`
	var data struct {
		Workspaces []struct{ Tables []baseTablesData }
	}
	e.mustData(t, "Token "+tokA, q, &data)
	names := map[string]bool{} // a starred base is listed twice
	for _, ws := range data.Workspaces {
		for _, d := range ws.Tables {
			names[d.Name] = true
			if len(d.Tables) != 3 || d.Tables[0].Name != "Projects" || len(d.Tables[0].Columns) < 8 || len(d.Tables[0].Views) != 3 {
				t.Fatalf("base %s: tables %+v", d.Name, d.Tables)
			}
		}
	}
	if len(names) != len(uuids) {
		t.Fatalf("%d bases answered, want %d", len(names), len(uuids))
	}
	e.wantCalls(t, "cold", seatableCalls{List: 1, Exchange: 10, Metadata: 10})
	e.mustData(t, "Token "+tokA, q, &data)
	e.wantCalls(t, "warm (base tokens reused)", seatableCalls{List: 1, Metadata: 10})
}

func TestBasesOneBaseReadOnceWhateverPath(t *testing.T) {
	e, uuids := basesEnv(t, 1, 3)
	u := uuids[1]
	var ids struct {
		Dtable struct {
			ID     string
			Tables []struct{ ID string }
		}
	}
	e.mustData(t, "Token "+tokA, fmt.Sprintf(`{ dtable(uuid: %q) { id tables { id } } }`, u), &ids)
	e.resetCalls()
	q := fmt.Sprintf(`{
		a: dtable(uuid: %[1]q) { tables { name } }
		b: dtable(uuid: %[1]q) { t: tables { id } p: table(name: "Projects") { id } }
		c: dtable(uuid: %[1]q) { table(name: "Tasks") { name columns { name } } }
		workspaces { tables { uuid tables { seatableId } } }
		n: node(id: %[2]q) { ... on DTable { tables { name } } }
		t: node(id: %[3]q) { ... on Table { name views { name } } }
	}`, u, ids.Dtable.ID, ids.Dtable.Tables[0].ID)
	var data map[string]json.RawMessage
	e.mustData(t, "Token "+tokA, q, &data)
	if !strings.Contains(string(data["t"]), `"name":"Projects"`) {
		t.Errorf("node(Table id) = %s", data["t"])
	}
	// The three bases of the list once each: the aliased one among them.
	// (The two other bases' tokens are new.)
	e.wantCalls(t, "aliases, workspaces, dtable and node", seatableCalls{List: 1, Exchange: 2, Metadata: 3})
}

func TestBasesPagingRowsUntilTheEnd(t *testing.T) {
	e, uuids := basesEnv(t, 1, 1)
	q := `query($u: ID!, $after: String) { dtable(uuid: $u) { table(name: "Projects") {
		rows(first: 10, after: $after) { edges { cursor node { id seatableId values createdAt updatedAt cell(column: "Name") } }
			pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } } }`
	var after any
	seen := map[string]bool{}
	pages := 0
	for {
		status, resp := e.post(t, "Token "+tokA, q, map[string]any{"u": uuids[0], "after": after})
		if status != 200 || len(resp.Errors) > 0 {
			t.Fatalf("page %d: %d %+v", pages, status, resp.Errors)
		}
		var data struct {
			Dtable struct {
				Table struct {
					Rows struct {
						Edges []struct {
							Cursor string
							Node   struct {
								ID, SeatableID string
								Values         map[string]any
								CreatedAt      *string
								Cell           string
							}
						}
						PageInfo struct {
							HasNextPage, HasPreviousPage bool
							StartCursor, EndCursor       *string
						}
					}
				}
			}
		}
		if err := json.Unmarshal(resp.Data, &data); err != nil {
			t.Fatal(err)
		}
		rows := data.Dtable.Table.Rows
		if rows.PageInfo.HasPreviousPage != (pages > 0) {
			t.Errorf("page %d: hasPreviousPage %v", pages, rows.PageInfo.HasPreviousPage)
		}
		for _, ed := range rows.Edges {
			if seen[ed.Node.SeatableID] {
				t.Fatalf("row %s twice", ed.Node.SeatableID)
			}
			seen[ed.Node.SeatableID] = true
			if ed.Node.Cell == "" || ed.Node.Values["Name"] != ed.Node.Cell || ed.Node.CreatedAt == nil {
				t.Fatalf("row %+v", ed.Node)
			}
		}
		pages++
		if !rows.PageInfo.HasNextPage {
			if len(rows.Edges) == 0 {
				t.Errorf("last page is empty: hasNextPage was not exact")
			}
			break
		}
		if pages > 10 {
			t.Fatal("paging does not end")
		}
		after = *rows.PageInfo.EndCursor
	}
	if len(seen) != 36 || pages != 4 {
		t.Errorf("paged %d rows in %d pages, want 36 in 4", len(seen), pages)
	}
	e.wantCalls(t, "4 pages", seatableCalls{List: 4, Exchange: 1, Metadata: 4, Rows: 4})
}

func TestBasesRowsOfAView(t *testing.T) {
	e, uuids := basesEnv(t, 1, 1)
	q := fmt.Sprintf(`{ dtable(uuid: %q) { table(name: "Projects") {
		all: rows(first: 1000) { nodes { values } }
		inProgress: rows(view: "In progress") { nodes { cell(column: "Status") } }
		view(name: "In progress") { rows { nodes { seatableId } } }
	} } }`, uuids[0])
	var data struct {
		Dtable struct {
			Table struct {
				All struct {
					Nodes []struct{ Values map[string]any }
				}
				InProgress struct{ Nodes []struct{ Cell string } }
				View       struct {
					Rows struct{ Nodes []struct{ SeatableID string } }
				}
			}
		}
	}
	e.mustData(t, "Token "+tokA, q, &data)
	tb := data.Dtable.Table
	want := 0
	for _, r := range tb.All.Nodes {
		if r.Values["Status"] == "In progress" {
			want++
		}
	}
	if want == 0 || len(tb.InProgress.Nodes) != want || len(tb.View.Rows.Nodes) != want {
		t.Fatalf("view rows: %d and %d, want %d of %d", len(tb.InProgress.Nodes), len(tb.View.Rows.Nodes), want, len(tb.All.Nodes))
	}
	for _, r := range tb.InProgress.Nodes {
		if r.Cell != "In progress" {
			t.Errorf("view row with status %q", r.Cell)
		}
	}
	// The view's rows through Table.rows(view:) and View.rows are one read.
	e.wantCalls(t, "rows of a view", seatableCalls{List: 1, Exchange: 1, Metadata: 1, Rows: 2})
}

func TestBasesRowsArguments(t *testing.T) {
	e, uuids := basesEnv(t, 1, 2)
	for _, c := range []struct{ args, code, msg string }{
		{`first: 1001`, "BAD_USER_INPUT", "1000"},
		{`first: -1`, "BAD_USER_INPUT", "1000"},
		{`after: "bm9wZQ"`, "BAD_USER_INPUT", "cursor"},
		{`view: "No such view"`, "NOT_FOUND", "No such view"},
	} {
		q := fmt.Sprintf(`{ dtable(uuid: %q) { table(name: "Projects") { rows(%s) { nodes { id } } } } }`, uuids[0], c.args)
		_, resp := e.post(t, "Token "+tokA, q, nil)
		if len(resp.Errors) != 1 || resp.Errors[0].Extensions["code"] != c.code || !strings.Contains(resp.Errors[0].Message, c.msg) {
			t.Errorf("rows(%s): errors %+v, want %s naming %q", c.args, resp.Errors, c.code, c.msg)
		}
	}
	e.resetCalls()
	// A cursor of another table is refused, with no rows read.
	var data struct {
		Dtable struct {
			Table struct {
				Rows struct{ PageInfo struct{ EndCursor string } }
			}
		}
	}
	e.mustData(t, "Token "+tokA, fmt.Sprintf(`{ dtable(uuid: %q) { table(name: "Tasks") { rows(first: 2) { pageInfo { endCursor } } } } }`, uuids[0]), &data)
	q := fmt.Sprintf(`{ dtable(uuid: %q) { table(name: "Projects") { rows(after: %q) { nodes { id } } } } }`, uuids[0], data.Dtable.Table.Rows.PageInfo.EndCursor)
	_, resp := e.post(t, "Token "+tokA, q, nil)
	if len(resp.Errors) != 1 || resp.Errors[0].Extensions["code"] != "BAD_USER_INPUT" {
		t.Errorf("foreign cursor: %+v", resp.Errors)
	}
	// Absent names are null, without errors.
	var none struct {
		Dtable struct {
			Table *struct{ Name string }
			Tasks struct{ Column, View, Row *struct{ Name string } }
		}
	}
	e.mustData(t, "Token "+tokA, fmt.Sprintf(`{ dtable(uuid: %q) { table(name: "Nope") { name } tasks: table(name: "Tasks") { column(name: "Nope") { name } view(name: "Nope") { name } row(id: "Nope0000000000000000zz") { seatableId } } } }`, uuids[0]), &none)
	if none.Dtable.Table != nil || none.Dtable.Tasks.Column != nil || none.Dtable.Tasks.View != nil || none.Dtable.Tasks.Row != nil {
		t.Errorf("absent names: %+v", none)
	}
}

func TestBasesLimitPerRequest(t *testing.T) {
	e, uuids := basesEnv(t, 1, 5, withEnv("MAX_BASES_PER_REQUEST", "3"))
	_, resp := e.post(t, "Token "+tokA, `{ workspaces { tables { name tables { name } } } }`, nil)
	var data struct {
		Workspaces []struct {
			Tables []struct {
				Name   string
				Tables []struct{ Name string }
			}
		}
	}
	_ = json.Unmarshal(resp.Data, &data)
	opened, refused := map[string]bool{}, map[string]bool{}
	for _, ws := range data.Workspaces {
		for _, d := range ws.Tables {
			if d.Tables != nil {
				opened[d.Name] = true
			} else {
				refused[d.Name] = true
			}
		}
	}
	if len(opened) != 3 || len(refused) != len(uuids)-3 || len(resp.Errors) < len(refused) {
		t.Fatalf("opened %v, refused %v with %d errors, want 3 and %d", opened, refused, len(resp.Errors), len(uuids)-3)
	}
	for _, er := range resp.Errors {
		if er.Extensions["code"] != "BAD_USER_INPUT" || !strings.Contains(er.Message, "3 bases") || len(er.Path) == 0 {
			t.Errorf("error %+v", er)
		}
	}
	e.wantCalls(t, "limit", seatableCalls{List: 1, Exchange: 3, Metadata: 3})
}

func TestBasesErrorsPerBase(t *testing.T) {
	e, uuids := basesEnv(t, 1, 3)
	e.fake.DenyBase(uuids[0], true)
	e.fake.RateLimitBase(uuids[1], true)
	q := fmt.Sprintf(`{ a: dtable(uuid: %q) { tables { name } } b: dtable(uuid: %q) { tables { name } } c: dtable(uuid: %q) { tables { name } } }`, uuids[0], uuids[1], uuids[2])
	status, resp := e.post(t, "Token "+tokA, q, nil)
	if status != 200 {
		t.Fatalf("status %d", status)
	}
	var data map[string]*struct{ Tables []struct{ Name string } }
	_ = json.Unmarshal(resp.Data, &data)
	if data["c"] == nil || len(data["c"].Tables) != 3 {
		t.Errorf("the healthy base: %s", resp.Data)
	}
	codes := map[string]string{}
	for _, er := range resp.Errors {
		codes[fmt.Sprint(er.Path)] = fmt.Sprint(er.Extensions["code"])
		if er.Extensions["code"] == "RATE_LIMITED" && er.Extensions["retryAfter"] == nil {
			t.Errorf("RATE_LIMITED without retryAfter: %+v", er)
		}
	}
	if codes["[a tables]"] != "FORBIDDEN" || codes["[b tables]"] != "RATE_LIMITED" || len(codes) != 2 {
		t.Errorf("errors by path %v", codes)
	}
}

func TestBasesForeignBaseServerRefused(t *testing.T) {
	e, uuids := basesEnv(t, 1, 2)
	foreign := http.NewServeMux()
	hit := 0
	foreign.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { hit++ })
	srv := newForeignServer(t, foreign)
	e.fake.SetBaseServer(uuids[0], srv+"/api-gateway/")
	q := fmt.Sprintf(`{ a: dtable(uuid: %q) { tables { name } } b: dtable(uuid: %q) { tables { name } } }`, uuids[0], uuids[1])
	_, resp := e.post(t, "Token "+tokA, q, nil)
	if len(resp.Errors) != 1 || fmt.Sprint(resp.Errors[0].Path) != "[a tables]" {
		t.Fatalf("errors %+v", resp.Errors)
	}
	if strings.Contains(resp.Errors[0].Message, srv) {
		t.Errorf("the error names the foreign host: %q", resp.Errors[0].Message)
	}
	if hit != 0 {
		t.Errorf("the foreign host got %d calls", hit)
	}
	if !strings.Contains(string(resp.Data), `"b":{"tables":[`) {
		t.Errorf("the other base: %s", resp.Data)
	}
}

func TestBasesInvisibleBaseOpensNothing(t *testing.T) {
	e, _ := basesEnv(t, 1, 2)
	// A base of another account (tokB's), addressed by uuid and by global ids.
	const tokB = "tokB-0123456789abcdef"
	e.fake.SetToken(tokB, fakeseatable.Generate(3, 3))
	var theirs struct {
		Dtables struct {
			Nodes []struct {
				UUID   string
				ID     string
				Tables []struct {
					ID    string
					Views []struct{ ID string }
					Rows  struct{ Nodes []struct{ ID string } }
				}
			}
		}
	}
	e.mustData(t, "Token "+tokB, `{ dtables(last: 1) { nodes { uuid id tables { id views { id } rows(first: 1) { nodes { id } } } } } }`, &theirs)
	d := theirs.Dtables.Nodes[0]
	e.resetCalls()
	q := fmt.Sprintf(`{ dtable(uuid: %q) { tables { name } } nodes(ids: [%q, %q, %q, %q]) { id } }`, d.UUID, d.ID, d.Tables[0].ID, d.Tables[0].Views[0].ID, d.Tables[0].Rows.Nodes[0].ID)
	status, resp := e.post(t, "Token "+tokA, q, nil)
	if status != 200 || len(resp.Errors) != 0 || string(resp.Data) != `{"dtable":null,"nodes":[null,null,null,null]}` {
		t.Fatalf("%d %s %+v", status, resp.Data, resp.Errors)
	}
	e.wantCalls(t, "invisible base", seatableCalls{List: 1})
}

func TestBasesTwoUsersOwnBaseTokens(t *testing.T) {
	e := newTestEnv(t)
	const tokB = "tokB-0123456789abcdef"
	list := fakeseatable.Generate(1, 2)
	e.fake.SetToken(tokA, list)
	e.fake.SetToken(tokB, list) // both may open the same bases
	e.fake.SetRecordRequests(true)
	q := `{ workspaces { tables { tables { name } } } }`
	for _, tok := range []string{tokA, tokB, tokA, tokB} {
		var data any
		e.mustData(t, "Token "+tok, q, &data)
	}
	owners := map[string]int{}
	for _, r := range e.fake.Requests() {
		if tok, ok := strings.CutPrefix(r.Authorization, "Token "); ok && strings.Contains(r.Path, "/metadata/") {
			account, ok := e.fake.BaseTokenOwner(tok)
			if !ok {
				t.Fatalf("metadata read with an unknown base token")
			}
			owners[account]++
		}
	}
	if owners[tokA] != 4 || owners[tokB] != 4 {
		t.Errorf("metadata reads per account's base token: %v", owners)
	}
	// Two exchanges per user, none repeated: each caller's token is its own.
	e.wantCalls(t, "two users", seatableCalls{List: 4, Exchange: 4, Metadata: 8})
}

func TestBasesExpiredBaseTokenRenewedOnce(t *testing.T) {
	e, uuids := basesEnv(t, 1, 1)
	q := fmt.Sprintf(`{ dtable(uuid: %q) { tables { name } } }`, uuids[0])
	var data any
	e.mustData(t, "Token "+tokA, q, &data)
	e.wantCalls(t, "first", seatableCalls{List: 1, Exchange: 1, Metadata: 1})
	e.fake.ExpireBaseTokens()
	e.mustData(t, "Token "+tokA, q, &data)
	// The expired token's read, one exchange, the retried read.
	e.wantCalls(t, "expired", seatableCalls{List: 1, Exchange: 1, Metadata: 2})
	e.mustData(t, "Token "+tokA, q, &data)
	e.wantCalls(t, "renewed token reused", seatableCalls{List: 1, Metadata: 1})
}

func TestBasesTokensNeverInResponsesOrLogs(t *testing.T) {
	e, uuids := basesEnv(t, 1, 3)
	e.fake.SetRecordRequests(true)
	e.fake.DenyBase(uuids[1], true)
	e.fake.SetBaseServer(uuids[2], "https://elsewhere.example/api-gateway/")
	q := fmt.Sprintf(`{ a: dtable(uuid: %q) { tables { name rows { nodes { values } } row(id: "x") { id } } }
		b: dtable(uuid: %q) { tables { name } } c: dtable(uuid: %q) { tables { name } } }`, uuids[0], uuids[1], uuids[2])
	_, resp := e.post(t, "Token "+tokA, q, nil)
	e.fake.ExpireBaseTokens()
	_, resp2 := e.post(t, "Token "+tokA, q, nil)
	var baseTokens []string
	for _, r := range e.fake.Requests() {
		if tok, ok := strings.CutPrefix(r.Authorization, "Token "); ok {
			if _, isBase := e.fake.BaseTokenOwner(tok); isBase {
				baseTokens = append(baseTokens, tok)
			}
		}
	}
	if len(baseTokens) == 0 {
		t.Fatal("no base token reached the fake")
	}
	e.close()
	out := string(resp.Data) + fmt.Sprint(resp.Errors) + string(resp2.Data) + fmt.Sprint(resp2.Errors) + e.logs.String()
	for _, tok := range baseTokens {
		for _, part := range []string{tok, tok[len(tok)-20:]} {
			if strings.Contains(out, part) {
				t.Fatalf("a base token appears in a response or log line")
			}
		}
	}
	if strings.Contains(out, tokA) {
		t.Fatal("the account token appears in a response or log line")
	}
}

// newForeignServer serves h on another origin than the fake's.
func newForeignServer(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// The fast path and the replay of list-only answers know nothing inside a
// base: an operation selecting it runs on gqlgen's executor, and with the
// cache on it is read again on every request (metadata and rows are never
// kept between requests; only base tokens are).
func TestBasesBypassFastPathAndReplay(t *testing.T) {
	fast, uuids := basesEnv(t, 1, 2, withCache(time.Minute))
	ref := newTestEnv(t, withFake(fast.fake), withEnv("FAST_PATH", "false"))
	queries := []string{
		`{ workspaces { id tables { uuid name tables { name } } } }`,
		fmt.Sprintf(`{ dtable(uuid: %q) { name ...F } } fragment F on DTable { table(name: "Tasks") { rows(first: 3) { nodes { values } } } }`, uuids[0]),
	}
	for _, q := range queries {
		var first string
		for i := range 3 {
			status, resp := fast.post(t, "Token "+tokA, q, nil)
			if status != 200 || len(resp.Errors) > 0 {
				t.Fatalf("%d %+v", status, resp.Errors)
			}
			if i == 0 {
				first = string(resp.Data)
			} else if string(resp.Data) != first {
				t.Fatalf("answers differ")
			}
		}
		c := fast.calls()
		if c.Metadata < 3 || c.List > 1 {
			t.Errorf("%s: calls %+v: want the list cached (at most 1 read) and the base read on each of 3 requests", q, c)
		}
		fast.resetCalls()
		_, resp := ref.post(t, "Token "+tokA, q, nil)
		if string(resp.Data) != first {
			t.Errorf("fast path %s\nreference %s", first, resp.Data)
		}
	}
}

// TestBasesTenBasesFannedOut measures "tables of 10 bases" at 20 ms of
// SeaTable latency per call: read one after another it would take 21 round
// trips cold (1 list, 10 exchanges, 10 metadata reads). Read side by side
// it takes 1 + 2 per wave of BASE_CONCURRENCY bases: 7 round trips with
// the default 4, 3 with 10. It checks what does not depend on the
// machine's load (how many calls were in flight at once, exactly the bound)
// and that the wall time is far from sequential; the times go to the test
// log (-v).
func TestBasesTenBasesFannedOut(t *testing.T) {
	if testing.Short() {
		t.Skip("timing")
	}
	const rtt = 20 * time.Millisecond
	q := `{ workspaces { tables { uuid tables { name columns { name type } } } } }`
	for _, c := range []struct {
		parallel             int
		idealCold, idealWarm int
	}{{4, 7, 4}, {10, 3, 2}} {
		var inFlight, peak atomic.Int64
		count := func(h http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n := inFlight.Add(1)
				for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
				}
				defer inFlight.Add(-1)
				h.ServeHTTP(w, r)
			})
		}
		e, _ := basesEnv(t, 2, 5, withEnv("BASE_CONCURRENCY", fmt.Sprint(c.parallel)), func(o *envOptions) { o.upstreamHandler = count })
		e.fake.SetLatency(rtt)
		for _, run := range []struct {
			name  string
			ideal int
			want  seatableCalls
		}{{"cold", c.idealCold, seatableCalls{List: 1, Exchange: 10, Metadata: 10}},
			{"warm", c.idealWarm, seatableCalls{List: 1, Metadata: 10}}} {
			peak.Store(0)
			start := time.Now()
			var data any
			e.mustData(t, "Token "+tokA, q, &data)
			d := time.Since(start)
			sequential := 1 + int(run.want.Exchange+run.want.Metadata)
			t.Logf("BASE_CONCURRENCY=%d %s: %v = %.1f round trips of %v (ideal %d, sequential %d); %d calls at once",
				c.parallel, run.name, d.Round(time.Millisecond), float64(d)/float64(rtt), rtt, run.ideal, sequential, peak.Load())
			if got := peak.Load(); got != int64(c.parallel) {
				t.Errorf("BASE_CONCURRENCY=%d %s: %d calls at once, want %d", c.parallel, run.name, got, c.parallel)
			}
			if d >= time.Duration(sequential)*rtt {
				t.Errorf("BASE_CONCURRENCY=%d %s: took %v, as long as %d sequential calls", c.parallel, run.name, d, sequential)
			}
			e.wantCalls(t, run.name, run.want)
		}
	}
}

func TestBasesNodesOfTablesViewsRows(t *testing.T) {
	e, uuids := basesEnv(t, 1, 1)
	var data struct {
		Dtable struct {
			Table struct {
				ID    string
				Views []struct{ ID, Name string }
				Rows  struct {
					Nodes []struct {
						ID     string
						Values json.RawMessage
					}
				}
			}
		}
	}
	e.mustData(t, "Token "+tokA, fmt.Sprintf(`{ dtable(uuid: %q) { table(name: "Tasks") { id views { id name } rows(first: 1) { nodes { id values } } } } }`, uuids[0]), &data)
	tb := data.Dtable.Table
	e.resetCalls()
	q := fmt.Sprintf(`{ nodes(ids: [%q, %q, %q]) { __typename id ... on Table { name } ... on View { name table { id } } ... on Row { values } } }`, tb.ID, tb.Views[1].ID, tb.Rows.Nodes[0].ID)
	var got struct {
		Nodes []struct {
			Typename string `json:"__typename"`
			ID, Name string
			Table    struct{ ID string }
			Values   json.RawMessage
		}
	}
	e.mustData(t, "Token "+tokA, q, &got)
	n := got.Nodes
	if len(n) != 3 || n[0].Typename != "Table" || n[0].Name != "Tasks" || n[1].Typename != "View" || n[1].Name != tb.Views[1].Name ||
		n[1].Table.ID != tb.ID || n[2].Typename != "Row" || string(n[2].Values) != string(tb.Rows.Nodes[0].Values) {
		t.Fatalf("nodes %+v", n)
	}
	for i, id := range []string{tb.ID, tb.Views[1].ID, tb.Rows.Nodes[0].ID} {
		if n[i].ID != id {
			t.Errorf("node %d has id %s, want %s", i, n[i].ID, id)
		}
	}
	// One base token exchange-free (reused), one metadata read for all three, one row read.
	e.wantCalls(t, "nodes", seatableCalls{List: 1, Metadata: 1, Row: 1})
}

func TestBasesComplexityCountsRowsByFirst(t *testing.T) {
	e, _ := basesEnv(t, 1, 2)
	q := `{ workspaces { tables { tables { rows(first: %d) { nodes { id values } } } } } }`
	_, resp := e.post(t, "Token "+tokA, fmt.Sprintf(q, 1000), nil)
	if len(resp.Errors) != 1 || resp.Errors[0].Extensions["code"] != "GRAPHQL_VALIDATION_FAILED" || !strings.Contains(resp.Errors[0].Message, "complexity") {
		t.Fatalf("first: 1000 on every table of every base: %+v", resp.Errors)
	}
	e.wantCalls(t, "rejected", seatableCalls{})
	var data any
	e.mustData(t, "Token "+tokA, fmt.Sprintf(q, 5), &data)
}

func TestBasesLimitKnownFromTheDocument(t *testing.T) {
	e, uuids := basesEnv(t, 1, 4, withEnv("MAX_BASES_PER_REQUEST", "3"))
	var b strings.Builder
	b.WriteString("query($u: ID!) {")
	for i, u := range uuids[:3] {
		fmt.Fprintf(&b, " b%d: dtable(uuid: %q) { tables { name } }", i, u)
	}
	b.WriteString(` v: dtable(uuid: $u) { tables { name } } }`)
	status, resp := e.post(t, "Token "+tokA, b.String(), map[string]any{"u": uuids[3]})
	if status != 200 || resp.Data != nil && string(resp.Data) != "null" || len(resp.Errors) != 1 ||
		resp.Errors[0].Extensions["code"] != "BAD_USER_INPUT" || !strings.Contains(resp.Errors[0].Message, "opens 4 bases; the limit is 3") {
		t.Fatalf("%d %s %+v", status, resp.Data, resp.Errors)
	}
	e.wantCalls(t, "refused before any call", seatableCalls{})
	// The same base four times is one base.
	status, resp = e.post(t, "Token "+tokA, b.String(), map[string]any{"u": uuids[0]})
	if status != 200 || len(resp.Errors) != 0 {
		t.Fatalf("%d %+v", status, resp.Errors)
	}
}

// Cells reach the client as SeaTable wrote them: numbers keep every digit
// (no float64 on the way), unknown column types and their settings pass
// through.
func TestBasesCellsVerbatim(t *testing.T) {
	e, uuids := basesEnv(t, 1, 1)
	q := fmt.Sprintf(`{ dtable(uuid: %q) { table(name: "Projects") { column(name: "Gauge") { type data } rows(first: 1000) { nodes { values budget: cell(column: "Budget") } } } } }`, uuids[0])
	status, resp := e.post(t, "Token "+tokA, q, nil)
	if status != 200 || len(resp.Errors) > 0 {
		t.Fatalf("%d %+v", status, resp.Errors)
	}
	raw := string(resp.Data)
	for _, want := range []string{`"Budget":12345678901234567890`, `"budget":12345678901234567890`, `"Budget":4200.75`, `"type":"x-custom-gauge"`, `"data":{"max":10,"style":"arc"}`, `"Gauge":{`} {
		if !strings.Contains(raw, want) {
			t.Errorf("answer lacks %s", want)
		}
	}
}

// A subscription's base reads inside a base with the subscriber's own
// token, through loaders made for each event.
func TestBasesInASubscription(t *testing.T) {
	e, clock := newLiveEnv(t)
	c := openWS(t, e, liveToken)
	c.subscribe("1", `subscription { dtableChanged(uuid: "b406b9ba-b74e-49c8-aa4e-5567076e5c25") { dtable { name tables { name } } } }`)
	p := c.nextData("1")
	clock.polled(t)
	if len(p.Errors) > 0 || !strings.Contains(string(p.Data), `"tables":[{"name":"Projects"},{"name":"Tasks"},{"name":"Contacts"}]`) {
		t.Fatalf("%s %+v", p.Data, p.Errors)
	}
	if n := e.fake.BaseCalls(fakeseatable.KindMetadata); n != 1 {
		t.Errorf("%d metadata reads, want 1", n)
	}
}
