package ratelimit

import (
	"context"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/seatable-graphql/seatable-graphql/internal/apperr"
)

// Meter charges what a request costs, one SeaTable call at a time, to its
// caller's limit: a request (or a WebSocket connection, and every operation
// on it) carries one on its context, and whatever is about to call SeaTable
// on its behalf asks Charge first. A request that calls nothing (an answer
// from a cache, introspection, { __typename }) spends nothing, whatever its
// transport; a batch spends what its operations call, together.
type Meter struct {
	limiter *Limiter
	// key names whose budget a call spends and its limit, read when the
	// call is made: a WebSocket learns its caller after the upgrade. ""
	// spends nothing.
	key func(ctx context.Context) (string, Limit)

	allowed, refused atomic.Int64
	retry            atomic.Int64 // nanoseconds, of the last refusal
}

// NewMeter returns a meter that charges l by key.
func NewMeter(l *Limiter, key func(ctx context.Context) (string, Limit)) *Meter {
	return &Meter{limiter: l, key: key}
}

type meterKey struct{}

// WithMeter returns ctx carrying m.
func WithMeter(ctx context.Context, m *Meter) context.Context {
	return context.WithValue(ctx, meterKey{}, m)
}

// MeterFrom returns the meter on ctx, or nil.
func MeterFrom(ctx context.Context) *Meter {
	m, _ := ctx.Value(meterKey{}).(*Meter)
	return m
}

// Charge spends one call of the budget of ctx's caller. It returns nil
// when the call may go ahead (always, with no meter on ctx: the pollers
// and readiness checks, bounded elsewhere), else a RATE_LIMITED error with
// the time until one would fit.
func Charge(ctx context.Context) error {
	m := MeterFrom(ctx)
	if m == nil {
		return nil
	}
	key, lim := m.key(ctx)
	if key == "" || lim.PerSecond <= 0 {
		m.allowed.Add(1)
		return nil
	}
	ok, retry := m.limiter.Allow(ctx, key, lim)
	if ok {
		m.allowed.Add(1)
		return nil
	}
	retry = max(retry, time.Millisecond) // reported in whole seconds, at least 1
	m.refused.Add(1)
	m.retry.Store(int64(retry))
	e := apperr.Throttled.Error("rate limit reached: retry later")
	e.RetryAfter = retry
	return e
}

// Refused reports whether the meter refused every call it was asked for
// (at least one): the request was not served at all, so HTTP may answer
// 429. retry is how long until a call would fit.
func (m *Meter) Refused() (refused bool, retry time.Duration) {
	if m.refused.Load() == 0 || m.allowed.Load() > 0 {
		return false, 0
	}
	return true, time.Duration(m.retry.Load())
}

// Key is the budget a call made now on ctx would spend ("" none).
func Key(ctx context.Context) string {
	m := MeterFrom(ctx)
	if m == nil {
		return ""
	}
	key, lim := m.key(ctx)
	if lim.PerSecond <= 0 {
		return ""
	}
	return key
}

// Transport asks the request's meter (Charge) before each exchange next
// makes: the transport is where a call is known to be made (not answered
// by a cache, not shared with a concurrent identical call). A refused call
// is no SeaTable call: next never sees it.
func Transport(next http.RoundTripper) http.RoundTripper { return meteredTransport{next} }

type meteredTransport struct{ next http.RoundTripper }

func (t meteredTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if err := Charge(r.Context()); err != nil {
		if r.Body != nil {
			_ = r.Body.Close()
		}
		return nil, err
	}
	return t.next.RoundTrip(r)
}
