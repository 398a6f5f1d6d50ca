// Package redistest runs a throwaway redis-server for tests: no
// persistence, a free loopback port, stopped when the test ends. Without
// redis-server the test is skipped on a laptop and fails under CI=true
// (internal/testenv).
package redistest

import (
	"bufio"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/seatable-graphql/seatable-graphql/internal/testenv"
)

// Server is a running redis-server.
type Server struct {
	URL  string
	Addr string
	cmd  *exec.Cmd
}

// Start runs redis-server and waits until it accepts connections.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := testenv.LookPath(t, testenv.Redis, "redis-server")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--loglevel", "notice", "--dir", t.TempDir())
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		testenv.Missing(t, testenv.Redis, "redis-server did not start", err)
	}
	s := &Server{URL: fmt.Sprintf("redis://127.0.0.1:%d/0", port), Addr: fmt.Sprintf("127.0.0.1:%d", port), cmd: cmd}
	t.Cleanup(s.Stop)
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(out)
		var log []string
		for sc.Scan() {
			log = append(log, sc.Text())
			if strings.Contains(sc.Text(), "Ready to accept connections") {
				ready <- nil
				for sc.Scan() { // keep draining so redis never blocks on its log
				}
				return
			}
		}
		ready <- fmt.Errorf("redis-server exited before it was ready: %s", strings.Join(log, "\n"))
	}()
	select {
	case err := <-ready:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("redis-server did not become ready in 20s")
	}
	return s
}

// StartWithClient runs redis-server (Start) and returns a client of it that
// fails fast (250 ms timeouts, no retries) once the server is stopped; the
// client is closed when the test ends.
func StartWithClient(t testing.TB) (*Server, *redis.Client) {
	t.Helper()
	srv := Start(t)
	o, err := redis.ParseURL(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.MaxRetries = 250*time.Millisecond, 250*time.Millisecond, 250*time.Millisecond, 0
	rc := redis.NewClient(o)
	t.Cleanup(func() { _ = rc.Close() })
	return srv, rc
}

// Stop kills the server (idempotent); tests use it to simulate Redis going down.
func (s *Server) Stop() {
	if s.cmd.Process != nil && s.cmd.ProcessState == nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
	}
}
