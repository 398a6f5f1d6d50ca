package app

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/seatable-graphql/seatable-graphql/upstream"
	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

// panicLister stands in for a buggy SeaTable client or cache.
type panicLister struct{}

func (panicLister) ListWorkspaces(_ context.Context, token string, _ upstream.Read) (*upstream.WorkspaceList, error) {
	panic("fetcher bug while holding " + token)
}

// TestNoTokenInLogsOrResponses captures all log output at debug level
// through full request cycles (success, upstream errors that echo the
// token, timeouts, a panic, malformed Authorization headers, hostile
// bodies) and checks that no token, nor a fragment of one, appears in the
// logs or in any response.
func TestNoTokenInLogsOrResponses(t *testing.T) {
	const token = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b" // 40 hex, like an account token
	const other = "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE3MDAwMDAwMDB9.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
	e := newTestEnv(t, withEnv("UPSTREAM_TIMEOUT", "200ms", "BREAKER_FAILURES", "4", "BREAKER_CALLERS", "1"))
	e.fake.SetToken(token, fakeseatable.Fixture(fakeseatable.Current))
	e.fake.SetToken(other, fakeseatable.Fixture(fakeseatable.Seed))
	panicky := newTestEnv(t, withFake(e.fake), func(o *envOptions) {
		o.logs = e.logs
		o.seams.wrapFetcher = func(upstream.Lister) upstream.Lister { return panicLister{} }
	})

	var bodies []string
	send := func(base, authorization, contentType, body string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, base+"/graphql", strings.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		if authorization != "" {
			req.Header.Set("Authorization", authorization)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		bodies = append(bodies, string(raw))
	}
	query := `{"query":"{ workspaces { id name tables { name } } d: dtable(uuid: \"x\") { id } }"}`
	echo := func(status int, body string) {
		e.fake.FailWith(status, http.Header{"Content-Type": {"application/json"}}, strings.ReplaceAll(body, "TOKEN", token))
	}

	for _, scheme := range []string{"Token ", "Bearer "} {
		send(e.url, scheme+token, "application/json", query)
		send(e.url, scheme+other, "application/json", query)
	}
	for _, upstreamFailure := range []struct {
		status int
		body   string
	}{
		{401, `{"detail":"Invalid token TOKEN"}`},
		{400, `{"error_msg":"bad request for token TOKEN, please check"}`},
		{403, `{"error_msg":"TOKEN may not do this"}`},
		{429, `{"detail":"throttled TOKEN"}`},
		{200, `{"workspace_list": "TOKEN"}`},
		{500, `<html><body>Traceback: token=TOKEN</body></html>`}, // breaker: 1 failure
	} {
		echo(upstreamFailure.status, upstreamFailure.body)
		send(e.url, "Token "+token, "application/json", query)
	}
	e.fake.SetHook(func(w http.ResponseWriter, r *http.Request) bool { <-r.Context().Done(); return true })
	send(e.url, "Token "+token, "application/json", query) // timeout: 2 failures
	echo(503, `{"error_msg":"down; your token TOKEN is fine"}`)
	send(e.url, "Token "+token, "application/json", query) // 3 attempts: the breaker opens
	send(e.url, "Token "+token, "application/json", query) // circuit open
	e.fake.SetHook(nil)
	for _, header := range []string{
		"Token " + token + " extra", "Basic " + token, "Token " + token + strings.Repeat("x", 3000),
		"Token" + token, "Bearer " + token + "é", token,
	} {
		send(e.url, header, "application/json", query)
	}
	send(e.url, "Token "+token, "application/json", `{"query": "{ workspaces { id } }", "variables": "`+token)
	send(e.url, "Token "+token, "text/plain", token)
	send(panicky.url, "Token "+token, "application/json", query)

	logs := e.logs.String()
	if !strings.Contains(logs, "panic while reading SeaTable") || !strings.Contains(logs, "circuit breaker") {
		t.Fatalf("the cycle did not exercise the panic and breaker logs:\n%s", logs)
	}
	for _, tok := range []string{token, other} {
		for _, frag := range []string{tok, tok[:16], tok[len(tok)-16:]} {
			if strings.Contains(logs, frag) {
				t.Errorf("logs contain token fragment %q:\n%s", frag, logs)
			}
			for _, b := range bodies {
				if strings.Contains(b, frag) {
					t.Errorf("response contains token fragment %q: %s", frag, b)
				}
			}
		}
	}
	if !strings.Contains(strings.Join(bodies, "\n"), "[REDACTED]") {
		t.Errorf("expected SeaTable's echoing 400 message to reach the client redacted")
	}
}
