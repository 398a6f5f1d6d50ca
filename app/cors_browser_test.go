package app

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/seatable-graphql/seatable-graphql/internal/testenv"
	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

// TestCORSFromBrowser: a page on another origin (another port) fetches the
// API in headless Chromium with the headers Apollo Client, OpenTelemetry
// web and this server's cache bypass send. The browser makes the preflight
// and enforces its answer, so this is what a user's page meets.
func TestCORSFromBrowser(t *testing.T) {
	chromium := testenv.LookChromium(t)
	var api string // set below, before the page is requested
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!DOCTYPE html><link rel="icon" href="data:,"><script>
window.result = "pending";
fetch(%q, {method: "POST", body: JSON.stringify({query: "{ workspaces { name } }"}), headers: {
	"Content-Type": "application/json", "Accept": "application/graphql-response+json, application/json",
	"Authorization": "Token browser-token", "X-Request-Id": "from-the-page",
	"apollographql-client-name": "web", "apollographql-client-version": "1.2.3",
	"apollo-require-preflight": "true", "x-apollo-operation-name": "Workspaces",
	"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
	"tracestate": "vendor=1", "baggage": "user=anon", "sentry-trace": "0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-1",
	"Cache-Control": "no-cache", "Pragma": "no-cache",
}}).then(async r => { window.result = JSON.stringify({status: r.status, requestId: r.headers.get("X-Request-Id"), body: await r.json()}) },
	e => { window.result = "fetch failed: " + e });
</script>`, api+"/graphql")
	}))
	defer page.Close()
	e := newTestEnv(t, withEnv("CORS_ALLOWED_ORIGINS", page.URL))
	e.fake.AcceptAnyToken(fakeseatable.Fixture(fakeseatable.Demo))
	api = e.url

	ctx := newBrowser(t, chromium)
	if err := chromedp.Do(ctx, chromedp.Navigate(page.URL)); err != nil {
		t.Fatalf("page: %v", err)
	}
	got, err := chromedp.Run(ctx, chromedp.Poll[string](`window.result !== "pending" && window.result`,
		chromedp.WithPollingTimeout(20*time.Second)))
	if err != nil {
		t.Fatalf("no result: %v", err)
	}
	var res struct {
		Status    int
		RequestID string
		Body      struct {
			Data   struct{ Workspaces []struct{ Name string } }
			Errors []any
		}
	}
	if err := json.Unmarshal([]byte(got), &res); err != nil {
		t.Fatalf("the cross-origin fetch was refused (%v): %s\nlogs:\n%s", err, got, e.logs.String())
	}
	if res.Status != 200 || len(res.Body.Errors) > 0 || len(res.Body.Data.Workspaces) != 4 || res.RequestID != "from-the-page" {
		t.Errorf("cross-origin fetch: %s", got)
	}
}
