package playground

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	gqlplayground "github.com/99designs/gqlgen/graphql/playground"

	"github.com/seatable-graphql/seatable-graphql/internal/testenv"
)

// fakeInstall writes stand-ins for the four npm files, laid out as npm does.
func fakeInstall(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, v := range vendorAssets {
		p := filepath.Join(dir, filepath.FromSlash(v.rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		body := strings.Repeat("/* "+v.name+" */\n", 200)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func get(t *testing.T, h http.Handler, path string, header ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, r *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var srcRE = regexp.MustCompile(`(?:src|href)="([^"]+)" integrity="([^"]+)"`)

func TestOfflinePageReferencesOnlyServedAssetsWithMatchingSRI(t *testing.T) {
	var logs bytes.Buffer
	h, err := New(Options{AssetsDir: fakeInstall(t), Endpoint: "/graphql", Title: "t",
		Log: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if !h.Offline() || logs.Len() != 0 {
		t.Fatalf("offline=%v, logs %q", h.Offline(), logs.String())
	}
	for _, path := range []string{"/", "/playground", "/playground/"} {
		resp := get(t, h, path)
		page := body(t, resp)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self';") || strings.Contains(csp, "unsafe") {
			t.Errorf("CSP %q", csp)
		}
		if strings.Contains(page, "https://") || strings.Contains(page, "<script>") {
			t.Errorf("offline page refers off-site or has an inline script:\n%s", page)
		}
		refs := srcRE.FindAllStringSubmatch(page, -1)
		if len(refs) != 6 { // 4 vendor files + our js and css
			t.Fatalf("page has %d asset references, want 6:\n%s", len(refs), page)
		}
		for _, m := range refs {
			url, sri := html.UnescapeString(m[1]), html.UnescapeString(m[2])
			a := get(t, h, url)
			b := body(t, a)
			sum := sha256.Sum256([]byte(b))
			if want := "sha256-" + base64.StdEncoding.EncodeToString(sum[:]); sri != want {
				t.Errorf("%s: page says integrity %s, served bytes hash to %s", url, sri, want)
			}
			if cc := a.Header.Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
				t.Errorf("%s: Cache-Control %q", url, cc)
			}
			wantCT := "text/javascript; charset=utf-8"
			if strings.Contains(url, ".css") {
				wantCT = "text/css; charset=utf-8"
			}
			if ct := a.Header.Get("Content-Type"); ct != wantCT || a.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("%s: Content-Type %q, nosniff %q", url, ct, a.Header.Get("X-Content-Type-Options"))
			}
		}
	}
	if !strings.Contains(body(t, get(t, h, "/")), `"endpoint":"/graphql"`) {
		t.Error("page config lacks the endpoint")
	}
}

func TestAssetCaching(t *testing.T) {
	h, err := New(Options{AssetsDir: fakeInstall(t)})
	if err != nil {
		t.Fatal(err)
	}
	// A URL without the current hash may be stale: revalidate.
	plain := get(t, h, AssetsPrefix+"graphiql.min.js")
	if plain.StatusCode != 200 || plain.Header.Get("Cache-Control") != "no-cache" {
		t.Errorf("unversioned URL: %d %q", plain.StatusCode, plain.Header.Get("Cache-Control"))
	}
	etag := plain.Header.Get("ETag")
	if r := get(t, h, AssetsPrefix+"graphiql.min.js", "If-None-Match", etag); r.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match %s: %d, want 304", etag, r.StatusCode)
	}
	gz := get(t, h, AssetsPrefix+"graphiql.min.js", "Accept-Encoding", "br, gzip")
	if gz.Header.Get("Content-Encoding") != "gzip" || gz.Header.Get("ETag") == etag || gz.Header.Get("Vary") != "Accept-Encoding" {
		t.Fatalf("gzip: encoding %q etag %q vary %q", gz.Header.Get("Content-Encoding"), gz.Header.Get("ETag"), gz.Header.Get("Vary"))
	}
	zr, err := gzip.NewReader(gz.Body)
	if err != nil {
		t.Fatal(err)
	}
	unzipped, _ := io.ReadAll(zr)
	if string(unzipped) != body(t, get(t, h, AssetsPrefix+"graphiql.min.js")) {
		t.Error("gzipped body differs from the file")
	}
	if r := get(t, h, AssetsPrefix+"graphiql.min.js", "Accept-Encoding", "gzip;q=0"); r.Header.Get("Content-Encoding") != "" {
		t.Error("gzip sent although refused with q=0")
	}
	for _, p := range []string{AssetsPrefix + "nope.js", AssetsPrefix + "../../go.mod", "/playground/other"} {
		if r := get(t, h, p); r.StatusCode != 404 {
			t.Errorf("GET %s: %d, want 404", p, r.StatusCode)
		}
	}
	req := httptest.NewRequest(http.MethodPost, "/", nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST /: %d", rec.Code)
	}
}

func TestFallsBackToCDNAndLogsOnce(t *testing.T) {
	var logs bytes.Buffer
	h, err := New(Options{AssetsDir: filepath.Join(t.TempDir(), "missing"), Endpoint: "/graphql",
		Log: slog.New(slog.NewJSONHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if h.Offline() {
		t.Fatal("offline without assets")
	}
	for range 3 {
		page := body(t, get(t, h, "/"))
		for _, v := range vendorAssets {
			if !strings.Contains(page, v.cdnURL) {
				t.Errorf("fallback page lacks %s", v.cdnURL)
			}
		}
	}
	if n := strings.Count(logs.String(), "\n"); n != 1 || !strings.Contains(logs.String(), "npm ci --prefix web/playground") {
		t.Errorf("want one log line naming the install command, got %d:\n%s", n, logs.String())
	}
	var line map[string]any
	if err := json.Unmarshal(logs.Bytes(), &line); err != nil || line["level"] != "WARN" {
		t.Errorf("log line %v %v", line, err)
	}
	if r := get(t, h, "/"); !strings.Contains(r.Header.Get("Content-Security-Policy"), "script-src 'self' "+cdnOrigin+";") {
		t.Errorf("fallback CSP does not allow the CDN: %q", r.Header.Get("Content-Security-Policy"))
	}
	// Our own files are still served from here.
	if r := get(t, h, AssetsPrefix+"playground.js"); r.StatusCode != 200 {
		t.Errorf("playground.js: %d", r.StatusCode)
	}
}

// Without the assets the page must be able to say what makes it work
// offline: its config names the CDN and the install command, and a
// replaced CDN origin is used everywhere the CDN's was (URLs and CSP).
func TestFallbackPageCarriesTheInstallHint(t *testing.T) {
	h, err := New(Options{AssetsDir: filepath.Join(t.TempDir(), "missing"), CDNOrigin: "http://127.0.0.1:1",
		LoadTimeout: 1500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if h.AssetsErr() == nil {
		t.Error("AssetsErr is nil without assets")
	}
	resp := get(t, h, "/")
	page := body(t, resp)
	m := regexp.MustCompile(`(?s)<script type="application/json" id="playground-config">(.*?)</script>`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no config block:\n%s", page)
	}
	var cfg pageConfig
	if err := json.Unmarshal([]byte(m[1]), &cfg); err != nil {
		t.Fatalf("config block: %v\n%s", err, m[1])
	}
	if cfg.AssetsOrigin != "http://127.0.0.1:1" || cfg.InstallCommand != InstallCommand || cfg.LoadTimeoutMs != 1500 {
		t.Errorf("config %+v", cfg)
	}
	if strings.Contains(page, cdnOrigin) || strings.Count(page, "http://127.0.0.1:1/npm/") != 4 {
		t.Errorf("the page should load the four files from the replaced origin only:\n%s", page)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self' http://127.0.0.1:1;") {
		t.Errorf("CSP %q", csp)
	}
	// The watchdog (playground.js) must run before GraphiQL's files and
	// must not wait for them: no defer, and first among the scripts.
	own := strings.Index(page, `<script src="/playground/assets/playground.js`)
	if own < 0 || own > strings.Index(page, `<script src="http://127.0.0.1:1/`) ||
		strings.Contains(page[own:own+strings.Index(page[own:], ">")], "defer") {
		t.Errorf("playground.js must come first and without defer:\n%s", page)
	}

	// Installed, the page has no origin to blame and the default timeout.
	h, err = New(Options{AssetsDir: fakeInstall(t)})
	if err != nil {
		t.Fatal(err)
	}
	if h.AssetsErr() != nil || !strings.Contains(body(t, get(t, h, "/")), `"assetsOrigin":"","installCommand"`) {
		t.Errorf("offline page config: %v", h.AssetsErr())
	}
}

// A half-installed directory (a file missing) must not produce a page that
// refers to a file the server cannot serve.
func TestPartialInstallFallsBack(t *testing.T) {
	dir := fakeInstall(t)
	if err := os.Remove(filepath.Join(dir, "graphiql", "graphiql.min.css")); err != nil {
		t.Fatal(err)
	}
	h, err := New(Options{AssetsDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if h.Offline() {
		t.Error("offline with a file missing")
	}
}

// The fallback must be exactly what gqlgen's playground uses for the same
// versions, so that an upgrade of either is noticed here.
func TestCDNFallbackMatchesGqlgenDefaults(t *testing.T) {
	rec := httptest.NewRecorder()
	gqlplayground.Handler("t", "/graphql")(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	page := html.UnescapeString(rec.Body.String())
	for _, v := range vendorAssets {
		if !strings.Contains(page, v.cdnURL) || !strings.Contains(page, v.cdnSRI) {
			t.Errorf("gqlgen's playground no longer uses %s (%s)", v.cdnURL, v.cdnSRI)
		}
	}
}

// The real install, when present, must be the versions pinned in
// web/playground and hash to the SRI gqlgen publishes for them.
func TestInstalledAssetsAreThePinnedVersions(t *testing.T) {
	dir := filepath.Join("..", "..", "..", DefaultAssetsDir)
	if _, err := os.Stat(dir); err != nil {
		testenv.Missing(t, testenv.NodePackages, "the playground assets (npm ci --prefix web/playground)", err)
	}
	h, err := New(Options{AssetsDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vendorAssets {
		if got := h.assets[v.name].sri; got != v.cdnSRI {
			t.Errorf("%s: installed file hashes to %s, the pinned version to %s", v.rel, got, v.cdnSRI)
		}
	}
}
