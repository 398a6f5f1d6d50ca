package live

import (
	"encoding/json"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/seatable-graphql/seatable-graphql/internal/redistest"
	"github.com/seatable-graphql/seatable-graphql/internal/tokenhash"
	"github.com/seatable-graphql/seatable-graphql/upstream"
)

func newReplica(t *testing.T, url string, f *fetcher, interval time.Duration) (*Hub, *clock, *redis.Client) {
	t.Helper()
	o, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	rc := redis.NewClient(o)
	r, err := NewRedis(t.Context(), rc)
	if err != nil {
		t.Fatal(err)
	}
	c := newClock()
	h := New(f, Options{Interval: interval, After: c.After, Redis: r})
	t.Cleanup(func() { h.Close(); _ = rc.Close() })
	return h, c, rc
}

// Two replicas with subscribers of one token: after their first values,
// one polls per interval and the other relays its answers; when the
// polling replica dies, the other takes over once the lock expires.
func TestRedisOnePollerAcrossReplicas(t *testing.T) {
	srv := redistest.Start(t)
	f := newFetcher()
	f.set("a", "one")
	const interval = 250 * time.Millisecond // the lock lives 2 intervals, in Redis's real time
	hA, cA, rcA := newReplica(t, srv.URL, f, interval)
	hB, cB, _ := newReplica(t, srv.URL, f, interval)
	sA, sB := hA.Subscribe("a"), hB.Subscribe("a")
	recv(t, sA)
	recv(t, sB)
	cA.waited(t)
	cB.waited(t)
	if n := f.count("a"); n != 2 {
		t.Fatalf("first values: %d polls, want one per replica", n)
	}

	cA.tick <- time.Now() // A takes the lock and polls
	cA.waited(t)
	cB.tick <- time.Now() // B finds the lock taken: no poll
	cB.waited(t)
	if n := f.count("a"); n != 3 {
		t.Fatalf("one tick on each replica: %d polls, want 3", n)
	}
	f.set("a", "two")
	cA.tick <- time.Now()
	cA.waited(t)
	cB.tick <- time.Now()
	cB.waited(t)
	if u := recv(t, sA); u.List.Workspaces[0].Name != "two" {
		t.Fatalf("polling replica: %+v", u)
	}
	if u := recv(t, sB); u.List.Workspaces[0].Name != "two" {
		t.Fatalf("relayed: %+v", u)
	}
	if n := f.count("a"); n != 4 {
		t.Fatalf("second interval: %d polls, want 4", n)
	}

	// A dies without releasing its lock (its Redis connection is gone).
	_ = rcA.Close()
	hA.Close()
	cB.tick <- time.Now() // within the lock's lifetime: B still waits
	cB.waited(t)
	if n := f.count("a"); n != 4 {
		t.Fatalf("B polled while A's lock was alive: %d", n)
	}
	deadline := time.Now().Add(5 * time.Second)
	for f.count("a") == 4 { // each tick is one attempt; the lock expires after 2 intervals
		if time.Now().After(deadline) {
			t.Fatal("B never took over")
		}
		time.Sleep(interval / 2)
		cB.tick <- time.Now()
		cB.waited(t)
	}
	f.set("a", "three")
	cB.tick <- time.Now()
	cB.waited(t)
	if u := recv(t, sB); u.List.Workspaces[0].Name != "three" {
		t.Fatalf("after failover: %+v", u)
	}
}

// A replica that cannot reach Redis polls for its own subscribers.
func TestRedisDownPollsLocally(t *testing.T) {
	srv := redistest.Start(t)
	f := newFetcher()
	f.set("a", "one")
	h, c, _ := newReplica(t, srv.URL, f, time.Second)
	s := h.Subscribe("a")
	recv(t, s)
	c.waited(t)
	srv.Stop()
	f.set("a", "two")
	c.tick <- time.Now()
	c.waited(t)
	if u := recv(t, s); u.List.Workspaces[0].Name != "two" {
		t.Fatalf("%+v", u)
	}
}

// An answer relayed late (polled before the one subscribers have) is not
// pushed: it would undo a newer change.
func TestRedisIgnoresStaleRelays(t *testing.T) {
	srv := redistest.Start(t)
	f := newFetcher()
	f.set("a", "now")
	o, _ := redis.ParseURL(srv.URL)
	rc := redis.NewClient(o)
	defer rc.Close()
	r, err := NewRedis(t.Context(), rc)
	if err != nil {
		t.Fatal(err)
	}
	c, obs := newClock(), &pushCounter{}
	h := New(f, Options{Interval: time.Second, After: c.After, Redis: r, Observer: obs})
	defer h.Close()
	s := h.Subscribe("a")
	recv(t, s)
	c.waited(t)
	name := tokenhash.Sum(h.key, "a")
	send := func(ws string, at time.Time) {
		b, _ := json.Marshal(message{Workspaces: []*upstream.Workspace{{ID: "1", Name: ws}}, At: at.UnixNano()})
		if err := rc.Publish(t.Context(), chanPrefix+name, b).Err(); err != nil {
			t.Fatal(err)
		}
	}
	send("stale", time.Now().Add(-time.Hour))
	send("newer", time.Now().Add(time.Hour))
	if u := recv(t, s); u.List.Workspaces[0].Name != "newer" {
		t.Fatalf("got %q, want the newer relay", u.List.Workspaces[0].Name)
	}
	if n := obs.pushes.Load(); n != 2 { // the first value and the newer relay
		t.Fatalf("%d pushes: the stale relay was pushed", n)
	}
}

type pushCounter struct {
	nopObserver
	pushes atomic.Int64
}

func (p *pushCounter) Push(int) { p.pushes.Add(1) }
