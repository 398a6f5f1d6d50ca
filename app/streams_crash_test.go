package app

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

// A subscriber that stops reading and then disconnects must not crash the
// server (issue 18.1). The server runs in a child process (this test
// binary, re-run in "child" mode) so that a crash is observed as the
// child's exit with its stack trace, not as this test binary dying. The
// clients are raw TCP connections with a tiny receive buffer: they send
// the SSE request, read the response head and then read nothing, so the
// server's write of a ~10 MB event blocks; then they reset the connection.

const crashChildEnv = "SEATABLE_GRAPHQL_STREAMS_CHILD"

// bigSubscription asks for every base of the account many times over, so
// one event is far larger than the socket buffers on both sides.
func bigSubscription(aliases int) string {
	var b strings.Builder
	b.WriteString("subscription Big { workspacesChanged { ")
	for i := range aliases {
		fmt.Fprintf(&b, "a%d: workspaces { id: seatableId name tables { uuid name starred workspace { id: seatableId } } } ", i)
	}
	b.WriteString("} }")
	return b.String()
}

// runStreamsChild serves the app on a real listener until stdin closes.
func runStreamsChild(t *testing.T, env ...string) {
	fake := fakeseatable.New()
	fake.SetToken(liveToken, fakeseatable.Generate(100, 50))
	e := newTestEnv(t, withFake(fake), withEnv(env...), func(o *envOptions) {
		o.quiet = true
		// A keep-alive tick is always due: the late write the crash
		// needs happens on nearly every stream end, not once in 25 s.
		o.seams.liveKeepAlive = time.Millisecond
	})
	fmt.Printf("ADDR %s\n", strings.TrimPrefix(e.url, "http://"))
	_, _ = io.Copy(io.Discard, os.Stdin)
}

// streamsChild is a server process; exited is closed when it ends.
type streamsChild struct {
	addr   string
	stderr *syncBuffer
	exited chan struct{}
	stdin  io.WriteCloser
}

func startStreamsChild(t *testing.T, test string, env ...string) *streamsChild {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+strings.Join(env, "\x1f"))
	c := &streamsChild{stderr: &syncBuffer{}, exited: make(chan struct{})}
	cmd.Stderr = c.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if c.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = cmd.Wait(); close(c.exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-c.exited
	})
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "ADDR "); ok {
				addr <- a
			}
		}
	}()
	select {
	case c.addr = <-addr:
	case <-c.exited:
		t.Fatalf("server process ended before serving: %s", c.stderr.String())
	case <-time.After(20 * time.Second):
		t.Fatal("server process did not start")
	}
	return c
}

func (c *streamsChild) alive() bool {
	select {
	case <-c.exited:
		return false
	default:
		return true
	}
}

// crashReport is the start of the child's panic, if it crashed.
func (c *streamsChild) crashReport() string {
	s := c.stderr.String()
	if i := strings.Index(s, "panic"); i >= 0 {
		s = s[i:]
	}
	return s[:min(len(s), 1500)]
}

// stalledSSE opens an SSE subscription over a raw connection whose
// receive buffer is as small as the kernel allows, reads the response
// head and then reads nothing more.
func stalledSSE(addr, token, query string) (*net.TCPConn, error) {
	d := net.Dialer{Timeout: 5 * time.Second, Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		if err != nil {
			return err
		}
		return serr
	}}
	nc, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	conn := nc.(*net.TCPConn)
	body, _ := json.Marshal(map[string]any{"query": query})
	fmt.Fprintf(conn, "POST /graphql HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nAccept: text/event-stream\r\n"+
		"Authorization: Token %s\r\nContent-Length: %d\r\n\r\n%s", addr, token, len(body), body)
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	head := make([]byte, 0, 1024)
	buf := make([]byte, 1)
	for !bytes.HasSuffix(head, []byte("\r\n\r\n")) {
		if _, err := conn.Read(buf); err != nil {
			_ = conn.Close()
			return nil, fmt.Errorf("response head: %w (%q)", err, head)
		}
		head = append(head, buf[0])
	}
	if !bytes.HasPrefix(head, []byte("HTTP/1.1 200")) || !bytes.Contains(head, []byte("text/event-stream")) {
		_ = conn.Close()
		return nil, fmt.Errorf("not an SSE answer: %q", head)
	}
	return conn, nil
}

// reset closes conn with a TCP RST, as a client that goes away abruptly.
func reset(conn *net.TCPConn) {
	_ = conn.SetLinger(0)
	_ = conn.Close()
}

func TestStreamsSlowReaderCannotCrashServer(t *testing.T) {
	if env, ok := os.LookupEnv(crashChildEnv); ok {
		runStreamsChild(t, strings.Split(env, "\x1f")...)
		return
	}
	if testing.Short() || raceEnabled {
		t.Skip("starts a server process that renders events of megabytes")
	}
	child := startStreamsChild(t, "TestStreamsSlowReaderCannotCrashServer", "LIVE_MAX_SUBSCRIPTIONS_PER_CONNECTION", "0")
	query := bigSubscription(10) // ~5.6 MB: more than the server's send buffer (4 MB at most)
	crashed := func(round int) {
		t.Helper()
		select {
		case <-child.exited:
		case <-time.After(time.Second):
			return
		}
		t.Fatalf("round %d: the server crashed after stalled subscribers disconnected:\n%s", round, child.crashReport())
	}
	// Before the fix, the first round crashed the server 7 times in 7
	// runs; rounds go on for a fixed time.
	const streams = 4
	rounds := 0
	for start := time.Now(); time.Since(start) < 4*time.Second; {
		rounds++
		round := rounds
		var conns []*net.TCPConn
		for range streams {
			c, err := stalledSSE(child.addr, liveToken, query)
			if err != nil {
				crashed(round)
				t.Fatal(err)
			}
			conns = append(conns, c)
		}
		// Long enough for the first event to be rendered and its write to
		// fill both socket buffers and block.
		time.Sleep(700 * time.Millisecond)
		for _, c := range conns {
			reset(c)
		}
		// And many short streams that end abruptly: each end is another
		// chance for a late keep-alive.
		for range 150 {
			c, err := stalledSSE(child.addr, liveToken, wsQuery)
			if err != nil {
				crashed(round)
				t.Fatal(err)
			}
			time.Sleep(5 * time.Millisecond)
			reset(c)
		}
		time.Sleep(200 * time.Millisecond)
		if !child.alive() {
			crashed(round)
		}
	}
	t.Logf("%d rounds of %d stalled subscribers", rounds, streams)
	// Still serving.
	c, err := stalledSSE(child.addr, liveToken, wsQuery)
	if err != nil {
		crashed(rounds + 1)
		t.Fatal(err)
	}
	reset(c)
}
