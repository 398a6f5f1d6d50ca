// Package auth knows who a request acts for: it reads the caller's SeaTable
// token from the request (Token) and keeps it, with what it may do, as the
// request's Caller. It validates the token's form only; SeaTable decides
// whether it is valid. Nothing here logs or echoes a token.
package auth

import (
	"net/http"
	"strings"

	"github.com/seatable-graphql/seatable-graphql/internal/apperr"
)

// MaxTokenLength bounds what we forward: account tokens are 40 hex
// characters and base tokens (JWT) about 250.
const MaxTokenLength = 2048

// Token returns the token of an `Authorization: Token X` or `Bearer X` header
// (scheme case-insensitive). It returns "" and no error when the request has
// no such header; callers decide what an anonymous request may do (use the
// server's fallback token, or refuse).
//
// More than one Authorization header is refused: which one counts would be
// ours to guess, and a proxy in front that checks the other one would
// disagree with us about who the caller is.
func Token(h http.Header) (string, error) {
	if len(h.Values("Authorization")) > 1 {
		return "", apperr.New(apperr.Unauthenticated, "send one Authorization header, not several")
	}
	v := strings.TrimSpace(h.Get("Authorization"))
	if v == "" {
		return "", nil
	}
	parts := strings.Fields(v)
	if len(parts) != 2 {
		return "", apperr.New(apperr.Unauthenticated, "Authorization header must be \"Token <token>\" or \"Bearer <token>\"")
	}
	switch strings.ToLower(parts[0]) {
	case "token", "bearer":
	default:
		return "", apperr.New(apperr.Unauthenticated, "unsupported Authorization scheme: use \"Token <token>\" or \"Bearer <token>\"")
	}
	tok := parts[1]
	if len(tok) > MaxTokenLength {
		return "", apperr.New(apperr.Unauthenticated, "token too long")
	}
	for i := 0; i < len(tok); i++ {
		if c := tok[i]; c <= 0x20 || c >= 0x7f {
			return "", apperr.New(apperr.Unauthenticated, "token contains invalid characters")
		}
	}
	return tok, nil
}
