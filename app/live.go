package app

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/seatable-graphql/seatable-graphql/app/internal/metrics"
	"github.com/seatable-graphql/seatable-graphql/graph"
	"github.com/seatable-graphql/seatable-graphql/graph/gqlhttp"
	"github.com/seatable-graphql/seatable-graphql/graph/live"
	"github.com/seatable-graphql/seatable-graphql/internal/apperr"
	"github.com/seatable-graphql/seatable-graphql/internal/tokenhash"
	"github.com/seatable-graphql/seatable-graphql/upstream"
)

// liveServer is what subscriptions need besides the GraphQL handler: the
// pollers (live.Hub), a bound on concurrent streams, and a way to end
// every stream when the server shuts down. http.Server.Shutdown neither
// closes hijacked WebSocket connections nor interrupts SSE responses, so
// streams run on a context that Shutdown cancels (RegisterOnShutdown).
type liveServer struct {
	hub       *live.Hub
	log       *slog.Logger
	metrics   *metrics.Metrics // nil: not observed
	maxConns  int
	slots     *liveSlots
	keepAlive time.Duration // the transports' ping interval; zero: their default
	// writeTimeout bounds each write of a stream (LIVE_WRITE_TIMEOUT).
	writeTimeout time.Duration
	maxBody      int64 // MAX_BODY_BYTES

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // open streams
}

// liveOptions configure newLiveServer.
type liveOptions struct {
	Interval time.Duration
	MaxConns int
	After    func(time.Duration) <-chan time.Time // the clock; tests drive it
	Metrics  *metrics.Metrics
	// Redis elects one poller per token among the replicas; nil: each
	// replica polls for its own subscribers.
	Redis *redis.Client
	// KeepAlive is the streams' ping interval; zero: graph.DefaultKeepAlive.
	KeepAlive time.Duration
	// WriteTimeout bounds each write of a stream; a subscriber that has
	// not taken a write for that long is dropped. 0: no bound.
	WriteTimeout time.Duration
	// MaxPerClient bounds the open streams of one client (a token, or an
	// address without one); 0: unlimited.
	MaxPerClient int
	// TrustedProxies are the peers whose X-Forwarded-For names the client
	// (TRUSTED_PROXIES), as for the rate limits.
	TrustedProxies []netip.Prefix
	// MaxBodyBytes is the body limit (MAX_BODY_BYTES): negotiation reads
	// at most that much of a body.
	MaxBodyBytes int64
}

func newLiveServer(f upstream.Lister, o liveOptions, log *slog.Logger) *liveServer {
	s := &liveServer{log: log, maxConns: o.MaxConns, metrics: o.Metrics, keepAlive: o.KeepAlive, writeTimeout: o.WriteTimeout, maxBody: o.MaxBodyBytes}
	var coord *live.Redis
	if o.Redis != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		c, err := live.NewRedis(ctx, o.Redis)
		cancel()
		if err != nil {
			// Still correct without it: each replica polls for itself.
			log.Warn("subscriptions: Redis unavailable, pollers are per replica", "err", err)
		}
		coord = c
	}
	s.hub = live.New(f, live.Options{Interval: o.Interval, After: o.After, Observer: liveMetrics{o.Metrics}, Logger: log, Redis: coord})
	s.slots = newLiveSlots(o.MaxConns, o.MaxPerClient, tokenhash.NewKey(), o.TrustedProxies)
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s
}

// Shutdown ends every stream (WebSocket: close 1000 with reason "server
// shutting down"; SSE: the response ends) and stops the pollers. It
// returns once the stream handlers have returned or ctx ends.
func (s *liveServer) Shutdown(ctx context.Context) {
	s.cancel()
	s.hub.Close()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// Handler wraps the /graphql handler: streams take a connection slot (503
// with Retry-After when none is free), lose the server's write and read
// deadlines (a stream outlives WRITE_TIMEOUT; keep-alive pings detect dead
// peers instead), run on the shutdown context, and log a line when they
// open. Other requests pass untouched.
func (s *liveServer) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r = s.negotiate(r)
		if !gqlhttp.IsStream(r) {
			next.ServeHTTP(w, r)
			return
		}
		if s.ctx.Err() != nil {
			refuseStream(w, "server shutting down", 5*time.Second)
			return
		}
		client, hasToken := s.slots.clientOf(r.Context(), r)
		kind := "sse"
		if r.Method == http.MethodGet {
			kind = "websocket"
		}
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		sw := newStreamWriter(w, s.writeTimeout, cancel)
		slot, why := s.slots.acquire(client, kind == "websocket" && !hasToken, func() { cancel(); sw.closeConn() })
		if why != "" {
			limit := s.maxConns
			if why == refusedPerClient {
				limit = s.slots.perClient
			}
			refuseStream(w, string(why)+" (limit "+strconv.Itoa(limit)+"): try again later", 10*time.Second)
			return
		}
		defer slot.done()
		if kind == "websocket" {
			ctx = graph.WithWebsocketInitHook(ctx, func(conn context.Context) bool {
				c, _ := s.slots.clientOf(conn, r)
				return slot.authenticated(c)
			})
		}
		s.wg.Add(1)
		defer s.wg.Done()
		rc := http.NewResponseController(w)
		_ = rc.SetWriteDeadline(time.Time{})
		_ = rc.SetReadDeadline(time.Time{})
		stop := context.AfterFunc(s.ctx, cancel)
		defer stop()
		// Connect and disconnect lines: a stream's own request-log line
		// comes only when it ends, maybe hours later.
		s.log.InfoContext(ctx, "live stream opened", "transport", kind)
		s.metrics.LiveConnection(kind, 1)
		start := time.Now()
		defer func() {
			s.metrics.LiveConnection(kind, -1)
			shutdown := s.ctx.Err() != nil
			s.log.InfoContext(ctx, "live stream closed", "transport", kind,
				"duration_s", time.Since(start).Round(time.Millisecond).Seconds(), "server_shutdown", shutdown,
				"stalled", sw.stalledOut())
		}()
		// First of the deferred calls to run: nothing writes to w once
		// this handler has returned (live_writer.go).
		defer sw.close()
		next.ServeHTTP(sw, r.WithContext(ctx))
	})
}

// negotiate decides whether a POST that lists text/event-stream in its
// Accept is answered as a stream (graph/negotiate.go): when the client
// prefers it, or when its operation needs one (a subscription, @defer).
// Otherwise the request goes on with text/event-stream taken out of its
// Accept, so that no later layer or transport streams it.
func (s *liveServer) negotiate(r *http.Request) *http.Request {
	if r.Method != http.MethodPost {
		return r
	}
	accept := strings.Join(r.Header.Values("Accept"), ",")
	listed, preferred := graph.PrefersEventStream(accept)
	if !listed || preferred {
		return r
	}
	if r.Body != nil {
		// Read at most what the body limit lets through; the rest stays
		// for the layer that enforces it (413).
		limit := s.maxBody
		if limit <= 0 {
			limit = 1 << 20
		}
		head, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
		r.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(head), r.Body), r.Body}
		if err == nil && int64(len(head)) <= limit && graph.StreamWanted(head) {
			return r
		}
	}
	r2 := *r
	r2.Header = r.Header.Clone()
	var kept []string
	for _, part := range strings.Split(accept, ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil || mt != graph.MediaEventStream {
			kept = append(kept, strings.TrimSpace(part))
		}
	}
	r2.Header.Set("Accept", strings.Join(kept, ", "))
	return &r2
}

// refuseStream answers a stream that cannot be served now. As
// application/json: the client asked for a stream, which this answer is
// not, and every stream client reads a JSON error body.
func refuseStream(w http.ResponseWriter, msg string, retryAfter time.Duration) {
	gqlhttp.RefuseAs(w, gqlhttp.MediaJSON, apperr.NoRoom, msg, retryAfter)
}

// liveMetrics reports the hub's pollers, subscriptions, polls and pushes.
type liveMetrics struct{ m *metrics.Metrics }

func (l liveMetrics) Pollers(d int)       { l.m.LivePollers(d) }
func (l liveMetrics) Subscriptions(d int) { l.m.LiveSubscriptions(d) }
func (l liveMetrics) Poll(code string)    { l.m.LivePoll(code) }
func (l liveMetrics) Push(n int)          { l.m.LivePushes(n) }

// liveRefresh is the fetcher the loaders read through: after a mutation
// invalidates what is kept for a token, the token's poller polls at once.
type liveRefresh struct {
	upstream.Lister
	hub *live.Hub
}

func (f liveRefresh) Invalidate(ctx context.Context, token string) {
	if inv, ok := f.Lister.(upstream.Invalidator); ok {
		inv.Invalidate(ctx, token)
	}
	f.hub.Refresh(token)
}
