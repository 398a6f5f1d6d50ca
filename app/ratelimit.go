package app

import (
	"context"
	"net/http"
	"net/netip"
	"strconv"

	"github.com/seatable-graphql/seatable-graphql/graph/gqlhttp"
	"github.com/seatable-graphql/seatable-graphql/internal/apperr"
	"github.com/seatable-graphql/seatable-graphql/internal/auth"
	"github.com/seatable-graphql/seatable-graphql/internal/ratelimit"
	"github.com/seatable-graphql/seatable-graphql/internal/tokenhash"
)

// defaultFallbackLimit applies, per client address, to the SeaTable calls
// made with SEATABLE_TOKEN when RATE_LIMIT is not set: anonymous callers
// share that account's SeaTable rate limit, so none of them may use it up.
// The embedded demo has no such account and no such limit.
var defaultFallbackLimit = ratelimit.Limit{PerSecond: 2, Burst: 10}

// rateLimits limits what /graphql clients cost SeaTable, call by call
// (internal/ratelimit.Meter): a caller with its own token by a keyed hash of
// the token (RATE_LIMIT, off by default); one served with SEATABLE_TOKEN by
// the client's address (RATE_LIMIT, or defaultFallbackLimit). A request
// that makes no SeaTable call (answered from a cache, introspection,
// { __typename }) spends nothing. The same meter goes with every operation
// of a batch and of a WebSocket connection, so every transport passes the
// same limits. Callers with no token and no fallback are refused without
// calling SeaTable.
type rateLimits struct {
	limiter    *ratelimit.Limiter
	perToken   ratelimit.Limit
	fallback   ratelimit.Limit
	processKey []byte
	shared     *tokenhash.SharedKey // nil without Redis
	// trusted are the proxies whose X-Forwarded-For names the client
	// (TRUSTED_PROXIES).
	trusted []netip.Prefix
}

// rateLimits is the pipeline's rate limiting step.
func (a *App) rateLimits() step {
	cfg := a.cfg
	rl := &rateLimits{limiter: ratelimit.New(a.redis), processKey: tokenhash.NewKey(),
		perToken: ratelimit.Limit{PerSecond: cfg.RateLimit, Burst: cfg.RateBurst}, fallback: defaultFallbackLimit, trusted: cfg.TrustedProxies}
	if cfg.RateLimit > 0 {
		rl.fallback = rl.perToken
	}
	if cfg.Demo {
		// The demo's fallback token reads fake data: nothing to protect,
		// and its first example sends no token.
		rl.fallback = ratelimit.Limit{}
	}
	if a.redis != nil {
		rl.shared = tokenhash.NewSharedKey(a.redis)
	}
	return rl.middleware
}

// key is whose budget a SeaTable call made now on ctx spends, and its
// limit: ctx's caller (a WebSocket's changes at connection_init), or the
// client's address (host) for the fallback token.
func (rl *rateLimits) key(host string) func(ctx context.Context) (string, ratelimit.Limit) {
	return func(ctx context.Context) (string, ratelimit.Limit) {
		caller := auth.From(ctx)
		switch {
		case caller.Own() && rl.perToken.PerSecond <= 0:
			// No per-token limit (RATE_LIMIT unset): nothing to charge, so
			// no hash of the token to compute for every call.
			return "", rl.perToken
		case caller.Own():
			return rl.tokenKey(ctx, caller), rl.perToken
		case caller.Fallback():
			return "ip:" + host, rl.fallback
		}
		return "", ratelimit.Limit{}
	}
}

// tokenKey names a caller with its own token by a keyed hash of it.
func (rl *rateLimits) tokenKey(ctx context.Context, caller *auth.Caller) string {
	k := rl.processKey
	if rl.shared != nil {
		if sk, ok := rl.shared.Get(ctx); ok {
			k = sk // the same key on every replica, so limits are shared
		}
	}
	h, _ := caller.Hash(k)
	return "t:" + h
}

// client names the client of a request from host for budgets every client
// shares (ratelimit.Client): its own token, else its address, whatever the
// limits.
func (rl *rateLimits) client(host string) func(ctx context.Context) string {
	return func(ctx context.Context) string {
		if caller := auth.From(ctx); caller.Own() {
			return rl.tokenKey(ctx, caller)
		}
		return "ip:" + host
	}
}

func (rl *rateLimits) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := ratelimit.ClientAddr(r, rl.trusted)
		m := ratelimit.NewMeter(rl.limiter, rl.key(host))
		r = r.WithContext(ratelimit.WithClient(ratelimit.WithMeter(r.Context(), m), rl.client(host)))
		if gqlhttp.IsStream(r) {
			// Each operation's refused calls are its own errors; a
			// stream has no status to change.
			next.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(&limitedWriter{ResponseWriter: w, m: m}, r)
	})
}

// limitedWriter answers 429 with Retry-After, as before the limits charged
// calls, when the meter refused every SeaTable call the request asked for:
// nothing was served. A request served in part (one operation of a batch,
// some fields) keeps its status; its refused parts carry RATE_LIMITED and
// retryAfter.
type limitedWriter struct {
	http.ResponseWriter
	m     *ratelimit.Meter
	wrote bool
}

func (w *limitedWriter) WriteHeader(code int) {
	if !w.wrote {
		w.wrote = true
		if refused, retry := w.m.Refused(); refused && code == http.StatusOK {
			w.Header().Set("Retry-After", strconv.Itoa(apperr.RetrySeconds(retry)))
			code = apperr.Throttled.Status(false)
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *limitedWriter) Write(p []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the real writer.
func (w *limitedWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush passes a flush on (@defer's multipart answers need one).
func (w *limitedWriter) Flush() { _ = http.NewResponseController(w.ResponseWriter).Flush() }

// budgetPartition keeps apart the concurrent calls and operations shared
// between requests (coalescing, shared execution) that spend different
// budgets: anonymous callers at different addresses all read with
// SEATABLE_TOKEN, and one over its limit must not fail another's request
// by leading their shared call. (Coalescing keys calls by their whole
// upstream.Read, so fresh reads are apart there already.)
func budgetPartition(ctx context.Context) string {
	if k := ratelimit.Key(ctx); len(k) > 3 && k[:3] == "ip:" {
		return "|" + k
	}
	return ""
}

// callPartition keeps apart the operations shared execution runs once for
// several requests: by budget, and fresh reads from cached ones.
func callPartition(ctx context.Context) string {
	return cachePartition(ctx) + budgetPartition(ctx)
}
