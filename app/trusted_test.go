package app

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

const (
	trustedList  = "query List { workspaces { seatableId } }"
	trustedCount = "query Count { dtables { totalCount } }"
	relayID      = "5f4dcc3b5aa765d61d8327deb882cf99" // relay-compiler's ids are md5 hex by default
)

func sha256hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// writeManifest writes a manifest in the shape both GraphQL Code Generator
// (persisted-documents.json, sha256 ids) and relay-compiler
// (persisted_queries.json) write it.
func writeManifest(t *testing.T, docs map[string]string) string {
	t.Helper()
	raw, _ := json.Marshal(docs)
	path := filepath.Join(t.TempDir(), "persisted-documents.json")
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func (e *testEnv) postRaw(t *testing.T, body any) (int, gqlResponse) {
	t.Helper()
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, e.url+"/graphql", bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Token "+tokA)
	return e.do(t, req)
}

func TestTrustedDocuments(t *testing.T) {
	manifest := writeManifest(t, map[string]string{sha256hex(trustedList): trustedList, relayID: trustedCount})
	for _, only := range []bool{false, true} {
		e := newTestEnv(t, withEnv("TRUSTED_DOCUMENTS", manifest, "TRUSTED_DOCUMENTS_ONLY", map[bool]string{false: "false", true: "true"}[only]))
		e.fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Demo))
		ok := func(name string, status int, r gqlResponse, want string) {
			t.Helper()
			if status != http.StatusOK || len(r.Errors) > 0 || string(r.Data) != want {
				t.Errorf("only=%v %s: %d %s %+v", only, name, status, r.Data, r.Errors)
			}
		}
		list := `{"workspaces":[{"seatableId":"starred"},{"seatableId":"shared"},{"seatableId":"1"},{"seatableId":"2"}]}`
		status, r := e.postRaw(t, map[string]any{"documentId": "sha256:" + sha256hex(trustedList)})
		ok("documentId", status, r, list)
		status, r = e.postRaw(t, map[string]any{"doc_id": relayID, "variables": map[string]any{}})
		ok("doc_id", status, r, `{"dtables":{"totalCount":4}}`)
		status, r = e.postRaw(t, apqRequest(trustedList, false))
		ok("APQ hash of a trusted document, never registered", status, r, list)
		status, r = e.postRaw(t, map[string]any{"query": trustedList})
		ok("the text of a trusted document", status, r, list)
		req, _ := http.NewRequest(http.MethodGet, e.url+"/graphql?documentId="+url.QueryEscape(sha256hex(trustedList)), nil)
		req.Header.Set("Authorization", "Token "+tokA)
		status, r = e.do(t, req)
		ok("GET documentId", status, r, list)
		_, results, raw := postBatch(t, e, `[{"documentId":"`+sha256hex(trustedList)+`"},{"doc_id":"`+relayID+`"}]`)
		if len(results) != 2 || string(results[1].Data) != `{"dtables":{"totalCount":4}}` {
			t.Errorf("only=%v batch: %s", only, raw)
		}

		status, r = e.postRaw(t, map[string]any{"documentId": "0000"})
		if status != http.StatusOK || len(r.Errors) != 1 || code(r.Errors[0]) != "PERSISTED_QUERY_NOT_FOUND" || !strings.Contains(r.Errors[0].Message, "TRUSTED_DOCUMENTS") {
			t.Errorf("only=%v unknown id: %d %+v", only, status, r.Errors)
		}
		status, r = e.postRaw(t, map[string]any{"query": "{ workspaces { name } }"})
		if only {
			if status != http.StatusBadRequest || len(r.Errors) != 1 || code(r.Errors[0]) != "BAD_USER_INPUT" || !strings.Contains(r.Errors[0].Message, "only trusted documents") || r.Data != nil {
				t.Errorf("other document: %d %s %+v", status, r.Data, r.Errors)
			}
		} else if status != http.StatusOK || len(r.Errors) > 0 {
			t.Errorf("other document without TRUSTED_DOCUMENTS_ONLY: %d %+v", status, r.Errors)
		}
		// The playground's introspection (INTROSPECTION defaults to true).
		status, r = e.postRaw(t, map[string]any{"query": "query IntrospectionQuery { __schema { queryType { name } } }"})
		ok("introspection", status, r, `{"__schema":{"queryType":{"name":"Query"}}}`)
	}
	e := newTestEnv(t, withEnv("TRUSTED_DOCUMENTS", manifest, "TRUSTED_DOCUMENTS_ONLY", "true", "INTROSPECTION", "false"))
	if status, r := e.postRaw(t, map[string]any{"query": "{ __schema { queryType { name } } }"}); status != http.StatusBadRequest || len(r.Errors) != 1 {
		t.Errorf("introspection with INTROSPECTION=false: %d %+v", status, r.Errors)
	}
}

// TestBadTrustedDocumentsStopTheStart: the configuration names the variable
// and says what is wrong.
func TestBadTrustedDocumentsStopTheStart(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.json")
	_ = os.WriteFile(bad, []byte(`{"abc": "query {"}`), 0o600)
	for env, want := range map[string]string{
		bad:                   `TRUSTED_DOCUMENTS="` + bad + `": entry "abc": the document does not parse`,
		"/nonexistent/x.json": `TRUSTED_DOCUMENTS="/nonexistent/x.json": cannot read the manifest`,
	} {
		_, err := LoadConfig(func(k string) string { return map[string]string{"TRUSTED_DOCUMENTS": env}[k] })
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", env, err, want)
		}
	}
	_, err := LoadConfig(func(k string) string { return map[string]string{"TRUSTED_DOCUMENTS_ONLY": "true"}[k] })
	if err == nil || !strings.Contains(err.Error(), "TRUSTED_DOCUMENTS_ONLY=true needs TRUSTED_DOCUMENTS") {
		t.Errorf("only without a manifest: %v", err)
	}
}
