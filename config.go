package main

import (
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/seatable-graphql/seatable-graphql/internal/playground"
	"github.com/seatable-graphql/seatable-graphql/upstream"
)

// config is everything read from the environment (see README).
type config struct {
	SeaTableURL     string        // SEATABLE_URL; empty runs the embedded demo
	Token           string        // SEATABLE_TOKEN; fallback for requests without one
	Port            int           // PORT
	UpstreamTimeout time.Duration // UPSTREAM_TIMEOUT
	ShutdownTimeout time.Duration // SHUTDOWN_TIMEOUT
	LogLevel        slog.Level    // LOG_LEVEL: debug, info, warn, error
	LogFormat       string        // LOG_FORMAT: json, text, or "" (json unless stderr is a terminal)
	CORSOrigins     []string      // CORS_ALLOWED_ORIGINS, comma-separated; empty denies cross-origin access
	// OTLPEndpoint (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or
	// OTEL_EXPORTER_OTLP_ENDPOINT) turns tracing on; the exporter reads the
	// other OTEL_* variables itself.
	OTLPEndpoint string
	// PLAYGROUND_ASSETS_DIR: the npm install of web/playground; relative
	// paths are tried in the working directory, then next to the executable.
	PlaygroundAssetsDir string
}

func loadConfig(getenv func(string) string) (config, error) {
	c := config{
		SeaTableURL:     getenv("SEATABLE_URL"),
		Token:           getenv("SEATABLE_TOKEN"),
		Port:            8080,
		UpstreamTimeout: upstream.DefaultTimeout,
		ShutdownTimeout: 15 * time.Second,

		PlaygroundAssetsDir: playground.DefaultAssetsDir,
	}
	if v := getenv("PLAYGROUND_ASSETS_DIR"); v != "" {
		c.PlaygroundAssetsDir = v
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
	switch v := strings.ToLower(getenv("LOG_LEVEL")); v {
	case "", "info":
	case "debug":
		c.LogLevel = slog.LevelDebug
	case "warn":
		c.LogLevel = slog.LevelWarn
	case "error":
		c.LogLevel = slog.LevelError
	default:
		return c, fmt.Errorf("LOG_LEVEL=%q: want debug, info, warn or error", v)
	}
	switch v := strings.ToLower(getenv("LOG_FORMAT")); v {
	case "", "json", "text":
		c.LogFormat = v
	default:
		return c, fmt.Errorf("LOG_FORMAT=%q: want json or text", v)
	}
	if v := getenv("CORS_ALLOWED_ORIGINS"); strings.TrimSpace(v) != "" {
		for _, o := range strings.Split(v, ",") {
			o = strings.TrimSpace(o)
			if err := checkOrigin(o); err != nil {
				return c, fmt.Errorf("CORS_ALLOWED_ORIGINS: %w", err)
			}
			c.CORSOrigins = append(c.CORSOrigins, o)
		}
	}
	for _, name := range []string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"} {
		if v := getenv(name); v != "" {
			u, err := url.Parse(v)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return c, fmt.Errorf("%s=%q: want an http(s)://host:port URL", name, v)
			}
			if c.OTLPEndpoint == "" {
				c.OTLPEndpoint = v
			}
		}
	}
	return c, nil
}

// checkOrigin accepts "*" (any origin) or scheme://host[:port], where host
// may hold one "*" wildcard (https://*.example.com), and nothing after it.
func checkOrigin(o string) error {
	if o == "*" {
		return nil
	}
	u, err := url.Parse(strings.Replace(o, "*", "wildcard", 1))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil || strings.Count(o, "*") > 1 {
		return fmt.Errorf("%q: want * or an origin such as https://app.example.com (scheme and host, no path)", o)
	}
	return nil
}
