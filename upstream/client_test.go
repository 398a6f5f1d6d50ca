package upstream_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seatable-graphql/seatable-graphql/internal/apperr"
	"github.com/seatable-graphql/seatable-graphql/upstream"
	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

// testToken is distinctive so any leak into an error string is found.
const testToken = "tok-SECRET-1234567890"

// basePath is where the fake is mounted, so a client that builds absolute
// paths (dropping the base path) hits the mux's 404 instead of the fake.
const basePath = "/seatable"

type harness struct {
	fake    *fakeseatable.Server
	srv     *httptest.Server
	baseURL string // srv.URL + basePath, no trailing slash
	client  *upstream.Client

	mu       sync.Mutex
	rawPaths []string // paths as they arrived, before the prefix is stripped
	accepts  []string
}

// newHarness serves the fake (knowing testToken, current fixture) under
// basePath and returns a client for it.
func newHarness(t *testing.T, opts ...upstream.Option) *harness {
	t.Helper()
	h := &harness{fake: fakeseatable.New()}
	h.fake.SetToken(testToken, fakeseatable.Fixture(fakeseatable.Current))
	mux := http.NewServeMux()
	mux.Handle(basePath+"/", http.StripPrefix(basePath, h.fake))
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.rawPaths = append(h.rawPaths, r.URL.Path)
		h.accepts = append(h.accepts, r.Header.Get("Accept"))
		h.mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(h.srv.Close)
	h.baseURL = h.srv.URL + basePath
	// Retries without waiting: these tests are about classification; the
	// retry timing is tested in resilience_test.go on a fake clock.
	noWait := upstream.WithBackoff(func(int) time.Duration { return 0 })
	c, err := upstream.New(h.baseURL, append([]upstream.Option{noWait}, opts...)...)
	if err != nil {
		t.Fatalf("upstream.New(%q): %v", h.baseURL, err)
	}
	h.client = c
	return h
}

func (h *harness) seen() (paths, accepts []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.rawPaths...), append([]string(nil), h.accepts...)
}

// mustList calls ListWorkspaces and fails the test on an error.
func mustList(t *testing.T, c *upstream.Client, token string, detail bool) *upstream.WorkspaceList {
	t.Helper()
	list, err := c.ListWorkspaces(context.Background(), token, upstream.Read{Detail: detail})
	if err != nil {
		t.Fatalf("ListWorkspaces(detail=%v): %v", detail, err)
	}
	return list
}

// mustAppErr calls ListWorkspaces expecting a failure and returns it as an
// *apperr.Error, after checking that no secret or address leaked into it.
func mustAppErr(t *testing.T, h *harness, token string) *apperr.Error {
	t.Helper()
	list, err := h.client.ListWorkspaces(context.Background(), token, upstream.Read{Detail: true})
	if err == nil {
		t.Fatalf("ListWorkspaces succeeded with %d workspaces, want an error", len(list.Workspaces))
	}
	if list != nil {
		t.Errorf("ListWorkspaces returned a list together with error %v", err)
	}
	ae, ok := apperr.As(err)
	if !ok {
		t.Fatalf("error %q (%T) is not an *apperr.Error", err, err)
	}
	assertNoLeak(t, ae, err, token, h.srv.URL)
	return ae
}

// assertNoLeak checks the client-facing message carries neither the token
// nor the upstream address, and the full error string not the token.
func assertNoLeak(t *testing.T, ae *apperr.Error, err error, token, upstreamURL string) {
	t.Helper()
	if ae.Message == "" {
		t.Error("empty client-facing message")
	}
	if token != "" {
		if strings.Contains(ae.Message, token) {
			t.Errorf("client-facing message %q contains the token", ae.Message)
		}
		if strings.Contains(err.Error(), token) {
			t.Errorf("error string %q contains the token", err.Error())
		}
	}
	for _, s := range []string{upstreamURL, strings.TrimPrefix(upstreamURL, "http://"), basePath, "api/v2.1"} {
		if strings.Contains(ae.Message, s) {
			t.Errorf("client-facing message %q contains the upstream address part %q", ae.Message, s)
		}
	}
}

// statusCause returns the upstream's own account of the failure (for logs).
func statusCause(t *testing.T, err error) *upstream.StatusError {
	t.Helper()
	var se *upstream.StatusError
	if !errors.As(err, &se) {
		t.Fatalf("error %q does not wrap *upstream.StatusError", err)
	}
	return se
}

// ---------------------------------------------------------------------------

func TestNew(t *testing.T) {
	for _, bad := range []string{"ftp://x", "", "http://user:pass@host", "https://user:secret@host/seatable", "ftp://u:secret@x", "cloud.seatable.io", "http://", "://x"} {
		t.Run("rejects "+bad, func(t *testing.T) {
			c, err := upstream.New(bad)
			if err == nil {
				t.Fatalf("New(%q) = %v, want an error", bad, c.BaseURL())
			}
			if c != nil {
				t.Errorf("New(%q) returned a client together with error %v", bad, err)
			}
			for _, secret := range []string{"pass", "secret"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("New(%q) error %q repeats the credentials", bad, err)
				}
			}
		})
	}
	for in, want := range map[string]string{
		"https://cloud.seatable.io":             "https://cloud.seatable.io/",
		"https://host.example/seatable":         "https://host.example/seatable/",
		"https://host.example/seatable/":        "https://host.example/seatable/",
		"http://host.example:8000/a/b?x=1#frag": "http://host.example:8000/a/b/",
		"HTTPS://host.example/seatable":         "https://host.example/seatable/",
	} {
		t.Run("accepts "+in, func(t *testing.T) {
			c, err := upstream.New(in)
			if err != nil {
				t.Fatalf("New(%q): %v", in, err)
			}
			if got := c.BaseURL(); got != want {
				t.Errorf("BaseURL() = %q, want %q", got, want)
			}
		})
	}
}

func TestListWorkspacesRequest(t *testing.T) {
	for _, detail := range []bool{true, false} {
		t.Run(fmt.Sprintf("detail=%v", detail), func(t *testing.T) {
			h := newHarness(t)
			list := mustList(t, h.client, testToken, detail)

			reqs := h.fake.Requests()
			if len(reqs) != 1 {
				t.Fatalf("fake saw %d requests, want 1: %+v", len(reqs), reqs)
			}
			r := reqs[0]
			if r.Method != http.MethodGet {
				t.Errorf("method %q, want GET", r.Method)
			}
			if r.Path != "/api/v2.1/workspaces/" {
				t.Errorf("path below the base %q, want /api/v2.1/workspaces/", r.Path)
			}
			if want := fmt.Sprintf("detail=%v", detail); r.RawQuery != want {
				t.Errorf("query %q, want %q", r.RawQuery, want)
			}
			if want := "Token " + testToken; r.Authorization != want {
				t.Errorf("Authorization %q, want %q", r.Authorization, want)
			}
			paths, accepts := h.seen()
			if len(paths) != 1 || paths[0] != basePath+"/api/v2.1/workspaces/" {
				t.Errorf("raw paths %q, want [%s/api/v2.1/workspaces/]", paths, basePath)
			}
			if len(accepts) != 1 || accepts[0] != "application/json" {
				t.Errorf("Accept headers %q, want [application/json]", accepts)
			}

			if list.Detail != detail {
				t.Errorf("list.Detail = %v, want %v", list.Detail, detail)
			}
			if detail {
				assertWorkspaces(t, list.Workspaces, wantCurrent())
				return
			}
			for _, ws := range list.Workspaces {
				if n := len(ws.Tables) + len(ws.SharedViews) + len(ws.GroupSharedTables) + len(ws.GroupSharedViews) + len(ws.Folders) + len(ws.ShareFolders); n != 0 {
					t.Errorf("workspace %q has %d listed items with detail=false", ws.ID, n)
				}
			}
			assertWorkspaces(t, list.Workspaces, wantCurrentNoDetail())
		})
	}
}

func TestListWorkspacesSendsTokenOnEveryCall(t *testing.T) {
	// Upstream always gets the "Token" scheme plus the raw token.
	h := newHarness(t)
	mustList(t, h.client, testToken, true)
	mustList(t, h.client, testToken, false)
	for _, r := range h.fake.Requests() {
		if r.Authorization != "Token "+testToken {
			t.Errorf("Authorization %q, want %q", r.Authorization, "Token "+testToken)
		}
	}
	if got := h.fake.Calls(); got != 2 {
		t.Errorf("fake saw %d calls, want 2", got)
	}
}

// ---------------------------------------------------------------------------
// Error classification

func TestListWorkspacesErrors(t *testing.T) {
	jsonHeader := http.Header{"Content-Type": {"application/json"}}
	htmlHeader := http.Header{"Content-Type": {"text/html"}}
	httpDate := time.Now().Add(120 * time.Second).UTC().Format(http.TimeFormat)

	tests := []struct {
		name       string
		setup      func(h *harness) // nil: the fake answers normally
		token      string           // testToken when empty
		wantCode   apperr.Code
		wantStatus int
		wantMsg    string // exact client-facing message, when set
		// upstreamMsg is what *upstream.StatusError must keep for logs;
		// checked only when wantStatus is a non-2xx status.
		upstreamMsg string
		notInMsg    string // must not reach the client-facing message
		retryMin    time.Duration
		retryMax    time.Duration
	}{
		{
			name:       "400 error_msg shown",
			setup:      func(h *harness) { h.fake.FailWith(400, jsonHeader, `{"error_msg":"detail invalid"}`) },
			wantCode:   apperr.BadUserInput,
			wantStatus: 400, wantMsg: "detail invalid", upstreamMsg: "detail invalid",
		},
		{
			name:       "400 plain-text body not passed through",
			setup:      func(h *harness) { h.fake.FailWith(400, nil, "Bad Request (400) raw body text") },
			wantCode:   apperr.BadUserInput,
			wantStatus: 400, notInMsg: "raw body text",
		},
		{
			name:       "401 unknown token",
			token:      "tok-SECRET-unknown-0987654321",
			wantCode:   apperr.Unauthenticated,
			wantStatus: 401, upstreamMsg: "Invalid token",
		},
		{
			name:       "401 detail body",
			setup:      func(h *harness) { h.fake.FailWith(401, jsonHeader, `{"detail":"Invalid token"}`) },
			wantCode:   apperr.Unauthenticated,
			wantStatus: 401, upstreamMsg: "Invalid token",
		},
		{
			name: "403",
			setup: func(h *harness) {
				h.fake.FailWith(403, jsonHeader, `{"detail":"You do not have permission to perform this action."}`)
			},
			wantCode:   apperr.Forbidden,
			wantStatus: 403, upstreamMsg: "You do not have permission to perform this action.",
			notInMsg: "You do not have permission",
		},
		{
			name:       "404",
			setup:      func(h *harness) { h.fake.FailWith(404, jsonHeader, `{"error_msg":"Not found."}`) },
			wantCode:   apperr.NotFound,
			wantStatus: 404, upstreamMsg: "Not found.",
		},
		{
			name: "429 Retry-After seconds",
			setup: func(h *harness) {
				h.fake.FailWith(429, http.Header{"Retry-After": {"7"}, "Content-Type": {"application/json"}},
					`{"detail":"Request was throttled. Expected available in 7 seconds."}`)
			},
			wantCode:   apperr.RateLimited,
			wantStatus: 429, retryMin: 7 * time.Second, retryMax: 7 * time.Second,
		},
		{
			name:       "429 Retry-After HTTP date",
			setup:      func(h *harness) { h.fake.FailWith(429, http.Header{"Retry-After": {httpDate}}, "") },
			wantCode:   apperr.RateLimited,
			wantStatus: 429, retryMin: 118 * time.Second, retryMax: 121 * time.Second,
		},
		{
			name:       "429 without Retry-After",
			setup:      func(h *harness) { h.fake.FailWith(429, nil, "") },
			wantCode:   apperr.RateLimited,
			wantStatus: 429, retryMin: 0, retryMax: 0,
		},
		{
			name:       "429 garbage Retry-After",
			setup:      func(h *harness) { h.fake.FailWith(429, http.Header{"Retry-After": {"soon"}}, "") },
			wantCode:   apperr.RateLimited,
			wantStatus: 429, retryMin: 0, retryMax: 0,
		},
		{
			name: "500 HTML body",
			setup: func(h *harness) {
				h.fake.FailWith(500, htmlHeader, "<html><body><h1>Server Error (500)</h1></body></html>")
			},
			wantCode:   apperr.UpstreamUnavailable,
			wantStatus: 500, upstreamMsg: "", notInMsg: "<h1>",
		},
		{
			name:       "502 empty body",
			setup:      func(h *harness) { h.fake.FailWith(502, nil, "") },
			wantCode:   apperr.UpstreamUnavailable,
			wantStatus: 502,
		},
		{
			name:       "503 empty body",
			setup:      func(h *harness) { h.fake.FailWith(503, nil, "") },
			wantCode:   apperr.UpstreamUnavailable,
			wantStatus: 503,
		},
		{
			name:       "504",
			setup:      func(h *harness) { h.fake.FailWith(504, htmlHeader, "<html>Gateway Time-out</html>") },
			wantCode:   apperr.UpstreamTimeout,
			wantStatus: 504,
		},
		{
			name:       "301 redirect without Location",
			setup:      func(h *harness) { h.fake.FailWith(301, nil, "") },
			wantCode:   apperr.UpstreamBadResponse,
			wantStatus: 301,
		},
		{
			name:       "200 malformed JSON",
			setup:      func(h *harness) { h.fake.FailWith(200, jsonHeader, `{"workspace_list":[{"id":1,}]}`) },
			wantCode:   apperr.UpstreamBadResponse,
			wantStatus: 200,
		},
		{
			name:       "200 wrong JSON type",
			setup:      func(h *harness) { h.fake.FailWith(200, jsonHeader, `[{"workspace_list":[]}]`) },
			wantCode:   apperr.UpstreamBadResponse,
			wantStatus: 200,
		},
		{
			name:       "200 unknown shape",
			setup:      func(h *harness) { h.fake.FailWith(200, jsonHeader, `{"workspace_list":{}}`) },
			wantCode:   apperr.UpstreamBadResponse,
			wantStatus: 200,
		},
		{
			name:       "200 HTML login page",
			setup:      func(h *harness) { h.fake.FailWith(200, htmlHeader, "<!DOCTYPE html><html>login</html>") },
			wantCode:   apperr.UpstreamBadResponse,
			wantStatus: 200, notInMsg: "login",
		},
		{
			name: "200 truncated body",
			setup: func(h *harness) {
				h.fake.SetHook(func(w http.ResponseWriter, _ *http.Request) bool {
					// Promise more than is sent; the server then cuts the connection.
					w.Header().Set("Content-Length", "4096")
					w.WriteHeader(200)
					_, _ = w.Write([]byte(`{"workspace_list":[{"id":1,"name":"pers`))
					return true
				})
			},
			wantCode:   apperr.UpstreamBadResponse,
			wantStatus: 200,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			if tt.setup != nil {
				tt.setup(h)
			}
			token := tt.token
			if token == "" {
				token = testToken
			}
			list, err := h.client.ListWorkspaces(context.Background(), token, upstream.Read{Detail: true})
			if err == nil {
				t.Fatalf("no error; got %d workspaces", len(list.Workspaces))
			}
			ae, ok := apperr.As(err)
			if !ok {
				t.Fatalf("error %q (%T) is not an *apperr.Error", err, err)
			}
			assertNoLeak(t, ae, err, token, h.srv.URL)
			if ae.Code != tt.wantCode {
				t.Errorf("code %s, want %s (error: %v)", ae.Code, tt.wantCode, err)
			}
			if ae.UpstreamStatus != tt.wantStatus {
				t.Errorf("UpstreamStatus %d, want %d", ae.UpstreamStatus, tt.wantStatus)
			}
			if tt.wantMsg != "" && ae.Message != tt.wantMsg {
				t.Errorf("message %q, want %q", ae.Message, tt.wantMsg)
			}
			if tt.notInMsg != "" && strings.Contains(ae.Message, tt.notInMsg) {
				t.Errorf("message %q passes on upstream text %q", ae.Message, tt.notInMsg)
			}
			if ae.RetryAfter < tt.retryMin || ae.RetryAfter > tt.retryMax {
				t.Errorf("RetryAfter %v, want between %v and %v", ae.RetryAfter, tt.retryMin, tt.retryMax)
			}
			if tt.wantStatus < 200 || tt.wantStatus > 299 {
				se := statusCause(t, err)
				if se.Status != tt.wantStatus {
					t.Errorf("StatusError.Status %d, want %d", se.Status, tt.wantStatus)
				}
				if tt.upstreamMsg != "" && se.Message != tt.upstreamMsg {
					t.Errorf("StatusError.Message %q, want %q", se.Message, tt.upstreamMsg)
				}
			}
			// Only 502/503/504 are transient and retried; nothing else is,
			// and redirects are never followed.
			want := int64(1)
			switch tt.wantStatus {
			case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
				want += upstream.DefaultRetries
			}
			if got := h.fake.Calls(); got != want {
				t.Errorf("fake saw %d calls, want exactly %d", got, want)
			}
		})
	}
}

// TestListWorkspacesDoesNotFollowRedirects covers the realistic redirect:
// a 301 carrying a Location header, as Django's APPEND_SLASH or an
// http->https proxy sends it. errors.go classifies 3xx as
// UPSTREAM_BAD_RESPONSE ("a redirect means a wrong SEATABLE_URL"), which
// only works if the client does not follow redirects.
func TestListWorkspacesDoesNotFollowRedirects(t *testing.T) {
	t.Run("redirect to the same URL", func(t *testing.T) {
		h := newHarness(t)
		h.fake.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
			http.Redirect(w, r, basePath+r.URL.Path, http.StatusMovedPermanently)
			return true
		})
		ae := mustAppErr(t, h, testToken)
		if ae.Code != apperr.UpstreamBadResponse {
			t.Errorf("code %s, want %s (error: %v)", ae.Code, apperr.UpstreamBadResponse, ae)
		}
		if ae.UpstreamStatus != http.StatusMovedPermanently {
			t.Errorf("UpstreamStatus %d, want 301", ae.UpstreamStatus)
		}
		if got := h.fake.Calls(); got != 1 {
			t.Errorf("fake saw %d calls, want 1: the redirect must not be followed", got)
		}
	})
	t.Run("redirect to another origin gets no token", func(t *testing.T) {
		var mu sync.Mutex
		var gotAuth []string
		other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			gotAuth = append(gotAuth, r.Header.Get("Authorization"))
			mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(fakeseatable.Fixture(fakeseatable.Current))
		}))
		t.Cleanup(other.Close)
		h := newHarness(t)
		// Same host name (127.0.0.1), other port: a different origin.
		h.fake.FailWith(http.StatusFound, http.Header{"Location": {other.URL + "/api/v2.1/workspaces/?detail=true"}}, "")
		list, err := h.client.ListWorkspaces(context.Background(), testToken, upstream.Read{Detail: true})
		mu.Lock()
		defer mu.Unlock()
		for _, a := range gotAuth {
			if strings.Contains(a, testToken) {
				t.Errorf("the token was sent to the redirect target %s (Authorization %q)", other.URL, a)
			}
		}
		if err == nil {
			t.Errorf("redirect followed silently: got %d workspaces from %s, want UPSTREAM_BAD_RESPONSE", len(list.Workspaces), other.URL)
		} else if code := apperr.CodeOf(err); code != apperr.UpstreamBadResponse {
			t.Errorf("code %s, want %s", code, apperr.UpstreamBadResponse)
		}
	})
}

func TestListWorkspacesErrorMessageOrder(t *testing.T) {
	long := strings.Repeat("é", 250)
	tests := []struct {
		body string
		want string
	}{
		{`{"error_msg":"A","error_message":"B","detail":"C","non_field_errors":["D"]}`, "A"},
		{`{"error_message":"B","detail":"C","non_field_errors":["D"]}`, "B"},
		{`{"detail":"C","non_field_errors":["D","E"]}`, "C"},
		{`{"non_field_errors":["D","E"]}`, "D"},
		{`{"error_msg":"","error_message":"","detail":"C"}`, "C"},
		{`{"error_msg":null,"detail":"C"}`, "C"},
		{`{"error_msg":"  name invalid.\n"}`, "name invalid."},
		{`{"error_msg":"line one\nline two\ttab"}`, "line one line two tab"},
		{`{"error_msg":"` + long + `"}`, strings.Repeat("é", 200) + "…"},
	}
	for _, tt := range tests {
		t.Run(tt.body[:min(len(tt.body), 40)], func(t *testing.T) {
			h := newHarness(t)
			h.fake.FailWith(400, http.Header{"Content-Type": {"application/json"}}, tt.body)
			ae := mustAppErr(t, h, testToken)
			if ae.Code != apperr.BadUserInput || ae.UpstreamStatus != 400 {
				t.Errorf("got %s/%d, want %s/400", ae.Code, ae.UpstreamStatus, apperr.BadUserInput)
			}
			if ae.Message != tt.want {
				t.Errorf("message %q, want %q", ae.Message, tt.want)
			}
		})
	}
	t.Run("no message falls back to a generic text", func(t *testing.T) {
		h := newHarness(t)
		h.fake.FailWith(400, http.Header{"Content-Type": {"application/json"}}, `{"error_type":"x","non_field_errors":[]}`)
		ae := mustAppErr(t, h, testToken)
		if ae.Code != apperr.BadUserInput {
			t.Errorf("code %s, want %s", ae.Code, apperr.BadUserInput)
		}
		if strings.Contains(ae.Message, "error_type") {
			t.Errorf("message %q passes on the raw body", ae.Message)
		}
	})
}

// An upstream (or a proxy in front of it) that echoes the token back in its
// error message must not get it into the client-facing message or the error
// string, which callers may log in full.
func TestListWorkspacesEchoedTokenNotLeaked(t *testing.T) {
	h := newHarness(t)
	h.fake.FailWith(400, http.Header{"Content-Type": {"application/json"}},
		`{"error_msg":"Token `+testToken+` is not valid for this server"}`)
	ae := mustAppErr(t, h, testToken) // checks Message and Error() for the token
	if ae.Code != apperr.BadUserInput {
		t.Errorf("code %s, want %s", ae.Code, apperr.BadUserInput)
	}
}

func TestListWorkspacesEmptyTokenMakesNoCall(t *testing.T) {
	h := newHarness(t)
	list, err := h.client.ListWorkspaces(context.Background(), "", upstream.Read{Detail: true})
	if err == nil {
		t.Fatalf("no error; got %d workspaces", len(list.Workspaces))
	}
	if code := apperr.CodeOf(err); code != apperr.Unauthenticated {
		t.Errorf("code %s, want %s", code, apperr.Unauthenticated)
	}
	if got := h.fake.Calls(); got != 0 {
		t.Errorf("fake saw %d calls, want 0", got)
	}
}

// ---------------------------------------------------------------------------
// Timeouts, transport failures, size limit

// blockUntilDone makes every request hang until the client gives up (its
// request context ends) or the test ends.
func blockUntilDone(t *testing.T, h *harness, before func(http.ResponseWriter)) {
	t.Helper()
	release := make(chan struct{})
	t.Cleanup(func() { close(release) }) // runs before the server is closed
	h.fake.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		if before != nil {
			before(w)
		}
		select {
		case <-r.Context().Done():
		case <-release:
		}
		return true
	})
}

func TestListWorkspacesSlowUpstreamTimesOut(t *testing.T) {
	t.Run("no headers", func(t *testing.T) {
		h := newHarness(t, upstream.WithTimeout(100*time.Millisecond))
		blockUntilDone(t, h, nil)
		start := time.Now()
		ae := mustAppErr(t, h, testToken)
		if elapsed := time.Since(start); elapsed > time.Second {
			t.Errorf("returned after %v, want well under 1s", elapsed)
		}
		if ae.Code != apperr.UpstreamTimeout {
			t.Errorf("code %s, want %s (error: %v)", ae.Code, apperr.UpstreamTimeout, ae)
		}
		if ae.UpstreamStatus != 0 {
			t.Errorf("UpstreamStatus %d, want 0 (no response)", ae.UpstreamStatus)
		}
	})
	t.Run("body stalls", func(t *testing.T) {
		h := newHarness(t, upstream.WithTimeout(100*time.Millisecond))
		blockUntilDone(t, h, func(w http.ResponseWriter) {
			w.WriteHeader(200)
			_, _ = w.Write([]byte(`{"workspace_list":[{"id":1,`))
			w.(http.Flusher).Flush()
		})
		start := time.Now()
		ae := mustAppErr(t, h, testToken)
		if elapsed := time.Since(start); elapsed > time.Second {
			t.Errorf("returned after %v, want well under 1s", elapsed)
		}
		if ae.Code != apperr.UpstreamTimeout {
			t.Errorf("code %s, want %s (error: %v)", ae.Code, apperr.UpstreamTimeout, ae)
		}
	})
	t.Run("caller cancels", func(t *testing.T) {
		h := newHarness(t)
		ctx, cancel := context.WithCancel(context.Background())
		h.fake.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
			cancel() // the caller goes away while upstream is working
			<-r.Context().Done()
			return true
		})
		_, err := h.client.ListWorkspaces(ctx, testToken, upstream.Read{Detail: true})
		ae, ok := apperr.As(err)
		if !ok {
			t.Fatalf("error %v is not an *apperr.Error", err)
		}
		assertNoLeak(t, ae, err, testToken, h.srv.URL)
		if ae.Code != apperr.UpstreamUnavailable {
			t.Errorf("code %s, want %s", ae.Code, apperr.UpstreamUnavailable)
		}
	})
}

func TestListWorkspacesConnectionRefused(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	c, err := upstream.New(url + basePath)
	if err != nil {
		t.Fatal(err)
	}
	list, err := c.ListWorkspaces(context.Background(), testToken, upstream.Read{Detail: true})
	if err == nil {
		t.Fatalf("no error; got %d workspaces", len(list.Workspaces))
	}
	ae, ok := apperr.As(err)
	if !ok {
		t.Fatalf("error %q is not an *apperr.Error", err)
	}
	assertNoLeak(t, ae, err, testToken, url)
	if ae.Code != apperr.UpstreamUnavailable {
		t.Errorf("code %s, want %s", ae.Code, apperr.UpstreamUnavailable)
	}
	if ae.UpstreamStatus != 0 {
		t.Errorf("UpstreamStatus %d, want 0", ae.UpstreamStatus)
	}
}

// bodyOfSize returns a valid workspace list of exactly n bytes whose one
// workspace is named by padding.
func bodyOfSize(t *testing.T, n int) (body, name string) {
	t.Helper()
	const prefix, suffix = `{"workspace_list":[{"id":1,"type":"personal","name":"`, `"}]}`
	pad := n - len(prefix) - len(suffix)
	if pad < 0 {
		t.Fatalf("cannot build a %d-byte body", n)
	}
	name = strings.Repeat("x", pad)
	return prefix + name + suffix, name
}

func TestListWorkspacesSizeLimit(t *testing.T) {
	const limit = 1024
	t.Run("exactly the limit is accepted", func(t *testing.T) {
		h := newHarness(t, upstream.WithMaxBytes(limit))
		body, name := bodyOfSize(t, limit)
		h.fake.FailWith(200, http.Header{"Content-Type": {"application/json"}}, body)
		list := mustList(t, h.client, testToken, true)
		if len(list.Workspaces) != 1 || list.Workspaces[0].Name != name {
			t.Errorf("got %d workspaces, want the one %d-byte-named workspace", len(list.Workspaces), len(name))
		}
	})
	for _, size := range []int{limit + 1, 4 * limit} {
		t.Run(fmt.Sprintf("%d bytes is too large", size), func(t *testing.T) {
			h := newHarness(t, upstream.WithMaxBytes(limit))
			body, _ := bodyOfSize(t, size)
			h.fake.FailWith(200, http.Header{"Content-Type": {"application/json"}}, body)
			ae := mustAppErr(t, h, testToken)
			if ae.Code != apperr.UpstreamBadResponse {
				t.Errorf("code %s, want %s", ae.Code, apperr.UpstreamBadResponse)
			}
			if !strings.Contains(ae.Message, "too large") {
				t.Errorf("message %q, want it to say the response is too large", ae.Message)
			}
			if ae.UpstreamStatus != 200 {
				t.Errorf("UpstreamStatus %d, want 200", ae.UpstreamStatus)
			}
		})
	}
	t.Run("small malformed body is not called too large", func(t *testing.T) {
		h := newHarness(t, upstream.WithMaxBytes(limit))
		h.fake.FailWith(200, nil, `{"workspace_list":`)
		ae := mustAppErr(t, h, testToken)
		if ae.Code != apperr.UpstreamBadResponse || strings.Contains(ae.Message, "too large") {
			t.Errorf("got %s %q, want %s without \"too large\"", ae.Code, ae.Message, apperr.UpstreamBadResponse)
		}
	})
}

func TestClientConcurrentUse(t *testing.T) {
	h := newHarness(t)
	const n = 8
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(detail bool) {
			defer wg.Done()
			list, err := h.client.ListWorkspaces(context.Background(), testToken, upstream.Read{Detail: detail})
			if err == nil && len(list.Workspaces) != 5 {
				err = fmt.Errorf("got %d workspaces, want 5", len(list.Workspaces))
			}
			errs <- err
		}(i%2 == 0)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if got := h.fake.Calls(); got != n {
		t.Errorf("fake saw %d calls, want %d", got, n)
	}
}

// TestBadRequestMessagesPassOnlyWhenSafe: SeaTable's 400 messages reach
// clients only when they read as a validation sentence; anything with a
// URL, host name, IP address, traceback or markup is replaced by a fixed
// message (it stays in the logged cause). The caller's token is redacted
// after JSON decoding too: SeaTable may escape it (\u0074ok...), which the
// raw-body redaction cannot see.
func TestBadRequestMessagesPassOnlyWhenSafe(t *testing.T) {
	escaped := strings.ReplaceAll(fmt.Sprintf("%+q", testToken), "t", `\u0074`)
	escaped = escaped[1 : len(escaped)-1]
	for body, want := range map[string]string{
		`{"error_msg":"name invalid."}`:                                     "name invalid.",
		`{"error_msg":"Base Budget 2024 already exists."}`:                  "Base Budget 2024 already exists.",
		`{"error_msg":"see https://seatable.example.com/help for details"}`: "SeaTable rejected the request",
		`{"error_msg":"upstream dtable-db.internal refused"}`:               "SeaTable rejected the request",
		`{"error_msg":"could not connect to 10.0.3.7 port 6000"}`:           "SeaTable rejected the request",
		`{"error_msg":"Traceback (most recent call last): File \"x.py\""}`:  "SeaTable rejected the request",
		`{"error_msg":"<b>bad</b>"}`:                                        "SeaTable rejected the request",
		`{"error_msg":"token ` + escaped + ` is not valid here"}`:           "token [REDACTED] is not valid here",
	} {
		h := newHarness(t)
		h.fake.FailWith(400, http.Header{"Content-Type": {"application/json"}}, body)
		ae := mustAppErr(t, h, testToken)
		if ae.Message != want {
			t.Errorf("%s: message %q, want %q", body, ae.Message, want)
		}
		if strings.Contains(ae.Error(), testToken) {
			t.Errorf("%s: token in the error: %v", body, ae)
		}
	}
}
