package auth

import (
	"context"
	"net/http"
	"strings"

	"github.com/seatable-graphql/seatable-graphql/internal/apperr"
	"github.com/seatable-graphql/seatable-graphql/internal/tokenhash"
)

// Caller is who a request acts for: the token it reads with, whether that
// is the caller's own or the server's fallback (SEATABLE_TOKEN), whether
// it may write, and how to keep its token out of logs and shared keys. It is
// set once per request by Middleware; every layer after reads it with From.
type Caller struct {
	token string
	// err is what every use of the token returns: a malformed
	// Authorization header.
	err error
	// fallback says token is the server's SEATABLE_TOKEN; writes with it
	// need fallbackWrites.
	fallback       bool
	fallbackWrites bool
}

// anonymous is a caller with no token and no fallback: every read fails
// with UNAUTHENTICATED.
var anonymous = &Caller{}

// NewCaller is the caller of a request with these headers: its own token,
// else fallbackToken (which writes only when fallbackWrites is set). A
// malformed Authorization header makes a caller whose every use fails.
func NewCaller(h http.Header, fallbackToken string, fallbackWrites bool) *Caller {
	token, err := Token(h)
	c := &Caller{token: token, err: err, fallbackWrites: fallbackWrites}
	if err == nil && token == "" && fallbackToken != "" {
		c.token, c.fallback = fallbackToken, true
	}
	return c
}

// WithToken returns the caller acting with its own token instead (a
// WebSocket's connection_init payload names one after the upgrade); err is
// what parsing that token returned.
func (c *Caller) WithToken(token string, err error) *Caller {
	return &Caller{token: token, err: err, fallbackWrites: c.fallbackWrites}
}

// Token returns the token this caller reads with, or why there is none
// (no token, a malformed header).
func (c *Caller) Token() (string, error) {
	if c.err != nil {
		return "", c.err
	}
	if c.token == "" {
		return "", apperr.New(apperr.Unauthenticated, "no token: send \"Authorization: Token <your SeaTable account token>\"")
	}
	return c.token, nil
}

// WriteToken returns the token a write may use: the caller's own, or the
// fallback token where fallback writes are allowed.
func (c *Caller) WriteToken() (string, error) {
	token, err := c.Token()
	if err != nil {
		return "", err
	}
	if c.fallback && !c.fallbackWrites {
		return "", apperr.New(apperr.Unauthenticated, "mutations need your own token: send \"Authorization: Token <your SeaTable account token>\"")
	}
	return token, nil
}

// Own reports whether the caller has a usable token of its own (not the
// server's fallback token).
func (c *Caller) Own() bool { return c.err == nil && c.token != "" && !c.fallback }

// Hash returns a keyed hash (internal/tokenhash) of the caller's token, so
// that work can be shared between requests of one caller without keeping
// the token; ok is false when the caller has no usable token.
func (c *Caller) Hash(key []byte) (string, bool) {
	if c.err != nil || c.token == "" {
		return "", false
	}
	return tokenhash.Sum(key, c.token), true
}

// Redact replaces the caller's token in s, for text about to be logged that
// may quote it (a panic value, a third-party error).
func (c *Caller) Redact(s string) string {
	if c.token == "" {
		return s
	}
	return strings.ReplaceAll(s, c.token, "[REDACTED]")
}

type callerKey struct{}

// NewContext returns ctx carrying c.
func NewContext(ctx context.Context, c *Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// From returns the request's caller; outside Middleware, a caller whose
// every read fails with UNAUTHENTICATED.
func From(ctx context.Context) *Caller {
	if c, ok := ctx.Value(callerKey{}).(*Caller); ok {
		return c
	}
	return anonymous
}

// Middleware sets each request's caller (NewCaller) on its context.
func Middleware(fallbackToken string, fallbackWrites bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c := NewCaller(r.Header, fallbackToken, fallbackWrites)
			next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), c)))
		})
	}
}

// Fallback reports whether the caller reads with the server's fallback
// token (SEATABLE_TOKEN) because it sent none of its own.
func (c *Caller) Fallback() bool { return c.fallback }
