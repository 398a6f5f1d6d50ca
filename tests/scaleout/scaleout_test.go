// Package scaleout runs the scale-out topology of deploy/ as processes: two
// replicas of the server (this test binary re-run as app.Run) sharing one redis-server and one SeaTable
// (the fake, in this process), behind a round-robin proxy that, like nginx's
// proxy_next_upstream or a Kubernetes Service with readiness, sends a request
// to the other replica when one refuses connections. It checks what replicas
// must share (persisted queries, rate limits, cache invalidation, one
// SeaTable poll per token for subscribers) and that stopping a replica under
// load fails no request.
package scaleout

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/seatable-graphql/seatable-graphql/app"
	"github.com/seatable-graphql/seatable-graphql/internal/redistest"
	"github.com/seatable-graphql/seatable-graphql/internal/testenv"
	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

// TestMain runs the tests, or, in a replica (a child process this test
// binary started with serveEnv set), the server: the same app.Run the
// command runs, stopped by SIGTERM. Replicas are real processes without a
// separate go build.
func TestMain(m *testing.M) {
	if os.Getenv(serveEnv) == "1" {
		os.Exit(serve())
	}
	testenv.Main(m)
}

const serveEnv = "SCALEOUT_SERVE"

func serve() int {
	cfg, err := app.LoadConfig(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	log := app.NewLogger(os.Stderr, cfg)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := app.Run(ctx, cfg, log); err != nil {
		log.Error("exiting", "err", err)
		return 1
	}
	return 0
}

// tokens are the users of the topology; each sees its own list, whose
// personal workspace is named after the token, so a response served to the
// wrong token shows.
var tokens = func() []string {
	var ts []string
	for i := range 6 {
		ts = append(ts, fmt.Sprintf("%040x", 0xa11ce00+i))
	}
	return ts
}()

func marker(token string) string { return "personal of " + token[len(token)-6:] }

// topology is one SeaTable, one redis-server, replicas and a proxy.
type topology struct {
	fake     *fakeseatable.Server
	seatable string // the fake's base URL
	redis    string
	replicas []*replica
	proxy    *httptest.Server
	failover atomic.Int64 // requests the proxy sent to another replica
	unready  []atomic.Bool
}

type replica struct {
	url  string
	cmd  *exec.Cmd
	done chan error
	logs *bytes.Buffer
}

func newTopology(t *testing.T, replicas int, env ...string) *topology {
	t.Helper()
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	rs := redistest.Start(t)
	top := &topology{fake: fakeseatable.New(), redis: rs.URL}
	for _, tok := range tokens {
		list := bytes.Replace(fakeseatable.Generate(3, 4), []byte(`"name":"personal"`), []byte(`"name":"`+marker(tok)+`"`), 1)
		top.fake.SetToken(tok, list)
	}
	top.fake.SetRecordRequests(true)
	mux := http.NewServeMux()
	mux.Handle("/seatable/", http.StripPrefix("/seatable", top.fake))
	up := httptest.NewServer(mux)
	t.Cleanup(up.Close)
	top.seatable = up.URL + "/seatable"
	for range replicas {
		top.replicas = append(top.replicas, top.start(t, bin, env))
	}
	top.unready = make([]atomic.Bool, replicas)
	top.probe(t)
	top.proxy = httptest.NewServer(top.roundRobin())
	t.Cleanup(top.proxy.Close)
	return top
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func (top *topology) start(t *testing.T, bin string, env []string) *replica {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(bin)
	cmd.Env = append([]string{
		serveEnv + "=1", "PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
		"SEATABLE_URL=" + top.seatable, "REDIS_URL=" + top.redis, "LISTEN_ADDR=" + addr,
		"LOG_FORMAT=json", "LOG_LEVEL=warn", "LIVE_POLL_INTERVAL=2s", "SHUTDOWN_TIMEOUT=10s", "SHUTDOWN_DELAY=1s",
	}, env...)
	r := &replica{url: "http://" + addr, cmd: cmd, done: make(chan error, 1), logs: &bytes.Buffer{}}
	cmd.Stdout, cmd.Stderr = &lockedWriter{w: r.logs}, &lockedWriter{w: r.logs}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-r.done
		if t.Failed() {
			t.Logf("replica %s log:\n%s", r.url, r.logs.String())
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(r.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return r
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica %s not ready in 20 s: %v", r.url, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop sends SIGTERM and waits for the replica to drain and exit.
func (r *replica) stop(t *testing.T) {
	t.Helper()
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-r.done:
		r.done <- err // for the cleanup
		if err != nil {
			t.Errorf("replica exited with %v after SIGTERM", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("replica did not exit within 20 s of SIGTERM")
	}
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// probe checks every replica's /readyz every 100 ms, as a Kubernetes
// readiness probe or a load balancer's health check does (faster, to keep
// the test short), until the test ends.
func (top *topology) probe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	client := &http.Client{Timeout: time.Second}
	for i, r := range top.replicas {
		go func() {
			for ctx.Err() == nil {
				resp, err := client.Get(r.url + "/readyz")
				if err == nil {
					resp.Body.Close()
				}
				top.unready[i].Store(err != nil || resp.StatusCode != http.StatusOK)
				select {
				case <-ctx.Done():
				case <-time.After(100 * time.Millisecond):
				}
			}
		}()
	}
}

// roundRobin is the load balancer: each request goes to the next ready
// replica; one that refuses the connection (stopped) is skipped, which is
// what nginx's proxy_next_upstream error and a Service without the pod do.
// It opens a new connection per request, so a stopping replica is never
// sent a request on a connection it is closing.
func (top *topology) roundRobin() http.Handler {
	var next atomic.Uint64
	transport := &http.Transport{DisableKeepAlives: true}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		start := next.Add(1)
		for i := range uint64(len(top.replicas)) {
			k := (start + i) % uint64(len(top.replicas))
			if top.unready[k].Load() && i < uint64(len(top.replicas))-1 {
				continue // the last candidate is tried even if it looks unready
			}
			target, _ := url.Parse(top.replicas[k].url)
			var refused bool
			p := &httputil.ReverseProxy{
				Rewrite:       func(pr *httputil.ProxyRequest) { pr.SetURL(target); pr.SetXForwarded() },
				Transport:     transport,
				FlushInterval: -1,
				ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
					if errors.Is(err, syscall.ECONNREFUSED) {
						refused = true
						return
					}
					http.Error(w, err.Error(), http.StatusBadGateway)
				},
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			p.ServeHTTP(w, r)
			if !refused {
				if k != start%uint64(len(top.replicas)) {
					top.failover.Add(1)
				}
				return
			}
		}
		http.Error(w, "no replica", http.StatusBadGateway)
	})
}

// gql posts a query with token to base (a replica or the proxy).
func gql(ctx context.Context, base, token string, body any) (int, []byte, error) {
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/graphql", bytes.NewReader(b))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/graphql-response+json, application/json")
	req.Header.Set("Authorization", "Token "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, out, err
}

func mustQuery(t *testing.T, base, token, query string) []byte {
	t.Helper()
	status, out, err := gql(t.Context(), base, token, map[string]any{"query": query})
	if err != nil || status != http.StatusOK || bytes.Contains(out, []byte(`"errors"`)) {
		t.Fatalf("%s: %d %v %s", query, status, err, out)
	}
	return out
}

// listCalls counts the fake's workspace-list reads per token since the
// last reset.
func (top *topology) listCalls() map[string]int {
	n := map[string]int{}
	for _, r := range top.fake.Requests() {
		if r.Method == http.MethodGet && strings.HasSuffix(r.Path, "/api/v2.1/workspaces/") {
			n[strings.TrimPrefix(r.Authorization, "Token ")]++
		}
	}
	return n
}

// Under concurrent load from every token through the proxy, each answer is
// the caller's own, and stopping one replica mid-load (SIGTERM: it drains
// what it has accepted) fails no request: the proxy sends the rest to the
// other replica.
func TestScaleOutLoadAndReplicaStop(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the server and runs two replicas (-short)")
	}
	top := newTopology(t, 2)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()

	const workers, perWorker = 12, 60
	var sent, failed, foreign atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	stopAt := make(chan struct{})
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok := tokens[w%len(tokens)]
			for i := range perWorker {
				if w == 0 && i == perWorker/3 {
					close(stopAt)
				}
				status, out, err := gql(ctx, top.proxy.URL, tok, map[string]any{"query": `{ workspaces { name tables { uuid name } } }`})
				sent.Add(1)
				if err != nil || status != http.StatusOK || bytes.Contains(out, []byte(`"errors"`)) {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, fmt.Sprintf("%d %v %.300s", status, err, out))
					continue
				}
				for _, other := range tokens {
					if other != tok && bytes.Contains(out, []byte(marker(other))) {
						foreign.Add(1)
					}
				}
				if !bytes.Contains(out, []byte(marker(tok))) {
					foreign.Add(1)
				}
			}
		}()
	}
	<-stopAt
	top.replicas[0].stop(t)
	wg.Wait()
	t.Logf("%d requests from %d tokens over %d workers; replica 1 stopped (SIGTERM, SHUTDOWN_DELAY=1s) after about a third; %d sent to the other replica instead of their turn",
		sent.Load(), len(tokens), workers, top.failover.Load())
	if n := failed.Load(); n != 0 {
		t.Errorf("%d of %d requests failed; first: %v", n, sent.Load(), firstErr.Load())
	}
	if n := foreign.Load(); n != 0 {
		t.Errorf("%d answers were not the caller's own", n)
	}
	if top.failover.Load() == 0 {
		t.Error("no request reached the proxy after the replica stopped: the test did not test failover")
	}
}

// What the replicas share through Redis: a persisted query registered on
// one is found on the other; a rate limit is one budget across both; a
// mutation on one drops the cached answers the other would serve.
func TestScaleOutSharedState(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the server and runs two replicas (-short)")
	}
	top := newTopology(t, 2, "CACHE_TTL=60s")
	a, b := top.replicas[0].url, top.replicas[1].url
	tok := tokens[0]

	t.Run("persisted query registered on A runs on B", func(t *testing.T) {
		q := `query Names { workspaces { name } }`
		sum := sha256.Sum256([]byte(q))
		ext := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hex.EncodeToString(sum[:])}}
		if status, out, err := gql(t.Context(), a, tok, map[string]any{"query": q, "extensions": ext}); err != nil || status != 200 || !bytes.Contains(out, []byte(marker(tok))) {
			t.Fatalf("register on A: %d %v %s", status, err, out)
		}
		status, out, err := gql(t.Context(), b, tok, map[string]any{"extensions": ext})
		if err != nil || status != 200 || !bytes.Contains(out, []byte(marker(tok))) {
			t.Fatalf("hash only on B: %d %v %s", status, err, out)
		}
	})

	t.Run("a mutation on A is seen through B's cache", func(t *testing.T) {
		var list struct {
			Data struct {
				Workspaces []struct {
					SeatableID string
					Name       string
					Tables     []struct{ UUID, Name string }
				}
			}
		}
		const q = `{ workspaces { seatableId name tables { uuid name } } }`
		if err := json.Unmarshal(mustQuery(t, b, tok, q), &list); err != nil {
			t.Fatal(err)
		}
		mustQuery(t, a, tok, q) // both replicas have the answer cached now
		top.fake.ResetCounts()
		var uuid string
		for _, w := range list.Data.Workspaces {
			if w.Name == marker(tok) {
				uuid = w.Tables[0].UUID
			}
		}
		if uuid == "" {
			t.Fatalf("no base in the personal workspace: %+v", list)
		}
		mustQuery(t, b, tok, q)
		if n := top.listCalls()[tok]; n != 0 {
			t.Fatalf("B read SeaTable %d times for a cached answer, want 0", n)
		}
		mustQuery(t, a, tok, `mutation { updateDTable(input: {uuid: "`+uuid+`", newName: "renamed on A"}) { dtable { name } } }`)
		if out := mustQuery(t, b, tok, q); !bytes.Contains(out, []byte("renamed on A")) {
			t.Fatalf("B still serves the answer from before A's mutation: %s", out)
		}
	})

	t.Run("one rate-limit budget across replicas", func(t *testing.T) {
		limited := newTopology(t, 2, "RATE_LIMIT=1", "RATE_BURST=6")
		start := time.Now()
		var ok, refused int
		for i := range 24 {
			base := limited.replicas[i%2].url
			status, out, err := gql(t.Context(), base, tokens[1], map[string]any{"query": `{ workspaces { name } }`})
			switch {
			case err != nil:
				t.Fatal(err)
			case status == http.StatusOK && !bytes.Contains(out, []byte(`"errors"`)):
				ok++
			case status == http.StatusTooManyRequests || bytes.Contains(out, []byte("RATE_LIMITED")):
				refused++
			default:
				t.Fatalf("%d %s", status, out)
			}
		}
		// One budget: the burst plus what refilled meanwhile. Two budgets
		// (one per replica) would let about twice the burst through.
		allowed := 6 + int(time.Since(start).Seconds()) + 1
		if ok > allowed || refused == 0 {
			t.Fatalf("%d answered, %d refused in %v: want at most %d answered (one shared budget of burst 6 at 1/s)", ok, refused, time.Since(start).Round(time.Millisecond), allowed)
		}
		t.Logf("24 requests alternating between replicas: %d answered, %d refused (RATE_BURST=6, RATE_LIMIT=1)", ok, refused)
	})
}

// Subscribers of one token on both replicas cost SeaTable one poll per
// LIVE_POLL_INTERVAL between them: the replicas elect one poller per token
// through Redis.
func TestScaleOutOnePollPerToken(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the server and runs two replicas (-short)")
	}
	top := newTopology(t, 2)
	subscribed := tokens[:4]
	for _, tok := range subscribed {
		for _, r := range top.replicas {
			openSSE(t, r.url, tok)
		}
	}
	top.fake.ResetCounts()
	const window, interval = 7 * time.Second, 2 * time.Second
	time.Sleep(window)
	calls := top.listCalls()
	// At most one poll per interval (jittered ±10%) per token, plus one for
	// a window that starts mid-interval.
	most := int(window/(interval*9/10)) + 1
	for _, tok := range subscribed {
		n := calls[tok]
		if n == 0 || n > most {
			t.Errorf("token …%s: %d SeaTable polls in %v with a subscriber on each of 2 replicas, want 1..%d (one poller between them)",
				tok[len(tok)-6:], n, window, most)
		}
	}
	for _, tok := range tokens[4:] {
		if calls[tok] != 0 {
			t.Errorf("token without subscribers polled %d times", calls[tok])
		}
	}
	t.Logf("polls per token in %v at LIVE_POLL_INTERVAL=%v, subscribers on both replicas: %v", window, interval, calls)
}

// openSSE subscribes over GraphQL over SSE and keeps reading (as a live
// client does) until the test ends.
func openSSE(t *testing.T, base, token string) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(cancel)
	body, _ := json.Marshal(map[string]any{"query": `subscription { workspacesChanged { workspaces { name } } }`})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", "Token "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("SSE subscribe: %d", resp.StatusCode)
	}
	first := make(chan struct{})
	go func() {
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		once := sync.Once{}
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "data:") {
				once.Do(func() { close(first) })
			}
		}
	}()
	select {
	case <-first:
	case <-time.After(10 * time.Second):
		t.Fatal("no first event within 10 s")
	}
}
