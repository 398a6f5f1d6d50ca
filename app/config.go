package app

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/seatable-graphql/seatable-graphql/app/internal/gateway"
	"github.com/seatable-graphql/seatable-graphql/app/internal/playground"
	"github.com/seatable-graphql/seatable-graphql/graph"
	"github.com/seatable-graphql/seatable-graphql/graph/live"
	"github.com/seatable-graphql/seatable-graphql/graph/loaders"
	"github.com/seatable-graphql/seatable-graphql/graph/trusted"
	"github.com/seatable-graphql/seatable-graphql/upstream"
)

// Config is everything read from the environment (docs/configuration.md):
// one type, read once by LoadConfig, from which New builds the whole server.
type Config struct {
	SeaTableURL string // SEATABLE_URL; empty: the command runs the embedded demo
	Token       string // SEATABLE_TOKEN; fallback for requests without one
	// Demo is set by the command when it serves the embedded demo upstream
	// (SEATABLE_URL unset); it changes the start-up log line only.
	Demo bool
	// FallbackTokenWrites (FALLBACK_TOKEN_WRITES) lets requests without a
	// token of their own run mutations with SEATABLE_TOKEN.
	FallbackTokenWrites bool
	Port                int // PORT
	// ListenAddr (LISTEN_ADDR) is the host:port to listen on; ":"+PORT,
	// all interfaces, unless set.
	ListenAddr string
	// MetricsAddr (METRICS_ADDR), when set, serves /metrics on its own
	// listener (such as 127.0.0.1:9090) instead of the public port.
	MetricsAddr string
	// MaxConnections (MAX_CONNECTIONS) bounds open client connections; 0
	// leaves them unbounded.
	MaxConnections int
	// AllowedHosts (ALLOWED_HOSTS, comma-separated) are the Host names
	// served; empty serves any.
	AllowedHosts []string

	// Upstream resilience.
	UpstreamTimeout  time.Duration // UPSTREAM_TIMEOUT: one attempt
	UpstreamRetries  int           // UPSTREAM_RETRIES
	UpstreamMaxBytes int64         // UPSTREAM_MAX_BYTES
	// UPSTREAM_MAX_INFLIGHT_BYTES: response bytes being read by all calls.
	UpstreamMaxInflightBytes int64
	BreakerFailures          int           // BREAKER_FAILURES; 0 disables the breaker
	BreakerOpenTimeout       time.Duration // BREAKER_OPEN_TIMEOUT
	BreakerCallers           int           // BREAKER_CALLERS: distinct failing callers before failures count

	// GraphQL limits.
	RequestTimeout  time.Duration // REQUEST_TIMEOUT: whole request, retries included
	MaxBodyBytes    int64         // MAX_BODY_BYTES
	MaxBatch        int           // MAX_BATCH: operations per batched request; 0 turns batching off
	RateLimit       int           // RATE_LIMIT: SeaTable calls a second per client; 0 off (see ratelimit.go)
	RateBurst       int           // RATE_BURST; 0: twice RATE_LIMIT
	MaxTokens       int           // MAX_TOKENS
	MaxQueryBytes   int           // MAX_QUERY_BYTES: a query's text
	MaxDepth        int           // MAX_DEPTH
	MaxAliases      int           // MAX_ALIASES
	MaxComplexity   int           // MAX_COMPLEXITY
	MaxNodeIDs      int           // MAX_NODE_IDS
	ListSize        int           // COMPLEXITY_LIST_SIZE
	Introspection   bool          // INTROSPECTION
	QueryCacheBytes int64         // fixed; not configurable
	ShutdownTimeout time.Duration // SHUTDOWN_TIMEOUT

	// TrustedProxies (TRUSTED_PROXIES, comma-separated CIDRs or addresses):
	// a request from one of them is counted against the client address in
	// its X-Forwarded-For (the right-most hop not in the list), not the
	// proxy's. Empty: RemoteAddr, always.
	TrustedProxies []netip.Prefix

	// MaxResponseBytes caps one answer, and a batch's answers together
	// (MAX_RESPONSE_BYTES).
	MaxResponseBytes int64
	// MaxBatchTokens caps the GraphQL tokens of a batch's documents
	// together (MAX_BATCH_TOKENS): each is parsed and validated.
	MaxBatchTokens int

	// ShutdownDelay is how long a stopping replica keeps serving with
	// /readyz failing, so load balancers stop sending to it before its
	// listener closes (SHUTDOWN_DELAY; 0: close at once).
	ShutdownDelay time.Duration
	LogLevel      slog.Level // LOG_LEVEL: debug, info, warn, error
	LogFormat     string     // LOG_FORMAT: json, text, or "" (json unless stderr is a terminal)
	CORSOrigins   []string   // CORS_ALLOWED_ORIGINS, comma-separated; empty denies cross-origin access
	// OTLPEndpoint (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or
	// OTEL_EXPORTER_OTLP_ENDPOINT) turns tracing on; the exporter reads the
	// other OTEL_* variables itself.
	OTLPEndpoint string

	// PLAYGROUND_ASSETS_DIR: the npm install of web/playground; relative
	// paths are tried in the working directory, then next to the executable.
	PlaygroundAssetsDir string

	// Trusted documents.
	// TRUSTED_DOCUMENTS: the manifest, loaded (and checked) with the
	// configuration so that a bad one stops the start; nil when unset.
	TrustedDocuments *trusted.Store
	TrustedOnly      bool // TRUSTED_DOCUMENTS_ONLY
	// GATEWAY_SECRET: a federation gateway sends it in the Gateway-Secret
	// header (app/internal/gateway); its query plans then pass
	// TRUSTED_DOCUMENTS_ONLY and read _service with INTROSPECTION=false.
	GatewaySecret string

	// Subscriptions (live.go, graph/live).
	LivePollInterval time.Duration // LIVE_POLL_INTERVAL: per token; at least live.MinInterval
	LiveMaxConns     int           // LIVE_MAX_CONNECTIONS: open WebSocket/SSE streams; 0 unlimited
	LiveMaxSubs      int           // LIVE_MAX_SUBSCRIPTIONS_PER_CONNECTION; 0 unlimited
	LiveWriteTimeout time.Duration // LIVE_WRITE_TIMEOUT: one write of a stream; past it the subscriber is dropped
	LiveMaxPerClient int           // LIVE_MAX_PER_CLIENT: open streams per token (or address without one); 0 unlimited

	// Settings that trade memory or shared state for fewer upstream calls
	// (docs/performance.md).
	Coalesce      bool          // COALESCE; share concurrent identical upstream calls per token
	ShareQueries  bool          // SHARE_QUERIES; run concurrent identical queries per token once
	CacheTTL      time.Duration // CACHE_TTL; 0 turns the response cache off
	CacheMaxBytes int64         // CACHE_MAX_BYTES
	RedisURL      string        // REDIS_URL; shared APQ store, response cache, rate limits, pollers
	APQCacheSize  int           // APQ_CACHE_SIZE; persisted queries kept in process, 0 turns APQ off
	// FastPath (FAST_PATH) answers list queries without gqlgen's generic
	// executor (graph/fastpath.go); off is the reference, for comparison.
	FastPath bool

	// Inside bases (graph/bases.go, graph/loaders/bases.go).
	MaxBasesPerRequest int      // MAX_BASES_PER_REQUEST: distinct bases one request may open; 0 unlimited
	BaseConcurrency    int      // BASE_CONCURRENCY: base calls one request has in flight
	BaseHosts          []string // SEATABLE_BASE_HOSTS, comma-separated: hosts besides SEATABLE_URL's that base tokens may go to

	// HTTP server.
	ReadHeaderTimeout time.Duration // READ_HEADER_TIMEOUT
	ReadTimeout       time.Duration // READ_TIMEOUT
	WriteTimeout      time.Duration // WRITE_TIMEOUT
	IdleTimeout       time.Duration // IDLE_TIMEOUT
	MaxHeaderBytes    int           // MAX_HEADER_BYTES
}

// DefaultConfig is the configuration of an empty environment.
func DefaultConfig() Config {
	return Config{
		Port:                     8080,
		UpstreamTimeout:          upstream.DefaultTimeout,
		UpstreamRetries:          upstream.DefaultRetries,
		UpstreamMaxBytes:         upstream.DefaultMaxBytes,
		UpstreamMaxInflightBytes: upstream.DefaultMaxInflightBytes,
		BreakerFailures:          upstream.DefaultBreakerFailures,
		BreakerOpenTimeout:       upstream.DefaultBreakerOpen,
		BreakerCallers:           upstream.DefaultBreakerCallers,
		RequestTimeout:           30 * time.Second,
		MaxBodyBytes:             1 << 20,
		MaxBatch:                 10,
		MaxBasesPerRequest:       20,
		BaseConcurrency:          loaders.DefaultBaseParallel,
		MaxTokens:                graph.DefaultParserTokenLimit,
		MaxQueryBytes:            graph.DefaultMaxQueryBytes,
		MaxDepth:                 graph.DefaultMaxDepth,
		MaxAliases:               graph.DefaultMaxAliases,
		MaxComplexity:            graph.DefaultComplexityLimit,
		MaxNodeIDs:               graph.DefaultMaxNodeIDs,
		ListSize:                 graph.DefaultListSize,
		MaxResponseBytes:         graph.DefaultMaxResponseBytes,
		MaxBatchTokens:           2 * graph.DefaultParserTokenLimit,
		Introspection:            true,
		QueryCacheBytes:          graph.DefaultQueryCacheBytes,
		ShutdownTimeout:          15 * time.Second,
		ReadHeaderTimeout:        10 * time.Second,
		ReadTimeout:              30 * time.Second,
		IdleTimeout:              120 * time.Second,
		MaxHeaderBytes:           64 << 10,
		LivePollInterval:         live.DefaultInterval,
		LiveMaxConns:             1000,
		LiveMaxSubs:              20,
		LiveWriteTimeout:         DefaultLiveWriteTimeout,
		LiveMaxPerClient:         DefaultLiveMaxPerClient,

		PlaygroundAssetsDir: playground.DefaultAssetsDir,
		Coalesce:            true,
		ShareQueries:        true,
		FastPath:            true,
		CacheMaxBytes:       64 << 20,
		APQCacheSize:        1000,
	}
}

// LoadConfig reads the configuration from the environment. It checks every
// variable before it returns, so that one start reports every mistake; each
// error names its variable.
func LoadConfig(getenv func(string) string) (Config, error) {
	c := DefaultConfig()
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	c.SeaTableURL = getenv("SEATABLE_URL")
	if c.SeaTableURL != "" {
		// Checked here, not first in upstream.New, so that a URL without a
		// scheme is reported like every other setting.
		if err := upstream.CheckBaseURL(c.SeaTableURL); err != nil {
			shown := "" // the value only when it holds no password
			if u, perr := url.Parse(c.SeaTableURL); perr == nil && u.User == nil {
				shown = fmt.Sprintf("=%q", c.SeaTableURL)
			}
			bad("SEATABLE_URL%s: %w", shown, err)
		}
	}
	c.Token = getenv("SEATABLE_TOKEN")
	if v := getenv("METRICS_ADDR"); v != "" {
		if _, port, err := net.SplitHostPort(v); err != nil || port == "" {
			bad("METRICS_ADDR=%q: want host:port or :port, such as 127.0.0.1:9090", v)
		} else {
			c.MetricsAddr = v
		}
	}
	if v := getenv("PLAYGROUND_ASSETS_DIR"); v != "" {
		c.PlaygroundAssetsDir = v
	}
	if v := getenv("PORT"); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil || p < 0 || p > 65535 {
			bad("PORT=%q: want a port number 0-65535", v)
		} else {
			c.Port = p
		}
	}
	c.ListenAddr = fmt.Sprintf(":%d", c.Port)
	if v := getenv("LISTEN_ADDR"); v != "" {
		host, port, err := net.SplitHostPort(v)
		p, perr := strconv.Atoi(port)
		if err != nil || perr != nil || p < 0 || p > 65535 || strings.ContainsAny(host, " /") {
			bad("LISTEN_ADDR=%q: want host:port, such as 127.0.0.1:8080 or [::1]:8080 (:8080 for all interfaces)", v)
		} else {
			c.ListenAddr = v
		}
	}
	for _, d := range []struct {
		name string
		dst  *time.Duration
	}{
		{"UPSTREAM_TIMEOUT", &c.UpstreamTimeout}, {"SHUTDOWN_TIMEOUT", &c.ShutdownTimeout},
		{"REQUEST_TIMEOUT", &c.RequestTimeout}, {"BREAKER_OPEN_TIMEOUT", &c.BreakerOpenTimeout},
		{"READ_HEADER_TIMEOUT", &c.ReadHeaderTimeout}, {"READ_TIMEOUT", &c.ReadTimeout},
		{"WRITE_TIMEOUT", &c.WriteTimeout}, {"IDLE_TIMEOUT", &c.IdleTimeout},
	} {
		if v := getenv(d.name); v != "" {
			dur, err := time.ParseDuration(v)
			if err != nil || dur <= 0 {
				bad("%s=%q: want a positive duration such as 10s", d.name, v)
				continue
			}
			*d.dst = dur
		}
	}
	if v := getenv("SHUTDOWN_DELAY"); v != "" {
		// Zero is a real choice (a single process, a developer's Ctrl-C).
		dur, err := time.ParseDuration(v)
		if err != nil || dur < 0 || dur > 5*time.Minute {
			bad("SHUTDOWN_DELAY=%q: want a duration from 0s to 5m, such as 5s", v)
		} else {
			c.ShutdownDelay = dur
		}
	}
	if v := getenv("LIVE_POLL_INTERVAL"); v != "" {
		// Each poll is one SeaTable call per token with subscribers; below
		// the minimum, a few users would use up SeaTable Cloud's rate limit.
		dur, err := time.ParseDuration(v)
		if err != nil || dur < live.MinInterval {
			bad("LIVE_POLL_INTERVAL=%q: want a duration of at least %v, such as 10s", v, live.MinInterval)
		} else {
			c.LivePollInterval = dur
		}
	}
	if v := getenv("LIVE_WRITE_TIMEOUT"); v != "" {
		dur, err := time.ParseDuration(v)
		if err != nil || dur < 100*time.Millisecond || dur > time.Hour {
			bad("LIVE_WRITE_TIMEOUT=%q: want a duration from 100ms to 1h, such as 30s", v)
		} else {
			c.LiveWriteTimeout = dur
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
		bad("LOG_LEVEL=%q: want debug, info, warn or error", v)
	}
	switch v := strings.ToLower(getenv("LOG_FORMAT")); v {
	case "", "json", "text":
		c.LogFormat = v
	default:
		bad("LOG_FORMAT=%q: want json or text", v)
	}
	if v := getenv("ALLOWED_HOSTS"); strings.TrimSpace(v) != "" {
		for _, h := range strings.Split(v, ",") {
			h = strings.TrimSpace(h)
			if h == "" || strings.ContainsAny(h, "/:@ ") {
				bad("ALLOWED_HOSTS=%q: want host names separated by commas, such as api.example.com,localhost", v)
				break
			}
			c.AllowedHosts = append(c.AllowedHosts, h)
		}
	}
	if v := getenv("TRUSTED_PROXIES"); strings.TrimSpace(v) != "" {
		for _, f := range strings.Split(v, ",") {
			f = strings.TrimSpace(f)
			p, err := netip.ParsePrefix(f)
			if err != nil {
				a, aerr := netip.ParseAddr(f)
				if aerr != nil {
					bad("TRUSTED_PROXIES=%q: want CIDRs or addresses separated by commas, such as 10.0.0.0/8,192.168.1.7", v)
					break
				}
				p = netip.PrefixFrom(a, a.BitLen())
			}
			c.TrustedProxies = append(c.TrustedProxies, p.Masked())
		}
	}
	if v := getenv("SEATABLE_BASE_HOSTS"); strings.TrimSpace(v) != "" {
		for _, h := range strings.Split(v, ",") {
			c.BaseHosts = append(c.BaseHosts, strings.TrimSpace(h))
		}
		if err := upstream.CheckBaseHosts(c.BaseHosts); err != nil {
			bad("SEATABLE_BASE_HOSTS: %w", err)
		}
	}
	if v := getenv("CORS_ALLOWED_ORIGINS"); strings.TrimSpace(v) != "" {
		for _, o := range strings.Split(v, ",") {
			o = strings.TrimSpace(o)
			if err := checkOrigin(o); err != nil {
				bad("CORS_ALLOWED_ORIGINS: %w", err)
				continue
			}
			c.CORSOrigins = append(c.CORSOrigins, o)
		}
	}
	for _, name := range []string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"} {
		if v := getenv(name); v != "" {
			u, err := url.Parse(v)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				bad("%s=%q: want an http(s)://host:port URL", name, v)
				continue
			}
			if c.OTLPEndpoint == "" {
				c.OTLPEndpoint = v
			}
		}
	}
	// Zero turns these limits off; negative numbers are mistakes.
	for _, n := range []struct {
		name     string
		dst      *int
		min, max int
	}{
		{"UPSTREAM_RETRIES", &c.UpstreamRetries, 0, 2}, {"BREAKER_FAILURES", &c.BreakerFailures, 0, 1 << 20},
		{"BREAKER_CALLERS", &c.BreakerCallers, 1, 1 << 10},
		{"MAX_CONNECTIONS", &c.MaxConnections, 0, 1 << 20},
		{"RATE_LIMIT", &c.RateLimit, 0, 1 << 20}, {"RATE_BURST", &c.RateBurst, 0, 1 << 20},
		{"MAX_TOKENS", &c.MaxTokens, 0, 1 << 30}, {"MAX_DEPTH", &c.MaxDepth, 0, 1 << 30},
		{"MAX_ALIASES", &c.MaxAliases, 0, 1 << 30}, {"MAX_COMPLEXITY", &c.MaxComplexity, 0, 1 << 30},
		{"MAX_NODE_IDS", &c.MaxNodeIDs, 0, 1 << 20},
		{"COMPLEXITY_LIST_SIZE", &c.ListSize, 1, 1 << 20}, {"MAX_BATCH", &c.MaxBatch, 0, 1000},
		{"MAX_BATCH_TOKENS", &c.MaxBatchTokens, 0, 1 << 30},
		{"LIVE_MAX_CONNECTIONS", &c.LiveMaxConns, 0, 1 << 20}, {"LIVE_MAX_SUBSCRIPTIONS_PER_CONNECTION", &c.LiveMaxSubs, 0, 1 << 20},
		{"LIVE_MAX_PER_CLIENT", &c.LiveMaxPerClient, 0, 1 << 20},
		{"MAX_BASES_PER_REQUEST", &c.MaxBasesPerRequest, 0, 1 << 20}, {"BASE_CONCURRENCY", &c.BaseConcurrency, 1, 256},
	} {
		if v := getenv(n.name); v != "" {
			i, err := strconv.Atoi(v)
			if err != nil || i < n.min || i > n.max {
				bad("%s=%q: want an integer %d-%d", n.name, v, n.min, n.max)
				continue
			}
			*n.dst = i
		}
	}
	for _, b := range []struct {
		name string
		dst  *int64
		min  int64
	}{{"UPSTREAM_MAX_BYTES", &c.UpstreamMaxBytes, 1 << 10}, {"MAX_BODY_BYTES", &c.MaxBodyBytes, 1 << 10},
		{"UPSTREAM_MAX_INFLIGHT_BYTES", &c.UpstreamMaxInflightBytes, 1 << 10},
		{"MAX_RESPONSE_BYTES", &c.MaxResponseBytes, 1 << 10}} {
		if v := getenv(b.name); v != "" {
			n, err := parseBytes(v)
			if err != nil || n < b.min {
				bad("%s=%q: want a size of at least 1KiB, such as 1048576 or 1MiB", b.name, v)
				continue
			}
			*b.dst = n
		}
	}
	if v := getenv("MAX_QUERY_BYTES"); v != "" {
		n, err := parseBytes(v)
		if err != nil || n < 1<<10 || n > 16<<20 {
			bad("MAX_QUERY_BYTES=%q: want a size from 1KiB to 16MiB, such as 65536 or 64KiB", v)
		} else {
			c.MaxQueryBytes = int(n)
		}
	}
	if v := getenv("MAX_HEADER_BYTES"); v != "" {
		n, err := parseBytes(v)
		if err != nil || n < 4<<10 || n > 16<<20 {
			bad("MAX_HEADER_BYTES=%q: want a size from 4KiB to 16MiB", v)
		} else {
			c.MaxHeaderBytes = int(n)
		}
	}
	for _, b := range []struct {
		name string
		dst  *bool
	}{{"INTROSPECTION", &c.Introspection}, {"FALLBACK_TOKEN_WRITES", &c.FallbackTokenWrites}, {"TRUSTED_DOCUMENTS_ONLY", &c.TrustedOnly}} {
		if v := getenv(b.name); v != "" {
			on, err := strconv.ParseBool(v)
			if err != nil {
				bad("%s=%q: want true or false", b.name, v)
				continue
			}
			*b.dst = on
		}
	}
	if v := getenv("TRUSTED_DOCUMENTS"); v != "" {
		if st, err := trusted.Load(v); err != nil {
			bad("TRUSTED_DOCUMENTS=%q: %v", v, err)
		} else {
			c.TrustedDocuments = st
		}
	} else if c.TrustedOnly {
		bad("TRUSTED_DOCUMENTS_ONLY=true needs TRUSTED_DOCUMENTS, the manifest of the documents to accept")
	}
	if v := getenv("GATEWAY_SECRET"); v != "" {
		if len(v) < gateway.MinSecretLen {
			bad("GATEWAY_SECRET: want at least %d characters (a random string the gateway also has)", gateway.MinSecretLen)
		} else {
			c.GatewaySecret = v
		}
	}
	if c.RateBurst == 0 {
		c.RateBurst = 2 * c.RateLimit
	}
	if c.WriteTimeout == 0 {
		c.WriteTimeout = c.RequestTimeout + 10*time.Second
	}
	if c.UpstreamMaxInflightBytes < c.UpstreamMaxBytes {
		// One largest response alone would be refused.
		bad("UPSTREAM_MAX_INFLIGHT_BYTES (%d) must be at least UPSTREAM_MAX_BYTES (%d)", c.UpstreamMaxInflightBytes, c.UpstreamMaxBytes)
	}
	if c.WriteTimeout <= c.RequestTimeout {
		// The answer to a request that uses its whole deadline would be cut off.
		bad("WRITE_TIMEOUT (%v) must be longer than REQUEST_TIMEOUT (%v)", c.WriteTimeout, c.RequestTimeout)
	}
	if err := c.loadPerformance(getenv); err != nil {
		errs = append(errs, err)
	}
	return c, errors.Join(errs...)
}

// parseBytes reads a byte count: a plain integer or one with a KiB, MiB or
// GiB suffix.
func parseBytes(s string) (int64, error) {
	s = strings.TrimSpace(s)
	mult := int64(1)
	for suffix, m := range map[string]int64{"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30} {
		if strings.HasSuffix(s, suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, suffix)), m
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > (1<<50)/mult {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return n * mult, nil
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

// loadPerformance reads the performance settings (docs/performance.md)
// and returns every error it found, joined.
func (p *Config) loadPerformance(getenv func(string) string) error {
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
