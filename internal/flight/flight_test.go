package flight_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/seatable-graphql/seatable-graphql/internal/flight"
	"github.com/seatable-graphql/seatable-graphql/internal/flight/flighttest"
)

// gate is a call that blocks until released and counts its runs.
type gate struct {
	runs    atomic.Int64
	entered chan struct{}
	release chan struct{}
}

func newGate() *gate {
	return &gate{entered: make(chan struct{}, 10), release: make(chan struct{})}
}

func (g *gate) call(ctx context.Context) (int64, error) {
	n := g.runs.Add(1)
	g.entered <- struct{}{}
	<-g.release
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	return n, nil
}

type result struct {
	v      int64
	err    error
	shared bool
}

func do(g *flight.Group[int64], ctx context.Context, key string, fn func(context.Context) (int64, error)) <-chan result {
	out := make(chan result, 1)
	go func() {
		v, err, shared := g.Do(ctx, key, fn)
		out <- result{v, err, shared}
	}()
	return out
}

func TestFollowersShareTheLeadersCall(t *testing.T) {
	var g flight.Group[int64]
	gt := newGate()
	leader := do(&g, context.Background(), "k", gt.call)
	<-gt.entered
	var followers []<-chan result
	for range 3 {
		ctx, waiting := flighttest.Context(context.Background())
		followers = append(followers, do(&g, ctx, "k", gt.call))
		<-waiting
	}
	other := do(&g, context.Background(), "other", gt.call)
	<-gt.entered // another key runs on its own
	close(gt.release)
	lr, or := <-leader, <-other
	if lr.err != nil || lr.shared || or.err != nil || or.shared || lr.v == or.v {
		t.Fatalf("leader got %+v, other key %+v: want two calls of their own", lr, or)
	}
	for _, f := range followers {
		if r := <-f; r.err != nil || !r.shared || r.v != lr.v {
			t.Fatalf("follower got %+v, want the leader's result, shared", r)
		}
	}
	if n := gt.runs.Load(); n != 2 {
		t.Fatalf("%d runs, want 2", n)
	}
}

func TestLeaderLeavingDoesNotFailFollowers(t *testing.T) {
	var g flight.Group[int64]
	gt := newGate()
	leaderCtx, cancel := context.WithCancel(context.Background())
	leader := do(&g, leaderCtx, "k", gt.call)
	<-gt.entered
	ctx, waiting := flighttest.Context(context.Background())
	follower := do(&g, ctx, "k", gt.call)
	<-waiting
	cancel()
	if r := <-leader; !errors.Is(r.err, flight.ErrLeft) || !errors.Is(r.err, context.Canceled) {
		t.Fatalf("the leader that left got %v, want ErrLeft and its context's error", r.err)
	}
	close(gt.release)
	if r := <-follower; r.err != nil || r.v != 1 {
		t.Fatalf("follower got %+v; the call must not see its leader's cancellation", r)
	}
}

func TestLastWaiterLeavingCancelsTheCall(t *testing.T) {
	var g flight.Group[int64]
	entered, ended := make(chan struct{}, 2), make(chan error, 2)
	fn := func(ctx context.Context) (int64, error) {
		entered <- struct{}{}
		<-ctx.Done()
		ended <- ctx.Err()
		return 0, ctx.Err()
	}
	ctx1, cancel1 := context.WithCancel(context.Background())
	ctx2, cancel2 := context.WithCancel(context.Background())
	first := do(&g, ctx1, "k", fn)
	<-entered
	probe, waiting := flighttest.Context(ctx2)
	second := do(&g, probe, "k", fn)
	<-waiting
	cancel1()
	<-first
	select {
	case err := <-ended:
		t.Fatalf("the call ended (%v) while a caller still waited", err)
	default:
	}
	cancel2()
	if r := <-second; !errors.Is(r.err, flight.ErrLeft) {
		t.Fatalf("second caller got %v, want ErrLeft", r.err)
	}
	if err := <-ended; !errors.Is(err, context.Canceled) {
		t.Fatalf("the call ended with %v, want cancellation", err)
	}
	// Nobody waits any more: the next caller starts afresh.
	third := do(&g, context.Background(), "k", func(context.Context) (int64, error) { return 7, nil })
	if r := <-third; r.err != nil || r.shared || r.v != 7 {
		t.Fatalf("next caller got %+v, want a fresh call", r)
	}
}

func TestPanicBecomesAnErrorForEveryCaller(t *testing.T) {
	var g flight.Group[int64]
	entered, release := make(chan struct{}), make(chan struct{})
	fn := func(context.Context) (int64, error) {
		close(entered)
		<-release
		panic("boom")
	}
	leader := do(&g, context.Background(), "k", fn)
	<-entered
	ctx, waiting := flighttest.Context(context.Background())
	follower := do(&g, ctx, "k", fn)
	<-waiting
	close(release)
	for _, c := range []<-chan result{leader, follower} {
		if r := <-c; !errors.Is(r.err, flight.ErrPanicked) {
			t.Fatalf("got %v, want ErrPanicked", r.err)
		}
	}
	if r := <-do(&g, context.Background(), "k", func(context.Context) (int64, error) { return 1, nil }); r.err != nil {
		t.Fatalf("a panicked call must not outlive itself: %v", r.err)
	}
}

func TestForgetMakesTheNextCallerStartAfresh(t *testing.T) {
	var g flight.Group[int64]
	gt := newGate()
	first := do(&g, context.Background(), "tok|a", gt.call)
	<-gt.entered
	g.Forget("tok|")
	second := do(&g, context.Background(), "tok|a", gt.call)
	<-gt.entered // a second call started instead of joining the first
	close(gt.release)
	r1, r2 := <-first, <-second
	if r1.err != nil || r2.err != nil || r2.shared || r1.v == r2.v {
		t.Fatalf("got %+v and %+v, want two separate calls", r1, r2)
	}
}

func TestErrorsAreSharedButNotKept(t *testing.T) {
	var g flight.Group[int64]
	boom := errors.New("boom")
	if _, err, _ := g.Do(context.Background(), "k", func(context.Context) (int64, error) { return 0, boom }); !errors.Is(err, boom) {
		t.Fatalf("got %v, want the call's error", err)
	}
	if v, err, _ := g.Do(context.Background(), "k", func(context.Context) (int64, error) { return 2, nil }); err != nil || v != 2 {
		t.Fatalf("an error must not outlive its call: %v %v", v, err)
	}
}
