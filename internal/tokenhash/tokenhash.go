// Package tokenhash is the one keyed hash of a caller's token: everything
// that must tell callers apart or find a caller's entries again (caches,
// coalescing, shared execution, the circuit breaker's caller tracking, rate
// limits) keys by it, never by the token, so a token is never kept, and a
// hash is useless without its key. Hashes that must agree across replicas
// use the key the replicas share through Redis (SharedKey); the others a
// key of their own process (NewKey).
package tokenhash

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
)

// NewKey returns a random key, for hashes that live in one process.
func NewKey() []byte {
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	return k
}

// Sum returns the hex HMAC-SHA256 of token under key.
func Sum(key []byte, token string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(token))
	return hex.EncodeToString(m.Sum(nil))
}
