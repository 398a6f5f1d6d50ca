package readiness

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seatable-graphql/seatable-graphql/internal/apperr"
)

func TestProbeCachesForTTLAndSharesConcurrentChecks(t *testing.T) {
	var calls atomic.Int64
	release := make(chan struct{})
	var result error
	p := New(func(context.Context) error {
		calls.Add(1)
		<-release // hold the check open until every prober is waiting
		return result
	})
	now := time.Unix(0, 0)
	p.Now = func() time.Time { return now }

	const n = 10
	var started, done sync.WaitGroup
	started.Add(n)
	done.Add(n)
	for i := 0; i < n; i++ {
		go func() {
			defer done.Done()
			started.Done()
			if err := p.Check(context.Background()); err != nil {
				t.Errorf("check: %v", err)
			}
		}()
	}
	started.Wait()
	close(release)
	done.Wait()
	if c := calls.Load(); c != 1 {
		t.Fatalf("%d concurrent probes ran %d checks, want 1", n, c)
	}

	now = now.Add(DefaultTTL - time.Nanosecond)
	_ = p.Check(context.Background())
	if c := calls.Load(); c != 1 {
		t.Fatalf("a probe within the TTL ran a check")
	}
	result = apperr.New(apperr.UpstreamTimeout, "SeaTable did not answer in time")
	now = now.Add(time.Nanosecond)
	rec := httptest.NewRecorder()
	p.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	if calls.Load() != 2 || rec.Code != http.StatusServiceUnavailable || rec.Body.String() != "not ready: SeaTable check failed: UPSTREAM_TIMEOUT\n" {
		t.Errorf("after the TTL: %d checks, %d %q", calls.Load(), rec.Code, rec.Body)
	}
}

func TestCheckIsBoundedAndDetachedFromTheCaller(t *testing.T) {
	p := New(func(ctx context.Context) error {
		if ctx.Err() != nil {
			return ctx.Err() // the caller's cancellation must not reach the check
		}
		if _, ok := ctx.Deadline(); !ok {
			t.Error("check runs without a deadline")
		}
		return nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.Check(ctx); err != nil {
		t.Errorf("cancelled prober poisoned the result: %v", err)
	}
}

func TestServeHTTPSaysWhy(t *testing.T) {
	p := New(func(context.Context) error { return apperr.New(apperr.UpstreamUnavailable, "SeaTable is unreachable") })
	p.Describe = func(error) string { return "connection refused" }
	rec := httptest.NewRecorder()
	p.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	if rec.Code != http.StatusServiceUnavailable || rec.Body.String() != "not ready: SeaTable check failed: UPSTREAM_UNAVAILABLE: connection refused\n" {
		t.Errorf("%d %q", rec.Code, rec.Body.String())
	}
}
