package app

import (
	"net"
	"net/http"

	"github.com/seatable-graphql/seatable-graphql/internal/auth"
	"github.com/seatable-graphql/seatable-graphql/internal/gqlhttp"
	"github.com/seatable-graphql/seatable-graphql/internal/ratelimit"
	"github.com/seatable-graphql/seatable-graphql/internal/tokenhash"
)

// defaultFallbackLimit applies, per client address, to requests served with
// SEATABLE_TOKEN when RATE_LIMIT is not set: anonymous callers share that
// account's SeaTable rate limit, so none of them may use it up.
var defaultFallbackLimit = ratelimit.Limit{PerSecond: 2, Burst: 10}

// rateLimits limits /graphql requests per client: a request with its own
// token by a keyed hash of the token (RATE_LIMIT, off by default); one
// served with SEATABLE_TOKEN by the client's address (RATE_LIMIT, or
// defaultFallbackLimit). Requests with no token and no fallback are not
// limited: they are refused without calling SeaTable.
type rateLimits struct {
	limiter    *ratelimit.Limiter
	perToken   ratelimit.Limit
	fallback   ratelimit.Limit
	processKey []byte
	shared     *tokenhash.SharedKey // nil without Redis
}

// rateLimits is the pipeline's rate limiting step.
func (a *App) rateLimits() step {
	cfg := a.cfg
	rl := &rateLimits{limiter: ratelimit.New(a.redis), processKey: tokenhash.NewKey(),
		perToken: ratelimit.Limit{PerSecond: cfg.RateLimit, Burst: cfg.RateBurst}, fallback: defaultFallbackLimit}
	if cfg.RateLimit > 0 {
		rl.fallback = rl.perToken
	}
	if a.redis != nil {
		rl.shared = tokenhash.NewSharedKey(a.redis)
	}
	return rl.middleware
}

func (rl *rateLimits) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		caller := auth.From(r.Context())
		var key string
		var lim ratelimit.Limit
		switch {
		case caller.Own():
			lim = rl.perToken
			k := rl.processKey
			if rl.shared != nil {
				if sk, ok := rl.shared.Get(r.Context()); ok {
					k = sk // the same key on every replica, so limits are shared
				}
			}
			key, _ = caller.Hash(k)
			key = "t:" + key
		case caller.Fallback():
			lim = rl.fallback
			host, _, err := net.SplitHostPort(r.RemoteAddr)
			if err != nil {
				host = r.RemoteAddr
			}
			key = "ip:" + host
		}
		if key != "" {
			if ok, retry := rl.limiter.Allow(r.Context(), key, lim); !ok {
				gqlhttp.WriteRateLimited(w, r, retry)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}
