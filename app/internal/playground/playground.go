// Package playground serves GraphiQL from this server, so the playground
// works on a machine without internet. The third-party files (GraphiQL and
// the React UMD builds) are not in the repository: they come from the npm
// install pinned in web/playground (npm ci --prefix web/playground). When that
// install is missing the page loads the same files from the CDN gqlgen uses,
// and says so once in the log; when they cannot load (offline, or nothing
// arrives in LoadTimeout) the page itself says why and which command makes
// it work offline. The page never sends a token anywhere but the
// GraphQL endpoint and never stores one.
package playground

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// DefaultAssetsDir is where `npm ci --prefix web/playground` puts the
// assets, relative to the working directory (or to the executable).
const DefaultAssetsDir = "web/playground/node_modules"

// AssetsPrefix is the URL path under which the assets are served.
const AssetsPrefix = "/playground/assets/"

// cdnOrigin is where the page loads GraphiQL from when the assets are not
// installed.
const cdnOrigin = "https://cdn.jsdelivr.net"

// vendorAsset is one third-party file: where npm puts it below the assets
// directory, and the CDN URL and SRI hash gqlgen's playground uses for the
// same version (graphiql 4.1.2, react and react-dom 18.2.0).
type vendorAsset struct {
	name, rel, cdnURL, cdnSRI string
}

var vendorAssets = []vendorAsset{
	{"react.production.min.js", "react/umd/react.production.min.js",
		cdnOrigin + "/npm/react@18.2.0/umd/react.production.min.js", "sha256-S0lp+k7zWUMk2ixteM6HZvu8L9Eh//OVrt+ZfbCpmgY="},
	{"react-dom.production.min.js", "react-dom/umd/react-dom.production.min.js",
		cdnOrigin + "/npm/react-dom@18.2.0/umd/react-dom.production.min.js", "sha256-IXWO0ITNDjfnNXIu5POVfqlgYoop36bDzhodR6LW5Pc="},
	{"graphiql.min.css", "graphiql/graphiql.min.css",
		cdnOrigin + "/npm/graphiql@4.1.2/graphiql.min.css", "sha256-MEh+B2NdMSpj9kexQNN3QKc8UzMrCXW/Sx/phcpuyIU="},
	{"graphiql.min.js", "graphiql/graphiql.min.js",
		cdnOrigin + "/npm/graphiql@4.1.2/graphiql.min.js", "sha256-hnImuor1znlJkD/FOTL3jayfS/xsyNoP04abi8bFJWs="},
}

//go:embed static
var static embed.FS

// DefaultQuery is what the editor shows on first open: the demo data's
// workspaces with their bases.
const DefaultQuery = `# Welcome to seatable-graphql.
#
# Put your SeaTable token in the Headers
# tab below (the demo accepts any token)
# and press Ctrl-Enter or the run button.
# Docs (top left) describes every type,
# field and argument.

query WorkspacesWithBases {
  workspaces {
    id
    type
    name
    tables {
      uuid
      name
      updatedAt
      starred
    }
  }
}
`

// DefaultHeaders is what the header editor shows on first open. The
// placeholder is one word so that the header is well-formed: the demo runs the
// example query with it unchanged, and a real SeaTable answers
// UNAUTHENTICATED until it is replaced.
const DefaultHeaders = `{"Authorization": "Token <your-token>"}`

// InstallCommand installs the assets so that the page needs no internet.
const InstallCommand = "npm ci --prefix web/playground"

// DefaultLoadTimeout is how long the page waits for GraphiQL's files before
// it says that they have not come (they may still arrive and replace the
// message).
const DefaultLoadTimeout = 15 * time.Second

// Options configure the playground.
type Options struct {
	// AssetsDir holds the npm install (laid out like node_modules). A
	// relative path is looked up in the working directory, then next to
	// the executable. Empty means DefaultAssetsDir.
	AssetsDir string
	// Endpoint is the GraphQL URL the page queries, e.g. "/graphql".
	Endpoint string
	// Title is the page title.
	Title string
	Log   *slog.Logger
	// CDNOrigin replaces https://cdn.jsdelivr.net in the page when the
	// assets are not installed; tests point it at an address that cannot
	// answer.
	CDNOrigin string
	// LoadTimeout: see DefaultLoadTimeout (used when zero).
	LoadTimeout time.Duration
}

// Handler serves the playground page and its assets.
type Handler struct {
	page    []byte
	pageTag string
	csp     string
	assets  map[string]*asset // by file name under AssetsPrefix
	offline bool
	// assetsErr is why the assets could not be loaded (nil when offline).
	assetsErr error
	dir       string
	started   time.Time
}

type asset struct {
	body        []byte
	contentType string
	hash        string // hex sha256 of body
	sri         string
	gzipOnce    sync.Once
	gzipped     []byte
}

// New loads the assets and renders the page once. It does not fail when
// the assets are missing: the page then uses the CDN, which it logs here,
// once per handler.
func New(o Options) (*Handler, error) {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.AssetsDir == "" {
		o.AssetsDir = DefaultAssetsDir
	}
	if o.CDNOrigin == "" {
		o.CDNOrigin = cdnOrigin
	}
	if o.LoadTimeout <= 0 {
		o.LoadTimeout = DefaultLoadTimeout
	}
	h := &Handler{assets: map[string]*asset{}, started: time.Now()}

	own, err := fs.Sub(static, "static")
	if err != nil {
		return nil, fmt.Errorf("playground: %w", err)
	}
	for _, name := range []string{"playground.js", "playground.css"} {
		b, err := fs.ReadFile(own, name)
		if err != nil {
			return nil, fmt.Errorf("playground: %w", err)
		}
		h.assets[name] = newAsset(name, b)
	}

	dir, vendor, err := loadVendor(o.AssetsDir)
	if err == nil {
		for name, b := range vendor {
			h.assets[name] = newAsset(name, b)
		}
		h.offline, h.dir = true, dir
	} else {
		h.assetsErr = err
		o.Log.Warn("playground assets not installed; GraphiQL will load from "+o.CDNOrigin+
			" and needs internet (run `"+InstallCommand+"`, then restart, to serve it offline)",
			"dir", o.AssetsDir, "err", err)
	}

	type script struct {
		URL template.URL
		SRI string
	}
	data := struct {
		Title             string
		CSS, OwnCSS       script
		Scripts           []script
		OwnJS             script
		Config            pageConfig
		CrossOriginAssets bool
	}{
		Title:             o.Title,
		OwnCSS:            script{template.URL(h.assetURL("playground.css")), h.assets["playground.css"].sri},
		OwnJS:             script{template.URL(h.assetURL("playground.js")), h.assets["playground.js"].sri},
		CrossOriginAssets: !h.offline,
		Config: pageConfig{
			Endpoint:       o.Endpoint,
			DefaultQuery:   DefaultQuery,
			DefaultHeaders: DefaultHeaders,
			LoadTimeoutMs:  o.LoadTimeout.Milliseconds(),
			InstallCommand: InstallCommand,
		},
	}
	if !h.offline {
		data.Config.AssetsOrigin = o.CDNOrigin
	}
	for _, v := range vendorAssets {
		s := script{template.URL(strings.Replace(v.cdnURL, cdnOrigin, o.CDNOrigin, 1)), v.cdnSRI}
		if h.offline {
			s = script{template.URL(h.assetURL(v.name)), h.assets[v.name].sri}
		}
		if strings.HasSuffix(v.name, ".css") {
			data.CSS = s
		} else {
			data.Scripts = append(data.Scripts, s)
		}
	}
	var buf bytes.Buffer
	if err := page.Execute(&buf, data); err != nil {
		return nil, fmt.Errorf("playground: render page: %w", err)
	}
	h.page = buf.Bytes()
	sum := sha256.Sum256(h.page)
	h.pageTag = `"` + hex.EncodeToString(sum[:8]) + `"`

	// The page has no inline script or style; the config block is JSON,
	// which browsers never execute.
	src := "'self'"
	if !h.offline {
		src += " " + o.CDNOrigin
	}
	h.csp = "default-src 'none'; script-src " + src + "; style-src " + src +
		"; font-src 'self' data:; img-src 'self' data:; connect-src 'self'" +
		"; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
	return h, nil
}

// pageConfig is what playground.js reads from the page's JSON block.
type pageConfig struct {
	Endpoint       string `json:"endpoint"`
	DefaultQuery   string `json:"defaultQuery"`
	DefaultHeaders string `json:"defaultHeaders"`
	// LoadTimeoutMs: how long the page waits for GraphiQL before it shows
	// why it may not come.
	LoadTimeoutMs int64 `json:"loadTimeoutMs"`
	// AssetsOrigin is where GraphiQL's files come from: the CDN's origin,
	// or "" for this server.
	AssetsOrigin string `json:"assetsOrigin"`
	// InstallCommand is what the page tells the user to run when the CDN
	// cannot be reached.
	InstallCommand string `json:"installCommand"`
}

// Offline reports whether the page is served without the CDN.
func (h *Handler) Offline() bool { return h.offline }

// AssetsErr says why the page uses the CDN: the error that loading the
// assets met (nil when Offline).
func (h *Handler) AssetsErr() error { return h.assetsErr }

// AssetsDir is the directory the assets were read from ("" when offline is
// false).
func (h *Handler) AssetsDir() string { return h.dir }

// loadVendor reads every vendor asset from the first candidate directory
// that has them all.
func loadVendor(dir string) (string, map[string][]byte, error) {
	candidates := []string{dir}
	if !filepath.IsAbs(dir) {
		if exe, err := os.Executable(); err == nil {
			candidates = append(candidates, filepath.Join(filepath.Dir(exe), dir))
		}
	}
	var first error
	for _, d := range candidates {
		files := map[string][]byte{}
		var err error
		for _, v := range vendorAssets {
			var b []byte
			if b, err = os.ReadFile(filepath.Join(d, filepath.FromSlash(v.rel))); err != nil {
				break
			}
			files[v.name] = b
		}
		if err == nil {
			return d, files, nil
		}
		if first == nil {
			first = err
		}
	}
	if len(candidates) > 1 {
		return "", nil, fmt.Errorf("%w (also looked in %s)", first, strings.Join(candidates[1:], ", "))
	}
	return "", nil, first
}

func newAsset(name string, b []byte) *asset {
	sum := sha256.Sum256(b)
	ct := "text/javascript; charset=utf-8"
	if path.Ext(name) == ".css" {
		ct = "text/css; charset=utf-8"
	}
	return &asset{
		body:        b,
		contentType: ct,
		hash:        hex.EncodeToString(sum[:]),
		sri:         "sha256-" + base64.StdEncoding.EncodeToString(sum[:]),
	}
}

// assetURL carries a content hash so that browsers may cache the file for
// good: a new install changes the URL.
func (h *Handler) assetURL(name string) string {
	return AssetsPrefix + name + "?v=" + h.assets[name].hash[:16]
}

// ServeHTTP answers GET/HEAD for /, /playground and AssetsPrefix+name.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if name, ok := strings.CutPrefix(r.URL.Path, AssetsPrefix); ok {
		h.serveAsset(w, r, name)
		return
	}
	switch r.URL.Path {
	case "/", "/playground", "/playground/":
	default:
		http.NotFound(w, r)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Content-Security-Policy", h.csp)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	// Revalidated on every load, so a new install is picked up at once.
	hd.Set("Cache-Control", "no-cache")
	hd.Set("ETag", h.pageTag)
	http.ServeContent(w, r, "", h.started, bytes.NewReader(h.page))
}

func (h *Handler) serveAsset(w http.ResponseWriter, r *http.Request, name string) {
	a, ok := h.assets[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", a.contentType)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Vary", "Accept-Encoding")
	if r.URL.Query().Get("v") == a.hash[:16] {
		hd.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		hd.Set("Cache-Control", "no-cache")
	}
	body, tag := a.body, `"`+a.hash[:32]+`"`
	if acceptsGzip(r) {
		if gz := a.gzip(); gz != nil {
			body, tag = gz, `"`+a.hash[:32]+`-gz"`
			hd.Set("Content-Encoding", "gzip")
		}
	}
	hd.Set("ETag", tag)
	http.ServeContent(w, r, "", h.started, bytes.NewReader(body))
}

// gzip compresses the asset on first use (GraphiQL is 1.5 MB, 0.6 MB
// gzipped); nil when compression does not pay.
func (a *asset) gzip() []byte {
	a.gzipOnce.Do(func() {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		_, _ = zw.Write(a.body)
		if zw.Close() == nil && buf.Len() < len(a.body)*9/10 {
			a.gzipped = buf.Bytes()
		}
	})
	return a.gzipped
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			return strings.ReplaceAll(params, " ", "") != "q=0"
		}
	}
	return false
}

// The page runs playground.js first, before any stylesheet that could hold
// it back, so that its watchdog runs even while the CDN hangs. GraphiQL's
// stylesheet sits in the body after the loading message: a stylesheet in the
// head that never arrives would keep the browser from painting anything,
// the watchdog's message included.
var page = template.Must(template.New("playground").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} · GraphiQL</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{{.OwnCSS.URL}}" integrity="{{.OwnCSS.SRI}}">
<script type="application/json" id="playground-config">{{.Config}}</script>
<script src="{{.OwnJS.URL}}" integrity="{{.OwnJS.SRI}}"></script>
{{- range .Scripts}}
<script src="{{.URL}}" integrity="{{.SRI}}"{{if $.CrossOriginAssets}} crossorigin="anonymous"{{end}} defer></script>
{{- end}}
</head>
<body>
<div id="graphiql"><div class="loading">Loading GraphiQL…</div></div>
<link rel="stylesheet" href="{{.CSS.URL}}" integrity="{{.CSS.SRI}}"{{if .CrossOriginAssets}} crossorigin="anonymous"{{end}}>
</body>
</html>
`))
