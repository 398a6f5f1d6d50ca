package live

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seatable-graphql/seatable-graphql/internal/apperr"
	"github.com/seatable-graphql/seatable-graphql/upstream"
)

// fetcher answers per token with whatever the test set, and counts calls.
type fetcher struct {
	mu    sync.Mutex
	lists map[string]*upstream.WorkspaceList
	err   error
	calls map[string]int
}

func newFetcher() *fetcher {
	return &fetcher{lists: map[string]*upstream.WorkspaceList{}, calls: map[string]int{}}
}

func (f *fetcher) ListWorkspaces(_ context.Context, token string, _ upstream.Read) (*upstream.WorkspaceList, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[token]++
	if f.err != nil {
		return nil, f.err
	}
	return f.lists[token], nil
}

func (f *fetcher) set(token, name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lists[token] = &upstream.WorkspaceList{Workspaces: []*upstream.Workspace{{ID: "1", Name: name}}, Detail: true}
}

func (f *fetcher) fail(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

func (f *fetcher) count(token string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[token]
}

// clock is a manual clock: a poller that finished a poll asks it for its
// next wait (waits, which tells the test the poll is done) and wakes when
// the test ticks.
type clock struct {
	waits chan time.Duration
	tick  chan time.Time
}

func newClock() *clock {
	return &clock{waits: make(chan time.Duration, 16), tick: make(chan time.Time)}
}

func (c *clock) After(d time.Duration) <-chan time.Time { c.waits <- d; return c.tick }

// waited returns the wait the poller asked for after its latest poll.
func (c *clock) waited(t *testing.T) time.Duration {
	t.Helper()
	select {
	case d := <-c.waits:
		return d
	case <-time.After(5 * time.Second):
		t.Fatal("poller never finished a poll")
		return 0
	}
}

func recv(t *testing.T, s *Subscription) Update {
	t.Helper()
	select {
	case u := <-s.C:
		return u
	case <-time.After(5 * time.Second):
		t.Fatal("no update")
		return Update{}
	}
}

func none(t *testing.T, s *Subscription) {
	t.Helper()
	select {
	case u := <-s.C:
		t.Fatalf("unexpected update %+v", u)
	default:
	}
}

func TestOnePollerPerTokenPushesOnlyChanges(t *testing.T) {
	f, c := newFetcher(), newClock()
	f.set("a", "one")
	h := New(f, Options{Interval: 10 * time.Second, After: c.After})
	defer h.Close()

	subs := make([]*Subscription, 10)
	subs[0] = h.Subscribe("a")
	if u := recv(t, subs[0]); u.List.Workspaces[0].Name != "one" {
		t.Fatalf("first value %+v", u)
	}
	d := c.waited(t)
	if d < 9*time.Second || d > 11*time.Second {
		t.Errorf("wait %v, want 10s ±10%%", d)
	}
	for i := 1; i < 10; i++ { // later subscribers get the latest answer at once
		subs[i] = h.Subscribe("a")
		if u := recv(t, subs[i]); u.List.Workspaces[0].Name != "one" {
			t.Fatalf("late subscriber got %+v", u)
		}
	}
	if n := f.count("a"); n != 1 || h.Pollers() != 1 {
		t.Fatalf("10 subscribers: %d polls, %d pollers; want 1, 1", n, h.Pollers())
	}

	c.tick <- time.Now() // unchanged answer: nothing pushed
	c.waited(t)
	for _, s := range subs {
		none(t, s)
	}
	f.set("a", "two")
	c.tick <- time.Now()
	c.waited(t)
	for _, s := range subs {
		if u := recv(t, s); u.List.Workspaces[0].Name != "two" {
			t.Fatalf("change not pushed: %+v", u)
		}
	}
	if n := f.count("a"); n != 3 {
		t.Fatalf("%d polls after two ticks, want 3", n)
	}
	for _, s := range subs {
		s.Close()
	}
	if h.Pollers() != 0 {
		t.Fatal("poller kept after its last subscriber left")
	}
}

func TestTokensAreSeparate(t *testing.T) {
	f, c := newFetcher(), newClock()
	f.set("a", "A's")
	f.set("b", "B's")
	h := New(f, Options{After: c.After})
	defer h.Close()
	sa, sb := h.Subscribe("a"), h.Subscribe("b")
	if u := recv(t, sa); u.List.Workspaces[0].Name != "A's" {
		t.Fatalf("a got %+v", u)
	}
	if u := recv(t, sb); u.List.Workspaces[0].Name != "B's" {
		t.Fatalf("b got %+v", u)
	}
	if h.Pollers() != 2 {
		t.Fatalf("%d pollers for two tokens", h.Pollers())
	}
}

func TestErrorsArePushedOnceAndBackOff(t *testing.T) {
	f, c := newFetcher(), newClock()
	f.set("a", "one")
	h := New(f, Options{Interval: 10 * time.Second, After: c.After})
	defer h.Close()
	s := h.Subscribe("a")
	recv(t, s)
	c.waited(t)

	f.fail(&apperr.Error{Code: apperr.RateLimited, Message: "slow down", RetryAfter: time.Minute})
	c.tick <- time.Now()
	if d := c.waited(t); d != time.Minute {
		t.Errorf("wait after 429 with Retry-After 60s: %v", d)
	}
	if u := recv(t, s); apperr.CodeOf(u.Err) != apperr.RateLimited {
		t.Fatalf("want RATE_LIMITED, got %+v", u)
	}
	h.Refresh("a") // a mutation does not cut the back-off short
	c.tick <- time.Now()
	if d := c.waited(t); d != time.Minute {
		t.Errorf("second wait %v", d)
	}
	none(t, s) // the same error is not pushed again

	f.fail(apperr.New(apperr.UpstreamUnavailable, "down"))
	c.tick <- time.Now()
	if d := c.waited(t); d != 40*time.Second {
		t.Errorf("third failure: wait %v, want 40s (doubling)", d)
	}
	if u := recv(t, s); apperr.CodeOf(u.Err) != apperr.UpstreamUnavailable {
		t.Fatalf("want UPSTREAM_UNAVAILABLE, got %+v", u)
	}
	f.fail(nil) // recovered: the (unchanged) list is pushed again
	c.tick <- time.Now()
	c.waited(t)
	if u := recv(t, s); u.Err != nil || u.List.Workspaces[0].Name != "one" {
		t.Fatalf("after recovery: %+v", u)
	}
}

func TestRefreshPollsAtOnce(t *testing.T) {
	f, c := newFetcher(), newClock()
	f.set("a", "one")
	h := New(f, Options{Interval: time.Hour, After: c.After})
	defer h.Close()
	s := h.Subscribe("a")
	recv(t, s)
	c.waited(t)
	f.set("a", "two")
	h.Refresh("a")
	c.waited(t)
	if u := recv(t, s); u.List.Workspaces[0].Name != "two" {
		t.Fatalf("refresh: %+v", u)
	}
	h.Refresh("nobody") // no poller: nothing happens
	if f.count("nobody") != 0 {
		t.Fatal("refresh started a poll for a token without subscribers")
	}
}

func TestCloseEndsSubscriptions(t *testing.T) {
	f, c := newFetcher(), newClock()
	f.set("a", "one")
	h := New(f, Options{After: c.After})
	s := h.Subscribe("a")
	recv(t, s)
	h.Close()
	if _, ok := <-s.C; ok {
		t.Fatal("channel still open after Close")
	}
	s.Close() // harmless after the hub closed
	if _, ok := <-h.Subscribe("a").C; ok {
		t.Fatal("subscribe after Close got an open channel")
	}
}

// A token SeaTable starts rejecting ends its subscriptions: one update with
// the error, then the channel closes, and the token is not polled again
// (issue 18.9; before, the poller went on polling with it, backing off up
// to 5 min, and the streams stayed open).
func TestRejectedTokenEndsItsSubscriptions(t *testing.T) {
	for _, code := range []apperr.Code{apperr.Unauthenticated, apperr.Forbidden} {
		f, c := newFetcher(), newClock()
		f.set("a", "one")
		h := New(f, Options{Interval: 10 * time.Second, After: c.After})
		s1, s2 := h.Subscribe("a"), h.Subscribe("a")
		recv(t, s1)
		recv(t, s2)
		c.waited(t)
		f.fail(apperr.New(code, "token rejected"))
		c.tick <- time.Now()
		for _, s := range []*Subscription{s1, s2} {
			if u := recv(t, s); apperr.CodeOf(u.Err) != code {
				t.Fatalf("%s: update %+v", code, u)
			}
			select {
			case u, open := <-s.C:
				if open {
					t.Fatalf("%s: after the error: %+v", code, u)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("%s: subscription not ended", code)
			}
		}
		if h.Pollers() != 0 || f.count("a") != 2 {
			t.Fatalf("%s: %d pollers, %d polls; want 0, 2", code, h.Pollers(), f.count("a"))
		}
		select {
		case d := <-c.waits:
			t.Fatalf("%s: the poller waits to poll again (%v)", code, d)
		case <-time.After(50 * time.Millisecond):
		}
		s1.Close() // after the end: no effect
		h.Close()
	}
}

// panickingLister panics on its first call, naming the token, once
// release is closed.
type panickingLister struct {
	mu      sync.Mutex
	calls   int
	release chan struct{}
}

func (f *panickingLister) ListWorkspaces(_ context.Context, token string, _ upstream.Read) (*upstream.WorkspaceList, error) {
	f.mu.Lock()
	f.calls++
	n := f.calls
	f.mu.Unlock()
	if n == 1 {
		<-f.release
		panic("fetching for " + token)
	}
	return &upstream.WorkspaceList{Workspaces: []*upstream.Workspace{{ID: "1", Name: "ok"}}}, nil
}

// A panic in a poller ends that token's subscriptions with an INTERNAL
// error event, is logged without the token, and leaves the process and
// the hub serving: a new subscription starts a new poller. Without the
// recover the test binary dies.
func TestPollerPanicEndsItsSubscriptions(t *testing.T) {
	const token = "panic-0123456789abcdef0123456789abcdef"
	var logs bytes.Buffer
	var mu sync.Mutex
	f := &panickingLister{release: make(chan struct{})}
	h := New(f, Options{Interval: time.Hour, Logger: slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, nil))})
	t.Cleanup(h.Close)
	a, b := h.Subscribe(token), h.Subscribe(token)
	close(f.release)
	for _, s := range []*Subscription{a, b} {
		u, ok := <-s.C
		if !ok || apperr.CodeOf(u.Err) != apperr.Internal {
			t.Fatalf("want an INTERNAL event, got %+v (open %v)", u, ok)
		}
		if _, open := <-s.C; open {
			t.Fatal("the subscription stayed open")
		}
	}
	if n := h.Pollers(); n != 0 {
		t.Fatalf("%d pollers left", n)
	}
	mu.Lock()
	log := logs.String()
	mu.Unlock()
	if !strings.Contains(log, "live poller panicked") || strings.Contains(log, token) {
		t.Fatalf("log: %s", log)
	}
	c := h.Subscribe(token)
	defer c.Close()
	if u := <-c.C; u.Err != nil || len(u.List.Workspaces) != 1 {
		t.Fatalf("after the panic: %+v", u)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
