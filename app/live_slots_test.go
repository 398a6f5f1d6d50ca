package app

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

// Behind TRUSTED_PROXIES the per-client stream bound counts the forwarded
// client, as the rate limits do: counting the proxy would let one client
// behind it take every other client's slots. An untrusted peer's header is
// never read.
func TestStreamSlotsCountTheForwardedClient(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	s := newLiveSlots(10, 1, []byte("key"), trusted)
	req := func(peer, xff string) string {
		r := httptest.NewRequest("GET", "/graphql", nil)
		r.RemoteAddr = peer
		if xff != "" {
			r.Header.Set("X-Forwarded-For", xff)
		}
		c, hasToken := s.clientOf(r.Context(), r)
		if hasToken {
			t.Fatalf("%s: counted as a token", peer)
		}
		return c
	}
	for _, tc := range []struct{ peer, xff, want string }{
		{"10.1.2.3:5000", "203.0.113.7", "a:203.0.113.7"},
		{"10.1.2.3:5000", "198.51.100.1, 203.0.113.8", "a:203.0.113.8"},
		{"192.0.2.9:5000", "203.0.113.7", "a:192.0.2.9"}, // not a trusted proxy
		{"10.1.2.3:5000", "", "a:10.1.2.3"},
	} {
		if got := req(tc.peer, tc.xff); got != tc.want {
			t.Errorf("peer %s, X-Forwarded-For %q: client %q, want %q", tc.peer, tc.xff, got, tc.want)
		}
	}
	// Two clients behind one proxy each get their own slot at a bound of 1.
	a, b := req("10.1.2.3:1", "203.0.113.1"), req("10.1.2.3:2", "203.0.113.2")
	if _, why := s.acquire(a, false, func() {}); why != "" {
		t.Fatalf("first client refused: %s", why)
	}
	if _, why := s.acquire(b, false, func() {}); why != "" {
		t.Fatalf("second client behind the same proxy refused: %s", why)
	}
	if _, why := s.acquire(a, false, func() {}); why != refusedPerClient {
		t.Fatalf("first client's second stream: %q, want %q", why, refusedPerClient)
	}
}
