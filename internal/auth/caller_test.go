package auth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/seatable-graphql/seatable-graphql/internal/apperr"
)

func TestCaller(t *testing.T) {
	key := []byte("k")
	for _, tc := range []struct {
		name, header, fallback string
		fallbackWrites         bool
		read, write            string // the token, or "" for UNAUTHENTICATED
		own, usesFallback      bool
	}{
		{name: "own token", header: "Token mine", fallback: "shared", read: "mine", write: "mine", own: true},
		{name: "fallback, read only", fallback: "shared", read: "shared", usesFallback: true},
		{name: "fallback, writes allowed", fallback: "shared", fallbackWrites: true, read: "shared", write: "shared", usesFallback: true},
		{name: "no token, no fallback"},
		{name: "malformed header", header: "Basic x", fallback: "shared"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			if tc.header != "" {
				h.Set("Authorization", tc.header)
			}
			c := NewCaller(h, tc.fallback, tc.fallbackWrites)
			if tok, err := c.Token(); tok != tc.read || (tc.read == "") != (apperr.CodeOf(err) == apperr.Unauthenticated) {
				t.Errorf("Token() = %q, %v; want %q", tok, err, tc.read)
			}
			if tok, err := c.WriteToken(); tok != tc.write || (tc.write == "") != (apperr.CodeOf(err) == apperr.Unauthenticated) {
				t.Errorf("WriteToken() = %q, %v; want %q", tok, err, tc.write)
			}
			if c.Own() != tc.own || c.Fallback() != tc.usesFallback {
				t.Errorf("Own() %v Fallback() %v, want %v %v", c.Own(), c.Fallback(), tc.own, tc.usesFallback)
			}
			hash, ok := c.Hash(key)
			if ok != (tc.read != "") || (ok && hash != NewCaller(http.Header{"Authorization": {"Token " + tc.read}}, "", false).hashOf(key)) {
				t.Errorf("Hash() = %q, %v", hash, ok)
			}
			if tc.read != "" && c.Redact("a "+tc.read+" b") != "a [REDACTED] b" {
				t.Errorf("Redact left the token: %q", c.Redact("a "+tc.read+" b"))
			}
		})
	}
}

// hashOf is Hash without the ok, for comparisons.
func (c *Caller) hashOf(key []byte) string { h, _ := c.Hash(key); return h }

func TestCallerHashesDifferPerTokenAndKey(t *testing.T) {
	a := NewCaller(http.Header{"Authorization": {"Token a"}}, "", false)
	b := NewCaller(http.Header{"Authorization": {"Token b"}}, "", false)
	if a.hashOf([]byte("k")) == b.hashOf([]byte("k")) || a.hashOf([]byte("k")) == a.hashOf([]byte("j")) {
		t.Fatal("hashes collide across tokens or keys")
	}
	if h := a.hashOf([]byte("k")); len(h) < 16 || h == "a" {
		t.Fatalf("hash %q", h)
	}
}

// TestWithTokenIsOwn: a WebSocket's connection_init token replaces the
// upgrade request's fallback, and is the caller's own.
func TestWithTokenIsOwn(t *testing.T) {
	c := NewCaller(http.Header{}, "shared", false).WithToken("mine", nil)
	if tok, err := c.WriteToken(); tok != "mine" || err != nil || !c.Own() {
		t.Fatalf("WithToken: %q %v own=%v", tok, err, c.Own())
	}
}

func TestMiddlewareSetsTheCaller(t *testing.T) {
	if _, err := From(context.Background()).Token(); apperr.CodeOf(err) != apperr.Unauthenticated {
		t.Fatalf("outside Middleware: %v, want UNAUTHENTICATED", err)
	}
	var got string
	h := Middleware("shared", false)(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		got, _ = From(r.Context()).Token()
	}))
	req := httptest.NewRequest(http.MethodPost, "/graphql", nil)
	req.Header.Set("Authorization", "Bearer mine")
	h.ServeHTTP(httptest.NewRecorder(), req)
	if got != "mine" {
		t.Fatalf("caller token %q, want mine", got)
	}
}
