package app

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

// TestSmallDoors covers issue 9's finding 12: nosniff on every response,
// strict request JSON, echoed identifiers cut short, a code on every error
// response, and a clamped retryAfter.
func TestSmallDoors(t *testing.T) {
	e := newTestEnv(t)
	e.fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Seed))
	get := func(path string, header http.Header) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, e.url+path, nil)
		for k, v := range header {
			req.Header[k] = v
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, body
	}
	auth := http.Header{"Authorization": {"Token " + tokA}}

	t.Run("nosniff everywhere", func(t *testing.T) {
		for _, path := range []string{"/graphql?query=" + url.QueryEscape("{ workspaces { id } }"), "/healthz", "/metrics", "/", "/nope"} {
			if resp, _ := get(path, auth); resp.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("GET %s (%d): no X-Content-Type-Options: nosniff", path, resp.StatusCode)
			}
		}
	})

	t.Run("strict request JSON", func(t *testing.T) {
		for _, body := range []string{
			`{"query":"{ workspaces { id } }","QUERY":"{ workspaces { name } }"}`,
			`{"query":"{ workspaces { id } }","query":"{ workspaces { name } }"}`,
			`{"Query":"{ workspaces { id } }"}`,
		} {
			req, _ := http.NewRequest(http.MethodPost, e.url+"/graphql", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Token "+tokA)
			status, resp := e.do(t, req)
			if status != http.StatusBadRequest || len(resp.Errors) != 1 || code(resp.Errors[0]) != "BAD_USER_INPUT" {
				t.Errorf("%s: %d %+v, want 400 BAD_USER_INPUT", body, status, resp.Errors)
			}
		}
	})

	t.Run("echoed identifiers are cut short", func(t *testing.T) {
		long := strings.Repeat("f", 50<<10)
		_, resp := e.post(t, "Token "+tokA, "{ workspaces { "+long+" } }", nil)
		if len(resp.Errors) == 0 || len(resp.Errors[0].Message) > 200 {
			n := 0
			if len(resp.Errors) > 0 {
				n = len(resp.Errors[0].Message)
			}
			t.Fatalf("a 50 KiB field name gave a message of %d bytes", n)
		}
	})

	t.Run("every error response has a code", func(t *testing.T) {
		resp, body := get("/graphql?query="+url.QueryEscape(`mutation { starDTable(input: {uuid: "x"}) { __typename } }`), auth)
		var r gqlResponse
		_ = json.Unmarshal(body, &r)
		if resp.StatusCode != http.StatusMethodNotAllowed || len(r.Errors) == 0 || code(r.Errors[0]) == "" {
			t.Fatalf("mutation over GET: %d %s, want 405 with extensions.code", resp.StatusCode, body)
		}
	})

	t.Run("retryAfter is clamped", func(t *testing.T) {
		e.fake.FailWith(http.StatusTooManyRequests, http.Header{"Retry-After": {"99999999999"}}, `{"detail":"slow down"}`)
		defer e.fake.SetHook(nil)
		_, resp := e.post(t, "Token "+tokA, `{ workspaces { id } }`, nil)
		if len(resp.Errors) == 0 {
			t.Fatal("want RATE_LIMITED")
		}
		ra, _ := resp.Errors[0].Extensions["retryAfter"].(float64)
		if ra <= 0 || ra > 86400 {
			t.Fatalf("retryAfter %v, want 1..86400 seconds: %+v", ra, resp.Errors[0])
		}
	})
}
