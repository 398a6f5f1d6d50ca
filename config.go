package main

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/seatable-graphql/seatable-graphql/upstream"
)

// config is everything read from the environment (see README).
type config struct {
	SeaTableURL     string        // SEATABLE_URL; empty runs the embedded demo
	Token           string        // SEATABLE_TOKEN; fallback for requests without one
	Port            int           // PORT
	UpstreamTimeout time.Duration // UPSTREAM_TIMEOUT
	ShutdownTimeout time.Duration // SHUTDOWN_TIMEOUT

	Coalesce      bool          // COALESCE; share concurrent identical upstream calls per token
	ShareQueries  bool          // SHARE_QUERIES; run concurrent identical queries per token once
	CacheTTL      time.Duration // CACHE_TTL; 0 turns the response cache off
	CacheMaxBytes int64         // CACHE_MAX_BYTES
	RedisURL      string        // REDIS_URL; shared APQ store and response cache
	APQCacheSize  int           // APQ_CACHE_SIZE; persisted queries kept in process, 0 turns APQ off
}

// Defaults of the performance settings.
const (
	defaultCacheMaxBytes = 64 << 20
	defaultAPQCacheSize  = 1000
)

func loadConfig(getenv func(string) string) (config, error) {
	c := config{
		SeaTableURL:     getenv("SEATABLE_URL"),
		Token:           getenv("SEATABLE_TOKEN"),
		Port:            8080,
		UpstreamTimeout: upstream.DefaultTimeout,
		ShutdownTimeout: 15 * time.Second,
		Coalesce:        true,
		ShareQueries:    true,
		CacheMaxBytes:   defaultCacheMaxBytes,
		RedisURL:        getenv("REDIS_URL"),
		APQCacheSize:    defaultAPQCacheSize,
	}
	if v := getenv("PORT"); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil || p < 0 || p > 65535 {
			return c, fmt.Errorf("PORT=%q: want a port number 0-65535", v)
		}
		c.Port = p
	}
	for _, d := range []struct {
		name string
		dst  *time.Duration
	}{{"UPSTREAM_TIMEOUT", &c.UpstreamTimeout}, {"SHUTDOWN_TIMEOUT", &c.ShutdownTimeout}} {
		if v := getenv(d.name); v != "" {
			dur, err := time.ParseDuration(v)
			if err != nil || dur <= 0 {
				return c, fmt.Errorf("%s=%q: want a positive duration such as 10s", d.name, v)
			}
			*d.dst = dur
		}
	}
	if v := getenv("CACHE_TTL"); v != "" {
		dur, err := time.ParseDuration(v)
		if err != nil || dur < 0 {
			return c, fmt.Errorf("CACHE_TTL=%q: want a duration such as 5s, or 0 for no cache", v)
		}
		c.CacheTTL = dur
	}
	if v := getenv("CACHE_MAX_BYTES"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return c, fmt.Errorf("CACHE_MAX_BYTES=%q: want a positive number of bytes", v)
		}
		c.CacheMaxBytes = n
	}
	if v := getenv("APQ_CACHE_SIZE"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return c, fmt.Errorf("APQ_CACHE_SIZE=%q: want a number of queries, or 0 to turn APQ off", v)
		}
		c.APQCacheSize = n
	}
	for _, b := range []struct {
		name string
		dst  *bool
	}{{"COALESCE", &c.Coalesce}, {"SHARE_QUERIES", &c.ShareQueries}} {
		if v := getenv(b.name); v != "" {
			on, err := strconv.ParseBool(v)
			if err != nil {
				return c, fmt.Errorf("%s=%q: want true or false", b.name, v)
			}
			*b.dst = on
		}
	}
	if c.RedisURL != "" {
		if _, err := redis.ParseURL(c.RedisURL); err != nil {
			// The URL may hold a password: say what is wrong, not what it is.
			return c, errors.New("REDIS_URL: want redis://[user:password@]host:port[/db] or rediss://...")
		}
	}
	return c, nil
}
