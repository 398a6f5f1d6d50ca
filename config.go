package main

import (
	"fmt"
	"strconv"
	"time"

	"github.com/seatable-graphql/seatable-graphql/upstream"
)

// config is everything read from the environment (see README).
type config struct {
	SeaTableURL     string        // SEATABLE_URL; empty runs the embedded demo
	Token           string        // SEATABLE_TOKEN; fallback for requests without one
	Port            int           // PORT
	UpstreamTimeout time.Duration // UPSTREAM_TIMEOUT
	ShutdownTimeout time.Duration // SHUTDOWN_TIMEOUT

	perfConfig // COALESCE, SHARE_QUERIES, CACHE_TTL, CACHE_MAX_BYTES, REDIS_URL, APQ_CACHE_SIZE (perfconfig.go)
}

func loadConfig(getenv func(string) string) (config, error) {
	c := config{
		SeaTableURL:     getenv("SEATABLE_URL"),
		Token:           getenv("SEATABLE_TOKEN"),
		Port:            8080,
		UpstreamTimeout: upstream.DefaultTimeout,
		ShutdownTimeout: 15 * time.Second,
		perfConfig:      defaultPerfConfig(),
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
	if err := c.perfConfig.load(getenv); err != nil {
		return c, err
	}
	return c, nil
}
