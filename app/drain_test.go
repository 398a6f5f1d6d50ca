package app

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

// TestShutdownDelayFailsReadinessFirst: with SHUTDOWN_DELAY, a stopping
// server answers /readyz 503 at once but goes on serving queries for the
// delay, so a load balancer can take it out before its listener closes;
// then new connections are refused.
func TestShutdownDelayFailsReadinessFirst(t *testing.T) {
	e := newTestEnv(t, withEnv("SHUTDOWN_DELAY", "600ms"))
	e.fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Seed))
	if e.cfg.ShutdownDelay != 600*time.Millisecond {
		t.Fatalf("SHUTDOWN_DELAY read as %v", e.cfg.ShutdownDelay)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	srv := newHTTPServer(e.cfg, e.handler, testLogger(e))
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, srv, ln, stopping{drain: e.app.Drain, delay: e.cfg.ShutdownDelay, timeout: 5 * time.Second}, testLogger(e))
	}()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	get := func(path string) (int, string, error) {
		resp, err := client.Get(base + path)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), nil
	}
	query := func() (int, error) {
		req, _ := http.NewRequest(http.MethodPost, base+"/graphql", strings.NewReader(`{"query":"{ workspaces { name } }"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Token "+tokA)
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	if status, body, err := get("/readyz"); err != nil || status != http.StatusOK {
		t.Fatalf("before: /readyz %d %q %v", status, body, err)
	}

	stopped := time.Now()
	stop()
	time.Sleep(100 * time.Millisecond)
	if status, body, err := get("/readyz"); err != nil || status != http.StatusServiceUnavailable || !strings.Contains(body, "shutting down") {
		t.Fatalf("during the delay: /readyz %d %q %v, want 503 shutting down", status, body, err)
	}
	if status, err := query(); err != nil || status != http.StatusOK {
		t.Fatalf("during the delay: query %d %v, want 200", status, err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("server still running 5 s after the signal")
	}
	if d := time.Since(stopped); d < 600*time.Millisecond {
		t.Fatalf("stopped after %v, before SHUTDOWN_DELAY", d)
	}
	if _, err := query(); err == nil {
		t.Fatal("a new connection was accepted after the server stopped")
	}
}

func TestShutdownDelaySetting(t *testing.T) {
	for _, bad := range []string{"-1s", "1h", "soon"} {
		if _, err := LoadConfig(func(k string) string {
			if k == "SHUTDOWN_DELAY" {
				return bad
			}
			return ""
		}); err == nil || !strings.Contains(err.Error(), "SHUTDOWN_DELAY") {
			t.Errorf("SHUTDOWN_DELAY=%s: %v, want an error naming it", bad, err)
		}
	}
	cfg, err := LoadConfig(func(k string) string {
		if k == "SHUTDOWN_DELAY" {
			return "0s"
		}
		return ""
	})
	if err != nil || cfg.ShutdownDelay != 0 {
		t.Fatalf("SHUTDOWN_DELAY=0s: %v %v", cfg.ShutdownDelay, err)
	}
}
