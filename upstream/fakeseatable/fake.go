// Package fakeseatable is an in-process stand-in for a SeaTable server: it
// serves recorded response fixtures of every known generation, checks the
// Authorization header the way SeaTable does, counts calls and can be told to
// fail. It also implements the base write endpoints (create, update, delete,
// copy, star, unstar) with SeaTable's status codes and messages, changing the
// token's document so that a following list shows the change. Tests mount it
// with httptest; the demo mode of the server runs it in-process. It is not a
// SeaTable implementation and must never face users' real tokens.
//
// Layout: fake.go routes and authenticates, state.go holds each token's
// document, writes.go implements the write endpoints.
package fakeseatable

import (
	"bytes"
	"compress/gzip"
	"embed"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

//go:embed fixtures/*.json
var fixtures embed.FS

// Fixture names, one per SeaTable response generation, plus the demo dataset.
const (
	Seed            = "seed"             // 2019/2020 docs: repo_id, owner_name
	Era2020         = "era1"             // owner_type, string group_id
	Typed           = "typed"            // starred/shared pseudo-workspaces
	Current         = "current"          // SeaTable 4.x-6.x, detail=true
	CurrentNoDetail = "current-nodetail" // SeaTable 4.x-6.x, detail=false
	Demo            = "demo"             // what `go run .` serves
)

// Fixture returns the raw JSON of a named fixture; it panics on an unknown
// name, which is a programming error in a test.
func Fixture(name string) []byte {
	b, err := fixtures.ReadFile("fixtures/" + name + ".json")
	if err != nil {
		panic(fmt.Sprintf("fakeseatable: no fixture %q", name))
	}
	return b
}

// Request is what the fake saw of one call.
type Request struct {
	Method        string
	Path          string
	RawQuery      string
	Authorization string
	// ContentType is the request's Content-Type header.
	ContentType string
	// Body is the raw request body (up to 1 MiB).
	Body string
	// Form holds the body's fields when it is form-encoded (urlencoded or
	// multipart) or a flat JSON object; nil otherwise.
	Form url.Values
	// AcceptEncoding is the Accept-Encoding header the client sent.
	AcceptEncoding string
}

// maxBody caps what the fake reads of a request body.
const maxBody = 1 << 20

// Server is the fake. The zero value is not usable; call New.
type Server struct {
	mu       sync.Mutex
	data     map[string]*state // token -> its workspace list (detail=true)
	anyToken []byte            // served for every token when set (demo)
	hook     func(http.ResponseWriter, *http.Request) bool
	requests []Request
	now      func() time.Time
	tuning   tuning
	derived  map[derivedKey]derivedBody

	calls atomic.Int64

	baseOnce sync.Once
	baseData *baseState // bases.go
}

// tuning is how the fake serves, for benchmarks and transport tests.
type tuning struct {
	latency  time.Duration
	gzip     bool
	noRecord bool
}

// derivedKey names a body derived from a token's data (detail=false,
// gzipped); derivedBody remembers which data it came from, so that new data
// set for the token is never answered from a stale derivation.
type derivedKey struct {
	token        string
	detail, gzip bool
}

type derivedBody struct {
	src, body []byte
}

// New returns an empty fake: every token is unknown until added.
func New() *Server { return &Server{data: map[string]*state{}, now: time.Now} }

// SetToken makes token valid and serves body (a detail=true workspace list)
// to it. Writes made with token change this copy only.
func (s *Server) SetToken(token string, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.data[token] = &state{raw: body}
}

// AcceptAnyToken serves body to any well-formed token (the demo). A token's
// first write gives it its own copy, so one demo user's writes never show up
// for another.
func (s *Server) AcceptAnyToken(body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.anyToken = body
}

// SetHook installs h, which sees every request first; if it returns true it
// has answered and the fake does nothing more. Use it to inject failures.
func (s *Server) SetHook(h func(http.ResponseWriter, *http.Request) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hook = h
}

// FailWith makes every following call answer status with the given headers
// and body, until SetHook(nil).
func (s *Server) FailWith(status int, header http.Header, body string) {
	s.SetHook(func(w http.ResponseWriter, _ *http.Request) bool {
		for k, vs := range header {
			for _, v := range vs {
				w.Header().Add(k, v)
			}
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
		return true
	})
}

// SetLatency delays every answer by d (an upstream far away).
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tuning.latency = d
}

// SetGzip makes workspace lists gzip-compressed for clients that accept it,
// as SeaTable's nginx does.
func (s *Server) SetGzip(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tuning.gzip = on
}

// SetRecordRequests turns the log behind Requests on (the default) or off;
// load runs turn it off so it does not grow without bound. Calls still counts.
func (s *Server) SetRecordRequests(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tuning.noRecord = !on
}

// Calls is the number of requests the fake has received.
func (s *Server) Calls() int64 { return s.calls.Load() }

// Requests returns a copy of what the fake saw, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// ResetCounts forgets the calls seen so far.
func (s *Server) ResetCounts() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = nil
	s.calls.Store(0)
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.calls.Add(1)
	s.countBase(r) // before any hook: every base call is counted (bases.go)
	body, _ := io.ReadAll(io.LimitReader(r.Body, maxBody))
	r.Body = io.NopCloser(bytes.NewReader(body))
	form := parseForm(r.Header.Get("Content-Type"), body)
	s.mu.Lock()
	if !s.tuning.noRecord {
		s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery,
			Authorization: r.Header.Get("Authorization"), ContentType: r.Header.Get("Content-Type"), Body: string(body), Form: form,
			AcceptEncoding: r.Header.Get("Accept-Encoding")})
	}
	hook, latency := s.hook, s.tuning.latency
	s.mu.Unlock()
	if latency > 0 {
		select {
		case <-time.After(latency):
		case <-r.Context().Done():
			return
		}
	}
	if hook != nil && hook(w, r) {
		return
	}
	if r.URL.Path == "/api2/ping/" && r.Method == http.MethodGet {
		writeJSON(w, http.StatusOK, "pong") // unauthenticated, like SeaTable's
		return
	}

	if s.serveBase(w, r) { // base calls carry a base token (bases.go)
		return
	}
	token, status, msg := s.authenticate(r)
	if status != 0 {
		writeJSON(w, status, map[string]string{"detail": msg})
		return
	}
	if form == nil {
		form = url.Values{}
	}
	p := r.URL.Path
	switch {
	case p == "/api/v2.1/workspaces/" && r.Method == http.MethodGet:
		s.listWorkspaces(w, r, token)
	case p == "/api/v2.1/dtables/" && r.Method == http.MethodPost:
		s.write(w, token, func(doc *document) (int, any) { return doc.createDTable(form, s.now()) })
	case workspaceDTablePath.MatchString(p) && (r.Method == http.MethodPut || r.Method == http.MethodDelete):
		wid := workspaceDTablePath.FindStringSubmatch(p)[1]
		if r.Method == http.MethodPut {
			s.write(w, token, func(doc *document) (int, any) { return doc.updateDTable(wid, form, s.now()) })
		} else {
			s.write(w, token, func(doc *document) (int, any) { return doc.deleteDTable(wid, form) })
		}
	case accessTokenPath.MatchString(r.URL.EscapedPath()) && r.Method == http.MethodGet:
		s.exchange(w, r, token)
	case p == "/api/v2.1/dtable-copy/" && r.Method == http.MethodPost:
		s.write(w, token, func(doc *document) (int, any) { return doc.copyDTable(form, s.now()) })
	case p == "/api/v2.1/starred-dtables/" && r.Method == http.MethodPost:
		s.write(w, token, func(doc *document) (int, any) { return doc.star(form.Get("dtable_uuid"), true) })
	case p == "/api/v2.1/starred-dtables/" && r.Method == http.MethodDelete:
		uuid := r.URL.Query().Get("dtable_uuid")
		s.write(w, token, func(doc *document) (int, any) { return doc.star(uuid, false) })
	case p == "/api/v2.1/workspaces" || strings.HasSuffix(p, "workspaces"):
		// Django's APPEND_SLASH answers a missing slash with a redirect.
		http.Redirect(w, r, r.URL.Path+"/", http.StatusMovedPermanently)
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"error_msg": "Not found."})
	}
}

// workspaceDTablePath is the update/delete route; its group is the
// workspace id (SeaTable's route accepts digits only).
var workspaceDTablePath = regexp.MustCompile(`^/api/v2\.1/workspace/(\d+)/dtable/$`)

// write runs op on token's document under the lock and answers with its
// status and body. A token served through AcceptAnyToken gets its own copy
// first.
func (s *Server) write(w http.ResponseWriter, token string, op func(*document) (int, any)) {
	s.mu.Lock()
	st, ok := s.data[token]
	if !ok {
		st = &state{raw: s.anyToken}
		s.data[token] = st
	}
	doc, err := st.document()
	var status int
	var body any
	if err == nil {
		status, body = op(doc)
	}
	s.mu.Unlock()
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error_msg": "Internal Server Error"})
		return
	}
	writeJSON(w, status, body)
}

// authenticate mirrors DRF TokenAuthentication: no header is 403, a malformed
// header or unknown token is 401.
func (s *Server) authenticate(r *http.Request) (token string, status int, msg string) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", http.StatusForbidden, "Authentication credentials were not provided."
	}
	parts := strings.Fields(h)
	if scheme := strings.ToLower(parts[0]); scheme != "token" && scheme != "bearer" {
		return "", http.StatusForbidden, "Authentication credentials were not provided."
	}
	switch {
	case len(parts) == 1:
		return "", http.StatusUnauthorized, "Invalid token header. No credentials provided."
	case len(parts) > 2:
		return "", http.StatusUnauthorized, "Invalid token header. Token string should not contain spaces."
	}
	token = parts[1]
	s.mu.Lock()
	_, known := s.data[token]
	known = known || s.anyToken != nil
	s.mu.Unlock()
	if !known {
		return "", http.StatusUnauthorized, "Invalid token"
	}
	return token, 0, ""
}

func (s *Server) listWorkspaces(w http.ResponseWriter, r *http.Request, token string) {
	detail := true
	switch r.URL.Query().Get("detail") {
	case "", "true":
	case "false":
		detail = false
	default:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error_msg": "detail invalid"})
		return
	}
	gz := strings.Contains(r.Header.Get("Accept-Encoding"), "gzip")
	body, gzipped, err := s.body(token, detail, gz)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error_msg": "Internal Server Error"})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if gzipped {
		w.Header().Set("Content-Encoding", "gzip")
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write(body)
}

// body returns what to send token: its data, stripped for detail=false and
// compressed when the client accepts gzip and the fake is told to. Derived
// bodies are computed once per data, so that serving a large dataset costs
// the fake next to nothing and a load run measures the facade.
func (s *Server) body(token string, detail, acceptGzip bool) (body []byte, gzipped bool, err error) {
	s.mu.Lock()
	src := s.anyToken
	if st, ok := s.data[token]; ok {
		// A document changed by writes is encoded anew on every call, so
		// its derivations below never match a stale one.
		if src, err = st.body(); err != nil {
			s.mu.Unlock()
			return nil, false, err
		}
	}
	key := derivedKey{token: token, detail: detail, gzip: acceptGzip && s.tuning.gzip}
	d, cached := s.derived[key]
	s.mu.Unlock()
	if detail && !key.gzip {
		return src, false, nil
	}
	if cached && len(d.src) == len(src) && (len(src) == 0 || &d.src[0] == &src[0]) {
		return d.body, key.gzip, nil
	}
	body = src
	if !detail {
		if body, err = stripDetail(body); err != nil {
			return nil, false, err
		}
	}
	if key.gzip {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		_, _ = zw.Write(body)
		if err := zw.Close(); err != nil {
			return nil, false, fmt.Errorf("gzip: %w", err)
		}
		body = buf.Bytes()
	}
	s.mu.Lock()
	if s.derived == nil {
		s.derived = map[derivedKey]derivedBody{}
	}
	s.derived[key] = derivedBody{src: src, body: body}
	s.mu.Unlock()
	return body, key.gzip, nil
}

// detailKeys are the per-entry keys SeaTable omits with detail=false.
var detailKeys = []string{"table_list", "shared_table_list", "shared_view_list", "share_folders",
	"folders", "group_shared_dtables", "group_shared_views", "group_admins", "group_member_count"}

// stripDetail derives a detail=false answer from a detail=true fixture.
func stripDetail(body []byte) ([]byte, error) {
	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("fixture: %w", err)
	}
	list, _ := doc["workspace_list"].([]any)
	for _, e := range list {
		if m, ok := e.(map[string]any); ok {
			for _, k := range detailKeys {
				delete(m, k)
			}
		}
	}
	delete(doc, "starred_dtable_list")
	return json.Marshal(doc)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
