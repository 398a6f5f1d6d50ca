package app

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

// Apollo Federation subgraph (docs/federation.md): _service and _entities
// through the whole handler, against the fake SeaTable.

// federationFixture is a personal workspace (id 7) with n bases, named
// "<prefix>-<i>", uuids fedUUID(i).
func federationFixture(prefix string, n int) []byte {
	var tables []string
	for i := range n {
		tables = append(tables, fmt.Sprintf(`{"id":%d,"workspace_id":7,"uuid":%q,"name":"%s-%d","updated_at":"2026-01-01T00:00:00+00:00"}`, i+1, fedUUID(i), prefix, i))
	}
	return []byte(`{"workspace_list":[
		{"id":"","name":"starred","type":"starred","table_list":[]},
		{"id":7,"name":"ws-of-` + prefix + `","type":"personal","table_list":[` + strings.Join(tables, ",") + `]},
		{"id":8,"name":"group-of-` + prefix + `","type":"group","group_id":3,"table_list":[]}]}`)
}

func fedUUID(i int) string { return fmt.Sprintf("%08x-2222-4333-8444-555555555555", 0x10000000+i) }

// fedGlobalID is the global id of an object (graph/globalid.go: the format
// is fixed, since client caches keep it).
func fedGlobalID(kind, key string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(kind + ":" + key))
}

const entitiesQuery = `query($r: [_Any!]!) { _entities(representations: $r) {
	__typename ... on DTable { id uuid name workspace { name } } ... on Workspace { id seatableId name } } }`

type entity struct {
	Typename   string `json:"__typename"`
	ID         string
	UUID       string
	SeatableID string
	Name       string
	Workspace  *struct{ Name string }
}

// entities runs entitiesQuery with reps and returns the entities and errors.
func (e *testEnv) entities(t *testing.T, authorization string, reps []map[string]any) ([]*entity, []gqlError) {
	t.Helper()
	status, resp := e.post(t, authorization, entitiesQuery, map[string]any{"r": reps})
	if status != http.StatusOK {
		t.Fatalf("_entities: status %d, errors %+v", status, resp.Errors)
	}
	var data struct {
		Entities []*entity `json:"_entities"`
	}
	if err := json.Unmarshal(resp.Data, &data); err != nil {
		t.Fatalf("decode: %v: %s", err, resp.Data)
	}
	if len(data.Entities) != len(reps) {
		t.Fatalf("%d entities for %d representations: %s", len(data.Entities), len(reps), resp.Data)
	}
	return data.Entities, resp.Errors
}

// TestFederationEntitiesCostOneListRead: 50 DTable representations, by id
// or by uuid, with Workspace representations in the same call, cost one
// SeaTable list read, and come back in order, each the object named.
func TestFederationEntitiesCostOneListRead(t *testing.T) {
	const n = 50
	e := newTestEnv(t)
	e.fake.SetToken(tokA, federationFixture("a", n))
	for _, key := range []string{"id", "uuid"} {
		t.Run(key, func(t *testing.T) {
			var reps []map[string]any
			for i := range n {
				if key == "id" {
					reps = append(reps, map[string]any{"__typename": "DTable", "id": fedGlobalID("DTable", fedUUID(i))})
				} else {
					// The 32-character form, upper case: uuids are normalised.
					reps = append(reps, map[string]any{"__typename": "DTable", "uuid": strings.ToUpper(strings.ReplaceAll(fedUUID(i), "-", ""))})
				}
			}
			reps = append(reps,
				map[string]any{"__typename": "Workspace", "id": fedGlobalID("Workspace", "7")},
				map[string]any{"__typename": "Workspace", "id": fedGlobalID("Workspace", "99")}) // not visible
			e.fake.ResetCounts()
			got, errs := e.entities(t, "Token "+tokA, reps)
			if len(errs) > 0 {
				t.Fatalf("errors: %+v", errs)
			}
			if calls := e.fake.Calls(); calls != 1 {
				t.Fatalf("_entities with %d DTable and 2 Workspace representations made %d SeaTable calls, want 1", n, calls)
			}
			for i := range n {
				d := got[i]
				if d == nil || d.Typename != "DTable" || d.UUID != fedUUID(i) || d.Name != fmt.Sprintf("a-%d", i) ||
					d.ID != fedGlobalID("DTable", fedUUID(i)) || d.Workspace == nil || d.Workspace.Name != "ws-of-a" {
					t.Fatalf("entity %d: %+v", i, d)
				}
			}
			if w := got[n]; w == nil || w.Typename != "Workspace" || w.SeatableID != "7" || w.Name != "ws-of-a" {
				t.Errorf("workspace 7: %+v", w)
			}
			if got[n+1] != nil {
				t.Errorf("a workspace the token cannot see resolved to %+v, want null", got[n+1])
			}
		})
	}
	t.Run("seatableId", func(t *testing.T) {
		e.fake.ResetCounts()
		got, errs := e.entities(t, "Token "+tokA, []map[string]any{
			{"__typename": "Workspace", "seatableId": "8"}, {"__typename": "Workspace", "seatableId": "7"}})
		if len(errs) > 0 || e.fake.Calls() != 1 {
			t.Fatalf("errors %+v, %d calls", errs, e.fake.Calls())
		}
		if got[0].Name != "group-of-a" || got[1].Name != "ws-of-a" {
			t.Errorf("got %+v %+v", got[0], got[1])
		}
	})
}

// TestFederationEntitiesAreTheCallersOwn: two tokens see different bases
// under one uuid, and one sees a base the other cannot: each resolves its
// own, and the other's is null, never the other token's data.
func TestFederationEntitiesAreTheCallersOwn(t *testing.T) {
	const tokB = "tokB-0123456789abcdef"
	e := newTestEnv(t)
	e.fake.SetToken(tokA, federationFixture("a", 3))
	e.fake.SetToken(tokB, federationFixture("b", 1)) // only fedUUID(0)
	reps := []map[string]any{
		{"__typename": "DTable", "id": fedGlobalID("DTable", fedUUID(0))},
		{"__typename": "DTable", "id": fedGlobalID("DTable", fedUUID(2))},
	}
	a, errs := e.entities(t, "Token "+tokA, reps)
	if len(errs) > 0 || a[0] == nil || a[0].Name != "a-0" || a[1] == nil || a[1].Name != "a-2" {
		t.Fatalf("token A: %+v %+v, errors %+v", a[0], a[1], errs)
	}
	b, errs := e.entities(t, "Token "+tokB, reps)
	if len(errs) > 0 || b[0] == nil || b[0].Name != "b-0" || b[0].Workspace.Name != "ws-of-b" {
		t.Fatalf("token B, shared uuid: %+v, errors %+v", b[0], errs)
	}
	if b[1] != nil {
		t.Fatalf("token B resolved a base only token A sees: %+v", b[1])
	}
	// Without a token: the same error as any query, for the whole call.
	status, resp := e.post(t, "", entitiesQuery, map[string]any{"r": reps})
	if status != http.StatusOK && status != http.StatusUnauthorized || len(resp.Errors) == 0 || resp.Errors[0].Extensions["code"] != "UNAUTHENTICATED" {
		t.Fatalf("no token: status %d, errors %+v", status, resp.Errors)
	}
}

// TestFederationEntitiesBadKeys: a key this server did not make fails its
// own representation (BAD_USER_INPUT at its index); the others resolve.
func TestFederationEntitiesBadKeys(t *testing.T) {
	e := newTestEnv(t)
	e.fake.SetToken(tokA, federationFixture("a", 2))
	got, errs := e.entities(t, "Token "+tokA, []map[string]any{
		{"__typename": "DTable", "id": fedGlobalID("DTable", fedUUID(1))},
		{"__typename": "DTable", "id": fedGlobalID("Workspace", "7")}, // another type's id
		{"__typename": "DTable", "id": "not-an-id"},
	})
	if got[0] == nil || got[0].Name != "a-1" || got[1] != nil || got[2] != nil {
		t.Fatalf("entities: %+v %+v %+v", got[0], got[1], got[2])
	}
	if len(errs) != 2 {
		t.Fatalf("want 2 errors, got %+v", errs)
	}
	for i, err := range errs {
		if err.Extensions["code"] != "BAD_USER_INPUT" || len(err.Path) != 2 || err.Path[0] != "_entities" || err.Path[1] != float64(i+1) {
			t.Errorf("error %d: %+v", i, err)
		}
	}
}

// TestFederationOtherEntities: every other entity type resolves from the
// same one list read as node(id:) does.
func TestFederationOtherEntities(t *testing.T) {
	e := newTestEnv(t)
	e.fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Current))
	var nodes struct {
		Workspaces []struct {
			Folders []struct {
				ID    string
				Items []struct{ ID string }
			}
			SharedViews      []struct{ ID, SeatableID string }
			ShareFolders     []struct{ ID, SeatableID string }
			GroupSharedViews []struct{ ID string }
		}
	}
	e.mustData(t, "Token "+tokA, `{ workspaces { folders { id items { id } } sharedViews { id seatableId } shareFolders { id seatableId } groupSharedViews { id } } }`, &nodes)
	var reps []map[string]any
	var want []string
	add := func(typename, key, value string) {
		reps = append(reps, map[string]any{"__typename": typename, key: value})
		want = append(want, typename)
	}
	for _, ws := range nodes.Workspaces {
		for _, f := range ws.Folders {
			add("Folder", "id", f.ID)
			for _, it := range f.Items {
				add("FolderItem", "id", it.ID)
			}
		}
		for _, v := range ws.SharedViews {
			add("SharedView", "id", v.ID)
		}
		for _, f := range ws.ShareFolders {
			add("ShareFolder", "id", f.ID)
		}
		for _, v := range ws.GroupSharedViews {
			add("GroupSharedView", "id", v.ID)
		}
	}
	seen := map[string]bool{}
	for _, w := range want {
		seen[w] = true
	}
	if len(seen) != 5 {
		t.Fatalf("the demo fixture lacks some entity types: %v", seen)
	}
	e.fake.ResetCounts()
	status, resp := e.post(t, "Token "+tokA, `query($r: [_Any!]!) { _entities(representations: $r) { __typename
		... on Node { id } } }`, map[string]any{"r": reps})
	if status != http.StatusOK || len(resp.Errors) > 0 {
		t.Fatalf("status %d, errors %+v", status, resp.Errors)
	}
	var data struct {
		Entities []*struct {
			Typename string `json:"__typename"`
			ID       string
		} `json:"_entities"`
	}
	if err := json.Unmarshal(resp.Data, &data); err != nil {
		t.Fatal(err)
	}
	for i, got := range data.Entities {
		if got == nil || got.Typename != want[i] || got.ID != reps[i]["id"] {
			t.Errorf("representation %d (%v): %+v", i, reps[i], got)
		}
	}
	if calls := e.fake.Calls(); calls != 1 {
		t.Errorf("%d representations of 5 types made %d SeaTable calls, want 1", len(reps), calls)
	}
	// The other key of views and share folders: SeaTable's own id.
	var byID []map[string]any
	var wantIDs []string
	for _, ws := range nodes.Workspaces {
		for _, v := range ws.SharedViews {
			byID = append(byID, map[string]any{"__typename": "SharedView", "seatableId": v.SeatableID})
			wantIDs = append(wantIDs, v.ID)
		}
		for _, f := range ws.ShareFolders {
			byID = append(byID, map[string]any{"__typename": "ShareFolder", "seatableId": f.SeatableID})
			wantIDs = append(wantIDs, f.ID)
		}
	}
	byID = append(byID, map[string]any{"__typename": "ShareFolder", "seatableId": "no-such-folder"})
	wantIDs = append(wantIDs, "")
	status, resp = e.post(t, "Token "+tokA, `query($r: [_Any!]!) { _entities(representations: $r) { ... on Node { id } } }`, map[string]any{"r": byID})
	data.Entities = nil
	if err := json.Unmarshal(resp.Data, &data); err != nil || status != http.StatusOK || len(resp.Errors) > 0 || len(data.Entities) != len(wantIDs) {
		t.Fatalf("by seatableId: %d %s %+v", status, resp.Data, resp.Errors)
	}
	for i, got := range data.Entities {
		if (got == nil) != (wantIDs[i] == "") || got != nil && got.ID != wantIDs[i] {
			t.Errorf("by seatableId %v: %+v, want id %q", byID[i], got, wantIDs[i])
		}
	}
}

// TestFederationServiceSDL: _service { sdl } is this schema with its
// federation directives; with introspection off it answers only a gateway
// that sends GATEWAY_SECRET, and refuses others as __schema is refused.
func TestFederationServiceSDL(t *testing.T) {
	const secret = "gw-secret-0123456789abcdef"
	query := `{ _service { sdl } }`
	sdlOf := func(t *testing.T, resp gqlResponse) string {
		t.Helper()
		var data struct {
			Service struct{ SDL string } `json:"_service"`
		}
		if err := json.Unmarshal(resp.Data, &data); err != nil {
			t.Fatal(err)
		}
		return data.Service.SDL
	}
	t.Run("introspection on", func(t *testing.T) {
		e := newTestEnv(t)
		status, resp := e.post(t, "", query, nil)
		if status != http.StatusOK || len(resp.Errors) > 0 {
			t.Fatalf("status %d, errors %+v", status, resp.Errors)
		}
		sdl := sdlOf(t, resp)
		for _, want := range []string{`@link(url: "https://specs.apollo.dev/federation/v2.7"`, `extend type DTable @key(fields: "id") @key(fields: "uuid")`, `extend type Workspace @key(fields: "id") @key(fields: "seatableId")`, `type DTable implements Node {`} {
			if !strings.Contains(sdl, want) {
				t.Errorf("sdl lacks %s", want)
			}
		}
		if e.fake.Calls() != 0 {
			t.Errorf("_service made %d SeaTable calls", e.fake.Calls())
		}
	})
	t.Run("introspection off", func(t *testing.T) {
		e := newTestEnv(t, withEnv("INTROSPECTION", "false", "GATEWAY_SECRET", secret))
		for _, header := range []string{"", "wrong-secret-0123456789"} {
			req := e.request(t, query, nil)
			if header != "" {
				req.Header.Set("Gateway-Secret", header)
			}
			status, resp := e.do(t, req)
			if len(resp.Errors) != 1 || resp.Errors[0].Extensions["code"] != "GRAPHQL_VALIDATION_FAILED" || string(resp.Data) != "null" && len(resp.Data) > 0 {
				t.Errorf("secret %q: status %d, data %s, errors %+v", header, status, resp.Data, resp.Errors)
			}
		}
		req := e.request(t, query, nil)
		req.Header.Set("Gateway-Secret", secret)
		status, resp := e.do(t, req)
		if status != http.StatusOK || len(resp.Errors) > 0 || !strings.Contains(sdlOf(t, resp), "@key") {
			t.Fatalf("gateway: status %d, errors %+v", status, resp.Errors)
		}
		// The secret opens _service, not introspection.
		req = e.request(t, `{ __schema { queryType { name } } }`, nil)
		req.Header.Set("Gateway-Secret", secret)
		if _, resp := e.do(t, req); len(resp.Errors) == 0 {
			t.Errorf("__schema answered with INTROSPECTION=false: %s", resp.Data)
		}
	})
}

// request builds a GraphQL POST to the env.
func (e *testEnv) request(t *testing.T, query string, vars map[string]any) *http.Request {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, err := http.NewRequest(http.MethodPost, e.url+"/graphql", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	return req
}

// TestFederationComposition composes this server's _service SDL with the
// projects test subgraph (tests/federation/projects.mjs: it references
// DTable by uuid and adds DTable.projects) with The Guild's
// federation-composition and Apollo's composition; both must succeed, and
// Apollo's with no hints. The composed DTable is checked here.
func TestFederationComposition(t *testing.T) {
	c := needNodeClient(t, "federation", "the federation test packages", "@apollo/composition", "@theguild/federation-composition", "@apollo/subgraph")
	e := newTestEnv(t)
	out := t.TempDir()
	c.run(60*time.Second, []string{"SEATABLE_SUBGRAPH_URL=" + e.url + "/graphql", "OUT_DIR=" + out}, "compose.mjs")
	for _, tool := range []string{"apollo", "guild"} {
		raw, err := os.ReadFile(filepath.Join(out, tool+".graphql"))
		if err != nil {
			t.Fatal(err)
		}
		dtable := supergraphType(string(raw), "DTable")
		t.Logf("%s supergraph, DTable:\n%s", tool, dtable)
		for _, want := range []string{
			// Apollo adds `, extension: true` for keys declared in an extension
			// (federation.graphqls); The Guild does not.
			`@join__type(graph: SEATABLE, key: "id"`, `@join__type(graph: SEATABLE, key: "uuid"`,
			`@join__type(graph: PROJECTS, key: "uuid")`,
			`projects: [Project!]! @join__field(graph: PROJECTS)`, `name: String! @join__field(graph: SEATABLE)`,
		} {
			if !strings.Contains(dtable, want) {
				t.Errorf("%s: the composed DTable lacks %s", tool, want)
			}
		}
	}
	if e.fake.Calls() != 0 {
		t.Errorf("composition made %d SeaTable calls", e.fake.Calls())
	}
}

// supergraphType cuts the definition of type name out of a supergraph SDL.
func supergraphType(sdl, name string) string {
	start := strings.Index(sdl, "\ntype "+name+"\n")
	if start < 0 {
		start = strings.Index(sdl, "\ntype "+name+" ")
	}
	if start < 0 {
		return ""
	}
	end := strings.Index(sdl[start:], "\n}")
	if end < 0 {
		return sdl[start:]
	}
	return sdl[start+1 : start+end+2]
}

// TestFederationGateway runs Apollo Gateway (tests/federation/gateway.mjs)
// over this server and the projects test subgraph, with this server
// hardened as in production: INTROSPECTION=false and
// TRUSTED_DOCUMENTS_ONLY=true, the gateway trusted by GATEWAY_SECRET. A
// query joining both subgraphs answers with each client's own bases, costs
// one SeaTable list read per client request, and the client's
// Authorization reaches SeaTable; a client that skips the gateway cannot
// send _entities or read _service.
func TestFederationGateway(t *testing.T) {
	const secret = "gw-secret-0123456789abcdef"
	const tokB = "tokB-0123456789abcdef"
	c := needNodeClient(t, "federation", "the federation test packages", "@apollo/gateway", "@apollo/server", "@apollo/subgraph")
	manifest := writeManifest(t, map[string]string{"w": `{ workspaces { name } }`})
	e := newTestEnv(t, withEnv("INTROSPECTION", "false", "TRUSTED_DOCUMENTS", manifest, "TRUSTED_DOCUMENTS_ONLY", "true", "GATEWAY_SECRET", secret))
	e.fake.SetToken(tokA, federationFixture("a", 3))
	e.fake.SetToken(tokB, federationFixture("b", 1)) // sees fedUUID(0) only
	e.fake.SetRecordRequests(true)

	const join = `{ projects { name dtable { name updatedAt workspace { name } projects { name } } } }`
	reqs, _ := json.Marshal([]map[string]string{
		{"authorization": "Token " + tokA, "query": join},
		{"authorization": "Token " + tokB, "query": join},
		{"authorization": "Token unknown-0123456789abcdef", "query": join}, // SeaTable answers 401
	})
	out := filepath.Join(t.TempDir(), "answers.json")
	// Three projects: two in base 0, one in base 2 (which B cannot see).
	c.run(60*time.Second, []string{"SEATABLE_SUBGRAPH_URL=" + e.url + "/graphql", "GATEWAY_SECRET=" + secret, "OUT_FILE=" + out,
		"PROJECT_UUIDS=" + strings.Join([]string{fedUUID(0), fedUUID(2), fedUUID(0)}, ","), "REQUESTS=" + string(reqs)}, "gateway.mjs")
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var answers []struct {
		Status int
		Body   json.RawMessage
	}
	if err := json.Unmarshal(raw, &answers); err != nil || len(answers) != 3 {
		t.Fatalf("answers: %v: %s", err, raw)
	}
	// The data, and no errors. (Apollo Gateway notes in extensions that it
	// nulled B's dtable of base 2, whose non-null name could not be had.)
	data := func(body json.RawMessage) string {
		var b struct {
			Data   json.RawMessage
			Errors []any
		}
		_ = json.Unmarshal(body, &b)
		if len(b.Errors) > 0 {
			return "errors: " + string(body)
		}
		return string(b.Data)
	}
	wantA := `{"projects":[` +
		`{"name":"Project 1","dtable":{"name":"a-0","updatedAt":"2026-01-01T00:00:00Z","workspace":{"name":"ws-of-a"},"projects":[{"name":"Project 1"},{"name":"Project 3"}]}},` +
		`{"name":"Project 2","dtable":{"name":"a-2","updatedAt":"2026-01-01T00:00:00Z","workspace":{"name":"ws-of-a"},"projects":[{"name":"Project 2"}]}},` +
		`{"name":"Project 3","dtable":{"name":"a-0","updatedAt":"2026-01-01T00:00:00Z","workspace":{"name":"ws-of-a"},"projects":[{"name":"Project 1"},{"name":"Project 3"}]}}]}`
	if answers[0].Status != 200 || data(answers[0].Body) != wantA {
		t.Errorf("token A through the gateway: %d %s\nwant %s", answers[0].Status, answers[0].Body, wantA)
	}
	// B: its own name for base 0, null for base 2.
	wantB := `{"projects":[` +
		`{"name":"Project 1","dtable":{"name":"b-0","updatedAt":"2026-01-01T00:00:00Z","workspace":{"name":"ws-of-b"},"projects":[{"name":"Project 1"},{"name":"Project 3"}]}},` +
		`{"name":"Project 2","dtable":null},` +
		`{"name":"Project 3","dtable":{"name":"b-0","updatedAt":"2026-01-01T00:00:00Z","workspace":{"name":"ws-of-b"},"projects":[{"name":"Project 1"},{"name":"Project 3"}]}}]}`
	if answers[1].Status != 200 || data(answers[1].Body) != wantB {
		t.Errorf("token B through the gateway: %d %s\nwant %s", answers[1].Status, answers[1].Body, wantB)
	}
	// This server's error code reaches the client through the gateway.
	var unknown struct {
		Data   struct{ Projects []struct{ Dtable any } }
		Errors []gqlError
	}
	_ = json.Unmarshal(answers[2].Body, &unknown)
	if len(unknown.Errors) == 0 || unknown.Errors[0].Extensions["code"] != "UNAUTHENTICATED" || len(unknown.Data.Projects) != 3 || unknown.Data.Projects[0].Dtable != nil {
		t.Errorf("unknown token through the gateway: %s", answers[2].Body)
	}
	// One SeaTable list read per client request, each with its own token.
	got := e.fake.Requests()
	if len(got) != 3 || got[0].Authorization != "Token "+tokA || got[1].Authorization != "Token "+tokB {
		t.Errorf("SeaTable calls: %+v, want one with each token", got)
	}
	t.Logf("gateway join: %d SeaTable calls for 3 client requests; token A's answer: %s", len(got), answers[0].Body)

	// Without the secret, the gateway's documents are a client's: refused.
	e.fake.ResetCounts()
	rep := map[string]any{"r": []map[string]any{{"__typename": "DTable", "uuid": fedUUID(0)}}}
	for _, q := range []string{entitiesQuery, `{ _service { sdl } }`} {
		status, resp := e.post(t, "Token "+tokA, q, rep)
		if len(resp.Errors) == 0 || resp.Errors[0].Extensions["code"] != "BAD_USER_INPUT" || !strings.Contains(resp.Errors[0].Message, "TRUSTED_DOCUMENTS_ONLY") {
			t.Errorf("%.30s… without the secret: status %d, errors %+v", q, status, resp.Errors)
		}
	}
	if e.fake.Calls() != 0 {
		t.Errorf("refused documents made %d SeaTable calls", e.fake.Calls())
	}
}

// TestFederationBehindAGateway: a gateway's requests (GATEWAY_SECRET, with
// TRUSTED_DOCUMENTS_ONLY) meet every feature a client's do: batches share
// one list read, APQ registers and serves their documents, the complexity
// limit counts each representation, rate limits count them per token, and
// SeaTable's errors keep their codes.
func TestFederationBehindAGateway(t *testing.T) {
	const secret = "gw-secret-0123456789abcdef"
	manifest := writeManifest(t, map[string]string{"w": `{ workspaces { name } }`})
	hardened := []string{"TRUSTED_DOCUMENTS", manifest, "TRUSTED_DOCUMENTS_ONLY", "true", "GATEWAY_SECRET", secret}
	reps := func(n int) []map[string]any {
		var out []map[string]any
		for i := range n {
			out = append(out, map[string]any{"__typename": "DTable", "uuid": fedUUID(i)})
		}
		return out
	}
	send := func(t *testing.T, e *testEnv, body any) (int, []byte) {
		t.Helper()
		raw, _ := json.Marshal(body)
		req, _ := http.NewRequest(http.MethodPost, e.url+"/graphql", strings.NewReader(string(raw)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Token "+tokA)
		req.Header.Set("Gateway-Secret", secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, out
	}
	one := func(t *testing.T, raw []byte) gqlResponse {
		t.Helper()
		var r gqlResponse
		if err := json.Unmarshal(raw, &r); err != nil {
			t.Fatalf("%v: %s", err, raw)
		}
		return r
	}
	op := func(n int) map[string]any {
		return map[string]any{"query": entitiesQuery, "variables": map[string]any{"r": reps(n)}}
	}

	t.Run("batch", func(t *testing.T) {
		e := newTestEnv(t, withEnv(hardened...))
		e.fake.SetToken(tokA, federationFixture("a", 5))
		status, raw := send(t, e, []any{op(5), op(3)})
		var answers []gqlResponse
		if err := json.Unmarshal(raw, &answers); status != 200 || err != nil || len(answers) != 2 || len(answers[0].Errors)+len(answers[1].Errors) > 0 {
			t.Fatalf("batch: %d %s", status, raw)
		}
		if !strings.Contains(string(answers[1].Data), `"a-2"`) || e.fake.Calls() != 1 {
			t.Fatalf("batch: %d SeaTable calls (want 1), second answer %s", e.fake.Calls(), answers[1].Data)
		}
	})
	t.Run("apq", func(t *testing.T) {
		e := newTestEnv(t, withEnv(hardened...))
		e.fake.SetToken(tokA, federationFixture("a", 2))
		sum := sha256.Sum256([]byte(entitiesQuery))
		ext := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hex.EncodeToString(sum[:])}}
		vars := map[string]any{"r": reps(2)}
		_, raw := send(t, e, map[string]any{"extensions": ext, "variables": vars})
		if r := one(t, raw); len(r.Errors) != 1 || r.Errors[0].Message != "PersistedQueryNotFound" {
			t.Fatalf("unregistered hash: %s", raw)
		}
		for i, body := range []map[string]any{
			{"extensions": ext, "variables": vars, "query": entitiesQuery}, // registers
			{"extensions": ext, "variables": vars},                         // the hash alone
		} {
			if _, raw := send(t, e, body); !strings.Contains(string(raw), `"a-1"`) {
				t.Fatalf("apq request %d: %s", i, raw)
			}
		}
	})
	t.Run("complexity", func(t *testing.T) {
		e := newTestEnv(t, withEnv(append(hardened, "MAX_COMPLEXITY", "200")...))
		e.fake.SetToken(tokA, federationFixture("a", 60))
		if _, raw := send(t, e, op(10)); len(one(t, raw).Errors) > 0 {
			t.Fatalf("10 representations: %s", raw)
		}
		e.fake.ResetCounts()
		_, raw := send(t, e, op(60))
		if r := one(t, raw); len(r.Errors) != 1 || !strings.Contains(r.Errors[0].Message, "complex") || e.fake.Calls() != 0 {
			t.Fatalf("60 representations past MAX_COMPLEXITY=200: %d SeaTable calls, %s", e.fake.Calls(), raw)
		}
	})
	t.Run("rate limit", func(t *testing.T) {
		e := newTestEnv(t, withEnv(append(hardened, "RATE_LIMIT", "1", "RATE_BURST", "2")...))
		e.fake.SetToken(tokA, federationFixture("a", 1))
		var statuses []int
		for range 3 {
			status, _ := send(t, e, op(1))
			statuses = append(statuses, status)
		}
		if statuses[2] != http.StatusTooManyRequests {
			t.Fatalf("statuses %v, want the third refused (429)", statuses)
		}
	})
	t.Run("upstream error", func(t *testing.T) {
		e := newTestEnv(t, withEnv(hardened...))
		e.fake.SetToken(tokA, federationFixture("a", 1))
		e.fake.FailWith(http.StatusForbidden, nil, `{"error_msg":"no"}`)
		_, raw := send(t, e, op(1))
		r := one(t, raw)
		if len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != "FORBIDDEN" || len(r.Errors[0].Path) != 1 || r.Errors[0].Path[0] != "_entities" {
			t.Fatalf("SeaTable 403 behind a gateway: %s", raw)
		}
	})
}

// TestFederationEntitiesInsideBases: Table, View and Row representations
// resolve as nodes(ids:) resolves the same ids, with the same SeaTable
// calls (the list, one metadata read for the base, one row read), and an
// id this server did not make fails only its own representation.
func TestFederationEntitiesInsideBases(t *testing.T) {
	e, uuids := basesEnv(t, 1, 1)
	var data struct {
		Dtable struct {
			Table struct {
				ID    string
				Views []struct{ ID string }
				Rows  struct{ Nodes []struct{ ID string } }
			}
		}
	}
	e.mustData(t, "Token "+tokA, fmt.Sprintf(`{ dtable(uuid: %q) { table(name: "Tasks") { id views { id } rows(first: 1) { nodes { id } } } } }`, uuids[0]), &data)
	tb := data.Dtable.Table
	e.resetCalls()
	var nodes struct{ Nodes []struct{ ID string } }
	e.mustData(t, "Token "+tokA, fmt.Sprintf(`{ nodes(ids: [%q, %q, %q]) { id } }`, tb.ID, tb.Views[1].ID, tb.Rows.Nodes[0].ID), &nodes)
	viaNodes := e.calls()
	e.resetCalls()

	reps := []map[string]any{
		{"__typename": "Table", "id": tb.ID}, {"__typename": "View", "id": tb.Views[1].ID},
		{"__typename": "Row", "id": tb.Rows.Nodes[0].ID}, {"__typename": "Row", "id": tb.ID}, // a table's id as a row's
	}
	status, resp := e.post(t, "Token "+tokA, `query($r: [_Any!]!) { _entities(representations: $r) { __typename ... on Node { id } } }`, map[string]any{"r": reps})
	var got struct {
		Entities []*struct {
			Typename string `json:"__typename"`
			ID       string
		} `json:"_entities"`
	}
	if err := json.Unmarshal(resp.Data, &got); err != nil || status != http.StatusOK || len(got.Entities) != 4 {
		t.Fatalf("status %d, %s, errors %+v", status, resp.Data, resp.Errors)
	}
	for i, want := range []string{"Table", "View", "Row"} {
		if g := got.Entities[i]; g == nil || g.Typename != want || g.ID != reps[i]["id"] {
			t.Errorf("representation %d: %+v, want the %s %s", i, g, want, reps[i]["id"])
		}
	}
	if got.Entities[3] != nil || len(resp.Errors) != 1 || resp.Errors[0].Extensions["code"] != "BAD_USER_INPUT" {
		t.Errorf("a table's id as a row's: %+v, errors %+v", got.Entities[3], resp.Errors)
	}
	if c := e.calls(); c != viaNodes || c.List != 1 || c.Metadata != 1 || c.Row != 1 {
		t.Errorf("_entities made SeaTable calls %+v; nodes(ids:) of the same ids made %+v", c, viaNodes)
	}
}
