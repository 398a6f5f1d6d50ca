package upstream_test

import (
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/seatable-graphql/seatable-graphql/upstream"
)

// TestCauseOfAWrongSeaTableURL: each way SEATABLE_URL can be wrong has its
// own cause, in the failure hook (what the log line shows) and from Cause
// (what /readyz shows), and none carries the token or the host.
func TestCauseOfAWrongSeaTableURL(t *testing.T) {
	const token = "0123456789abcdef0123456789abcdef01234567"
	refused := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		return "http://" + addr
	}()
	pong := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/seatable/api2/ping/" {
			_, _ = w.Write([]byte(`"pong"`))
			return
		}
		http.NotFound(w, r)
	})
	plain := httptest.NewServer(pong)
	defer plain.Close()
	tlsSrv := httptest.NewUnstartedServer(pong)
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshakes this test fails
	tlsSrv.StartTLS()
	defer tlsSrv.Close()
	redirect := httptest.NewServer(http.RedirectHandler("https://elsewhere.example/", http.StatusMovedPermanently))
	defer redirect.Close()

	for _, tc := range []struct {
		name, url, want string
	}{
		{"unresolvable host", "http://no-such-host.invalid", "DNS lookup failed"},
		{"nothing listens", refused, "connection refused"},
		{"untrusted certificate", tlsSrv.URL + "/seatable", "TLS: certificate not trusted: x509: certificate signed by unknown authority"},
		{"https to a plain server", strings.Replace(plain.URL, "http:", "https:", 1) + "/seatable", "TLS: the server did not answer in TLS"},
		{"wrong path", plain.URL + "/wrong", "HTTP 404 at GET /wrong/api2/ping/ (every SeaTable has this route: is the path of SEATABLE_URL right?)"},
		{"redirect", redirect.URL, "HTTP 301 at GET /api2/ping/ (a redirect"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var hooked []string
			c, err := upstream.New(tc.url, upstream.WithRetries(0), upstream.WithBreaker(0, 0),
				upstream.WithFailureHook(func(_ context.Context, endpoint string, err error) {
					mu.Lock()
					defer mu.Unlock()
					hooked = append(hooked, endpoint+": "+upstream.Cause(err))
				}))
			if err != nil {
				t.Fatal(err)
			}
			err = c.Ping(context.Background())
			if got := upstream.Cause(err); !strings.HasPrefix(got, tc.want) {
				t.Errorf("ping: cause %q, want it to start with %q (err %v)", got, tc.want, err)
			}
			_, err = c.ListWorkspaces(context.Background(), token, upstream.Read{})
			cause := upstream.Cause(err)
			mu.Lock()
			defer mu.Unlock()
			if len(hooked) != 2 || !strings.HasPrefix(hooked[0], "GET /api2/ping/: "+tc.want[:10]) || !strings.HasPrefix(hooked[1], "GET /api/v2.1/workspaces/: ") {
				t.Errorf("failure hook saw %q, want the ping and the list, each with its cause", hooked)
			}
			host := strings.TrimPrefix(strings.TrimPrefix(tc.url, "http://"), "https://")
			host, _, _ = strings.Cut(host, "/")
			for _, s := range append(hooked, cause) {
				if strings.Contains(s, token) || strings.Contains(s, host) {
					t.Errorf("cause %q names the token or the host", s)
				}
			}
		})
	}
	c, err := upstream.New(plain.URL + "/seatable")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Ping(context.Background()); err != nil || upstream.Cause(err) != "" {
		t.Errorf("the right URL: %v %q", err, upstream.Cause(err))
	}
}
