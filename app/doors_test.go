package app

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/seatable-graphql/seatable-graphql/app/internal/metrics"
	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

// TestMetricsOnTheirOwnListener: with METRICS_ADDR, /metrics is served
// there and not on the public port (before, anyone could read it there).
func TestMetricsOnTheirOwnListener(t *testing.T) {
	e := newTestEnv(t, withEnv("METRICS_ADDR", "127.0.0.1:0"))
	if resp, err := http.Get(e.url + "/metrics"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("public /metrics: %v %v, want 404", resp.StatusCode, err)
	}
	addr, stop, err := serveMetrics(e.cfg, e.metrics, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("METRICS_ADDR /metrics: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "seatable_graphql_") {
		t.Fatalf("metrics listener served %.200s", body)
	}
}

// TestAnonymousOperationNamesAreNotLabels: requests without a token cannot
// use up the operation-name labels; a token's names still count. Before,
// 100 anonymous names took every label for the life of the process.
func TestAnonymousOperationNamesAreNotLabels(t *testing.T) {
	e := newTestEnv(t)
	e.fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Seed))
	for i := range metrics.MaxOperations + 5 {
		e.post(t, "", fmt.Sprintf(`query Anon%d { __typename }`, i), nil)
	}
	// A name is admitted by a token SeaTable accepted (issue 18): Real reads.
	e.post(t, "Token "+tokA, `query Real { workspaces { id } }`, nil)
	_, raw := e.scrape(t)
	if strings.Contains(raw, `operation="Anon`) || !strings.Contains(raw, `operation="Real"`) {
		t.Fatalf("anonymous names became labels, or the token's did not:\n%s", grepLines(raw, "operations_total"))
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestAllowedHosts: with ALLOWED_HOSTS, another Host (DNS rebinding) gets
// 421; listed hosts, with any port, are served.
func TestAllowedHosts(t *testing.T) {
	e := newTestEnv(t, withEnv("ALLOWED_HOSTS", "api.example.com, 127.0.0.1"))
	for host, want := range map[string]int{"api.example.com": 200, "API.example.com:8080": 200, "evil.example.net": 421} {
		req, _ := http.NewRequest(http.MethodGet, e.url+"/healthz", nil)
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("Host %s: %d, want %d", host, resp.StatusCode, want)
		}
	}
}

// TestMaxConnections: with MAX_CONNECTIONS=1 an idle connection holds the
// only slot, so a second client waits until it closes.
func TestMaxConnections(t *testing.T) {
	cfg, err := LoadConfig(func(k string) string { return map[string]string{"PORT": "0", "MAX_CONNECTIONS": "1"}[k] })
	if err != nil {
		t.Fatal(err)
	}
	ln, err := listen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	idle, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	quick := &http.Client{Timeout: 300 * time.Millisecond, Transport: &http.Transport{DisableKeepAlives: true}}
	if _, err := quick.Get("http://" + ln.Addr().String() + "/"); err == nil {
		t.Fatal("a second connection was served while the only slot was held")
	}
	idle.Close()
	quick.Timeout = 5 * time.Second
	if resp, err := quick.Get("http://" + ln.Addr().String() + "/"); err != nil {
		t.Fatalf("after the slot was freed: %v", err)
	} else {
		resp.Body.Close()
	}
}

// TestLoadConfigHardening: the settings of issue 9, their defaults and the
// errors that name what was wrong.
func TestLoadConfigHardening(t *testing.T) {
	c, err := LoadConfig(func(string) string { return "" })
	if err != nil || c.MaxQueryBytes != 64<<10 || c.UpstreamMaxInflightBytes != 256<<20 || c.BreakerCallers != 3 ||
		c.RateLimit != 0 || c.MetricsAddr != "" || c.MaxConnections != 0 || len(c.AllowedHosts) != 0 {
		t.Fatalf("defaults: %v %+v", err, c)
	}
	c, err = LoadConfig(func(k string) string {
		return map[string]string{"MAX_QUERY_BYTES": "8KiB", "UPSTREAM_MAX_INFLIGHT_BYTES": "1GiB", "BREAKER_CALLERS": "1",
			"RATE_LIMIT": "5", "METRICS_ADDR": "127.0.0.1:9090", "MAX_CONNECTIONS": "100", "ALLOWED_HOSTS": "a.example.com, localhost"}[k]
	})
	if err != nil || c.MaxQueryBytes != 8<<10 || c.UpstreamMaxInflightBytes != 1<<30 || c.BreakerCallers != 1 || c.RateLimit != 5 ||
		c.RateBurst != 10 || c.MetricsAddr != "127.0.0.1:9090" || c.MaxConnections != 100 || len(c.AllowedHosts) != 2 {
		t.Fatalf("set: %v %+v", err, c)
	}
	for name, value := range map[string]string{
		"MAX_QUERY_BYTES": "12", "UPSTREAM_MAX_INFLIGHT_BYTES": "1MiB", "BREAKER_CALLERS": "0", "RATE_LIMIT": "-1",
		"RATE_BURST": "x", "METRICS_ADDR": "9090", "MAX_CONNECTIONS": "-5", "ALLOWED_HOSTS": "https://a.example.com",
	} {
		_, err := LoadConfig(func(k string) string { return map[string]string{name: value}[k] })
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%s: %v, want an error naming it", name, value, err)
		}
	}
}
