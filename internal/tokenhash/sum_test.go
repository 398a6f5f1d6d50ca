package tokenhash

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

// hmacSum is Sum as crypto/hmac computes it: the reference.
func hmacSum(key []byte, token string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(token))
	return hex.EncodeToString(m.Sum(nil))
}

// TestSumIsHMAC: Sum is HMAC-SHA256 for keys shorter than, as long as and
// longer than SHA-256's block, and tokens that fit the stack buffer and
// that do not.
func TestSumIsHMAC(t *testing.T) {
	for _, kn := range []int{0, 1, 16, 32, 63, 64, 65, 100, 200} {
		key := []byte(strings.Repeat("k", kn))
		for i := range key {
			key[i] = byte(i*7 + kn)
		}
		for _, tn := range []int{0, 1, 40, 127, 128, 129, 500} {
			token := strings.Repeat("t0ken", tn)[:tn]
			if got, want := Sum(key, token), hmacSum(key, token); got != want {
				t.Errorf("key %d bytes, token %d bytes: %s, want %s", kn, tn, got, want)
			}
		}
	}
}

// FuzzSumIsHMAC: the same for any key and token.
func FuzzSumIsHMAC(f *testing.F) {
	f.Add([]byte("key"), "token")
	f.Fuzz(func(t *testing.T, key []byte, token string) {
		if got, want := Sum(key, token), hmacSum(key, token); got != want {
			t.Fatalf("%s, want %s", got, want)
		}
	})
}

func BenchmarkSum(b *testing.B) {
	key, token := NewKey(), strings.Repeat("a1", 20)
	b.Run("Sum", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = Sum(key, token)
		}
	})
	b.Run("crypto/hmac", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = hmacSum(key, token)
		}
	})
}
