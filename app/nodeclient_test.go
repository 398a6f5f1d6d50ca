package app

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/seatable-graphql/seatable-graphql/internal/testenv"
)

// nodeClient is one of the real-client test directories under tests/ (an
// npm project pinned by its package-lock.json) and the node to run it.
type nodeClient struct {
	t    *testing.T
	node string
	dir  string
}

// needNodeClient finds node and checks that tests/dir has pkgs installed:
// missing ones skip the test, or fail it under CI=true (testenv).
func needNodeClient(t *testing.T, dir, what string, pkgs ...string) nodeClient {
	t.Helper()
	c := nodeClient{t: t, node: testenv.LookPath(t, testenv.NodePackages, "node", "nodejs"), dir: filepath.Join("..", "tests", dir)}
	for _, pkg := range pkgs {
		if _, err := os.Stat(filepath.Join(c.dir, "node_modules", pkg, "package.json")); err != nil {
			testenv.Missing(t, testenv.NodePackages, what+" (npm ci --prefix "+c.dir+")", err)
		}
	}
	return c
}

// run runs node with args in the client's directory and env on top of the
// environment, logs its output, and fails the test if it fails or runs past
// timeout.
func (c nodeClient) run(timeout time.Duration, env []string, args ...string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.t.Context(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.node, args...)
	cmd.Dir = c.dir
	cmd.Env = append(os.Environ(), append(env, "NO_COLOR=1")...)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	c.t.Logf("node %v (%s):\n%s", args, time.Since(start).Round(time.Millisecond), out)
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			c.t.Fatalf("node %v failed with exit code %d", args, exit.ExitCode())
		}
		c.t.Fatalf("run node: %v", err)
	}
}
