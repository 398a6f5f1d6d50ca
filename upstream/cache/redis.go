package cache

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis layout (all under one prefix):
//
//	sgql:hmac-key              random key every replica uses to hash tokens
//	sgql:gen:<token hash>      the token's generation, a random value set on
//	                           each invalidation (absent = "0")
//	sgql:resp:<hash>:<gen>:<call>  an upstream body, with the cache TTL
//	sgql:apq:<sha256>          a persisted query
//
// Invalidation is one SET of the generation: entries under an older
// generation are never read again and expire by their TTL. The generation
// key lives as long as any entry written under the generation before it
// (its expiry is the TTL), and random generations never repeat, so an
// expired generation cannot bring a stale entry back.
const (
	prefix     = "sgql:"
	hmacKeyKey = prefix + "hmac-key"
)

// redisTimeout bounds every Redis call: a slow Redis must cost a request
// milliseconds, not seconds.
const redisTimeout = 250 * time.Millisecond

// downFor is how long Redis is skipped after a failure, so that an outage
// costs one failed call a second rather than one per request.
const downFor = time.Second

// redisGuard tracks Redis health for everything stored there.
type redisGuard struct {
	client    *redis.Client
	downUntil atomic.Int64 // unix nanoseconds
}

func (g *redisGuard) available() bool {
	return time.Now().UnixNano() >= g.downUntil.Load()
}

// failed records err (nil and redis.Nil are not failures) and reports
// whether it was one.
func (g *redisGuard) failed(err error) bool {
	if err == nil || errors.Is(err, redis.Nil) {
		return false
	}
	g.downUntil.Store(time.Now().Add(downFor).UnixNano())
	return true
}

func (g *redisGuard) ctx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), redisTimeout)
}

type redisStore struct {
	redisGuard
	maxBytes int64

	mu      sync.Mutex
	hmacKey []byte
}

func newRedisStore(c *redis.Client, maxBytes int64) *redisStore {
	return &redisStore{redisGuard: redisGuard{client: c}, maxBytes: maxBytes}
}

// key returns the shared HMAC key, creating it on first use by any replica.
func (s *redisStore) key(ctx context.Context) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hmacKey != nil {
		return s.hmacKey, true
	}
	if !s.available() {
		return nil, false
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	k, err := LoadSharedKey(ctx, s.client)
	if err != nil {
		if !errors.Is(err, errBadSharedKey) {
			s.failed(err)
		}
		return nil, false
	}
	s.hmacKey = k
	return k, true
}

var errBadSharedKey = errors.New("bad shared HMAC key in Redis")

// LoadSharedKey reads the HMAC key every replica shares through Redis
// (sgql:hmac-key), creating it when no replica has yet: everything that
// hashes a token the same way on every replica (cache keys, rate limits,
// live pollers) reads it here.
func LoadSharedKey(ctx context.Context, c *redis.Client) ([]byte, error) {
	fresh := make([]byte, 32)
	_, _ = rand.Read(fresh)
	if err := c.SetNX(ctx, hmacKeyKey, hex.EncodeToString(fresh), 0).Err(); err != nil {
		return nil, err
	}
	v, err := c.Get(ctx, hmacKeyKey).Result()
	if err != nil {
		return nil, err
	}
	k, err := hex.DecodeString(v)
	if err != nil || len(k) < 16 {
		return nil, errBadSharedKey
	}
	return k, nil
}

// SharedKey is the HMAC key all replicas share through Redis
// (sgql:hmac-key), for anything that must hash a token the same way on
// every replica (rate limits).
type SharedKey struct{ s *redisStore }

// NewSharedKey reads (or creates) the key through rc, on first use.
func NewSharedKey(rc *redis.Client) *SharedKey { return &SharedKey{s: newRedisStore(rc, 0)} }

// Get returns the key; ok is false while Redis cannot be reached.
func (k *SharedKey) Get(ctx context.Context) ([]byte, bool) { return k.s.key(ctx) }

// entryKey returns the key of the token's answer to the call at the
// token's current generation; ok is false when Redis cannot be used.
func (s *redisStore) entryKey(ctx context.Context, token string, detail bool) (string, bool) {
	k, ok := s.key(ctx)
	if !ok || !s.available() {
		return "", false
	}
	h := tokenHash(k, token)
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	gen, err := s.client.Get(ctx, prefix+"gen:"+h).Result()
	switch {
	case errors.Is(err, redis.Nil):
		gen = "0"
	case s.failed(err):
		return "", false
	}
	return prefix + "resp:" + h + ":" + gen + callSuffix(detail), true
}

// get returns a stored body and its remaining lifetime.
func (s *redisStore) get(ctx context.Context, key string) ([]byte, time.Duration, bool) {
	if !s.available() {
		return nil, 0, false
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	var (
		body *redis.StringCmd
		ttl  *redis.DurationCmd
	)
	_, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		body = p.Get(ctx, key)
		ttl = p.PTTL(ctx, key)
		return nil
	})
	if s.failed(err) || err != nil {
		return nil, 0, false
	}
	b, err := body.Bytes()
	if err != nil || ttl.Val() <= 0 {
		return nil, 0, false
	}
	return b, ttl.Val(), true
}

func (s *redisStore) set(ctx context.Context, key string, body []byte, ttl time.Duration) {
	if int64(len(body)) > s.maxBytes || !s.available() {
		return
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	s.failed(s.client.Set(ctx, key, body, ttl).Err())
}

func (s *redisStore) invalidate(ctx context.Context, token string, ttl time.Duration) {
	k, ok := s.key(ctx)
	if !ok {
		return
	}
	gen := make([]byte, 8)
	_, _ = rand.Read(gen)
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	s.failed(s.client.Set(ctx, prefix+"gen:"+tokenHash(k, token), hex.EncodeToString(gen), ttl).Err())
}
