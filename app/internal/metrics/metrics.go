// Package metrics holds the server's Prometheus metrics on a registry of its
// own (no global state: wiring creates one Metrics and hands it down).
//
// Every label value is bounded: operation names are accepted only in GraphQL
// name syntax and only for the first MaxOperations distinct names, error
// codes only for the first MaxCodes, upstream endpoints only as route
// templates (ids folded) and only for the first MaxEndpoints. Anything past a
// cap is counted under "other". No label ever carries a token or query text.
package metrics

import (
	"net/http"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Caps on distinct label values; see the package comment.
const (
	MaxOperations = 100
	MaxCodes      = 20
	MaxEndpoints  = 50
)

// Label values with a fixed meaning.
const (
	Other     = "other"     // a value past its cap, or not in the allowed syntax
	Anonymous = "anonymous" // an operation without a name
	Unparsed  = "unparsed"  // a document that never got as far as naming an operation
	OK        = "ok"        // an operation answered without errors
)

const namespace = "seatable_graphql"

// Metrics is the set of collectors the server updates. A nil *Metrics is
// valid and records nothing, so optional wiring needs no branches.
type Metrics struct {
	reg *prometheus.Registry

	operations        *prometheus.CounterVec
	operationDuration *prometheus.HistogramVec
	upstreamCalls     *prometheus.CounterVec
	upstreamDuration  *prometheus.HistogramVec
	batchSize         *prometheus.HistogramVec
	cache             *prometheus.CounterVec
	inFlight          prometheus.Gauge
	liveConns         *prometheus.GaugeVec
	liveSubs          prometheus.Gauge
	livePollers       prometheus.Gauge
	livePolls         *prometheus.CounterVec
	livePushes        prometheus.Counter

	operationNames *labelSet
	codes          *labelSet
	endpoints      *labelSet
}

// New creates the collectors on a fresh registry, with the Go runtime and
// process collectors alongside.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		operations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "graphql_operations_total",
			Help: "GraphQL operations by operation name and outcome (ok, or the first error's extensions.code).",
		}, []string{"operation", "outcome"}),
		operationDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "graphql_operation_duration_seconds",
			Help:    "Time from receiving a GraphQL operation to its response being ready.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"operation"}),
		upstreamCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "upstream_requests_total",
			Help: "HTTP requests to SeaTable by endpoint (method and route template) and status (HTTP status, or \"error\" when no response came).",
		}, []string{"endpoint", "status"}),
		upstreamDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "upstream_request_duration_seconds",
			Help:    "Time until SeaTable's response headers arrived (or the request failed).",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"endpoint"}),
		batchSize: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "dataloader_batch_size",
			Help:    "Keys per dataloader batch.",
			Buckets: []float64{1, 2, 5, 10, 20, 50, 100, 200, 500},
		}, []string{"loader"}),
		cache: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "cache_requests_total",
			Help: "Lookups in the upstream response cache by result (hit or miss).",
		}, []string{"result"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Name: "http_requests_in_flight",
			Help: "HTTP requests being served.",
		}),
		liveConns: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace, Name: "live_connections",
			Help: "Open subscription streams by transport (websocket, sse).",
		}, []string{"transport"}),
		liveSubs: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Name: "live_subscriptions",
			Help: "Active subscriptions, over all connections.",
		}),
		livePollers: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Name: "live_pollers",
			Help: "Running pollers: tokens with at least one subscription; each polls SeaTable once per LIVE_POLL_INTERVAL.",
		}),
		livePolls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "live_polls_total",
			Help: "Polls of SeaTable for subscriptions by outcome (ok, or the error's extensions.code).",
		}, []string{"outcome"}),
		livePushes: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "live_pushes_total",
			Help: "Changed answers (or errors) handed to subscriptions, one per subscription.",
		}),
		operationNames: newLabelSet(MaxOperations, operationName),
		codes:          newLabelSet(MaxCodes, errorCode),
		endpoints:      newLabelSet(MaxEndpoints, nil),
	}
	m.reg.MustRegister(m.operations, m.operationDuration, m.upstreamCalls, m.upstreamDuration,
		m.batchSize, m.cache, m.inFlight, m.liveConns, m.liveSubs, m.livePollers, m.livePolls, m.livePushes,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry returns the registry, for tests and for adding collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	if m == nil {
		return http.NotFoundHandler()
	}
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// LiveConnection counts a subscription stream opening (+1) or closing (-1);
// transport is "websocket" or "sse".
func (m *Metrics) LiveConnection(transport string, delta int) {
	if m == nil {
		return
	}
	m.liveConns.WithLabelValues(transport).Add(float64(delta))
}

// LiveSubscriptions adds delta to the active subscriptions.
func (m *Metrics) LiveSubscriptions(delta int) {
	if m != nil {
		m.liveSubs.Add(float64(delta))
	}
}

// LivePollers adds delta to the running pollers.
func (m *Metrics) LivePollers(delta int) {
	if m != nil {
		m.livePollers.Add(float64(delta))
	}
}

// LivePoll counts one poll; code is "" on success, else its error code.
func (m *Metrics) LivePoll(code string) {
	if m == nil {
		return
	}
	outcome := OK
	if code != "" {
		outcome = m.codes.value(code)
	}
	m.livePolls.WithLabelValues(outcome).Inc()
}

// LivePushes counts n answers handed to subscriptions.
func (m *Metrics) LivePushes(n int) {
	if m != nil {
		m.livePushes.Add(float64(n))
	}
}

// InFlight counts the requests next is serving.
func (m *Metrics) InFlight(next http.Handler) http.Handler {
	if m == nil {
		return next
	}
	return promhttp.InstrumentHandlerInFlight(m.inFlight, next)
}

// Operation records one GraphQL operation. name is the client-chosen
// operation name ("" when anonymous); parsed is false when the document did
// not parse or validate; code is "" on success, otherwise the first error's
// extensions.code. A name of Other is counted as such without taking one of
// the MaxOperations labels (callers pass it for requests that may not
// name operations in metrics).
func (m *Metrics) Operation(name string, parsed bool, code string, d time.Duration) {
	if m == nil {
		return
	}
	op := Unparsed
	switch {
	case !parsed:
	case name == "":
		op = Anonymous
	case name == Other:
		op = Other
	default:
		op = m.operationNames.value(name)
	}
	outcome := OK
	if code != "" {
		outcome = m.codes.value(code)
	}
	m.operations.WithLabelValues(op, outcome).Inc()
	m.operationDuration.WithLabelValues(op).Observe(d.Seconds())
}

// OperationName is the label name will have: name itself once it has been
// admitted to the MaxOperations budget, else Other. A name not admitted yet
// is admitted only when accepted says SeaTable accepted the caller's token
// (the operation read from SeaTable and succeeded): requests with invented
// tokens must not use the budget up for good.
func (m *Metrics) OperationName(name string, accepted bool) string {
	if m == nil || name == "" || name == Other {
		return name
	}
	if m.operationNames.known(name) || accepted {
		return m.operationNames.value(name)
	}
	return Other
}

// UpstreamCall records one HTTP exchange with SeaTable. endpoint must be a
// route template (see upstream.Client.Endpoint); status 0 means no response.
func (m *Metrics) UpstreamCall(endpoint string, status int, d time.Duration) {
	if m == nil {
		return
	}
	ep := m.endpoints.value(endpoint)
	s := "error"
	if status > 0 {
		s = strconv.Itoa(status)
	}
	m.upstreamCalls.WithLabelValues(ep, s).Inc()
	m.upstreamDuration.WithLabelValues(ep).Observe(d.Seconds())
}

// ObserveBatch records the size of one dataloader batch; loader is one of
// the fixed loader names in graph/loaders.
func (m *Metrics) ObserveBatch(loader string, size int) {
	if m == nil {
		return
	}
	m.batchSize.WithLabelValues(loader).Observe(float64(size))
}

// CacheHit and CacheMiss count lookups in the upstream response cache; wire
// them to the cache's stats hook.
func (m *Metrics) CacheHit() {
	if m != nil {
		m.cache.WithLabelValues("hit").Inc()
	}
}

// CacheMiss: see CacheHit.
func (m *Metrics) CacheMiss() {
	if m != nil {
		m.cache.WithLabelValues("miss").Inc()
	}
}

var (
	operationName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)
	errorCode     = regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,63}$`)
)

// labelSet admits the first max distinct values that match syntax (any value
// when syntax is nil) and folds everything else into Other, so that a client
// inventing names cannot grow the number of series without bound.
type labelSet struct {
	mu     sync.RWMutex
	max    int
	syntax *regexp.Regexp
	seen   map[string]struct{}
}

func newLabelSet(max int, syntax *regexp.Regexp) *labelSet {
	return &labelSet{max: max, syntax: syntax, seen: make(map[string]struct{}, max)}
}

// known reports whether v has been admitted.
func (s *labelSet) known(v string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, ok := s.seen[v]
	return ok
}

func (s *labelSet) value(v string) string {
	if s.syntax != nil && !s.syntax.MatchString(v) {
		return Other
	}
	s.mu.RLock()
	_, ok := s.seen[v]
	s.mu.RUnlock()
	if ok {
		return v
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.seen[v]; ok {
		return v
	}
	if len(s.seen) >= s.max {
		return Other
	}
	s.seen[v] = struct{}{}
	return v
}
