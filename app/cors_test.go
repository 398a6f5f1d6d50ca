package app

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

// browserHeaders are request headers real browser clients send to a
// GraphQL API: each must pass a preflight, or the browser drops the request
// before it is sent.
var browserHeaders = []string{
	"Authorization", "Content-Type", "Accept", "X-Request-Id",
	"Cache-Control", "Pragma", // this server's documented cache bypass
	"apollographql-client-name", "apollographql-client-version", // Apollo Client clientAwareness
	"apollo-require-preflight", "x-apollo-operation-name", // Apollo CSRF prevention
	"graphql-client-name", "graphql-client-version",
	"x-graphql-client-name", "x-graphql-client-version",
	"traceparent", "tracestate", "baggage", // OpenTelemetry web
	"sentry-trace",
}

// TestCORSPreflightPerHeader asks one preflight per header, as a browser
// does for a page that sends it, and one with all of them at once.
func TestCORSPreflightPerHeader(t *testing.T) {
	const origin = "https://app.example.com"
	e := newTestEnv(t, withEnv("CORS_ALLOWED_ORIGINS", origin))
	preflight := func(headers string) (int, http.Header) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodOptions, e.url+"/graphql", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", headers)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header
	}
	allowed := func(h http.Header) []string {
		var out []string
		for _, v := range h.Values("Access-Control-Allow-Headers") {
			for f := range strings.SplitSeq(v, ",") {
				out = append(out, strings.ToLower(strings.TrimSpace(f)))
			}
		}
		return out
	}
	for _, name := range browserHeaders {
		status, h := preflight(strings.ToLower(name))
		if status/100 != 2 || h.Get("Access-Control-Allow-Origin") != origin || !slices.Contains(allowed(h), strings.ToLower(name)) {
			t.Errorf("preflight for %s: %d, Allow-Origin %q, Allow-Headers %q", name, status,
				h.Get("Access-Control-Allow-Origin"), h.Values("Access-Control-Allow-Headers"))
		}
	}
	// Browsers send the names sorted, lower-case, comma-separated.
	all := make([]string, len(browserHeaders))
	for i, n := range browserHeaders {
		all[i] = strings.ToLower(n)
	}
	slices.Sort(all)
	if status, h := preflight(strings.Join(all, ",")); status/100 != 2 || len(allowed(h)) != len(all) {
		t.Errorf("preflight for all headers: %d, Allow-Headers %q", status, h.Values("Access-Control-Allow-Headers"))
	}
	// A header outside the list is still refused: the list is a choice,
	// not "anything".
	if _, h := preflight("x-made-up"); h.Get("Access-Control-Allow-Origin") != "" || len(allowed(h)) != 0 {
		t.Errorf("preflight for x-made-up was allowed: %v", h)
	}
}
