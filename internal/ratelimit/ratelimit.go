// Package ratelimit limits requests per client: in process with a token
// bucket per client (golang.org/x/time/rate), or shared by all replicas
// through Redis with GCRA (github.com/go-redis/redis_rate, maintained by
// the go-redis authors, one Lua script per check, keys expire by
// themselves). Keys are what the caller passes (a keyed hash of a token,
// or an address), never a token.
//
// A Redis that fails or is slow never fails a request: the check falls
// back to the in-process buckets for a second.
package ratelimit

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"
)

// Limit is a rate in requests per second with a burst.
type Limit struct {
	PerSecond int
	Burst     int
}

// Limiter checks requests against per-key limits.
type Limiter struct {
	redis     *redis_rate.Limiter // nil: in process only
	downUntil atomic.Int64        // unix nanoseconds; Redis skipped until then

	mu    sync.Mutex
	local map[string]*bucket
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// maxLocal bounds the in-process buckets; past it, idle ones are dropped
// (an idle bucket is full, so dropping it changes nothing).
const maxLocal = 10000

// redisTimeout bounds one check in Redis.
const redisTimeout = 250 * time.Millisecond

// New returns a limiter, shared through rc when it is not nil.
func New(rc *redis.Client) *Limiter {
	l := &Limiter{local: map[string]*bucket{}}
	if rc != nil {
		l.redis = redis_rate.NewLimiter(rc)
	}
	return l
}

// Allow reports whether one more request of key fits lim, and if not, how
// long until one would.
func (l *Limiter) Allow(ctx context.Context, key string, lim Limit) (bool, time.Duration) {
	if lim.PerSecond <= 0 {
		return true, 0
	}
	burst := max(lim.Burst, 1)
	if l.redis != nil && time.Now().UnixNano() >= l.downUntil.Load() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), redisTimeout)
		res, err := l.redis.Allow(rctx, "sgql:rl:"+key, redis_rate.Limit{Rate: lim.PerSecond, Burst: burst, Period: time.Second})
		cancel()
		if err == nil {
			return res.Allowed > 0, res.RetryAfter
		}
		l.downUntil.Store(time.Now().Add(time.Second).UnixNano())
	}
	return l.allowLocal(key, lim.PerSecond, burst)
}

func (l *Limiter) allowLocal(key string, perSecond, burst int) (bool, time.Duration) {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.local[key]
	if !ok {
		if len(l.local) >= maxLocal {
			l.prune(now)
		}
		b = &bucket{lim: rate.NewLimiter(rate.Limit(perSecond), burst)}
		l.local[key] = b
	}
	b.seen = now
	r := b.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// prune drops buckets idle long enough to have refilled.
func (l *Limiter) prune(now time.Time) {
	for k, b := range l.local {
		if b.lim.TokensAt(now) >= float64(b.lim.Burst()) {
			delete(l.local, k)
		}
	}
}
