// Package flight runs one call per key at a time and shares its result with
// every caller that asks for the same key while it runs. It is the one
// in-flight group of the server: the upstream coalescer and the shared
// execution of identical GraphQL queries both use it.
//
// The call runs detached from its first caller's cancellation (the
// context's values are kept): a caller that goes away must not fail the
// others waiting on the same call. Once every caller has gone away, the
// call's context is cancelled, since nobody is left to use its answer. A
// panic in the call becomes an error for every caller, so none waits
// forever. The package never looks inside keys or values.
package flight

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// ErrLeft is returned (wrapping the context's error) to a caller whose
// context ended before the call did.
var ErrLeft = errors.New("flight: caller stopped waiting")

// ErrPanicked is returned (wrapping the panic value) to every caller of a
// call that panicked.
var ErrPanicked = errors.New("flight: call panicked")

// Group shares calls in flight by key. The zero value is ready to use. A
// result is handed to every caller that shared the call, so it must be
// treated as read-only.
type Group[V any] struct {
	mu    sync.Mutex
	calls map[string]*call[V]
	// idle hands a call to a goroutine that ran an earlier one and is
	// waiting for another (worker); nil until the first call.
	idle chan func()
}

// workerIdle is how long a goroutine that ran a call waits for the next
// one before it ends.
//
// Why reuse goroutines at all: a call runs deep (a whole GraphQL
// operation, or an HTTP exchange and a decode), and a new goroutine
// starts with a small stack, grown by copying it at each doubling. With
// many users nothing is shared, every request starts calls, and the
// growing was about a twentieth of the server's CPU. A goroutine that
// waits here keeps the stack it grew.
const workerIdle = time.Second

// call is one shared call; done is closed once v and err are set.
type call[V any] struct {
	done chan struct{}
	v    V
	err  error

	waiters int                // callers still waiting; guarded by Group.mu
	cancel  context.CancelFunc // ends the call once no caller waits any more
}

// Do returns the result of the call in flight under key, or starts fn as
// that call. shared reports whether the caller joined a call another
// caller had started. If ctx ends first, Do returns at once with an error
// wrapping ErrLeft and ctx's error; the call goes on for the others.
func (g *Group[V]) Do(ctx context.Context, key string, fn func(ctx context.Context) (V, error)) (v V, err error, shared bool) {
	g.mu.Lock()
	if g.calls == nil {
		g.calls = map[string]*call[V]{}
	}
	c, shared := g.calls[key]
	if !shared {
		c = &call[V]{done: make(chan struct{})}
		var run context.Context
		run, c.cancel = context.WithCancel(context.WithoutCancel(ctx))
		g.calls[key] = c
		if g.idle == nil {
			g.idle = make(chan func())
		}
		g.start(func() { g.run(run, key, c, fn) })
	}
	c.waiters++
	g.mu.Unlock()
	select {
	case <-c.done:
		return c.v, c.err, shared
	case <-ctx.Done():
		g.mu.Lock()
		if c.waiters--; c.waiters == 0 {
			c.cancel()
			g.forget(key, c)
		}
		g.mu.Unlock()
		var zero V
		return zero, fmt.Errorf("%w: %w", ErrLeft, ctx.Err()), shared
	}
}

// start runs f on a waiting worker if there is one, else on a new one;
// g.mu is held.
func (g *Group[V]) start(f func()) {
	select {
	case g.idle <- f:
	default:
		go g.worker(g.idle, f)
	}
}

// worker runs f, then the calls handed to it through idle, until none
// comes for workerIdle.
func (g *Group[V]) worker(idle chan func(), f func()) {
	var t *time.Timer
	for {
		f()
		if t == nil {
			t = time.NewTimer(workerIdle)
		} else {
			t.Reset(workerIdle)
		}
		select {
		case f = <-idle:
			t.Stop()
		case <-t.C:
			return
		}
	}
}

func (g *Group[V]) run(ctx context.Context, key string, c *call[V], fn func(ctx context.Context) (V, error)) {
	defer c.cancel()
	defer func() {
		g.mu.Lock()
		g.forget(key, c)
		g.mu.Unlock()
		close(c.done)
	}()
	defer func() {
		if r := recover(); r != nil {
			var zero V
			c.v, c.err = zero, fmt.Errorf("%w: %v", ErrPanicked, r)
		}
	}()
	c.v, c.err = fn(ctx)
}

// Forget makes the calls in flight under keys starting with prefix
// unreachable: callers after it start a fresh call instead of joining one
// that began before (a write, say). The forgotten calls still finish for
// those already waiting.
func (g *Group[V]) Forget(prefix string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for k := range g.calls {
		if strings.HasPrefix(k, prefix) {
			delete(g.calls, k)
		}
	}
}

// forget removes c, unless key already names a newer call; g.mu is held.
func (g *Group[V]) forget(key string, c *call[V]) {
	if g.calls[key] == c {
		delete(g.calls, key)
	}
}
