package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

// faultEnv is the configuration the fault tests run with: short upstream
// timeouts so that timeouts are observable in well under a second.
var faultEnv = withEnv("UPSTREAM_TIMEOUT", "300ms", "REQUEST_TIMEOUT", "5s", "UPSTREAM_MAX_BYTES", "16KiB")

const faultQuery = `{ workspaces { id name tables { name } } }`

// hijack answers with raw bytes on the connection and closes it.
func hijack(raw string) func(http.ResponseWriter, *http.Request) bool {
	return func(w http.ResponseWriter, _ *http.Request) bool {
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(err)
		}
		_, _ = buf.WriteString(raw)
		_ = buf.Flush()
		_ = conn.Close()
		return true
	}
}

func answer(status int, header http.Header, body string) func(http.ResponseWriter, *http.Request) bool {
	return func(w http.ResponseWriter, _ *http.Request) bool {
		for k, vs := range header {
			w.Header()[k] = vs
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
		return true
	}
}

// TestFaultMatrix: for each way SeaTable can fail, the client gets the right
// extensions.code within a bounded time, and afterwards the facade is
// healthy: /healthz answers and a normal query succeeds.
func TestFaultMatrix(t *testing.T) {
	html := http.Header{"Content-Type": {"text/html"}}
	big := `{"workspace_list":[` + strings.Repeat(`{"id":1,"name":"padding padding padding padding"},`, 1000) + `{"id":2}]}`
	type row struct {
		name      string
		hook      func(http.ResponseWriter, *http.Request) bool
		refuse    bool // stop the upstream listener instead
		wantCode  string
		wantCalls int64 // upstream attempts (0: not checked)
		maxTime   time.Duration
		retry     float64
	}
	rows := []row{
		{name: "500 with HTML page", hook: answer(500, html, "<html><body><h1>Server Error (500)</h1></body></html>"), wantCode: "UPSTREAM_UNAVAILABLE", wantCalls: 1, maxTime: time.Second},
		{name: "502 empty body", hook: answer(502, nil, ""), wantCode: "UPSTREAM_UNAVAILABLE", wantCalls: 3, maxTime: 2 * time.Second},
		{name: "503 JSON body", hook: answer(503, nil, `{"error_msg":"Service Unavailable"}`), wantCode: "UPSTREAM_UNAVAILABLE", wantCalls: 3, maxTime: 2 * time.Second},
		{name: "504 from a proxy", hook: answer(504, html, "<html>Gateway Time-out</html>"), wantCode: "UPSTREAM_TIMEOUT", wantCalls: 3, maxTime: 2 * time.Second},
		{name: "connection refused", refuse: true, wantCode: "UPSTREAM_UNAVAILABLE", maxTime: 2 * time.Second},
		{name: "connection closed without a response", hook: hijack(""), wantCode: "UPSTREAM_UNAVAILABLE", wantCalls: 3, maxTime: 2 * time.Second},
		{name: "slow past the timeout", hook: func(w http.ResponseWriter, r *http.Request) bool {
			select {
			case <-time.After(3 * time.Second):
				_, _ = io.WriteString(w, `{"workspace_list":[]}`)
			case <-r.Context().Done():
			}
			return true
		}, wantCode: "UPSTREAM_TIMEOUT", wantCalls: 1, maxTime: 1500 * time.Millisecond},
		{name: "hanging until cancelled", hook: func(w http.ResponseWriter, r *http.Request) bool {
			<-r.Context().Done()
			return true
		}, wantCode: "UPSTREAM_TIMEOUT", wantCalls: 1, maxTime: 1500 * time.Millisecond},
		{name: "malformed JSON", hook: answer(200, nil, `{"workspace_list": [{"id": 1,`), wantCode: "UPSTREAM_BAD_RESPONSE", wantCalls: 1, maxTime: time.Second},
		{name: "truncated body (Content-Length too large)", hook: hijack("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n" + `{"workspace_list":[{"id":1,"name":"a"`), wantCode: "UPSTREAM_BAD_RESPONSE", wantCalls: 1, maxTime: time.Second},
		{name: "wrong JSON type", hook: answer(200, nil, `{"workspace_list": {"id": 1}}`), wantCode: "UPSTREAM_BAD_RESPONSE", wantCalls: 1, maxTime: time.Second},
		{name: "empty body", hook: answer(200, nil, ""), wantCode: "UPSTREAM_BAD_RESPONSE", wantCalls: 1, maxTime: time.Second},
		{name: "HTML page with 200 (login/proxy page)", hook: answer(200, html, "<!DOCTYPE html><html><body>Please log in</body></html>"), wantCode: "UPSTREAM_BAD_RESPONSE", wantCalls: 1, maxTime: time.Second},
		{name: "401", hook: answer(401, nil, `{"detail":"Invalid token"}`), wantCode: "UNAUTHENTICATED", wantCalls: 1, maxTime: time.Second},
		{name: "403", hook: answer(403, nil, `{"detail":"You do not have permission to perform this action."}`), wantCode: "FORBIDDEN", wantCalls: 1, maxTime: time.Second},
		{name: "404", hook: answer(404, nil, `{"error_msg":"Not found."}`), wantCode: "NOT_FOUND", wantCalls: 1, maxTime: time.Second},
		{name: "429 with Retry-After", hook: answer(429, http.Header{"Retry-After": {"30"}}, `{"detail":"Request was throttled."}`), wantCode: "RATE_LIMITED", wantCalls: 1, maxTime: time.Second, retry: 30},
		{name: "oversized body (> UPSTREAM_MAX_BYTES)", hook: answer(200, nil, big), wantCode: "UPSTREAM_BAD_RESPONSE", wantCalls: 1, maxTime: time.Second},
	}
	var table []string
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			e := newTestEnv(t, faultEnv)
			e.fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Seed))
			var restart func()
			if r.refuse {
				restart = e.stopUpstream(t)
			} else {
				e.fake.SetHook(r.hook)
			}
			start := time.Now()
			status, resp := e.post(t, "Token "+tokA, faultQuery, nil)
			elapsed := time.Since(start)
			table = append(table, fmt.Sprintf("| %s | %s | %d | %v |", r.name, codes(resp.Errors), e.fake.Calls(), elapsed.Round(time.Millisecond)))
			if status != http.StatusOK || len(resp.Errors) != 1 || code(resp.Errors[0]) != r.wantCode {
				t.Fatalf("status %d errors %+v, want one %s", status, resp.Errors, r.wantCode)
			}
			if string(resp.Data) != "null" {
				t.Errorf("data = %s, want null", resp.Data)
			}
			if r.retry != 0 && resp.Errors[0].Extensions["retryAfter"] != r.retry {
				t.Errorf("retryAfter = %v, want %v", resp.Errors[0].Extensions["retryAfter"], r.retry)
			}
			if elapsed > r.maxTime {
				t.Errorf("took %v, want at most %v", elapsed, r.maxTime)
			}
			if r.wantCalls != 0 && e.fake.Calls() != r.wantCalls {
				t.Errorf("%d upstream attempts, want %d", e.fake.Calls(), r.wantCalls)
			}
			// Healthy afterwards.
			if restart != nil {
				restart()
			}
			e.fake.SetHook(nil)
			e.mustBeHealthy(t)
		})
	}
	t.Logf("fault matrix (behaviour | code | upstream attempts | time):\n%s", strings.Join(table, "\n"))
}

func codes(errs []gqlError) string {
	var out []string
	for _, e := range errs {
		out = append(out, code(e))
	}
	return strings.Join(out, ",")
}

// mustBeHealthy checks /healthz and a normal query.
func (e *testEnv) mustBeHealthy(t *testing.T) {
	t.Helper()
	resp, err := http.Get(e.url + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("/healthz: %v %v", err, resp)
	}
	resp.Body.Close()
	var data struct{ Workspaces []struct{ Name string } }
	e.mustData(t, "Token "+tokA, `{ workspaces { name } }`, &data)
	if len(data.Workspaces) == 0 {
		t.Fatal("normal query returned no workspaces")
	}
}

// stopUpstream closes the fake's listener, so connections are refused, and
// returns a function that serves the fake again on the same address.
func (e *testEnv) stopUpstream(t *testing.T) (restart func()) {
	t.Helper()
	addr := e.upstream.Listener.Addr().String()
	handler := e.upstream.Config.Handler
	e.upstream.Close()
	return func() {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("re-listen on %s: %v", addr, err)
		}
		e.upstream = &httptest.Server{Listener: ln, Config: &http.Server{Handler: handler}}
		e.upstream.Start()
		t.Cleanup(e.upstream.Close)
	}
}

// TestCircuitBreakerFailsFast: once SeaTable has failed BREAKER_FAILURES
// times in a row, requests fail at once without calling it, and 4xx
// answers never open the circuit.
func TestCircuitBreakerFailsFast(t *testing.T) {
	e := newTestEnv(t, faultEnv, withEnv("BREAKER_FAILURES", "3", "BREAKER_OPEN_TIMEOUT", "1h", "UPSTREAM_RETRIES", "0", "BREAKER_CALLERS", "1"))
	e.fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Seed))
	// Bad tokens first: they must not count.
	for range 5 {
		if _, resp := e.post(t, "Token wrong-token", faultQuery, nil); code(resp.Errors[0]) != "UNAUTHENTICATED" {
			t.Fatalf("bad token: %+v", resp.Errors)
		}
	}
	e.fake.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		<-r.Context().Done() // hang: each attempt costs a full UPSTREAM_TIMEOUT
		return true
	})
	for range 3 {
		if _, resp := e.post(t, "Token "+tokA, faultQuery, nil); code(resp.Errors[0]) != "UPSTREAM_TIMEOUT" {
			t.Fatalf("hanging upstream: %+v", resp.Errors)
		}
	}
	calls := e.fake.Calls()
	start := time.Now()
	_, resp := e.post(t, "Token "+tokA, faultQuery, nil)
	elapsed := time.Since(start)
	if len(resp.Errors) != 1 || code(resp.Errors[0]) != "UPSTREAM_UNAVAILABLE" || !strings.Contains(resp.Errors[0].Message, "circuit open") {
		t.Fatalf("open circuit: %+v", resp.Errors)
	}
	if e.fake.Calls() != calls {
		t.Fatalf("an open circuit called SeaTable")
	}
	if elapsed > 100*time.Millisecond {
		t.Fatalf("open circuit took %v, want fail-fast", elapsed)
	}
	t.Logf("circuit open: %s in %v", code(resp.Errors[0]), elapsed)
	if !strings.Contains(e.logs.String(), "circuit breaker changed state") {
		t.Errorf("breaker state change not logged")
	}
}

// TestClientDisconnectCancelsUpstream: a client that goes away cancels the
// SeaTable call it caused; the fake sees its request context end.
func TestClientDisconnectCancelsUpstream(t *testing.T) {
	e := newTestEnv(t, withEnv("UPSTREAM_TIMEOUT", "1m", "REQUEST_TIMEOUT", "2m"))
	e.fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Seed))
	entered, cancelled := make(chan struct{}), make(chan struct{})
	e.fake.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		close(entered)
		<-r.Context().Done()
		close(cancelled)
		return true
	})
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, e.url+"/graphql", strings.NewReader(`{"query":"{ workspaces { id } }"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Token "+tokA)
	errc := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	<-entered
	cancel()
	select {
	case <-cancelled:
	case <-time.After(5 * time.Second):
		t.Fatal("upstream request still running 5s after the client went away")
	}
	if err := <-errc; err == nil {
		t.Fatal("client request succeeded after cancel")
	}
}

// TestGracefulShutdownDrainsInFlight: when SIGTERM arrives, the request in
// flight completes; new connections are refused.
func TestGracefulShutdownDrainsInFlight(t *testing.T) {
	e := newTestEnv(t)
	e.fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Seed))
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	e.fake.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		once.Do(func() { close(entered) })
		<-release
		return false // then answer normally
	})

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String() + "/graphql"
	srv := newHTTPServer(e.cfg, e.handler, testLogger(e))
	closed := make(chan struct{})
	srv.RegisterOnShutdown(func() { close(closed) }) // runs after the listener is closed
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- serve(ctx, srv, ln, stopping{timeout: 10 * time.Second}, testLogger(e)) }()

	type result struct {
		status int
		body   string
		err    error
	}
	inflight := make(chan result, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(`{"query":"{ workspaces { name } }"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Token "+tokA)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			inflight <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		inflight <- result{status: resp.StatusCode, body: string(b)}
	}()
	<-entered
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("shutdown did not start after SIGTERM")
	}
	fresh := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	if resp, err := fresh.Post(url, "application/json", strings.NewReader(`{"query":"{ __typename }"}`)); err == nil {
		resp.Body.Close()
		t.Fatalf("a new request during shutdown got %d, want the connection refused", resp.StatusCode)
	}
	close(release)
	r := <-inflight
	if r.err != nil || r.status != 200 || !strings.Contains(r.body, `"name":"one"`) {
		t.Fatalf("in-flight request: %v %d %s, want 200 with data", r.err, r.status, r.body)
	}
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
}

func testLogger(e *testEnv) *slog.Logger {
	return slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// TestOneUsersFailuresDoNotOpenTheBreaker: a token whose own SeaTable calls
// fail (500 for that token only) sends request after request; another
// token's requests, interleaved, all succeed. Before, five failures of that
// one user opened the process-wide breaker and every other token got
// UPSTREAM_UNAVAILABLE "circuit open" for BREAKER_OPEN_TIMEOUT.
func TestOneUsersFailuresDoNotOpenTheBreaker(t *testing.T) {
	e := newTestEnv(t, faultEnv)
	e.fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Seed))
	e.fake.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Header.Get("Authorization") != "Token attacker" {
			return false
		}
		w.WriteHeader(http.StatusInternalServerError)
		return true
	})
	healthyErrors := 0
	for range 4 {
		for range 5 { // BREAKER_FAILURES in a row
			if _, resp := e.post(t, "Token attacker", faultQuery, nil); len(resp.Errors) == 0 {
				t.Fatal("the attacker's request succeeded")
			}
		}
		for range 5 {
			if _, resp := e.post(t, "Token "+tokA, faultQuery, nil); len(resp.Errors) > 0 {
				healthyErrors++
			}
		}
	}
	t.Logf("healthy token: %d of 20 requests failed", healthyErrors)
	if healthyErrors > 0 || strings.Contains(e.logs.String(), "circuit breaker changed state") {
		t.Fatalf("one user's failures affected another: %d of 20 failed", healthyErrors)
	}
}
