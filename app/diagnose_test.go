package app

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

// TestWrongSeaTableURLIsDiagnosed: with SEATABLE_URL pointing nowhere (a
// port nothing listens on) or at the wrong path, the log line of the
// failed call and /readyz name the cause, and the log holds no token.
func TestWrongSeaTableURLIsDiagnosed(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + ln.Addr().String()
	ln.Close()
	fake := httptest.NewServer(http.NotFoundHandler()) // a web server with no SeaTable at the path
	defer fake.Close()
	const token = "0123456789abcdef0123456789abcdef0123abcd"
	for _, tc := range []struct{ name, url, cause string }{
		{"refused", refused, "connection refused"},
		{"wrong path", fake.URL + "/seatable", "HTTP 404 at GET /seatable/api2/ping/ (every SeaTable has this route: is the path of SEATABLE_URL right?)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := LoadConfig(func(k string) string {
				return map[string]string{"SEATABLE_URL": tc.url, "UPSTREAM_RETRIES": "0"}[k]
			})
			if err != nil {
				t.Fatal(err)
			}
			var logs syncBuffer
			a, err := New(context.Background(), cfg, Options{Log: slog.New(slog.NewJSONHandler(&logs, nil))})
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close(context.Background())
			srv := httptest.NewServer(a.Handler)
			defer srv.Close()

			resp, err := http.Get(srv.URL + "/readyz")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), tc.cause) {
				t.Errorf("/readyz: %d %q, want 503 naming %q", resp.StatusCode, body, tc.cause)
			}

			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/graphql", strings.NewReader(`{"query":"{ workspaces { name } }"}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Token "+token)
			resp, err = http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			var calls []map[string]any
			for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
				var rec map[string]any
				if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == "SeaTable call failed" {
					calls = append(calls, rec)
				}
			}
			if len(calls) != 2 || calls[0]["endpoint"] != "GET /api2/ping/" || calls[1]["endpoint"] != "GET /api/v2.1/workspaces/" {
				t.Fatalf("log lines of failed calls: %v\n%s", calls, logs.String())
			}
			for _, c := range calls {
				if c["level"] != "WARN" || !strings.HasPrefix(c["cause"].(string), tc.cause[:12]) {
					t.Errorf("log line %v, want WARN with cause %q", c, tc.cause)
				}
			}
			if strings.Contains(logs.String(), token) || strings.Contains(logs.String(), token[:12]) {
				t.Errorf("the log holds the token:\n%s", logs.String())
			}
		})
	}
}

// TestStartSaysWhetherSeaTableAnswers: one line after the start says
// whether SeaTable answered GET /api2/ping/, and why not.
func TestStartSaysWhetherSeaTableAnswers(t *testing.T) {
	fake := fakeseatable.New()
	up := httptest.NewServer(fake)
	defer up.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + ln.Addr().String()
	ln.Close()
	for _, tc := range []struct{ url, msg, cause string }{
		{up.URL, "SeaTable answered GET /api2/ping/", ""},
		{refused, "SeaTable did not answer GET /api2/ping/: every request will fail until it does", "connection refused"},
	} {
		cfg, err := LoadConfig(func(k string) string { return map[string]string{"PORT": "0", "SEATABLE_URL": tc.url}[k] })
		if err != nil {
			t.Fatal(err)
		}
		lines := make(lineWriter, 64)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- Run(ctx, cfg, slog.New(slog.NewJSONHandler(lines, nil))) }()
		var got map[string]any
		for timeout := time.After(10 * time.Second); got == nil; {
			select {
			case l := <-lines:
				var rec map[string]any
				if json.Unmarshal([]byte(l), &rec) == nil && strings.HasPrefix(rec["msg"].(string), "SeaTable ") && rec["msg"] != "SeaTable call failed" {
					got = rec
				}
			case err := <-done:
				t.Fatalf("run returned: %v", err)
			case <-timeout:
				t.Fatalf("%s: no line about the ping", tc.url)
			}
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("run: %v", err)
		}
		if got["msg"] != tc.msg || tc.cause != "" && !strings.HasPrefix(got["cause"].(string), tc.cause) {
			t.Errorf("%s: %v, want %q with cause %q", tc.url, got, tc.msg, tc.cause)
		}
	}
}

// TestAddressInUseNamesTheSettings: a port another process holds is
// reported with the settings that choose it.
func TestAddressInUseNamesTheSettings(t *testing.T) {
	held, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	cfg, err := LoadConfig(func(k string) string { return map[string]string{"LISTEN_ADDR": held.Addr().String()}[k] })
	if err != nil {
		t.Fatal(err)
	}
	ln, err := listen(cfg)
	if err == nil {
		ln.Close()
		t.Fatal("listened on a held port")
	}
	for _, want := range []string{held.Addr().String(), "already in use", "PORT", "LISTEN_ADDR"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
}
