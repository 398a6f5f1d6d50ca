package metrics

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestLabelSetCapsAndSyntax(t *testing.T) {
	s := newLabelSet(2, operationName)
	for _, tc := range []struct{ in, want string }{
		{"A", "A"}, {"B", "B"}, {"A", "A"}, {"C", Other}, {"B", "B"},
		{"has space", Other}, {"1abc", Other}, {strings.Repeat("x", 65), Other}, {"", Other},
	} {
		if got := s.value(tc.in); got != tc.want {
			t.Errorf("value(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestOperationLabels(t *testing.T) {
	m := New()
	m.Operation("", true, "", time.Millisecond)
	m.Operation("Q", false, "GRAPHQL_PARSE_FAILED", time.Millisecond)
	m.Operation("Q", true, "lowercase is not a code", time.Millisecond)
	for labels, want := range map[[2]string]float64{
		{Anonymous, OK}:                    1,
		{Unparsed, "GRAPHQL_PARSE_FAILED"}: 1,
		{"Q", Other}:                       1,
	} {
		if got := testutil.ToFloat64(m.operations.WithLabelValues(labels[0], labels[1])); got != want {
			t.Errorf("%v = %v, want %v", labels, got, want)
		}
	}
}

func TestTransportRecordsStatusOrError(t *testing.T) {
	m := New()
	endpoint := func(*http.Request) string { return "GET /x/" }
	ok := m.Transport(roundTripFunc(func(*http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 503, Body: http.NoBody}, nil
	}), endpoint)
	failing := m.Transport(roundTripFunc(func(*http.Request) (*http.Response, error) {
		return nil, errors.New("connection refused")
	}), endpoint)
	r, _ := http.NewRequest(http.MethodGet, "http://h/x/", nil)
	_, _ = ok.RoundTrip(r)
	_, _ = failing.RoundTrip(r)
	if got := testutil.ToFloat64(m.upstreamCalls.WithLabelValues("GET /x/", "503")); got != 1 {
		t.Errorf("status 503 count = %v", got)
	}
	if got := testutil.ToFloat64(m.upstreamCalls.WithLabelValues("GET /x/", "error")); got != 1 {
		t.Errorf("transport error count = %v", got)
	}
}

func TestNilMetricsRecordNothing(t *testing.T) {
	var m *Metrics
	m.Operation("A", true, "", 0)
	m.UpstreamCall("GET /", 200, 0)
	m.ObserveBatch("snapshot", 1)
	m.CacheHit()
	m.CacheMiss()
}

func TestInFlight(t *testing.T) {
	m := New()
	entered, release := make(chan struct{}), make(chan struct{})
	h := m.InFlight(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		entered <- struct{}{}
		<-release
	}))
	done := make(chan struct{})
	go func() {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
		close(done)
	}()
	<-entered
	if g := testutil.ToFloat64(m.inFlight); g != 1 {
		t.Errorf("in flight while serving = %v, want 1", g)
	}
	close(release)
	<-done
	if g := testutil.ToFloat64(m.inFlight); g != 0 {
		t.Errorf("in flight after serving = %v, want 0", g)
	}
}
