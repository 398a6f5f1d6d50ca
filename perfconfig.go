package main

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// perfConfig is the part of the configuration that trades memory or shared
// state for fewer upstream calls (docs/performance.md).
type perfConfig struct {
	Coalesce      bool          // COALESCE; share concurrent identical upstream calls per token
	ShareQueries  bool          // SHARE_QUERIES; run concurrent identical queries per token once
	CacheTTL      time.Duration // CACHE_TTL; 0 turns the response cache off
	CacheMaxBytes int64         // CACHE_MAX_BYTES
	RedisURL      string        // REDIS_URL; shared APQ store and response cache
	APQCacheSize  int           // APQ_CACHE_SIZE; persisted queries kept in process, 0 turns APQ off
	// FastPath (FAST_PATH) answers list queries without gqlgen's generic
	// executor (graph/fastpath.go); off is the reference, for comparison.
	FastPath bool
}

// Defaults of the performance settings.
const (
	defaultCacheMaxBytes = 64 << 20
	defaultAPQCacheSize  = 1000
)

func defaultPerfConfig() perfConfig {
	return perfConfig{Coalesce: true, ShareQueries: true, FastPath: true, CacheMaxBytes: defaultCacheMaxBytes, APQCacheSize: defaultAPQCacheSize}
}

// load reads the performance settings from the environment over p and
// returns every error it found, joined.
func (p *perfConfig) load(getenv func(string) string) error {
	var errs []error
	p.RedisURL = getenv("REDIS_URL")
	if v := getenv("CACHE_TTL"); v != "" {
		dur, err := time.ParseDuration(v)
		if err != nil || dur < 0 {
			errs = append(errs, fmt.Errorf("CACHE_TTL=%q: want a duration such as 5s, or 0 for no cache", v))
		} else {
			p.CacheTTL = dur
		}
	}
	if v := getenv("CACHE_MAX_BYTES"); v != "" {
		n, err := parseBytes(v)
		if err != nil || n <= 0 {
			errs = append(errs, fmt.Errorf("CACHE_MAX_BYTES=%q: want a positive size, such as 67108864 or 64MiB", v))
		} else {
			p.CacheMaxBytes = n
		}
	}
	if v := getenv("APQ_CACHE_SIZE"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			errs = append(errs, fmt.Errorf("APQ_CACHE_SIZE=%q: want a number of queries, or 0 to turn APQ off", v))
		} else {
			p.APQCacheSize = n
		}
	}
	for _, b := range []struct {
		name string
		dst  *bool
	}{{"COALESCE", &p.Coalesce}, {"SHARE_QUERIES", &p.ShareQueries}, {"FAST_PATH", &p.FastPath}} {
		if v := getenv(b.name); v != "" {
			on, err := strconv.ParseBool(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: want true or false", b.name, v))
			} else {
				*b.dst = on
			}
		}
	}
	if p.RedisURL != "" {
		if _, err := redis.ParseURL(p.RedisURL); err != nil {
			// The URL may hold a password: say what is wrong, not what it is.
			errs = append(errs, errors.New("REDIS_URL: want redis://[user:password@]host:port[/db] or rediss://..."))
		}
	}
	return errors.Join(errs...)
}
