package upstream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/seatable-graphql/seatable-graphql/internal/apperr"
)

// roundTrip is an in-memory transport: the tests below run inside a
// synctest bubble, where backoff waits and breaker timeouts pass on a fake
// clock, so they take no real time and need no sleeps.
type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func reply(status int, body string) *http.Response {
	return &http.Response{StatusCode: status, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(body)), ContentLength: -1}
}

const okBody = `{"workspace_list":[{"id":1,"name":"p","type":"personal","table_list":[]}]}`

// script answers the i-th call with steps[i] (the last step repeats) and
// counts calls.
func script(calls *atomic.Int64, steps ...func(*http.Request) (*http.Response, error)) roundTrip {
	return func(r *http.Request) (*http.Response, error) {
		i := int(calls.Add(1)) - 1
		return steps[min(i, len(steps)-1)](r)
	}
}

func status(code int, body string) func(*http.Request) (*http.Response, error) {
	return func(*http.Request) (*http.Response, error) { return reply(code, body), nil }
}

func refused(*http.Request) (*http.Response, error) {
	return nil, &netError{syscall.ECONNREFUSED}
}

type netError struct{ err error }

func (e *netError) Error() string { return "dial tcp 127.0.0.1:1: " + e.err.Error() }
func (e *netError) Unwrap() error { return e.err }

func newTestClient(t *testing.T, rt roundTrip, opts ...Option) *Client {
	t.Helper()
	c, err := New("http://seatable.invalid/", append([]Option{WithHTTPClient(&http.Client{Transport: rt})}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRetryPolicy(t *testing.T) {
	fixed := withBackoff(func(retry int) time.Duration { return time.Duration(retry+1) * 100 * time.Millisecond })
	cases := []struct {
		name      string
		steps     []func(*http.Request) (*http.Response, error)
		wantCalls int64
		wantCode  apperr.Code // "" = success
		wantWait  time.Duration
	}{
		{"502 then 503 then ok", []func(*http.Request) (*http.Response, error){status(502, ""), status(503, "<html>"), status(200, okBody)}, 3, "", 300 * time.Millisecond},
		{"504 three times", []func(*http.Request) (*http.Response, error){status(504, "")}, 3, apperr.UpstreamTimeout, 300 * time.Millisecond},
		{"refused three times", []func(*http.Request) (*http.Response, error){refused}, 3, apperr.UpstreamUnavailable, 300 * time.Millisecond},
		{"refused then ok", []func(*http.Request) (*http.Response, error){refused, status(200, okBody)}, 2, "", 100 * time.Millisecond},
		{"500 is not retried", []func(*http.Request) (*http.Response, error){status(500, "")}, 1, apperr.UpstreamUnavailable, 0},
		{"401 is not retried", []func(*http.Request) (*http.Response, error){status(401, `{"detail":"Invalid token"}`)}, 1, apperr.Unauthenticated, 0},
		{"404 is not retried", []func(*http.Request) (*http.Response, error){status(404, "")}, 1, apperr.NotFound, 0},
		{"429 is not retried", []func(*http.Request) (*http.Response, error){status(429, "")}, 1, apperr.RateLimited, 0},
		{"bad body is not retried", []func(*http.Request) (*http.Response, error){status(200, "{")}, 1, apperr.UpstreamBadResponse, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var calls atomic.Int64
				c := newTestClient(t, script(&calls, tc.steps...), fixed, WithBreaker(0, 0))
				start := time.Now()
				_, err := c.ListWorkspaces(context.Background(), "tok", Read{Detail: true})
				if got := apperr.CodeOf(err); got != tc.wantCode {
					t.Errorf("code %q (%v), want %q", got, err, tc.wantCode)
				}
				if calls.Load() != tc.wantCalls {
					t.Errorf("%d calls, want %d", calls.Load(), tc.wantCalls)
				}
				if waited := time.Since(start); waited != tc.wantWait {
					t.Errorf("waited %v between attempts, want %v", waited, tc.wantWait)
				}
			})
		})
	}
}

func TestRetryNeverRunsPastTheDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var calls atomic.Int64
		c := newTestClient(t, script(&calls, status(503, "")), withBackoff(func(int) time.Duration { return 5 * time.Second }))
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		start := time.Now()
		_, err := c.ListWorkspaces(ctx, "tok", Read{Detail: true})
		if apperr.CodeOf(err) != apperr.UpstreamUnavailable || calls.Load() != 1 {
			t.Fatalf("err %v after %d calls, want UPSTREAM_UNAVAILABLE after 1", err, calls.Load())
		}
		if d := time.Since(start); d != 0 {
			t.Fatalf("gave up after %v, want at once: the backoff could not fit in the deadline", d)
		}
	})
}

func TestPerAttemptTimeoutIsNotRetried(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var calls atomic.Int64
		hang := func(r *http.Request) (*http.Response, error) {
			<-r.Context().Done()
			return nil, r.Context().Err()
		}
		c := newTestClient(t, script(&calls, hang), WithTimeout(3*time.Second))
		start := time.Now()
		_, err := c.ListWorkspaces(context.Background(), "tok", Read{Detail: true})
		if apperr.CodeOf(err) != apperr.UpstreamTimeout || calls.Load() != 1 || time.Since(start) != 3*time.Second {
			t.Fatalf("err %v, %d calls, %v; want UPSTREAM_TIMEOUT, 1 call, 3s", err, calls.Load(), time.Since(start))
		}
	})
}

func TestCallerCancellationStopsTheCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var calls atomic.Int64
		started := make(chan struct{})
		hang := func(r *http.Request) (*http.Response, error) {
			close(started)
			<-r.Context().Done()
			return nil, r.Context().Err()
		}
		c := newTestClient(t, script(&calls, hang), WithBreaker(1, time.Minute))
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() { _, err := c.ListWorkspaces(ctx, "tok", Read{Detail: true}); errc <- err }()
		<-started
		cancel()
		if err := <-errc; !errors.Is(err, errCancelled) || calls.Load() != 1 {
			t.Fatalf("err %v after %d calls, want a cancelled call, not retried", err, calls.Load())
		}
		// A client going away is no upstream failure: the breaker (1
		// failure trips it) stays closed.
		if st := c.breaker.State().String(); st != "closed" {
			t.Fatalf("breaker %s after a cancellation, want closed", st)
		}
	})
}

func TestBreakerOpensFailsFastAndRecovers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var calls atomic.Int64
		var healthy atomic.Bool
		rt := func(r *http.Request) (*http.Response, error) {
			calls.Add(1)
			if healthy.Load() {
				return reply(200, okBody), nil
			}
			return reply(503, "<html>down</html>"), nil
		}
		var changes []string
		c := newTestClient(t, rt, WithRetries(0), WithBreaker(3, 10*time.Second),
			WithBreakerStateHook(func(from, to string) { changes = append(changes, from+">"+to) }))
		// Five distinct callers fail: failures count once three of them
		// have (DefaultBreakerCallers), so the 3rd, 4th and 5th open it.
		for i := range 5 {
			if _, err := c.ListWorkspaces(context.Background(), fmt.Sprint("tok-", i), Read{Detail: true}); apperr.CodeOf(err) != apperr.UpstreamUnavailable {
				t.Fatalf("err %v, want UPSTREAM_UNAVAILABLE", err)
			}
		}
		_, err := c.ListWorkspaces(context.Background(), "tok", Read{Detail: true})
		if ae, _ := apperr.As(err); ae == nil || ae.Code != apperr.UpstreamUnavailable || !strings.Contains(ae.Message, "circuit open") {
			t.Fatalf("open circuit: err %v, want UPSTREAM_UNAVAILABLE (circuit open)", err)
		}
		if calls.Load() != 5 {
			t.Fatalf("%d upstream calls, want 5: an open circuit must not call SeaTable", calls.Load())
		}
		healthy.Store(true)
		time.Sleep(10*time.Second + time.Millisecond) // fake clock: the open period passes
		// Half-open lets breakerProbes calls through; all succeed, it closes.
		for range breakerProbes {
			if _, err := c.ListWorkspaces(context.Background(), "tok", Read{Detail: true}); err != nil {
				t.Fatalf("probe after the open period: %v", err)
			}
		}
		if _, err := c.ListWorkspaces(context.Background(), "tok", Read{Detail: true}); err != nil || calls.Load() != 9 {
			t.Fatalf("after recovery: %v, %d calls", err, calls.Load())
		}
		if got := strings.Join(changes, " "); got != "closed>open open>half-open half-open>closed" {
			t.Fatalf("state changes %q", got)
		}
	})
}

func TestBreakerIgnoresClientErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var calls atomic.Int64
		c := newTestClient(t, script(&calls, status(401, `{"detail":"Invalid token"}`), status(401, ""), status(429, ""),
			status(404, ""), status(400, ""), status(200, "not json"), status(200, okBody)), WithBreaker(2, time.Minute))
		for range 6 {
			_, _ = c.ListWorkspaces(context.Background(), "bad-token", Read{Detail: true})
		}
		if _, err := c.ListWorkspaces(context.Background(), "good-token", Read{Detail: true}); err != nil {
			t.Fatalf("after 4xx and bad bodies the breaker must stay closed: %v", err)
		}
	})
}

func TestBodySizeCap(t *testing.T) {
	big := `{"workspace_list":[` + strings.Repeat(`{"id":1,"name":"xxxxxxxxxxxxxxxxxxxx"},`, 100) + `{"id":2}]}`
	for _, tc := range []struct {
		name          string
		contentLength int64
	}{{"declared", int64(len(big))}, {"streamed", -1}} {
		t.Run(tc.name, func(t *testing.T) {
			c := newTestClient(t, func(*http.Request) (*http.Response, error) {
				r := reply(200, big)
				r.ContentLength = tc.contentLength
				return r, nil
			}, WithMaxBytes(1000))
			_, err := c.ListWorkspaces(context.Background(), "tok", Read{Detail: true})
			if ae, _ := apperr.As(err); ae == nil || ae.Code != apperr.UpstreamBadResponse || ae.Message != "SeaTable response too large" {
				t.Fatalf("err %v, want UPSTREAM_BAD_RESPONSE too large", err)
			}
		})
	}
	// Exactly at the limit is fine.
	c := newTestClient(t, func(*http.Request) (*http.Response, error) { return reply(200, okBody), nil }, WithMaxBytes(int64(len(okBody))))
	if _, err := c.ListWorkspaces(context.Background(), "tok", Read{Detail: true}); err != nil {
		t.Fatalf("body of exactly the limit: %v", err)
	}
}

func TestJitteredBackoff(t *testing.T) {
	b := jitteredBackoff(100*time.Millisecond, time.Second)
	for retry, want := range []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond, time.Second, time.Second} {
		for range 50 {
			if d := b(retry); d < want/2 || d > want {
				t.Fatalf("retry %d: %v, want in [%v, %v]", retry, d, want/2, want)
			}
		}
	}
	if d := b(100); d < 500*time.Millisecond || d > time.Second {
		t.Fatalf("huge retry number: %v, want capped", d)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"42": 42 * time.Second, "": 0, "-1": 0, "soon": 0,
		now.Add(90 * time.Second).Format(http.TimeFormat): 90 * time.Second,
		now.Add(-time.Hour).Format(http.TimeFormat):       0,
	} {
		if got := retryAfter(v, now); got != want {
			t.Errorf("Retry-After %q = %v, want %v", v, got, want)
		}
	}
}

// TestHangingProbeHoldsItsSlotBriefly: a half-open breaker lets more than
// one probe through, and a probe whose call hangs gives its slot back after
// the probe deadline (half the attempt timeout), not the full timeout.
func TestHangingProbeHoldsItsSlotBriefly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var down atomic.Bool
		down.Store(true)
		rt := func(r *http.Request) (*http.Response, error) {
			switch {
			case r.Header.Get("Authorization") == "Token hangs":
				<-r.Context().Done()
				return nil, r.Context().Err()
			case down.Load():
				return reply(503, ""), nil
			}
			return reply(200, okBody), nil
		}
		c := newTestClient(t, rt, WithRetries(0), WithTimeout(10*time.Second), WithBreaker(1, 10*time.Second), WithBreakerCallers(1))
		if _, err := c.ListWorkspaces(context.Background(), "tok", Read{Detail: true}); err == nil {
			t.Fatal("want the 503")
		}
		down.Store(false)
		time.Sleep(10*time.Second + time.Millisecond) // the open period passes
		start := time.Now()
		hung := make(chan error, 1)
		go func() { _, err := c.ListWorkspaces(context.Background(), "hangs", Read{Detail: true}); hung <- err }()
		synctest.Wait() // the hanging probe holds one slot
		for i := range breakerProbes - 1 {
			if _, err := c.ListWorkspaces(context.Background(), "tok", Read{Detail: true}); err != nil {
				t.Fatalf("probe %d beside a hanging one: %v", i+2, err)
			}
		}
		err := <-hung
		if apperr.CodeOf(err) != apperr.UpstreamTimeout {
			t.Fatalf("hanging probe: %v, want UPSTREAM_TIMEOUT", err)
		}
		if d := time.Since(start); d != 5*time.Second {
			t.Fatalf("the hanging probe held its slot %v, want 5s (half the 10s timeout)", d)
		}
	})
}

// TestOneCallerCannotOpenTheBreaker: one token whose calls fail (its own
// 503s) leaves the breaker closed for the others; failures of three
// distinct callers open it.
func TestOneCallerCannotOpenTheBreaker(t *testing.T) {
	rt := func(r *http.Request) (*http.Response, error) {
		if strings.HasPrefix(r.Header.Get("Authorization"), "Token bad") {
			return reply(503, ""), nil
		}
		return reply(200, okBody), nil
	}
	c := newTestClient(t, rt, WithRetries(0), WithBreaker(5, time.Minute))
	for range 20 {
		if _, err := c.ListWorkspaces(context.Background(), "bad", Read{Detail: true}); apperr.CodeOf(err) != apperr.UpstreamUnavailable {
			t.Fatalf("bad: %v", err)
		}
		if _, err := c.ListWorkspaces(context.Background(), "good", Read{Detail: true}); err != nil {
			t.Fatalf("good, after bad's failures: %v", err)
		}
	}
	// With "bad", bad-0 and bad-1 three callers have failed; from then
	// on failures count, and five in a row open the breaker.
	for i := range 7 {
		_, _ = c.ListWorkspaces(context.Background(), fmt.Sprint("bad-", i), Read{Detail: true})
	}
	if st := c.breaker.State().String(); st != "open" {
		t.Fatalf("breaker %s after failures of several callers, want open", st)
	}
}

// TestInflightBytesBounded: while one call holds most of the in-flight byte
// budget (a large response it is still reading), another call that would
// go over fails at once with UPSTREAM_UNAVAILABLE instead of adding to the
// heap; that failure is this server's load, so it leaves the circuit
// breaker closed; once the first call ends its bytes are free again.
func TestInflightBytesBounded(t *testing.T) {
	const budget = 1 << 20
	release := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := `{"workspace_list":[]}` + strings.Repeat(" ", 700<<10)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		if r.Header.Get("Authorization") != "Token holder" {
			_, _ = w.Write([]byte(body))
			return
		}
		// Send half, then hang: the client has reserved the whole length.
		_, _ = w.Write([]byte(body[:len(body)/2]))
		w.(http.Flusher).Flush()
		<-release
		_, _ = w.Write([]byte(body[len(body)/2:]))
	}))
	defer srv.Close()
	var states []string
	c, err := New(srv.URL, WithMaxInflightBytes(budget), WithRetries(0),
		WithBreaker(1, time.Minute), WithBreakerStateHook(func(_, to string) { states = append(states, to) }))
	if err != nil {
		t.Fatal(err)
	}
	holder := make(chan error, 1)
	go func() {
		_, err := c.ListWorkspaces(context.Background(), "holder", Read{Detail: true})
		holder <- err
	}()
	defer close(release)
	// The holder reserves its whole length once its headers arrive.
	for deadline := time.Now().Add(5 * time.Second); c.inflight.used.Load() < 700<<10; {
		if time.Now().After(deadline) {
			t.Fatal("the holder never reserved its response")
		}
		time.Sleep(time.Millisecond)
	}
	_, err = c.ListWorkspaces(context.Background(), "other", Read{Detail: true})
	if ae, ok := apperr.As(err); !ok || ae.Code != apperr.UpstreamUnavailable || !strings.Contains(ae.Message, "busy") {
		t.Fatalf("while 700 KiB of a 1 MiB budget were held: %v, want UPSTREAM_UNAVAILABLE (busy)", err)
	}
	release <- struct{}{}
	if err := <-holder; err != nil {
		t.Fatalf("holder: %v", err)
	}
	if _, err := c.ListWorkspaces(context.Background(), "other", Read{Detail: true}); err != nil {
		t.Fatalf("after the holder finished: %v", err)
	}
	if len(states) != 0 {
		t.Fatalf("breaker changed state %v: a busy refusal is not SeaTable failing", states)
	}
}
