// Package tokenhash is the one keyed hash of a caller's token: everything
// that must tell callers apart or find a caller's entries again (caches,
// coalescing, shared execution, the circuit breaker's caller tracking, rate
// limits) keys by it, never by the token, so a token is never kept, and a
// hash is useless without its key. Hashes that must agree across replicas
// use the key the replicas share through Redis (SharedKey); the others a
// key of their own process (NewKey).
package tokenhash

import (
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
//
// It is RFC 2104's HMAC written out over sha256.Sum256 (TestSumIsHMAC
// checks it against crypto/hmac) because a request hashes its token
// several times (coalescing, shared execution, rate limits), and
// crypto/hmac's New builds two hash states and their pads on the heap each
// time: here the pads and the inner message live on the stack and the
// only allocation is the returned string.
func Sum(key []byte, token string) string {
	const block = sha256.BlockSize
	var k [block]byte
	if len(key) > block {
		h := sha256.Sum256(key)
		copy(k[:], h[:])
	} else {
		copy(k[:], key)
	}
	// One buffer on the stack serves both messages: the inner one (tokens
	// up to 128 bytes; SeaTable's are 40) and then the outer one.
	var buf [block + 128]byte
	inner := buf[:0]
	if block+len(token) > len(buf) {
		inner = make([]byte, 0, block+len(token))
	}
	for _, b := range k {
		inner = append(inner, b^0x36)
	}
	ih := sha256.Sum256(append(inner, token...))
	outer := buf[:block+sha256.Size]
	for i, b := range k {
		outer[i] = b ^ 0x5c
	}
	copy(outer[block:], ih[:])
	oh := sha256.Sum256(outer)
	var out [2 * sha256.Size]byte
	hex.Encode(out[:], oh[:])
	return string(out[:])
}
