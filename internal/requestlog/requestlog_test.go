package requestlog

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func lines(t *testing.T, b *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not JSON: %s", l)
		}
		out = append(out, m)
	}
	return out
}

// Lines logged inside a request carry its id; the request line has it once;
// 5xx is an error, probes are debug.
func TestMiddlewareLevelsAndIDs(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(Handler(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	h := Middleware(log)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/boom" {
			log.ErrorContext(r.Context(), "inner failure")
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		_, _ = w.Write([]byte("ok"))
	}))
	for _, p := range []string{"/boom", "/healthz"} {
		req := httptest.NewRequest(http.MethodGet, p, nil)
		req.Header.Set(Header, "abc")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Header().Get(Header) != "abc" {
			t.Errorf("%s: id not echoed", p)
		}
	}
	got := lines(t, &buf)
	if len(got) != 3 {
		t.Fatalf("%d lines, want 3: %s", len(got), buf.String())
	}
	want := []struct{ msg, level, path string }{{"inner failure", "ERROR", ""}, {"request", "ERROR", "/boom"}, {"request", "DEBUG", "/healthz"}}
	for i, w := range want {
		l := got[i]
		if l["msg"] != w.msg || l["level"] != w.level || l["request_id"] != "abc" || (w.path != "" && l["path"] != w.path) {
			t.Errorf("line %d = %v, want %+v with request_id abc", i, l, w)
		}
	}
	if strings.Count(buf.String(), `"request_id"`) != 3 {
		t.Errorf("request_id repeated within a line: %s", buf.String())
	}
}

func TestQuiet(t *testing.T) {
	for path, want := range map[string]bool{
		"/healthz": true, "/readyz": true, "/metrics": true, "/playground/assets/x.js": true,
		"/graphql": false, "/": false, "/playground": false, "/healthzz": false,
	} {
		if got := Quiet(path); got != want {
			t.Errorf("Quiet(%q) = %v, want %v", path, got, want)
		}
	}
}
