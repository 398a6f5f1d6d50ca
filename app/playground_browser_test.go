package app

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/seatable-graphql/seatable-graphql/app/internal/playground"
	"github.com/seatable-graphql/seatable-graphql/internal/testenv"
	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

// screenshotPath is the screenshot the README shows; the browser test
// rewrites it when UPDATE_SCREENSHOT=1.
const screenshotPath = "../docs/playground.png"

// TestPlaygroundInBrowser loads the playground in headless Chromium with all
// outside network blocked, runs the example query against the demo data and
// checks that the result is on the page: the offline promise, end to end.
func TestPlaygroundInBrowser(t *testing.T) {
	chromium := testenv.LookChromium(t)
	if pg, err := playground.New(playground.Options{AssetsDir: filepath.Join("..", playground.DefaultAssetsDir)}); err != nil || !pg.Offline() {
		if err == nil {
			err = pg.AssetsErr()
		}
		testenv.Missing(t, testenv.NodePackages, "the playground assets (npm ci --prefix web/playground)", err)
	}
	e := newTestEnv(t)
	e.fake.AcceptAnyToken(fakeseatable.Fixture(fakeseatable.Demo))
	start := time.Now()

	ctx := newBrowser(t, chromium)
	var mu sync.Mutex
	var requests []string
	var console []chromedp.ConsoleMessage
	// Subscribed before the first navigation so nothing is missed.
	reqs := chromedp.Events(ctx, network.RequestWillBeSent)
	msgs := chromedp.Console(ctx)
	go func() {
		for ev, err := range reqs {
			if err != nil {
				return
			}
			mu.Lock()
			requests = append(requests, ev.Request.URL)
			mu.Unlock()
		}
	}()
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			mu.Lock()
			console = append(console, m)
			mu.Unlock()
		}
	}()

	// The network block must hold, or a CDN fallback could pass this test.
	probe := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(`<!DOCTYPE html><link rel="icon" href="data:,"><script>window.cdn = "pending"</script>` +
			`<script src="https://cdn.jsdelivr.net/npm/react@18.2.0/umd/react.production.min.js"` +
			` onload="window.cdn = 'loaded'" onerror="window.cdn = 'failed'"></script>`))
	}))
	defer probe.Close()
	if err := chromedp.Do(ctx, chromedp.Navigate(probe.URL)); err != nil {
		t.Fatalf("probe page: %v", err)
	}
	cdn, err := chromedp.Run(ctx, chromedp.Poll[string](`window.cdn !== "pending" && window.cdn`,
		chromedp.WithPollingTimeout(20*time.Second)))
	if err != nil {
		t.Fatalf("probe page: %v", err)
	}
	if cdn != "failed" {
		t.Fatalf("a script from cdn.jsdelivr.net %s: outside network is not blocked, so this test could not catch a CDN fallback", cdn)
	}
	mu.Lock()
	requests, console = nil, nil
	mu.Unlock()

	// First start: the page, the example query and the prefilled headers.
	if err := chromedp.Do(ctx,
		chromedp.EmulateViewport(1600, 1000), // a stable screenshot size
		chromedp.Navigate(e.url+"/"),
		chromedp.WaitVisible(chromedp.CSS(".graphiql-execute-button")),
	); err != nil {
		t.Fatalf("playground did not render: %v", err)
	}
	editors, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]any](`({
		query: document.querySelector(".graphiql-query-editor .CodeMirror").CodeMirror.getValue(),
		headers: [...document.querySelectorAll(".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror")]
			.map(el => el.CodeMirror.getValue()),
	})`))
	if err != nil {
		t.Fatalf("read editors: %v", err)
	}
	if q, _ := editors["query"].(string); q != playground.DefaultQuery {
		t.Errorf("query editor shows %q, want the example query", q)
	}
	if h, _ := editors["headers"].([]any); len(h) != 1 || h[0] != playground.DefaultHeaders {
		t.Errorf("visible header editor shows %v, want [%s]", h, playground.DefaultHeaders)
	}

	// Run it (the button; Ctrl-Enter does the same) and wait for the result.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(".graphiql-execute-button"))); err != nil {
		t.Fatalf("click run: %v", err)
	}
	result, err := chromedp.Run(ctx, chromedp.Poll[string](`(() => {
		const v = document.querySelector(".result-window .CodeMirror")?.CodeMirror.getValue();
		return v && v.includes('"testing"') && v;
	})()`, chromedp.WithPollingTimeout(20*time.Second)))
	if err != nil {
		t.Fatalf("result did not appear: %v", err)
	}
	var resp struct {
		Data struct {
			Workspaces []struct {
				Name   string
				Tables []struct{ Name string }
			}
		}
		Errors []any
	}
	if err := json.Unmarshal([]byte(result), &resp); err != nil || len(resp.Errors) > 0 || len(resp.Data.Workspaces) != 4 {
		t.Fatalf("result pane: %v\n%s", err, result)
	}
	if ws := resp.Data.Workspaces[3]; ws.Name != "group one" || len(ws.Tables) != 1 || ws.Tables[0].Name != "testing" {
		t.Errorf("group workspace in result: %+v", ws)
	}

	// The docs pane shows the schema's descriptions (what every type has is
	// TestSchemaIsFullyDocumented's job).
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`button[aria-label="Show Documentation Explorer"]`)),
		chromedp.Poll[chromedp.Void](`(() => {
			const link = [...document.querySelectorAll(".graphiql-doc-explorer a")].find(a => a.textContent === "Query");
			if (link) link.click();
			return !!link;
		})()`, chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.Poll[chromedp.Void](`(() => {
			const text = document.querySelector(".graphiql-doc-explorer")?.innerText ?? "";
			return text.includes("Read access to the SeaTable workspaces") && text.includes("One base by uuid.");
		})()`, chromedp.WithPollingTimeout(10*time.Second)),
	); err != nil {
		t.Errorf("docs pane does not show the descriptions of Query: %v", err)
	}

	// The token in the header editor must not reach localStorage (nor through
	// the history of runs).
	stored, err := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify(localStorage)`))
	if err != nil || !strings.Contains(stored, "WorkspacesWithBases") || strings.Contains(stored, "your-token") {
		t.Errorf("localStorage (err %v) should hold the query but not the headers: %s", err, stored)
	}

	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	out := filepath.Join(t.TempDir(), "playground.png")
	if os.Getenv("UPDATE_SCREENSHOT") == "1" {
		out = screenshotPath
	}
	if err := os.WriteFile(out, png, 0o644); err != nil {
		t.Fatal(err)
	}

	// A subscription runs from the playground over graphql-ws, with the
	// token from the headers editor as connection_init's payload. It has the
	// example's operation name: GraphiQL sends the name it last parsed,
	// and its parse of a changed editor is debounced.
	if err := chromedp.Do(ctx,
		chromedp.Evaluate[chromedp.Void](`document.querySelector(".graphiql-query-editor .CodeMirror").CodeMirror.setValue(
			"subscription WorkspacesWithBases { dtablesChanged { initial changes { added { name } } } }")`),
		chromedp.Click(chromedp.CSS(".graphiql-execute-button")),
	); err != nil {
		t.Fatalf("start the subscription: %v", err)
	}
	live, err := chromedp.Run(ctx, chromedp.Poll[string](`(() => {
		const v = document.querySelector(".result-window .CodeMirror")?.CodeMirror.getValue();
		return v && v.includes('"initial"') && v;
	})()`, chromedp.WithPollingTimeout(20*time.Second)))
	if err != nil {
		pane, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector(".result-window .CodeMirror")?.CodeMirror.getValue() ?? ""`))
		t.Fatalf("no subscription event in the result pane: %v\n%s\nlogs:\n%s", err, pane, e.logs.String())
	}
	if !strings.Contains(live, `"initial": true`) || !strings.Contains(live, `"testing"`) {
		t.Errorf("first subscription event: %s", live)
	}
	t.Logf("screenshot: %s; browser test took %s", out, time.Since(start).Round(time.Millisecond))

	mu.Lock()
	defer mu.Unlock()
	if len(requests) < 6 {
		t.Errorf("saw only %d requests; is the network listener working? %v", len(requests), requests)
	}
	for _, u := range requests {
		if !strings.HasPrefix(u, e.url+"/") && !strings.HasPrefix(u, "data:") {
			t.Errorf("the playground requested %s: only %s may be contacted", u, e.url)
		}
	}
	for _, m := range console {
		if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException {
			t.Errorf("browser console %s (%s): %s", m.Type, m.Source, m.Text)
		}
	}
}

// TestPlaygroundSaysWhatItNeeds: without the assets installed, the page
// loads GraphiQL from a CDN. When the CDN cannot be reached, the page itself
// must say so and name the command that makes it work offline, rather than
// "Loading GraphiQL…" forever. Two ways to be unreachable: connections
// refused (the browser reports an error at once) and a server that accepts
// and never answers (only the page's timeout can tell).
func TestPlaygroundSaysWhatItNeeds(t *testing.T) {
	chromium := testenv.LookChromium(t)
	hang, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var held []net.Conn // kept open, never answered, until the test ends
	go func() {
		for {
			c, err := hang.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = hang.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			_ = c.Close()
		}
	})
	ctx := newBrowser(t, chromium)

	for _, tc := range []struct {
		name, origin string
		timeout      time.Duration
		reason       string
	}{
		// The timeout is longer than the wait below: the message must come
		// from the load error.
		{"refused", "http://127.0.0.1:1", time.Minute, "Could not load http://127.0.0.1:1/npm/"},
		{"hangs", "http://" + hang.Addr().String(), 2 * time.Second,
			"GraphiQL's files have not arrived from http://" + hang.Addr().String() + " after 2 seconds."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pg, err := playground.New(playground.Options{AssetsDir: filepath.Join(t.TempDir(), "missing"),
				Endpoint: "/graphql", CDNOrigin: tc.origin, LoadTimeout: tc.timeout})
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(pg)
			defer srv.Close()
			// A blank page first, so that nothing below can see the page of
			// the previous case; then Page.navigate without waiting for the
			// load event, which a hanging script holds back.
			if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
				t.Fatal(err)
			}
			err = chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				_, err := cdp.Call(ctx, tg, page.Navigate, page.NavigateParams{URL: srv.URL + "/"})
				return err
			}))
			if err != nil {
				t.Fatalf("navigate: %v", err)
			}
			// Until the new page has a JavaScript context, evaluating fails
			// ("Cannot find context"): poll again until the deadline.
			var text string
			for deadline := time.Now().Add(8 * time.Second); ; {
				text, err = chromedp.Run(ctx, chromedp.Poll[string](`(() => {
					const el = document.getElementById("load-problem");
					return el && el.getBoundingClientRect().height > 0 && !document.querySelector(".loading") && el.innerText;
				})()`, chromedp.WithPollingTimeout(time.Until(deadline))))
				if err == nil || time.Now().After(deadline) {
					break
				}
			}
			if err != nil {
				body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
				t.Fatalf("no visible message on the page: %v; the page shows %q", err, body)
			}
			for _, want := range []string{tc.reason, "needs internet access", "npm ci --prefix web/playground", "bash scripts/dev-deps.sh"} {
				if !strings.Contains(text, want) {
					t.Errorf("the message lacks %q:\n%s", want, text)
				}
			}
		})
	}
}

// newBrowser starts headless Chromium with a fresh profile and no route off
// this machine: every host but 127.0.0.1 resolves to nothing, and anything
// that bypasses the resolver meets a proxy on a dead port. Loopback is never
// proxied.
func newBrowser(t *testing.T, execPath string) context.Context {
	t.Helper()
	profile := t.TempDir() // cleaned after the browser has stopped (LIFO)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(execPath),
		chromedp.UserDataDir(profile),
		chromedp.Headless,
		chromedp.NoSandbox, // CI runs as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.WindowSize(1600, 1000),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.ProxyServer("http://127.0.0.1:9"),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"),
	)
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start %s: %v", execPath, err)
	}
	return bctx
}
