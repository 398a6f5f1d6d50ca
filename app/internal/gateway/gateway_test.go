package gateway

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestMiddleware(t *testing.T) {
	const secret = "0123456789abcdef-shared"
	for _, tc := range []struct {
		name, secret string
		header       []string
		want         bool
	}{
		{"right secret", secret, []string{secret}, true},
		{"wrong secret", secret, []string{secret + "x"}, false},
		{"no header", secret, nil, false},
		{"header twice", secret, []string{secret, secret}, false},
		{"feature off", "", []string{""}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got, leaked bool
			h := Middleware(tc.secret)(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
				got = FromRequest(r)
				leaked = r.Header.Get(Header) != ""
			}))
			r := httptest.NewRequest(http.MethodPost, "/graphql", nil)
			for _, v := range tc.header {
				r.Header.Add(Header, v)
			}
			h.ServeHTTP(httptest.NewRecorder(), r)
			if got != tc.want {
				t.Errorf("From = %v, want %v", got, tc.want)
			}
			if leaked {
				t.Error("the secret header reached the next handler")
			}
		})
	}
}
