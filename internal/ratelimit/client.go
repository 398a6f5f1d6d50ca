package ratelimit

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// ClientAddr is the address a request is counted against: its peer
// (RemoteAddr, without the port), or, when the peer is one of trusted (a
// reverse proxy or load balancer), the right-most X-Forwarded-For hop that
// is not trusted: every hop to its right was appended by a trusted proxy,
// while anything to its left was sent by the client and may be made up.
// A peer outside trusted is never looked past, whatever it sends.
//
// An IPv6 client is counted by its /64 network (ipv6Network), not its
// address: one host is routinely given a whole /64 and can pick a new
// address from it for every request, which would give it a fresh budget
// each time.
func ClientAddr(r *http.Request, trusted []netip.Prefix) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if len(trusted) == 0 || !isTrusted(host, trusted) {
		return counted(host)
	}
	var hops []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		for _, h := range strings.Split(v, ",") {
			hops = append(hops, strings.TrimSpace(h))
		}
	}
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(hops[i])
		if err != nil {
			// Not an address: a trusted proxy would not write it, so the
			// header is not what it should be; count the proxy itself.
			return host
		}
		a = a.Unmap()
		if !isTrustedAddr(a, trusted) {
			return countedAddr(a)
		}
	}
	if len(hops) > 0 {
		return counted(hops[0]) // every hop trusted: the first is the client
	}
	return counted(host)
}

// ipv6Network is the prefix length an IPv6 client is counted by: the
// smallest network an ISP or a cloud assigns to one host or one site
// (RFC 6177), and what rate limiters commonly count IPv6 clients by.
const ipv6Network = 64

// counted is the key an address in text is counted by: an IPv4 address
// as it is, an IPv6 one as its /64 network; text that is no address (a
// test's or a Unix socket's RemoteAddr) as it is.
func counted(host string) string {
	a, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	return countedAddr(a.Unmap())
}

func countedAddr(a netip.Addr) string {
	if !a.Is6() {
		return a.String()
	}
	p, err := a.Prefix(ipv6Network)
	if err != nil {
		return a.String()
	}
	return p.String()
}

func isTrusted(host string, trusted []netip.Prefix) bool {
	a, err := netip.ParseAddr(host)
	return err == nil && isTrustedAddr(a.Unmap(), trusted)
}

func isTrustedAddr(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

type clientKey struct{}

// WithClient returns ctx naming its client with f: a keyed hash of the
// caller's own token, else its address. f is asked when needed: a
// WebSocket learns its caller after the upgrade.
func WithClient(ctx context.Context, f func(context.Context) string) context.Context {
	return context.WithValue(ctx, clientKey{}, f)
}

// Client names ctx's client for budgets shared by all clients (such as
// what may be written to Redis); "" when none is known.
func Client(ctx context.Context) string {
	f, _ := ctx.Value(clientKey{}).(func(context.Context) string)
	if f == nil {
		return ""
	}
	return f(ctx)
}
