// Command bench is the load script: it builds the server from this
// repository, starts the fake SeaTable in process, and measures the
// upstream's own GET and the server side by side in one run, printing
// req/s, p50/p99 latency, the server process's CPU time per request, its
// peak RSS and upstream calls per request for each query, dataset, upstream
// latency and number of users.
//
// Many users come first: requests rotate over 64 tokens (8 for the large
// dataset), each with its own upstream answer, so nothing can be shared
// between requests and every request pays a whole answer. The one-user rows
// below show what coalescing and shared execution add when one token
// repeats itself.
//
//	go run ./bench                 # full run, ~6 minutes
//	go run ./bench -only small     # scenarios whose label contains "small"
//	go run ./bench -duration 2s    # quick look
//
// Everything listens on 127.0.0.1 only, and every scenario is bounded in
// time. The server runs as its own process so that its RSS is its own; the
// fake and the load generator share this process (and, on a small machine,
// the cores with the server).
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

// The queries of the issue. Q2 looks up ten workspaces by id, with their
// bases, so it needs detail=true like Q1.
const (
	q1 = `{ workspaces { id ownerName tables { name updatedAt } } }`
	q3 = `{ workspaces { id name } }`
)

// qRows reads the first 100 rows of a table inside a base (issue 21): a
// metadata read and a rows read per request (base tokens are exchanged once
// per user and reused). Its reference is "rows-direct", the fake's own rows
// GET with that user's base token. The fake's "Tasks" table holds 48 rows,
// so both answers carry all 48.
func qRows(uuid string) string {
	return fmt.Sprintf(`{ dtable(uuid: %q) { table(name: "Tasks") { rows(first: 100) { edges { cursor node { id values updatedAt } } pageInfo { hasNextPage endCursor } } } } }`, uuid)
}

func q2() string {
	var b strings.Builder
	b.WriteString("{")
	for i, id := range []string{"starred", "shared", "1000", "1001", "1002", "1003", "1004", "1005", "1006", "404"} {
		fmt.Fprintf(&b, ` w%d: workspace(id: %q) { id name tables { name } }`, i, id)
	}
	b.WriteString(" }")
	return b.String()
}

type scenario struct {
	dataset string // "small" or "large"
	latency time.Duration
	target  string // "direct", "Q1", "Q2", "Q3"; "rows-direct", "R100"
	env     []string
	// users is how many tokens the requests rotate over, each with its own
	// upstream answer; conns overrides the -conns flag when set.
	users, conns int
	label        string
}

type result struct {
	scenario
	requests, errors int64
	rps              float64
	p50, p99         time.Duration
	peakRSS          int64 // bytes, server process
	upstreamPerReq   float64
	cpuPerReq        time.Duration // server process, user + system
}

// userToken is the token of user i of a dataset.
func userToken(dataset string, i int) string { return fmt.Sprintf("%s-user-%02d", dataset, i) }

// forUser makes user i's answer differ from every other user's (base names
// carry the user), at the same size, so that a server that served one
// user's answer to another would be caught by the isolation tests and no
// cache could share work between them.
func forUser(body []byte, i int) []byte {
	return bytes.ReplaceAll(body, []byte(`"name":"Base `), []byte(fmt.Sprintf(`"name":"B%02d `, i%100)))
}

func main() {
	duration := flag.Duration("duration", 10*time.Second, "measured time per scenario (after a 1s warm-up)")
	conns := flag.Int("conns", 32, "concurrent connections (the large many-user scenarios use 4)")
	only := flag.String("only", "", "run only scenarios whose label contains this")
	flag.Parse()
	if err := run(*duration, *conns, *only); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(duration time.Duration, conns int, only string) error {
	tmp, err := os.MkdirTemp("", "seatable-graphql-bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "seatable-graphql")
	fmt.Fprintln(os.Stderr, "building the server ...")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("go build (run from the repository root): %w", err)
	}

	fake := fakeseatable.New()
	fake.SetRecordRequests(false)
	small, large := fakeseatable.Generate(20, 10), fakeseatable.Generate(500, 50)
	for i := 0; i < manyUsers; i++ {
		fake.SetToken(userToken("small", i), forUser(small, i))
	}
	for i := 0; i < largeUsers; i++ {
		fake.SetToken(userToken("large", i), forUser(large, i))
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	up := &http.Server{Handler: fake, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = up.Serve(ln) }()
	defer up.Close()
	upURL := "http://" + ln.Addr().String()

	var scenarios []scenario
	targets := []string{"direct", "Q1", "Q2", "Q3"}
	// Many users: the headline.
	for _, lat := range []time.Duration{0, 20 * time.Millisecond} {
		for _, target := range targets {
			scenarios = append(scenarios, scenario{dataset: "small", latency: lat, target: target, users: manyUsers})
		}
	}
	for _, target := range targets {
		scenarios = append(scenarios, scenario{dataset: "large", target: target, users: largeUsers, conns: 4})
	}
	// One user repeating itself.
	for _, ds := range []string{"small", "large"} {
		for _, lat := range []time.Duration{0, 20 * time.Millisecond} {
			for _, target := range targets {
				scenarios = append(scenarios, scenario{dataset: ds, latency: lat, target: target, users: 1})
			}
		}
		scenarios = append(scenarios, scenario{dataset: ds, latency: 20 * time.Millisecond, target: "Q1", env: []string{"CACHE_TTL=5s"}, users: 1})
	}
	// Inside a base: the first 100 rows of a table, many users, beside the
	// fake's own rows GET.
	for _, target := range []string{"rows-direct", "R100"} {
		scenarios = append(scenarios, scenario{dataset: "small", target: target, users: manyUsers})
	}
	// What shared execution of identical queries buys (it is on by default).
	scenarios = append(scenarios, scenario{dataset: "small", target: "Q1", env: []string{"SHARE_QUERIES=false"}, users: 1})
	var results []result
	for _, sc := range scenarios {
		if sc.conns == 0 {
			sc.conns = conns
		}
		sc.label = fmt.Sprintf("%s %s latency=%s users=%d conns=%d", sc.target, sc.dataset, sc.latency, sc.users, sc.conns)
		if len(sc.env) > 0 {
			sc.label += " " + strings.Join(sc.env, " ")
		}
		if only != "" && !strings.Contains(sc.label, only) {
			continue
		}
		fmt.Fprintln(os.Stderr, "running", sc.label, "...")
		if strings.HasPrefix(sc.target, "rows") || sc.target == "R100" {
			if err := ensureBaseTokens(upURL, small); err != nil {
				return err
			}
		}
		r, err := runScenario(sc, bin, upURL, fake, duration)
		if err != nil {
			return fmt.Errorf("%s: %w", sc.label, err)
		}
		results = append(results, r)
	}
	printResults(os.Stdout, results, duration, len(small), len(large))
	return nil
}

// How many users the many-user scenarios rotate over.
const (
	manyUsers  = 64
	largeUsers = 8
)

func runScenario(sc scenario, bin, upURL string, fake *fakeseatable.Server, duration time.Duration) (result, error) {
	fake.SetLatency(sc.latency)
	res := result{scenario: sc}
	var (
		addr, path string
		reqBody    []byte
		method     = "GET"
		srv        *exec.Cmd
	)
	if sc.target == "direct" {
		addr, path = strings.TrimPrefix(upURL, "http://"), "/api/v2.1/workspaces/?detail=true"
	} else if sc.target == "rows-direct" {
		addr, path = strings.TrimPrefix(upURL, "http://"), "/api-gateway/api/v2/dtables/"+rowsBase.uuid+"/rows/?table_name=Tasks&limit=101&convert_keys=true"
	} else {
		port, err := freePort()
		if err != nil {
			return res, err
		}
		srv = exec.Command(bin)
		srv.Env = append(os.Environ(), "SEATABLE_URL="+upURL, "PORT="+strconv.Itoa(port))
		srv.Env = append(srv.Env, sc.env...)
		if err := srv.Start(); err != nil {
			return res, err
		}
		defer func() { _ = srv.Process.Kill(); _ = srv.Wait() }()
		addr, path, method = fmt.Sprintf("127.0.0.1:%d", port), "/graphql", "POST"
		if err := waitHealthy("http://" + addr + "/healthz"); err != nil {
			return res, err
		}
		q := map[string]string{"Q1": q1, "Q2": q2(), "Q3": q3, "R100": qRows(rowsBase.uuid)}[sc.target]
		reqBody, _ = json.Marshal(map[string]string{"query": q})
	}
	// One ready-made request per user; requests take the next user in turn.
	reqs := make([][]byte, sc.users)
	for i := range reqs {
		var req bytes.Buffer
		tok := userToken(sc.dataset, i)
		if sc.target == "rows-direct" {
			tok = rowsBase.tokens[i]
		}
		fmt.Fprintf(&req, "%s %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Token %s\r\n", method, path, addr, tok)
		if reqBody != nil {
			fmt.Fprintf(&req, "Content-Type: application/json\r\nContent-Length: %d\r\n", len(reqBody))
		}
		req.WriteString("\r\n")
		req.Write(reqBody)
		reqs[i] = req.Bytes()
	}
	var next atomic.Uint64
	nextReq := func() []byte { return reqs[(next.Add(1)-1)%uint64(len(reqs))] }

	warmup := time.Second
	ctx, cancel := context.WithTimeout(context.Background(), warmup+duration)
	defer cancel()
	start := time.Now()
	measureFrom := start.Add(warmup)
	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		latencies []time.Duration
		errCount  atomic.Int64
		callsAt   atomic.Int64
		cpuAt     atomic.Int64
		firstErr  atomic.Pointer[errNote]
	)
	callsAt.Store(-1)
	cpuAt.Store(-1)
	go func() {
		// Count upstream calls and server CPU over the measured window only.
		select {
		case <-time.After(warmup):
			callsAt.Store(fake.Calls())
			if srv != nil {
				cpuAt.Store(int64(cpuTime(srv.Process.Pid)))
			}
		case <-ctx.Done():
		}
	}()
	for i := 0; i < sc.conns; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat, errs := loadLoop(ctx, addr, nextReq, measureFrom, !strings.Contains(sc.target, "direct"), &firstErr)
			errCount.Add(errs)
			mu.Lock()
			latencies = append(latencies, lat...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	callsEnd := fake.Calls()
	var cpuEnd time.Duration
	if srv != nil {
		cpuEnd = cpuTime(srv.Process.Pid)
	}
	if n := firstErr.Load(); n != nil {
		fmt.Fprintf(os.Stderr, "  first error: %v status %d body %q\n", n.err, n.status, n.head)
	}
	res.requests, res.errors = int64(len(latencies)), errCount.Load()
	res.rps = float64(len(latencies)) / duration.Seconds()
	slices.Sort(latencies)
	if n := len(latencies); n > 0 {
		res.p50, res.p99 = latencies[n/2], latencies[min(n-1, n*99/100)]
		if c := callsAt.Load(); c >= 0 {
			res.upstreamPerReq = float64(callsEnd-c) / float64(n)
		}
		if c := cpuAt.Load(); c >= 0 && srv != nil {
			// Requests cut off at the end still ran: count completed ones
			// only, which overstates the cost per request a little.
			res.cpuPerReq = (cpuEnd - time.Duration(c)) / time.Duration(n)
		}
	}
	if srv != nil {
		res.peakRSS = peakRSS(srv.Process.Pid)
	}
	return res, nil
}

// loadLoop sends requests back to back on one keep-alive connection until
// ctx ends, and returns the latencies of those started after measureFrom.
// A response is an error unless it is a 200 (and, for GraphQL, has no
// top-level errors; gqlgen writes "errors" first).
func loadLoop(ctx context.Context, addr string, nextReq func() []byte, measureFrom time.Time, graphql bool, firstErr *atomic.Pointer[errNote]) ([]time.Duration, int64) {
	var (
		lat  []time.Duration
		errs int64
		conn net.Conn
		br   *bufio.Reader
	)
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	head := make([]byte, 16)
	for ctx.Err() == nil {
		if conn == nil {
			c, err := net.DialTimeout("tcp", addr, time.Second)
			if err != nil {
				errs++
				continue
			}
			conn, br = c, bufio.NewReaderSize(c, 64<<10)
		}
		if deadline, ok := ctx.Deadline(); ok {
			// Past the end of the run: a request in flight then finishes
			// and is dropped, rather than failing on the deadline.
			_ = conn.SetDeadline(deadline.Add(30 * time.Second))
		}
		t0 := time.Now()
		_, err := conn.Write(nextReq())
		var resp *http.Response
		if err == nil {
			resp, err = http.ReadResponse(br, nil)
		}
		ok := false
		if err == nil {
			n, _ := io.ReadFull(resp.Body, head)
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			ok = err == nil && resp.StatusCode == 200 && !(graphql && bytes.HasPrefix(head[:n], []byte(`{"errors"`)))
		}
		if ctx.Err() != nil {
			break // cut off by the end of the run: not an error
		}
		if !ok {
			errs++
			note := &errNote{err: err}
			if resp != nil {
				note.status, note.head = resp.StatusCode, string(head)
			}
			firstErr.CompareAndSwap(nil, note)
			if err != nil {
				conn.Close()
				conn = nil
			}
			continue
		}
		if t0.After(measureFrom) {
			lat = append(lat, time.Since(t0))
		}
	}
	return lat, errs
}

// errNote is the first failed request of a run, printed to help debugging.
type errNote struct {
	err    error
	status int
	head   string
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func waitHealthy(url string) error {
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return errors.New("server did not become healthy in 15s")
}

// cpuTime reads the user and system CPU time the process has used so far
// (/proc/PID/stat, in clock ticks of 10 ms: measured windows are seconds
// long, so the rounding stays below 1%).
func cpuTime(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name may contain spaces; fields count from after it.
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		s = s[i+1:]
	}
	f := strings.Fields(s)
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	const tick = 10 * time.Millisecond // USER_HZ is 100 on Linux
	return time.Duration(utime+stime) * tick
}

// peakRSS reads the process's high-water resident set size (VmHWM).
func peakRSS(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return -1
}

func printResults(w io.Writer, results []result, duration time.Duration, smallBytes, largeBytes int) {
	// Each row is compared with the direct GET of the same dataset,
	// latency and users.
	key := func(r result) string {
		rows := strings.HasPrefix(r.target, "rows") || r.target == "R100"
		return fmt.Sprint(r.dataset, r.latency, r.users, r.conns, rows)
	}
	direct := map[string]float64{}
	for _, r := range results {
		if strings.Contains(r.target, "direct") {
			direct[key(r)] = r.rps
		}
	}
	fmt.Fprintf(w, "\nmachine: %s, %d CPUs (GOMAXPROCS %d), %s\n", cpuModel(), runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version())
	fmt.Fprintf(w, "settings: %s per scenario after 1s warm-up; small = 20x10 (%d KB), large = 500x50 (%.1f MB); server as a separate process, fake upstream and load generator in this one\n\n",
		duration, smallBytes>>10, float64(largeBytes)/1e6)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "| scenario\t| req/s\t| % of direct GET\t| p50\t| p99\t| server CPU/req\t| peak RSS\t| upstream calls/req\t| errors\t|")
	fmt.Fprintln(tw, "|---\t|---:\t|---:\t|---:\t|---:\t|---:\t|---:\t|---:\t|---:\t|")
	for _, r := range results {
		pct, cpu, rss, calls := "", "", "", ""
		if !strings.Contains(r.target, "direct") {
			if d := direct[key(r)]; d > 0 {
				pct = fmt.Sprintf("%.1f%%", 100*r.rps/d)
			}
			cpu = ms(r.cpuPerReq)
			rss = fmt.Sprintf("%.0f MiB", float64(r.peakRSS)/(1<<20))
			calls = fmt.Sprintf("%.4f", r.upstreamPerReq)
		}
		fmt.Fprintf(tw, "| %s\t| %.0f\t| %s\t| %s\t| %s\t| %s\t| %s\t| %s\t| %d\t|\n", r.label, r.rps, pct, ms(r.p50), ms(r.p99), cpu, rss, calls, r.errors)
	}
	tw.Flush()
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/1e6) }

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

// rowsBase is the base the rows scenarios read (the first of the small
// dataset, which every user can open), with each small user's base token
// for the direct GET.
var rowsBase struct {
	uuid   string
	tokens []string
}

// ensureBaseTokens finds the first base of the small dataset and exchanges
// each small user's token for a base token of it, once.
func ensureBaseTokens(upURL string, small []byte) error {
	if rowsBase.tokens != nil {
		return nil
	}
	var list struct {
		Workspaces []struct {
			ID     any `json:"id"` // a number, or a string in pseudo-workspaces
			Tables []struct {
				UUID string `json:"uuid"`
				Name string `json:"name"`
			} `json:"table_list"`
		} `json:"workspace_list"`
	}
	if err := json.Unmarshal(small, &list); err != nil {
		return err
	}
	var wid, name string
	for _, ws := range list.Workspaces {
		if id, ok := ws.ID.(float64); ok && len(ws.Tables) > 0 {
			wid, name, rowsBase.uuid = strconv.Itoa(int(id)), ws.Tables[0].Name, ws.Tables[0].UUID
			break
		}
	}
	if rowsBase.uuid == "" {
		return errors.New("the small dataset has no base")
	}
	for i := 0; i < manyUsers; i++ {
		// forUser renamed the base for user i.
		userName := string(forUser([]byte(`"name":"`+name), i))[len(`"name":"`):]
		req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/api/v2.1/workspace/%s/dtable/%s/access-token/", upURL, wid, url.PathEscape(userName)), nil)
		req.Header.Set("Authorization", "Token "+userToken("small", i))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		var body struct {
			AccessToken string `json:"access_token"`
		}
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if err != nil || body.AccessToken == "" {
			return fmt.Errorf("exchange for user %d: status %d %v", i, resp.StatusCode, err)
		}
		rowsBase.tokens = append(rowsBase.tokens, body.AccessToken)
	}
	return nil
}
