package fakeseatable_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

const helloUUID = "b406b9ba-b74e-49c8-aa4e-5567076e5c25"

// get calls the fake under /seatable with an Authorization header.
func get(t *testing.T, srv *httptest.Server, path, auth string) (int, http.Header, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/seatable"+path, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return resp.StatusCode, resp.Header, m
}

func mount(f *fakeseatable.Server) *httptest.Server {
	mux := http.NewServeMux()
	mux.Handle("/seatable/", http.StripPrefix("/seatable", f))
	return httptest.NewServer(mux)
}

func TestFakeExchange(t *testing.T) {
	f := fakeseatable.New()
	f.SetToken("demo", fakeseatable.Fixture(fakeseatable.Demo))
	f.SetToken("other", fakeseatable.Fixture(fakeseatable.Current))
	srv := mount(f)
	defer srv.Close()

	status, _, body := get(t, srv, "/api/v2.1/workspace/1/dtable/hello/access-token/", "Token demo")
	if status != 200 || body["dtable_uuid"] != helloUUID || body["use_api_gateway"] != true ||
		body["dtable_server"] != srv.URL+"/seatable/api-gateway/" || strings.Count(body["access_token"].(string), ".") != 2 {
		t.Fatalf("exchange: %d %v", status, body)
	}
	if owner, ok := f.BaseTokenOwner(body["access_token"].(string)); !ok || owner != "demo" {
		t.Fatalf("owner %q %v", owner, ok)
	}
	// A shared base, exchanged in its own workspace; names are escaped.
	if status, _, body := get(t, srv, "/api/v2.1/workspace/3/dtable/Team%20budget/access-token/", "Token demo"); status != 200 {
		t.Fatalf("shared base: %d %v", status, body)
	}
	for _, tc := range []struct {
		path, auth string
		status     int
		msg        string
	}{
		{"/api/v2.1/workspace/1/dtable/nope/access-token/", "Token demo", 404, "dtable nope not found."},
		{"/api/v2.1/workspace/2/dtable/hello/access-token/", "Token demo", 404, "dtable hello not found."},
		{"/api/v2.1/workspace/1/dtable/hello/access-token/", "Token other", 403, "Permission denied."},
		{"/api/v2.1/workspace/1/dtable/hello/access-token/", "Token unknown", 401, ""},
		{"/api/v2.1/workspace/1/dtable/hello/access-token/", "", 403, ""},
	} {
		status, _, body := get(t, srv, tc.path, tc.auth)
		if status != tc.status || (tc.msg != "" && body["error_msg"] != tc.msg) {
			t.Errorf("%s as %q: %d %v", tc.path, tc.auth, status, body)
		}
	}
	f.DenyBase(helloUUID, true)
	if status, _, _ := get(t, srv, "/api/v2.1/workspace/1/dtable/hello/access-token/", "Token demo"); status != 403 {
		t.Fatalf("denied base: %d", status)
	}
	if got := f.BaseCalls(fakeseatable.KindExchange); got != 8 {
		t.Fatalf("exchanges counted %d, want 8", got)
	}
}

func TestFakeGateway(t *testing.T) {
	f := fakeseatable.New()
	f.AcceptAnyToken(fakeseatable.Fixture(fakeseatable.Demo)) // as the demo runs
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.SetClock(func() time.Time { return now })
	srv := mount(f)
	defer srv.Close()
	_, _, ex := get(t, srv, "/api/v2.1/workspace/1/dtable/hello/access-token/", "Token anyone")
	auth := "Token " + ex["access_token"].(string)
	api := "/api-gateway/api/v2/dtables/" + helloUUID + "/"

	status, _, md := get(t, srv, api+"metadata/", auth)
	tables := md["metadata"].(map[string]any)["tables"].([]any)
	if status != 200 || len(tables) != 3 {
		t.Fatalf("metadata: %d %v", status, md)
	}
	status, _, rows := get(t, srv, api+"rows/?table_name=Projects&view_name=In+progress&convert_keys=true", auth)
	list := rows["rows"].([]any)
	if status != 200 || len(list) == 0 || len(list) >= 36 {
		t.Fatalf("view rows: %d %d", status, len(list))
	}
	for _, r := range list {
		if r.(map[string]any)["Status"] != "In progress" {
			t.Fatalf("view row %v", r)
		}
	}
	_, _, page := get(t, srv, api+"rows/?table_name=Projects&start=30&limit=10", auth)
	first := page["rows"].([]any)[0].(map[string]any)
	if len(page["rows"].([]any)) != 6 || first["0000"] != "Project 31" {
		t.Fatalf("keys by column key, page 30+: %v", first)
	}
	id := first["_id"].(string)
	if status, _, row := get(t, srv, api+"rows/"+id+"/?table_name=Projects&convert_keys=true", auth); status != 200 || row["Name"] != "Project 31" {
		t.Fatalf("one row: %d %v", status, row)
	}
	for _, tc := range []struct {
		path, auth string
		status     int
	}{
		{api + "rows/?table_name=Nope", auth, 404},
		{api + "rows/?table_name=Projects&view_name=Nope", auth, 404},
		{api + "rows/?table_name=Projects&limit=1001", auth, 400},
		{api + "rows/?table_name=Projects&start=-1", auth, 400},
		{api + "rows/NoSuchRow/?table_name=Projects", auth, 404},
		{api + "metadata/", "", 401},
		{api + "metadata/", "Token not-a-base-token", 401},
		{"/api-gateway/api/v2/dtables/3a4f848c-5fc9-4cc8-bbda-96d7d49a944a/metadata/", auth, 403},
	} {
		if status, _, body := get(t, srv, tc.path, tc.auth); status != tc.status {
			t.Errorf("%s: %d %v, want %d", tc.path, status, body, tc.status)
		}
	}
	f.RateLimitBase(helloUUID, true)
	status, h, _ := get(t, srv, api+"metadata/", auth)
	if status != 429 || h.Get("X-RateLimit-Reset") == "" || h.Get("Retry-After") != "" {
		t.Fatalf("rate limited: %d %v", status, h)
	}
	f.RateLimitBase(helloUUID, false)
	now = now.Add(fakeseatable.DefaultBaseTokenLifetime)
	if status, _, body := get(t, srv, api+"metadata/", auth); status != 403 || body["error_msg"] != "Token expired." {
		t.Fatalf("expired: %d %v", status, body)
	}
	want := map[string]int64{fakeseatable.KindExchange: 1, fakeseatable.KindMetadata: 6, fakeseatable.KindRows: 6, fakeseatable.KindRow: 2}
	for kind, n := range want {
		if got := f.BaseCalls(kind); got != n {
			t.Errorf("%s calls %d, want %d", kind, got, n)
		}
	}
}

// Every base the generator makes has the same deterministic content.
func TestFakeContentDeterministic(t *testing.T) {
	read := func() map[string]any {
		f := fakeseatable.New()
		f.AcceptAnyToken(fakeseatable.Fixture(fakeseatable.Demo))
		srv := mount(f)
		defer srv.Close()
		_, _, ex := get(t, srv, "/api/v2.1/workspace/1/dtable/hello/access-token/", "Token x")
		_, _, rows := get(t, srv, "/api-gateway/api/v2/dtables/"+helloUUID+"/rows/?table_name=Tasks", "Token "+ex["access_token"].(string))
		return rows
	}
	a, b := read(), read()
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if string(ja) != string(jb) || len(a["rows"].([]any)) != 48 {
		t.Fatal("content differs between two fakes, or Tasks has not 48 rows")
	}
}
