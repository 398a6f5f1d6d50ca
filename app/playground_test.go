package app

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/seatable-graphql/seatable-graphql/app/internal/playground"
)

// The playground's routes through the real handler: the page at / and
// /playground, its assets, and no upstream call for any of them.
func TestPlaygroundRoutes(t *testing.T) {
	e := newTestEnv(t)
	for _, path := range []string{"/", "/playground", "/playground/", playground.AssetsPrefix + "playground.js"} {
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			req, _ := http.NewRequest(method, e.url+path, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || (method == http.MethodGet && len(body) == 0) {
				t.Errorf("%s %s: %d, %d bytes", method, path, resp.StatusCode, len(body))
			}
			if path != "/playground/assets/playground.js" && !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'none'") {
				t.Errorf("%s %s: no CSP", method, path)
			}
		}
	}
	if resp, err := http.Get(e.url + "/playground/assets/missing.js"); err != nil || resp.StatusCode != 404 {
		t.Errorf("missing asset: %v %v", resp, err)
	}
	if n := e.fake.Calls(); n != 0 {
		t.Errorf("playground made %d upstream calls", n)
	}
}

func TestLoadConfigPlaygroundAssetsDir(t *testing.T) {
	for env, want := range map[string]string{"": playground.DefaultAssetsDir, "/srv/assets": "/srv/assets"} {
		c, err := LoadConfig(func(k string) string {
			if k == "PLAYGROUND_ASSETS_DIR" {
				return env
			}
			return ""
		})
		if err != nil || c.PlaygroundAssetsDir != want {
			t.Errorf("PLAYGROUND_ASSETS_DIR=%q: got %q, %v; want %q", env, c.PlaygroundAssetsDir, err, want)
		}
	}
}
