package tokenhash

import (
	"context"
	"encoding/hex"
	"errors"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/seatable-graphql/seatable-graphql/internal/redisguard"
)

// sharedKeyKey is where the replicas' shared key lives in Redis.
const sharedKeyKey = redisguard.Prefix + "hmac-key"

// errBadSharedKey means the stored key is not one this server wrote.
var errBadSharedKey = errors.New("bad shared HMAC key in Redis")

// LoadSharedKey reads the key every replica shares through Redis
// (sgql:hmac-key), creating it when no replica has yet: everything that
// hashes a token the same way on every replica (cache keys, rate limits,
// live pollers) reads it here.
func LoadSharedKey(ctx context.Context, c *redis.Client) ([]byte, error) {
	fresh := NewKey()
	if err := c.SetNX(ctx, sharedKeyKey, hex.EncodeToString(fresh), 0).Err(); err != nil {
		return nil, err
	}
	v, err := c.Get(ctx, sharedKeyKey).Result()
	if err != nil {
		return nil, err
	}
	k, err := hex.DecodeString(v)
	if err != nil || len(k) < 16 {
		return nil, errBadSharedKey
	}
	return k, nil
}

// SharedKey is the key all replicas share through Redis, read on first
// use and kept; until Redis answers, Get says so and the caller does
// without (a cache skips Redis, a rate limit counts per replica).
type SharedKey struct {
	redis *redisguard.Guard

	mu  sync.Mutex
	key []byte
}

// NewSharedKey reads (or creates) the key through rc, on first use.
func NewSharedKey(rc *redis.Client) *SharedKey { return &SharedKey{redis: redisguard.New(rc)} }

// Get returns the key; ok is false while Redis cannot be reached.
func (k *SharedKey) Get(ctx context.Context) ([]byte, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.key != nil {
		return k.key, true
	}
	if !k.redis.Available() {
		return nil, false
	}
	ctx, cancel := k.redis.Context(ctx)
	defer cancel()
	key, err := LoadSharedKey(ctx, k.redis.Client)
	if err != nil {
		if !errors.Is(err, errBadSharedKey) {
			k.redis.Failed(err)
		}
		return nil, false
	}
	k.key = key
	return key, true
}
