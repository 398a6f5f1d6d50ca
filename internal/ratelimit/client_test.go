package ratelimit

import (
	"net/http"
	"net/netip"
	"testing"
)

// Only a trusted peer's X-Forwarded-For is read, and then only up to the
// right-most hop it did not add itself: a client cannot choose the address
// it is counted against by sending the header, directly or through the
// proxy.
func TestClientAddrTrustsOnlyTrustedProxies(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	for _, tc := range []struct {
		name, peer string
		xff        []string
		trusted    []netip.Prefix
		want       string
	}{
		{"no setting: the peer", "203.0.113.9:5000", []string{"198.51.100.1"}, nil, "203.0.113.9"},
		{"untrusted peer's header ignored", "203.0.113.9:5000", []string{"198.51.100.1"}, trusted, "203.0.113.9"},
		{"untrusted peer naming a trusted hop", "203.0.113.9:5000", []string{"10.0.0.1"}, trusted, "203.0.113.9"},
		{"through the proxy", "10.1.2.3:5000", []string{"198.51.100.1"}, trusted, "198.51.100.1"},
		{"spoofed hop left of the real one", "10.1.2.3:5000", []string{"1.2.3.4, 198.51.100.1"}, trusted, "198.51.100.1"},
		{"two proxies", "10.1.2.3:5000", []string{"1.2.3.4, 198.51.100.1, 10.9.9.9"}, trusted, "198.51.100.1"},
		{"split over two headers", "10.1.2.3:5000", []string{"1.2.3.4", "198.51.100.1, 10.9.9.9"}, trusted, "198.51.100.1"},
		{"garbage from the proxy: the proxy", "10.1.2.3:5000", []string{"1.2.3.4, not-an-ip"}, trusted, "10.1.2.3"},
		{"no header: the proxy", "10.1.2.3:5000", nil, trusted, "10.1.2.3"},
		{"IPv6 proxy: the client's /64", "[fd00::1]:5000", []string{"2001:db8::7"}, trusted, "2001:db8::/64"},
		{"IPv6 peer: its /64", "[2001:db8:1:2:aaaa::1]:5000", nil, nil, "2001:db8:1:2::/64"},
		{"another address of the same /64: the same key", "[2001:db8:1:2:bbbb:cccc:dddd:eeee]:5000", nil, nil, "2001:db8:1:2::/64"},
		{"the next /64: another key", "[2001:db8:1:3::1]:5000", nil, nil, "2001:db8:1:3::/64"},
		{"IPv6 peer with a zone", "[fe80::1%eth0]:5000", nil, nil, "fe80::/64"},
		{"IPv4-mapped IPv6: the IPv4 address", "[::ffff:203.0.113.9]:5000", nil, nil, "203.0.113.9"},
		{"all hops trusted, IPv6: the first's /64", "[fd00::1]:5000", []string{"fd00::7:1"}, trusted, "fd00::/64"},
		{"all hops trusted: the first", "10.1.2.3:5000", []string{"10.7.7.7, 10.8.8.8"}, trusted, "10.7.7.7"},
	} {
		r, _ := http.NewRequest(http.MethodPost, "/graphql", nil)
		r.RemoteAddr = tc.peer
		for _, v := range tc.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := ClientAddr(r, tc.trusted); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
