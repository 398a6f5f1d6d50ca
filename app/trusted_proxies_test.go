package app

import (
	"bytes"
	"fmt"
	"net/http"
	"testing"

	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

// anonymousStatuses sends n anonymous requests (each one SeaTable call
// with SEATABLE_TOKEN: no cache) with X-Forwarded-For set by xff(i), and
// returns how many were refused with 429.
func anonymousStatuses(t *testing.T, e *testEnv, n int, xff func(i int) string) (limited int) {
	t.Helper()
	for i := range n {
		req, _ := http.NewRequest(http.MethodPost, e.url+"/graphql", bytes.NewReader([]byte(`{"query":"{ workspaces { id } }"}`)))
		req.Header.Set("Content-Type", "application/json")
		if v := xff(i); v != "" {
			req.Header.Set("X-Forwarded-For", v)
		}
		if status, _ := e.do(t, req); status == http.StatusTooManyRequests {
			limited++
		}
	}
	return limited
}

// The fallback token's per-address limit counts the address a trusted
// proxy names (TRUSTED_PROXIES), and only then: a client talking to the
// server directly cannot pick a fresh address per request with
// X-Forwarded-For, nor can one behind the proxy by prefixing the hop the
// proxy appends. The test client is 127.0.0.1.
func TestTrustedProxiesForTheRateLimitKey(t *testing.T) {
	env := func(trusted string) *testEnv {
		e := newTestEnv(t, withEnv("SEATABLE_TOKEN", "fallback-tok", "RATE_LIMIT", "1", "RATE_BURST", "2"), withEnv("TRUSTED_PROXIES", trusted))
		e.fake.SetToken("fallback-tok", fakeseatable.Fixture(fakeseatable.Seed))
		return e
	}
	fresh := func(i int) string { return fmt.Sprintf("198.51.100.%d", i+1) }

	// Not a trusted peer: the header is ignored, one address, one budget.
	untrusted := env("10.0.0.0/8")
	if limited := anonymousStatuses(t, untrusted, 6, fresh); limited < 4 {
		t.Fatalf("untrusted peer with a new X-Forwarded-For each time: %d of 6 refused, want at least 4 (burst 2)", limited)
	}
	// A trusted proxy: each client it names has its own budget.
	proxied := env("127.0.0.1/32, ::1")
	if limited := anonymousStatuses(t, proxied, 6, fresh); limited != 0 {
		t.Fatalf("6 clients behind a trusted proxy: %d refused, want none", limited)
	}
	// Behind it, a client making up hops to the left of the one the proxy
	// appended is still counted by that one.
	spoof := func(i int) string { return fmt.Sprintf("203.0.113.%d, 192.0.2.77", i+1) }
	if limited := anonymousStatuses(t, proxied, 6, spoof); limited < 4 {
		t.Fatalf("spoofed left hops through a trusted proxy: %d of 6 refused, want at least 4", limited)
	}
}

func TestLoadTrustedProxies(t *testing.T) {
	load := func(v string) (Config, error) {
		return LoadConfig(func(k string) string {
			return map[string]string{"SEATABLE_URL": "https://cloud.seatable.io", "TRUSTED_PROXIES": v}[k]
		})
	}
	cfg, err := load(" 10.0.0.0/8, 192.168.1.7 ,fd00::/8,::1")
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(cfg.TrustedProxies); got != "[10.0.0.0/8 192.168.1.7/32 fd00::/8 ::1/128]" {
		t.Fatalf("TrustedProxies %s", got)
	}
	if _, err := load("10.0.0.0/8,proxy.internal"); err == nil || !bytes.Contains([]byte(err.Error()), []byte("TRUSTED_PROXIES")) {
		t.Fatalf("a host name: %v", err)
	}
}
