// Package redisguard is how this server talks to the Redis its replicas
// share, for everything that is only a help there (cached answers,
// persisted queries, the shared token-hash key): every call is bounded by
// a short timeout, and after a failure Redis is skipped for a while, so a
// slow or absent Redis costs a request milliseconds and never fails it.
//
// Every key the server keeps in Redis starts with Prefix:
//
//	sgql:hmac-key              random key every replica uses to hash tokens (internal/tokenhash)
//	sgql:gen:<token hash>      a token's generation of cached answers (upstream/cache)
//	sgql:resp:<hash>:<gen>:<call>  an upstream body (upstream/cache)
//	sgql:apq:<sha256>          a persisted query (graph)
//	sgql:apq-bytes:<window>    what the persisted queries wrote in a window (graph)
//	sgql:live:lock:<hash>      the replica polling for a subscription (graph/live)
//	sgql:live:<hash>           pub/sub channel of live answers (graph/live)
//	sgql:rl:<key>              rate-limit counters (internal/ratelimit)
package redisguard

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Prefix starts every key this server keeps in Redis.
const Prefix = "sgql:"

// timeout bounds every guarded Redis call: a slow Redis must cost a request
// milliseconds, not seconds.
const timeout = 250 * time.Millisecond

// downFor is how long Redis is skipped after a failure, so that an outage
// costs one failed call a second rather than one per request.
const downFor = time.Second

// Guard tracks the health of one Redis client for everything its user
// stores there.
type Guard struct {
	Client    *redis.Client
	downUntil atomic.Int64 // unix nanoseconds
}

// New guards c.
func New(c *redis.Client) *Guard { return &Guard{Client: c} }

// Available reports whether Redis is worth calling: no failure was seen
// in the last second.
func (g *Guard) Available() bool {
	return time.Now().UnixNano() >= g.downUntil.Load()
}

// Failed records err (nil and redis.Nil are not failures) and reports
// whether it was one.
func (g *Guard) Failed(err error) bool {
	if err == nil || errors.Is(err, redis.Nil) {
		return false
	}
	g.downUntil.Store(time.Now().Add(downFor).UnixNano())
	return true
}

// Context returns the context of one Redis call made for ctx: bounded by
// timeout, and not cut short by the request going away, so that a write
// is not left half done.
func (g *Guard) Context(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), timeout)
}
