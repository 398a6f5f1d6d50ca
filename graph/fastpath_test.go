package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2"
	gqlast "github.com/vektah/gqlparser/v2/ast"

	"github.com/seatable-graphql/seatable-graphql/graph/scalar"
	"github.com/seatable-graphql/seatable-graphql/internal/apperr"
	"github.com/seatable-graphql/seatable-graphql/internal/auth"
	"github.com/seatable-graphql/seatable-graphql/upstream"
	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

// The differential tests: every query runs through the fast path and
// through gqlgen's executor alone, against the same upstream answer, and
// the two HTTP responses must be the same bytes.

// diffPair is the same server twice, with and without the fast path.
type diffPair struct {
	fast, reference http.Handler
}

// newDiffPair builds both servers over f. Each request gets fresh loaders,
// so both read the same upstream answer (a fetcher that answers the same).
func newDiffPair(f upstream.Lister) diffPair {
	build := func(fast bool) http.Handler {
		opts := testServerOptions(slog.New(slog.DiscardHandler))
		opts.FastPath = fast
		return auth.Middleware("", false)(WithLoaders(f)(NewServer(opts)))
	}
	return diffPair{fast: build(true), reference: build(false)}
}

// compare runs body through both and reports any difference.
func (p diffPair) compare(t testing.TB, label string, body []byte) (same bool, out []byte) {
	t.Helper()
	do := func(h http.Handler) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Token diff-token-0123456789")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	f, r := do(p.fast), do(p.reference)
	if f.Code != r.Code || f.Header().Get("Content-Type") != r.Header().Get("Content-Type") || !bytes.Equal(f.Body.Bytes(), r.Body.Bytes()) {
		t.Errorf("%s: request %s\nfast path: %d %s\ngqlgen:    %d %s", label, body, f.Code, f.Body, r.Code, r.Body)
		return false, nil
	}
	return true, f.Body.Bytes()
}

// fixtureListers are upstream answers to run queries against: every
// generation's fixture and a generated list, each served by the fake
// SeaTable through the real client (so detail=false is served as SeaTable
// serves it), and fetchers that fail.
func fixtureListers(t testing.TB) map[string]upstream.Lister {
	t.Helper()
	fake := fakeseatable.New()
	bodies := map[string][]byte{"generated": fakeseatable.Generate(3, 2)}
	for _, name := range []string{fakeseatable.Seed, fakeseatable.Era2020, fakeseatable.Typed, fakeseatable.Current, fakeseatable.Demo} {
		bodies[name] = fakeseatable.Fixture(name)
	}
	up := httptest.NewServer(fake)
	t.Cleanup(up.Close)
	client, err := upstream.New(up.URL, upstream.WithRetries(0), upstream.WithBreaker(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	odd := "<b>Q&A</b> \u2028\u2029 \"quoted\" back\\slash \t\n\x01 \xff\xfe ü € 𝄞 </script>"
	oddTime := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	out := map[string]upstream.Lister{
		"odd strings": staticLister{&upstream.WorkspaceList{Detail: true, Workspaces: []*upstream.Workspace{{
			ID: "1", Type: upstream.WorkspacePersonal, Name: odd, OwnerName: &odd, GroupAdmins: []string{odd, ""},
			Tables: []*upstream.DTable{{ID: "7", UUID: "e3b0c442-98fc-4c14-9afb-f4c8996fb924", Name: odd, WorkspaceID: "1", Color: &odd, UpdatedAt: &oddTime, CreatedAt: &time.Time{}}},
		}}}},
		"unavailable": failingLister{apperr.New(apperr.UpstreamUnavailable, "SeaTable is unavailable")},
		"bad token":   failingLister{apperr.New(apperr.Unauthenticated, "SeaTable rejected the token")},
	}
	for name, body := range bodies {
		fake.SetToken("tok-"+name, body)
		out[name] = tokenLister{client, "tok-" + name}
	}
	return out
}

// tokenLister reads with a fixed token, whatever the request carries.
type tokenLister struct {
	client *upstream.Client
	token  string
}

func (f tokenLister) ListWorkspaces(ctx context.Context, _ string, read upstream.Read) (*upstream.WorkspaceList, error) {
	return f.client.ListWorkspaces(ctx, f.token, read)
}

type staticLister struct{ list *upstream.WorkspaceList }

func (f staticLister) ListWorkspaces(context.Context, string, upstream.Read) (*upstream.WorkspaceList, error) {
	return f.list, nil
}

type failingLister struct{ err error }

func (f failingLister) ListWorkspaces(context.Context, string, upstream.Read) (*upstream.WorkspaceList, error) {
	return nil, f.err
}

// curatedQueries cover every field of every type the fast path writes,
// arguments as literals and variables, aliases, fragments, directives and
// what it must leave to gqlgen (introspection, mutations, @defer, bad
// arguments).
var curatedQueries = []struct {
	query string
	vars  map[string]any
}{
	{`{ __typename }`, nil},
	{`{ workspaces { __typename id seatableId type name ownerName repoId groupId groupOwner groupAdmins groupMemberCount isAdmin departmentId } }`, nil},
	{`{ workspaces { id tables { __typename id seatableId uuid name workspaceId createdAt updatedAt creator modifier color textColor icon starred isEncrypted inStorage permission fromUser fromUserName fromUserAvatar fromGroupId fromGroupName shareId shareType } } }`, nil},
	{`{ workspaces { folders { __typename id seatableId name workspaceId items { __typename id itemType itemId } tables { name folder { id } } } } }`, nil},
	{`{ workspaces { sharedViews { __typename id seatableId dtableName workspaceId fromUser fromUserName fromUserAvatar toUser toUserName permission tableId viewId sharedName color textColor icon shareId shareType } shareFolders { __typename id seatableId name username } } }`, nil},
	{`{ a: workspace(id: "V29ya3NwYWNlOjEy") { id seatableId } b: workspace(id: "V29ya3NwYWNlOnN0YXJyZWQ") { seatableId } }`, nil},
	{`{ node(id: "RFRhYmxlOmUzYjBjNDQyLTk4ZmMtNGMxNC05YWZiLWY0Yzg5OTZmYjkyNA") { __typename id ... on DTable { name } } nodes(ids: ["V29ya3NwYWNlOjEy", "bad"]) { id } }`, nil},
	{`{ workspaces { groupSharedTables { uuid name permission fromGroupId fromGroupName } groupSharedViews { __typename id viewShareId sharedName permission fromUser fromUserName fromUserAvatar dtable { id uuid name permission } } } }`, nil},
	{`{ workspaces { tables { name workspace { id name tables { uuid workspace { id } } } folder { name tables { uuid } } } } }`, nil},
	{`{ starredDTables { uuid name starred workspace { name } } }`, nil},
	{`{ a: workspace(id: "starred") { id name } b: workspace(id: "shared") { id } c: workspace(id: "12") { id tables { name } } d: workspace(id: "404") { id } e: workspace(id: "1") { name } }`, nil},
	{`query($id: ID!) { workspace(id: $id) { id name tables { name } } }`, map[string]any{"id": "15"}},
	{`query($id: ID!) { workspace(id: $id) { id } }`, map[string]any{"id": "1"}},
	{`{ dtable(uuid: "e3b0c442-98fc-4c14-9afb-f4c8996fb924") { uuid name folder { name } workspace { id } } }`, nil},
	{`{ dtable(uuid: "E3B0C44298FC4C149AFBF4C8996FB924") { uuid } }`, nil},
	{`{ dtable(uuid: "not-a-uuid") { uuid } }`, nil},
	{`query($u: ID!) { dtable(uuid: $u) { name } }`, map[string]any{"u": "00000000-0000-4000-8000-000000000000"}},
	{`{ dtableByName(workspaceId: "12", name: "CRM") { uuid name } x: dtableByName(workspaceId: "1", name: "nope") { uuid } }`, nil},
	{`{ workspaces(filter: {type: GROUP}) { id name } p: workspaces(filter: {nameContains: "PERS"}) { id } }`, nil},
	{`query($f: WorkspaceFilter) { workspaces(filter: $f) { id } }`, map[string]any{"f": map[string]any{"type": "PERSONAL"}}},
	{`query($f: WorkspaceFilter) { workspaces(filter: $f) { id } }`, map[string]any{"f": map[string]any{"type": "NOPE"}}},
	{`{ workspaces { tables(orderBy: {field: NAME, direction: DESC}) { name } t2: tables(filter: {starred: true}) { name } } }`, nil},
	{`query($o: DTableOrder, $f: DTableFilter) { workspaces { tables(orderBy: $o, filter: $f) { name updatedAt } } }`,
		map[string]any{"o": map[string]any{"field": "UPDATED_AT", "direction": "DESC"}, "f": map[string]any{"updatedAfter": "2020-01-01T00:00:00Z"}}},
	{`query($f: DTableFilter) { workspaces { tables(filter: $f) { name } } }`, map[string]any{"f": map[string]any{"updatedAfter": "yesterday"}}},
	{`{ dtables { totalCount pageInfo { __typename hasNextPage hasPreviousPage startCursor endCursor } edges { __typename cursor node { uuid name } } nodes { name } } }`, nil},
	{`{ dtables(first: 2, orderBy: {field: CREATED_AT}) { edges { cursor node { name createdAt } } pageInfo { endCursor hasNextPage } } }`, nil},
	{`query($n: Int, $after: String) { dtables(first: $n, after: $after) { nodes { name } } }`, map[string]any{"n": 1, "after": nil}},
	{`{ dtables(first: 5000) { totalCount } }`, nil},
	{`{ dtables(after: "garbage") { totalCount } }`, nil},
	{`{ dtables(last: 2, filter: {nameContains: "a"}) { totalCount nodes { name } } }`, nil},
	{`{ workspaces { ...W } } fragment W on Workspace { id ... on Workspace { name } tables { ...D } } fragment D on DTable { uuid name }`, nil},
	{`{ workspaces { id ... @include(if: false) { name } n: name @skip(if: true) tables @include(if: true) { name } } }`, nil},
	{`query($a: Boolean!, $b: Boolean!) { workspaces { id name @include(if: $a) tables @skip(if: $b) { name } } }`, map[string]any{"a": true, "b": false}},
	{`query($a: Boolean!, $b: Boolean!) { workspaces { id name @include(if: $a) tables @skip(if: $b) { name } } }`, map[string]any{"a": false, "b": true}},
	{`{ workspaces { id x: id name id } w: workspaces { name } }`, nil},
	{`{ workspaces { tables { name } tables { uuid } } }`, nil},
	{`{ workspaces { id ... @defer { name } } }`, nil},
	{`{ __schema { queryType { name } } }`, nil},
	{`{ __type(name: "DTable") { name } workspaces { id } }`, nil},
	{`mutation { starDTable(input: {uuid: "e3b0c442-98fc-4c14-9afb-f4c8996fb924"}) { uuid starred } }`, nil},
	{`{ workspaces { nope } }`, nil},
	{`query Named { workspaces { id } } query Other { dtables { totalCount } }`, nil},
}

func diffBody(query string, vars map[string]any, opName string) []byte {
	req := map[string]any{"query": query}
	if vars != nil {
		req["variables"] = vars
	}
	if opName != "" {
		req["operationName"] = opName
	}
	b, _ := json.Marshal(req)
	return b
}

func TestFastPathAnswersAsGqlgenDoes(t *testing.T) {
	for name, f := range fixtureListers(t) {
		p := newDiffPair(f)
		for i, q := range curatedQueries {
			p.compare(t, fmt.Sprintf("%s #%d", name, i), diffBody(q.query, q.vars, ""))
		}
		p.compare(t, name+" operationName", diffBody(curatedQueries[len(curatedQueries)-1].query, nil, "Other"))
	}
}

// TestFastPathCoversTheHotQueries guards the point of the fast path: the
// queries frontends send most take it (a plan is compiled), and a query it
// must not take (introspection, mutations, @defer) does not.
func TestFastPathCoversTheHotQueries(t *testing.T) {
	srv := &fastSchema{plans: newPlanCache(1 << 30)}
	covered := func(query string) bool {
		t.Helper()
		doc, errs := gqlparser.LoadQuery(parsedSchema, query)
		if errs != nil {
			t.Fatalf("%s: %v", query, errs)
		}
		opCtx := newOpContext(doc)
		return srv.plans.plan(context.Background(), srv, opCtx) != nil
	}
	for _, q := range []string{
		`{ workspaces { id ownerName tables { name updatedAt } } }`,
		`{ a: workspace(id: "1") { id name tables { name } } b: workspace(id: "2") { id } }`,
		`{ workspaces { id name } }`,
		`{ dtables(first: 10) { edges { cursor node { uuid name } } pageInfo { hasNextPage endCursor } totalCount } }`,
		`{ dtable(uuid: "e3b0c442-98fc-4c14-9afb-f4c8996fb924") { name workspace { name } folder { name } } }`,
	} {
		if !covered(q) {
			t.Errorf("not covered by the fast path: %s", q)
		}
	}
	for _, q := range []string{
		`{ __schema { queryType { name } } }`,
		`mutation { starDTable(input: {uuid: "e3b0c442-98fc-4c14-9afb-f4c8996fb924"}) { uuid } }`,
		`{ workspaces { id ... @defer { name } } }`,
	} {
		if covered(q) {
			t.Errorf("covered by the fast path, must not be: %s", q)
		}
	}
}

// TestFastPathOnEveryQueryOfTheTestSuite runs every GraphQL document written
// as a string literal in this repository's tests (the end-to-end tests at
// the root and these) both ways, on every fixture.
func TestFastPathOnEveryQueryOfTheTestSuite(t *testing.T) {
	queries := testSuiteQueries(t)
	t.Logf("%d GraphQL documents in the test suite", len(queries))
	if len(queries) < 50 {
		t.Fatalf("found only %d queries in the test suite: the extraction is broken", len(queries))
	}
	for name, f := range fixtureListers(t) {
		p := newDiffPair(f)
		for i, q := range queries {
			p.compare(t, fmt.Sprintf("%s suite #%d", name, i), diffBody(q, nil, ""))
		}
	}
}

// testSuiteQueries returns the string literals of the repository's Go test
// files that parse and validate as GraphQL queries without variables.
func testSuiteQueries(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, pattern := range []string{"../*_test.go", "*_test.go", "../internal/*/*_test.go"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	seen := map[string]bool{}
	var out []string
	fset := token.NewFileSet()
	for _, file := range files {
		f, err := parser.ParseFile(fset, file, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil {
				return true
			}
			trimmed := strings.TrimSpace(s)
			if !strings.HasPrefix(trimmed, "{") && !strings.HasPrefix(trimmed, "query") || seen[s] {
				return true
			}
			if _, errs := gqlparser.LoadQuery(parsedSchema, s); errs != nil {
				return true
			}
			seen[s] = true
			out = append(out, s)
			return true
		})
	}
	sort.Strings(out)
	return out
}

func FuzzFastPath(f *testing.F) {
	fetchers := fixtureListers(f)
	names := make([]string, 0, len(fetchers))
	for n := range fetchers {
		names = append(names, n)
	}
	sort.Strings(names)
	pairs := make([]diffPair, len(names))
	for i, n := range names {
		pairs[i] = newDiffPair(fetchers[n])
	}
	for _, seed := range [][]byte{
		{0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
		[]byte("workspaces tables folder"),
		bytes.Repeat([]byte{3, 200, 17, 99}, 20),
		bytes.Repeat([]byte{1, 0}, 40),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		g := &opGen{data: data}
		fixture := g.pick(len(pairs))
		query, vars := g.document()
		pairs[fixture].compare(t, names[fixture], diffBody(query, vars, ""))
	})
}

// opGen builds a GraphQL operation over this schema from fuzz input:
// fields of each type with aliases, arguments as literals and variables,
// inline and named fragments, @skip/@include with literals and variables,
// __typename. Most of what it builds validates; what does not is compared
// too (both sides must reject it alike).
type opGen struct {
	data     []byte
	pos      int
	vars     map[string]any
	varDefs  []string
	frags    []string
	fragSeen int
}

func (g *opGen) pick(n int) int {
	if n <= 1 {
		return 0
	}
	if g.pos >= len(g.data) {
		return 0
	}
	b := g.data[g.pos]
	g.pos++
	return int(b) % n
}

func (g *opGen) document() (string, map[string]any) {
	g.vars = map[string]any{}
	sel := g.selection("Query", 0)
	var b strings.Builder
	b.WriteString("query")
	if len(g.varDefs) > 0 {
		b.WriteString("(" + strings.Join(g.varDefs, ", ") + ")")
	}
	b.WriteString(" " + sel)
	for _, fr := range g.frags {
		b.WriteString(" " + fr)
	}
	return b.String(), g.vars
}

var genAliases = []string{"", "", "", "a", "b", "x"}

func (g *opGen) selection(typeName string, depth int) string {
	def := parsedSchema.Types[typeName]
	var parts []string
	for n := 1 + g.pick(4); n > 0; n-- {
		switch g.pick(8) {
		case 0:
			parts = append(parts, "__typename"+g.directives())
		case 1:
			if depth < 4 {
				parts = append(parts, "..."+g.maybeOn(typeName)+g.directives()+" "+g.selection(typeName, depth+1))
				continue
			}
			fallthrough
		case 2:
			if depth < 4 && g.fragSeen < 3 {
				g.fragSeen++
				name := fmt.Sprintf("F%d", len(g.frags))
				g.frags = append(g.frags, "") // reserve the slot: nested fragments append after
				i := len(g.frags) - 1
				g.frags[i] = "fragment " + name + " on " + typeName + " " + g.selection(typeName, depth+1)
				parts = append(parts, "..."+name+g.directives())
				continue
			}
			fallthrough
		default:
			fields := visibleFields(def)
			fd := fields[g.pick(len(fields))]
			s := genAliases[g.pick(len(genAliases))]
			if s != "" {
				s += ": "
			}
			s += fd.Name + g.arguments(fd) + g.directives()
			if child := fd.Type.Name(); parsedSchema.Types[child].Kind == gqlast.Object || parsedSchema.Types[child].Kind == gqlast.Interface {
				if depth >= 4 {
					continue
				}
				s += " " + g.selection(child, depth+1)
			}
			parts = append(parts, s)
		}
	}
	if len(parts) == 0 {
		parts = append(parts, "__typename")
	}
	return "{ " + strings.Join(parts, " ") + " }"
}

func visibleFields(def *gqlast.Definition) []*gqlast.FieldDefinition {
	var out []*gqlast.FieldDefinition
	for _, f := range def.Fields {
		if !strings.HasPrefix(f.Name, "__") {
			out = append(out, f)
		}
	}
	return out
}

func (g *opGen) maybeOn(typeName string) string {
	if g.pick(2) == 0 {
		return ""
	}
	return " on " + typeName
}

func (g *opGen) directives() string {
	switch g.pick(6) {
	case 0:
		return " @include(if: " + g.boolArg() + ")"
	case 1:
		return " @skip(if: " + g.boolArg() + ")"
	}
	return ""
}

func (g *opGen) boolArg() string {
	if g.pick(2) == 0 {
		return strconv.FormatBool(g.pick(2) == 0)
	}
	return g.variable("Boolean!", g.pick(2) == 0)
}

// variable declares a new variable of type typ with value v.
func (g *opGen) variable(typ string, v any) string {
	name := fmt.Sprintf("v%d", len(g.varDefs))
	g.varDefs = append(g.varDefs, "$"+name+": "+typ)
	g.vars[name] = v
	return "$" + name
}

var (
	genIDs = []string{"1", "12", "15", "16", "1000", "1001", "starred", "shared", "404", "", "e3b0c442-98fc-4c14-9afb-f4c8996fb924", "E3B0C44298FC4C149AFBF4C8996FB924", "nope",
		globalID(kindWorkspace, "12"), globalID(kindWorkspace, "starred"), globalID(kindDTable, "e3b0c442-98fc-4c14-9afb-f4c8996fb924"), globalID(kindFolder, "1:1")}
	genStrings = []string{"", "CRM", "a", "Base", "ä", "Plan", "x\"y"}
	genInts    = []int{0, 1, 2, 5, -1, 1001}
	genTimes   = []string{"2020-01-01T00:00:00Z", "2026-03-01T10:00:00+01:00", "yesterday"}
)

func (g *opGen) arguments(fd *gqlast.FieldDefinition) string {
	var args []string
	for _, a := range fd.Arguments {
		if a.Type.NonNull || g.pick(3) == 0 {
			lit, val := g.value(a.Type)
			if g.pick(3) == 0 {
				args = append(args, a.Name+": "+g.variable(a.Type.String(), val))
			} else {
				args = append(args, a.Name+": "+lit)
			}
		}
	}
	if len(args) == 0 {
		return ""
	}
	return "(" + strings.Join(args, ", ") + ")"
}

// value returns a GraphQL literal of type t and the same value as a JSON
// variable.
func (g *opGen) value(t *gqlast.Type) (string, any) {
	if !t.NonNull && g.pick(8) == 0 {
		return "null", nil
	}
	switch name := t.Name(); name {
	case "ID":
		s := genIDs[g.pick(len(genIDs))]
		return strconv.Quote(s), s
	case "String":
		s := genStrings[g.pick(len(genStrings))]
		return strconv.Quote(s), s
	case "Int":
		i := genInts[g.pick(len(genInts))]
		return strconv.Itoa(i), i
	case "Boolean":
		b := g.pick(2) == 0
		return strconv.FormatBool(b), b
	case "DateTime":
		s := genTimes[g.pick(len(genTimes))]
		return strconv.Quote(s), s
	default:
		def := parsedSchema.Types[name]
		switch def.Kind {
		case gqlast.Enum:
			v := def.EnumValues[g.pick(len(def.EnumValues))].Name
			return v, v
		case gqlast.InputObject:
			var lits []string
			obj := map[string]any{}
			for _, f := range def.Fields {
				if g.pick(3) == 0 {
					lit, val := g.value(f.Type)
					lits = append(lits, f.Name+": "+lit)
					obj[f.Name] = val
				}
			}
			return "{" + strings.Join(lits, ", ") + "}", obj
		}
	}
	return "null", nil
}

// newOpContext is the operation context gqlgen would build for doc's only
// operation, for tests that compile plans directly.
func newOpContext(doc *gqlast.QueryDocument) *graphql.OperationContext {
	return &graphql.OperationContext{Doc: doc, Operation: doc.Operations[0], Variables: map[string]any{}}
}

// TestFuzzGeneratorReachesTheFastPath keeps FuzzFastPath honest: most of
// what its generator builds must validate, and most of that must be
// planned by the fast path, or the fuzz target compares gqlgen with itself.
func TestFuzzGeneratorReachesTheFastPath(t *testing.T) {
	srv := &fastSchema{plans: newPlanCache(1 << 30)}
	rng := rand.New(rand.NewPCG(1, 2))
	var valid, planned int
	const n = 2000
	for i := 0; i < n; i++ {
		data := make([]byte, 64)
		for j := range data {
			data[j] = byte(rng.UintN(256))
		}
		query, vars := (&opGen{data: data}).document()
		doc, errs := gqlparser.LoadQuery(parsedSchema, query)
		if errs != nil {
			continue
		}
		valid++
		opCtx := newOpContext(doc)
		opCtx.Variables = vars
		if srv.plans.plan(context.Background(), srv, opCtx) != nil {
			planned++
		}
	}
	t.Logf("%d of %d generated operations validate, %d of them are planned", valid, n, planned)
	if valid < n/2 || planned < valid/2 {
		t.Errorf("%d of %d generated operations validate, %d of them are planned: want at least half each", valid, n, planned)
	}
}

// TestFastWriteMatchesJSONMarshal: what fastPOST writes for fast-path data
// is what gqlgen's transport (json.Marshal of the response) writes, for
// strings of every kind the fast path can produce.
func TestFastWriteMatchesJSONMarshal(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	alphabet := []string{"a", "<", ">", "&", "\u2028", "\u2029", "\xe2\x80", "\xe2", "\"", "\\", "\n", "\x00", "\x1f", "\xff", "ü", "𝄞", " ", "/"}
	for i := 0; i < 5000; i++ {
		var s strings.Builder
		for n := rng.IntN(12 + 60*(i%2)); n > 0; n-- {
			s.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		data := append(appendQuoted([]byte(`{"k":[`), s.String()), ']', '}')
		want, err := json.Marshal(&graphql.Response{Data: data})
		if err != nil {
			t.Fatal(err)
		}
		got := append(appendHTMLEscaped([]byte(`{"data":`), data), '}')
		if !bytes.Equal(got, want) {
			t.Fatalf("%q:\nfast %s\njson %s", s.String(), got, want)
		}
		// What fastPOST actually writes: the same bytes, in pieces.
		rec := httptest.NewRecorder()
		fw := &fastResponseWriter{ResponseWriter: rec, pending: data}
		if _, err := fw.Write(standIn); err != nil || !bytes.Equal(rec.Body.Bytes(), want) {
			t.Fatalf("%q:\nwriter %s (%v)\njson   %s", s.String(), rec.Body.Bytes(), err, want)
		}
	}
}

// TestFastTimeMatchesMarshalDateTime: the fast path writes DateTime as the
// schema's scalar does, for any instant and zone, years outside 0-9999
// included.
func TestFastTimeMatchesMarshalDateTime(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	zones := []*time.Location{time.UTC, time.FixedZone("p", 3600), time.FixedZone("m", -9*3600-1800)}
	times := []time.Time{{}, time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(-1, 6, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 1, 0, 30, 0, 0, zones[1])}
	for i := 0; i < 5000; i++ {
		times = append(times, time.Unix(rng.Int64N(1<<40)-1<<39, rng.Int64N(1e9)).In(zones[rng.IntN(len(zones))]))
	}
	for _, tm := range times {
		var want bytes.Buffer
		scalar.MarshalDateTime(tm).MarshalGQL(&want)
		r := &runState{}
		r.time(&tm)
		if string(r.buf) != want.String() {
			t.Fatalf("%v: fast %s, scalar %s", tm, r.buf, want.String())
		}
	}
}

// TestDecodeFieldsFollowsTheSelection: an operation asks the decoder for
// exactly the optional base fields it can show, and for all of them as
// soon as it does anything the whitelist does not know.
func TestDecodeFieldsFollowsTheSelection(t *testing.T) {
	cases := []struct {
		query string
		want  upstream.Fields
	}{
		{`{ workspaces { id ownerName tables { name updatedAt } } }`, upstream.FieldUpdatedAt},
		{`{ workspaces { seatableId tables { id seatableId uuid } folders { seatableId tables { name } } } }`, 0},
		{`{ a: workspace(id: "1") { id name tables { name } } }`, 0},
		{`{ workspaces { id name } }`, 0},
		{`{ workspaces { ...W } } fragment W on Workspace { groupSharedTables { color permission } folders { tables { icon } } }`,
			upstream.FieldColor | upstream.FieldShare | upstream.FieldIcon},
		{`{ workspaces { tables { workspace { tables { createdAt } } folder { name } } } }`, upstream.FieldCreatedAt},
		{`{ workspaces { tables(orderBy: {field: UPDATED_AT}) { name } } }`, upstream.AllFields},
		{`{ workspaces { groupSharedViews { id dtable { name } } } }`, upstream.FieldShare},
		{`{ workspaces { groupSharedViews { __typename dtable { updatedAt } } } }`, upstream.FieldUpdatedAt},
		{`{ dtables { nodes { name } } }`, upstream.AllFields},
		{`{ dtable(uuid: "e3b0c442-98fc-4c14-9afb-f4c8996fb924") { name } }`, upstream.AllFields},
		{`mutation { starDTable(input: {uuid: "e3b0c442-98fc-4c14-9afb-f4c8996fb924"}) { uuid } }`, upstream.AllFields},
	}
	for _, c := range cases {
		doc, errs := gqlparser.LoadQuery(parsedSchema, c.query)
		if errs != nil {
			t.Fatalf("%s: %v", c.query, errs)
		}
		if got := readsOf(doc.Operations[0]).fields; got != c.want {
			t.Errorf("%s: fields %b, want %b", c.query, got, c.want)
		}
	}
}

// TestPlanCacheIsBoundedByBytes: plans keep their documents alive, so the
// cache holds at most its budget of (estimated) document bytes, whatever
// number of distinct documents clients send.
func TestPlanCacheIsBoundedByBytes(t *testing.T) {
	const budget = 64 << 10
	srv := &fastSchema{plans: newPlanCache(budget)}
	for i := 0; i < 500; i++ {
		q := fmt.Sprintf(`{ a%d: workspaces { id name } }`, i)
		doc, errs := gqlparser.LoadQuery(parsedSchema, q)
		if errs != nil {
			t.Fatal(errs)
		}
		opCtx := newOpContext(doc)
		opCtx.RawQuery = q
		if srv.plans.plan(context.Background(), srv, opCtx) == nil {
			t.Fatalf("%s: not planned", q)
		}
		if srv.plans.bytes > budget {
			t.Fatalf("after %d documents the cache holds %d bytes, over its %d", i+1, srv.plans.bytes, budget)
		}
	}
	if n := len(srv.plans.ops); n == 0 || n >= 500 {
		t.Errorf("%d operations kept of 500", n)
	}
}
