package fakeseatable

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func call(t *testing.T, srv *httptest.Server, token, method, path, contentType, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Token "+token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

const form = "application/x-www-form-urlencoded"

func TestDemoWritesStayWithTheirToken(t *testing.T) {
	fake := New()
	fake.AcceptAnyToken(Fixture(Demo))
	srv := httptest.NewServer(fake)
	defer srv.Close()
	if status, body := call(t, srv, "alice", http.MethodPost, "/api/v2.1/dtables/", form, "name=Alice+only&workspace_id=1"); status != http.StatusCreated || !strings.Contains(body, `"table"`) {
		t.Fatalf("create: %d %s", status, body)
	}
	_, mine := call(t, srv, "alice", http.MethodGet, "/api/v2.1/workspaces/", "", "")
	_, theirs := call(t, srv, "bob", http.MethodGet, "/api/v2.1/workspaces/", "", "")
	if !strings.Contains(mine, "Alice only") || strings.Contains(theirs, "Alice only") {
		t.Errorf("alice sees it: %v, bob sees it: %v", strings.Contains(mine, "Alice only"), strings.Contains(theirs, "Alice only"))
	}
	if !bytes.Equal([]byte(theirs), Fixture(Demo)) {
		t.Errorf("an untouched token must get the fixture byte for byte")
	}
}

func TestWriteBodiesInEveryEncodingDjangoAccepts(t *testing.T) {
	fake := New()
	fake.SetToken("t", Fixture(Current))
	srv := httptest.NewServer(fake)
	defer srv.Close()

	// DELETE with a JSON body.
	if status, body := call(t, srv, "t", http.MethodDelete, "/api/v2.1/workspace/12/dtable/", "application/json", `{"name":"Travel"}`); status != 200 {
		t.Fatalf("JSON delete: %d %s", status, body)
	}
	// PUT with a multipart body.
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("name", "CRM")
	_ = mw.WriteField("new_name", "CRM 2")
	_ = mw.Close()
	if status, body := call(t, srv, "t", http.MethodPut, "/api/v2.1/workspace/12/dtable/", mw.FormDataContentType(), buf.String()); status != 200 || !strings.Contains(body, `"CRM 2"`) {
		t.Fatalf("multipart update: %d %s", status, body)
	}
	reqs := fake.Requests()
	if len(reqs) != 2 || reqs[0].Form.Get("name") != "Travel" || reqs[1].Form.Get("new_name") != "CRM 2" || reqs[1].Body == "" {
		t.Errorf("recorded requests %+v", reqs)
	}
	_, list := call(t, srv, "t", http.MethodGet, "/api/v2.1/workspaces/", "", "")
	if strings.Contains(list, `"Travel"`) || !strings.Contains(list, `"CRM 2"`) || strings.Contains(list, `"CRM"`) {
		t.Errorf("list after writes: %s", list)
	}
	// The detail=false answer is derived from the changed document too.
	_, brief := call(t, srv, "t", http.MethodGet, "/api/v2.1/workspaces/?detail=false", "", "")
	if strings.Contains(brief, "table_list") {
		t.Errorf("detail=false still lists bases")
	}
}

func TestWriteErrorsAndAuth(t *testing.T) {
	fake := New()
	fake.SetToken("t", Fixture(Current))
	srv := httptest.NewServer(fake)
	defer srv.Close()
	cases := []struct {
		method, path, body string
		status             int
		msg                string
	}{
		{http.MethodPost, "/api/v2.1/dtables/", "name=", 400, "name invalid."},
		{http.MethodPost, "/api/v2.1/dtables/", "name=CRM&workspace_id=12", 400, "Base CRM already exists in this workspace."},
		{http.MethodPost, "/api/v2.1/dtables/", "name=X&workspace_id=16", 403, "Permission denied."},
		{http.MethodPost, "/api/v2.1/dtables/", "name=X&workspace_id=404", 404, "Workspace not found."},
		{http.MethodPut, "/api/v2.1/workspace/12/dtable/", "name=Nope&new_name=X", 404, "Base Nope not found."},
		{http.MethodPut, "/api/v2.1/workspace/404/dtable/", "name=CRM", 404, "Workspace 404 not found."},
		{http.MethodDelete, "/api/v2.1/workspace/12/dtable/", "name=Nope", 404, "dtable Nope not found."},
		{http.MethodDelete, "/api/v2.1/workspace/12/dtable/", "", 400, "name invalid."},
		{http.MethodPost, "/api/v2.1/dtable-copy/", "src_workspace_id=a&dst_workspace_id=12&name=CRM", 400, "src_workspace_id or dst_workspace_id is invalid"},
		{http.MethodPost, "/api/v2.1/dtable-copy/", "src_workspace_id=12&dst_workspace_id=12&name=Nope", 404, "dtable: Nope not found"},
		{http.MethodPost, "/api/v2.1/starred-dtables/", "dtable_uuid=00000000-0000-4000-8000-000000000000", 404, "Table not found."},
	}
	for _, c := range cases {
		status, body := call(t, srv, "t", c.method, c.path, form, c.body)
		if status != c.status || !strings.Contains(body, `"error_msg": "`+c.msg+`"`) && !strings.Contains(body, `"error_msg":"`+c.msg+`"`) {
			t.Errorf("%s %s %q: %d %s, want %d %q", c.method, c.path, c.body, status, body, c.status, c.msg)
		}
	}
	// Writes authenticate like reads.
	if status, _ := call(t, srv, "unknown", http.MethodPost, "/api/v2.1/dtables/", form, url.Values{"name": {"X"}}.Encode()); status != http.StatusUnauthorized {
		t.Errorf("unknown token: %d, want 401", status)
	}
}
