package cache_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/seatable-graphql/seatable-graphql/internal/flight/flighttest"
	"github.com/seatable-graphql/seatable-graphql/internal/redistest"
	"github.com/seatable-graphql/seatable-graphql/upstream"
	"github.com/seatable-graphql/seatable-graphql/upstream/cache"
	"github.com/seatable-graphql/seatable-graphql/upstream/coalesce"
	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

// layer wraps a Lister in one decorator.
type layer struct {
	name string
	wrap func(next upstream.Lister, rc *redis.Client) upstream.Lister
}

var (
	caching = layer{"cache", func(next upstream.Lister, rc *redis.Client) upstream.Lister {
		return cache.New(next, cache.Options{TTL: time.Minute, MaxBytes: 8 << 20, Redis: rc})
	}}
	coalescing = layer{"coalesce", func(next upstream.Lister, _ *redis.Client) upstream.Lister {
		return coalesce.New(next, time.Minute)
	}}
)

// outcome is what one step of composeScript saw: the answer (as JSON, so
// that equal lists compare equal) and how many calls reached SeaTable.
type outcome struct {
	step   string
	answer string
	calls  int64
}

// TestDecoratorsComposeInAnyOrder runs one script of reads, fresh reads,
// field-trimmed reads, outside writes, invalidations, a second replica and
// a burst of concurrent reads against the client wrapped by the cache and
// coalescing in every order, with the in-process cache and with Redis. Every
// order must give the same answers with the same number of SeaTable calls.
//
// Before reads became explicit it could not pass: the cache found the raw
// body by asserting that the next layer had ListWorkspacesWithBody, so a
// shared cache outside coalescing stored nothing and every read went to
// SeaTable.
func TestDecoratorsComposeInAnyOrder(t *testing.T) {
	orders := [][]layer{
		{caching, coalescing}, // the app's stack: coalescing outermost
		{coalescing, caching},
	}
	for _, shared := range []bool{false, true} {
		t.Run(fmt.Sprintf("redis=%v", shared), func(t *testing.T) {
			var want []outcome
			for _, order := range orders {
				got := composeScript(t, order, shared)
				if want == nil {
					want = got
					checkScript(t, got, shared)
					continue
				}
				if !slices.Equal(got, want) {
					for i := range want {
						if i < len(got) && got[i] != want[i] {
							t.Errorf("step %q: order %s made %d calls, order %s %d; same answer: %v",
								want[i].step, names(order), got[i].calls, names(orders[0]), want[i].calls, got[i].answer == want[i].answer)
						}
					}
				}
			}
		})
	}
}

func names(order []layer) string {
	s := "client"
	for _, l := range order {
		s += " < " + l.name
	}
	return s
}

// checkScript holds the reference order to what each step must cost, so
// that orders cannot agree on being wrong.
func checkScript(t *testing.T, got []outcome, shared bool) {
	t.Helper()
	want := map[string]int64{
		"read": 1, "read without colours": 0, "summary": 1, "read after outside rename": 0,
		"fresh read": 1, "read after fresh": 0, "other token": 1, "read after invalidate": 1,
		"second replica": 1, "read across invalidate": 2, "concurrent reads": 1, "concurrent fresh reads": 1,
	}
	if shared {
		want["second replica"] = 0 // found in Redis
	}
	for _, o := range got {
		if o.calls != want[o.step] {
			t.Errorf("step %q: %d SeaTable calls, want %d", o.step, o.calls, want[o.step])
		}
	}
	byStep := map[string]string{}
	for _, o := range got {
		byStep[o.step] = o.answer
	}
	switch {
	case byStep["read without colours"] != byStep["read"]:
		t.Error("a read that omits fields was not served the cached whole list")
	case byStep["read after outside rename"] != byStep["read"]:
		t.Error("the cache did not serve its answer")
	case byStep["fresh read"] == byStep["read"]:
		t.Error("a fresh read was served the cached answer")
	case byStep["read after fresh"] != byStep["fresh read"]:
		t.Error("a fresh read's answer was not kept")
	case byStep["read after invalidate"] == byStep["fresh read"]:
		t.Error("an invalidated answer was served")
	}
}

// composeScript builds the client against a fake SeaTable, wraps it in
// order (innermost first) and runs the script.
func composeScript(t *testing.T, order []layer, shared bool) []outcome {
	t.Helper()
	ctx := context.Background()
	var rc *redis.Client
	if shared {
		_, rc = redistest.StartWithClient(t)
	}
	fake := fakeseatable.New()
	// Renames stamp updated_at with the fake's clock: a wall clock would
	// give the orders different answers whenever a second turned between
	// their runs (about one run in thirty).
	fake.SetClock(func() time.Time { return time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC) })
	body := fakeseatable.Generate(3, 2)
	fake.SetToken("tok-a", body)
	fake.SetToken("tok-b", body)
	// gate, when set, holds every list call until it is closed.
	var (
		gateMu  sync.Mutex
		gate    chan struct{}
		entered = make(chan struct{}, 16)
	)
	fake.SetHook(func(http.ResponseWriter, *http.Request) bool {
		gateMu.Lock()
		g := gate
		gateMu.Unlock()
		if g != nil {
			entered <- struct{}{}
			<-g
		}
		return false
	})
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	stack := func() upstream.Lister {
		client, err := upstream.New(srv.URL, upstream.WithRetries(0))
		if err != nil {
			t.Fatal(err)
		}
		var l upstream.Lister = client
		for _, d := range order {
			l = d.wrap(l, rc)
		}
		return l
	}
	first, err := upstream.DecodeWorkspaceListBytes(body)
	if err != nil {
		t.Fatal(err)
	}
	base := first.Workspaces[0].Tables[0]
	renames := 0
	rename := func() {
		renames++
		newName := fmt.Sprintf("renamed-%d", renames)
		if err := fake.Rename("tok-a", base.WorkspaceID, base.Name, newName); err != nil {
			t.Fatal(err)
		}
		base.Name = newName
	}

	l := stack()
	var out []outcome
	read := func(step string, lister upstream.Lister, token string, r upstream.Read) {
		before := fake.Calls()
		list, err := lister.ListWorkspaces(ctx, token, r)
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		out = append(out, outcome{step, answer(t, list), fake.Calls() - before})
	}
	all := upstream.Read{Detail: true}
	read("read", l, "tok-a", all)
	read("read without colours", l, "tok-a", upstream.Read{Detail: true, Omit: upstream.FieldColor | upstream.FieldTextColor | upstream.FieldIcon})
	read("summary", l, "tok-a", upstream.Read{})
	rename()
	read("read after outside rename", l, "tok-a", all)
	read("fresh read", l, "tok-a", upstream.Read{Detail: true, Fresh: true})
	read("read after fresh", l, "tok-a", all)
	read("other token", l, "tok-b", all)
	rename()
	l.(upstream.Invalidator).Invalidate(ctx, "tok-a")
	read("read after invalidate", l, "tok-a", all)
	read("second replica", stack(), "tok-a", all)

	// A write while a read is in flight: the reads after it start a call of
	// their own instead of joining one that began before the write,
	// whichever layer the invalidation enters by.
	hold := func() chan struct{} {
		gateMu.Lock()
		defer gateMu.Unlock()
		gate = make(chan struct{})
		return gate
	}
	release := func(g chan struct{}) {
		gateMu.Lock()
		gate = nil
		gateMu.Unlock()
		close(g)
	}
	{
		l.(upstream.Invalidator).Invalidate(ctx, "tok-a") // nothing kept: the read goes to SeaTable
		g := hold()
		before := fake.Calls()
		done := make(chan error, 2)
		go func() { _, err := l.ListWorkspaces(ctx, "tok-a", all); done <- err }()
		<-entered
		rename()
		l.(upstream.Invalidator).Invalidate(ctx, "tok-a")
		after, waiting := flighttest.Context(ctx)
		var list *upstream.WorkspaceList
		go func() {
			var err error
			list, err = l.ListWorkspaces(after, "tok-a", all)
			done <- err
		}()
		<-waiting
		release(g)
		for range 2 {
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		}
		// The second call, done by now, may have passed the gate too.
		for len(entered) > 0 {
			<-entered
		}
		out = append(out, outcome{"read across invalidate", answer(t, list), fake.Calls() - before})
	}

	// A burst of identical reads makes one call, once every reader waits
	// for it. With Redis the cache passes the readers' contexts to the
	// Redis client, which asks them for Done before coalescing can: the
	// burst runs against the in-process cache only.
	if shared {
		return out
	}
	for _, fresh := range []bool{false, true} {
		step := "concurrent reads"
		if fresh {
			step = "concurrent fresh reads"
		}
		l.(upstream.Invalidator).Invalidate(ctx, "tok-a")
		g := hold()
		before := fake.Calls()
		const n = 8
		answers := make(chan string, n)
		waiting := make([]<-chan struct{}, n)
		for i := range waiting {
			var rctx context.Context
			rctx, waiting[i] = flighttest.Context(ctx)
			go func() {
				list, err := l.ListWorkspaces(rctx, "tok-a", upstream.Read{Detail: true, Fresh: fresh})
				if err != nil {
					t.Error(err)
					answers <- ""
					return
				}
				answers <- answer(t, list)
			}()
		}
		for _, w := range waiting {
			<-w // every reader has started or joined a call
		}
		release(g)
		got := <-answers
		for i := 1; i < n; i++ {
			if a := <-answers; a != got {
				t.Errorf("%s: readers got different answers", step)
			}
		}
		out = append(out, outcome{step, got, fake.Calls() - before})
	}
	return out
}

// answer is a list as JSON: what its readers see of it.
func answer(t *testing.T, l *upstream.WorkspaceList) string {
	t.Helper()
	b, err := json.Marshal(l)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
