package requestlog

// The client side of a request's record: the SeaTable calls made on its
// behalf, counted where they leave (the upstream client's transport).

import "net/http"

// Transport counts each exchange next makes on the Record of the request it
// was made for.
func Transport(next http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		FromContext(r.Context()).CountUpstream()
		return next.RoundTrip(r)
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
