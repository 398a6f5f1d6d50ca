package cache

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/seatable-graphql/seatable-graphql/internal/redisguard"
	"github.com/seatable-graphql/seatable-graphql/internal/tokenhash"
)

// The response cache's keys in Redis (see internal/redisguard for all):
//
//	sgql:gen:<token hash>      the token's generation, a random value set on
//	                           each invalidation (absent = "0")
//	sgql:resp:<hash>:<gen>:<call>  an upstream body, with the cache TTL
//
// The token hash is keyed with the replicas' shared key
// (tokenhash.SharedKey), so that replicas find each other's entries.
// Invalidation is one SET of the generation: entries under an older
// generation are never read again and expire by their TTL. The generation
// key lives as long as any entry written under the generation before it
// (its expiry is the TTL), and random generations never repeat, so an
// expired generation cannot bring a stale entry back.
const (
	genPrefix  = redisguard.Prefix + "gen:"
	respPrefix = redisguard.Prefix + "resp:"
)

type redisStore struct {
	redis    *redisguard.Guard
	hashKey  *tokenhash.SharedKey
	maxBytes int64
}

func newRedisStore(c *redis.Client, maxBytes int64) *redisStore {
	return &redisStore{redis: redisguard.New(c), hashKey: tokenhash.NewSharedKey(c), maxBytes: maxBytes}
}

// entryKey returns the key of the token's answer to the call at the
// token's current generation; ok is false when Redis cannot be used.
func (s *redisStore) entryKey(ctx context.Context, token string, detail bool) (string, bool) {
	k, ok := s.hashKey.Get(ctx)
	if !ok || !s.redis.Available() {
		return "", false
	}
	h := tokenhash.Sum(k, token)
	ctx, cancel := s.redis.Context(ctx)
	defer cancel()
	gen, err := s.redis.Client.Get(ctx, genPrefix+h).Result()
	switch {
	case errors.Is(err, redis.Nil):
		gen = "0"
	case s.redis.Failed(err):
		return "", false
	}
	return respPrefix + h + ":" + gen + callSuffix(detail), true
}

// get returns a stored body and its remaining lifetime.
func (s *redisStore) get(ctx context.Context, key string) ([]byte, time.Duration, bool) {
	if !s.redis.Available() {
		return nil, 0, false
	}
	ctx, cancel := s.redis.Context(ctx)
	defer cancel()
	var (
		body *redis.StringCmd
		ttl  *redis.DurationCmd
	)
	_, err := s.redis.Client.Pipelined(ctx, func(p redis.Pipeliner) error {
		body = p.Get(ctx, key)
		ttl = p.PTTL(ctx, key)
		return nil
	})
	if s.redis.Failed(err) || err != nil {
		return nil, 0, false
	}
	b, err := body.Bytes()
	if err != nil || ttl.Val() <= 0 {
		return nil, 0, false
	}
	return b, ttl.Val(), true
}

func (s *redisStore) set(ctx context.Context, key string, body []byte, ttl time.Duration) {
	if int64(len(body)) > s.maxBytes || !s.redis.Available() {
		return
	}
	ctx, cancel := s.redis.Context(ctx)
	defer cancel()
	s.redis.Failed(s.redis.Client.Set(ctx, key, body, ttl).Err())
}

func (s *redisStore) invalidate(ctx context.Context, token string, ttl time.Duration) {
	k, ok := s.hashKey.Get(ctx)
	if !ok {
		return
	}
	gen := make([]byte, 8)
	_, _ = rand.Read(gen)
	ctx, cancel := s.redis.Context(ctx)
	defer cancel()
	s.redis.Failed(s.redis.Client.Set(ctx, genPrefix+tokenhash.Sum(k, token), hex.EncodeToString(gen), ttl).Err())
}
