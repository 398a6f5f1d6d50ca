// Package gateway recognises requests from a federation gateway (Apollo
// Router or Gateway, Hive Gateway, Cosmo) by a secret the gateway and this
// server share (GATEWAY_SECRET), sent in the Gateway-Secret header. Such a
// request is the gateway's query plan, not a client's document: trusted
// documents are enforced at the gateway instead, and `_service { sdl }`
// answers even with introspection off, because composition needs it.
//
// It grants nothing else. The caller is still the request's Authorization
// (the client's token, which the gateway forwards), and every limit, rate
// limit and error code applies as to any request. The secret is never
// logged or echoed.
package gateway

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
)

// Header carries the shared secret.
const Header = "Gateway-Secret"

// MinSecretLen is the shortest secret accepted: a guessable one would let
// any client skip trusted documents.
const MinSecretLen = 16

type ctxKey struct{}

// Middleware marks requests carrying secret in Header (compared in constant
// time) as the gateway's, and removes the header so nothing after it sees
// the secret. An empty secret marks nothing.
func Middleware(secret string) func(http.Handler) http.Handler {
	want := sha256.Sum256([]byte(secret))
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got, sent := r.Header[http.CanonicalHeaderKey(Header)]
			if sent {
				r.Header.Del(Header)
			}
			if secret != "" && len(got) == 1 {
				sum := sha256.Sum256([]byte(got[0]))
				if subtle.ConstantTimeCompare(sum[:], want[:]) == 1 {
					r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, true))
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}

// From reports whether the request of ctx came from the gateway.
func From(ctx context.Context) bool {
	v, _ := ctx.Value(ctxKey{}).(bool)
	return v
}

// FromRequest is From for a request.
func FromRequest(r *http.Request) bool { return From(r.Context()) }
