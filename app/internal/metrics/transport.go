package metrics

import (
	"net/http"
	"time"
)

// Transport records every exchange next makes, labelled by endpoint(r), which
// must return a route template (never a raw URL: it would carry ids).
func (m *Metrics) Transport(next http.RoundTripper, endpoint func(*http.Request) string) http.RoundTripper {
	if m == nil {
		return next
	}
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		start := time.Now()
		resp, err := next.RoundTrip(r)
		status := 0
		if err == nil {
			status = resp.StatusCode
		}
		m.UpstreamCall(endpoint(r), status, time.Since(start))
		return resp, err
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
