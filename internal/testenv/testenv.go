// Package testenv holds helpers for tests that need something outside Go
// (a browser, redis-server, Node and npm packages). Outside CI a missing
// dependency skips the test with a reason; under CI=true it fails it, so CI
// can never pass by silently running nothing.
//
// Skips are easy to miss: `go test ./...` hides the output of passing
// packages. A package whose tests can skip therefore calls Main from its
// TestMain, which prints one line after the run naming everything the suite
// is missing and the command that installs it (see Main).
package testenv

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// InstallCommand installs, without root, what skipped tests need (the npm
// packages), and says how to get chromium and redis-server.
const InstallCommand = "bash scripts/dev-deps.sh"

// Dep is something outside Go that some tests need.
type Dep struct {
	// Name is how the skip summary names it.
	Name string
	// present reports, without a test, whether the dependency is there; the
	// summary uses it to name everything missing, not only what this package
	// happened to need.
	present func(root string) bool
}

// The dependencies of the suite. Adding a test that needs something new
// means adding it here, so the summary and scripts/dev-deps.sh stay complete.
var (
	Chromium = &Dep{Name: "chromium", present: func(string) bool { return lookAny(chromiumNames...) != "" }}
	Redis    = &Dep{Name: "redis-server", present: func(string) bool { return lookAny("redis-server") != "" }}
	// NodePackages are Node itself and the npm installs of NodeDirs.
	NodePackages = &Dep{Name: "node packages", present: func(root string) bool {
		if lookAny("node", "nodejs") == "" || root == "" {
			return false
		}
		for _, d := range NodeDirs {
			if _, err := os.Stat(filepath.Join(root, d, "node_modules")); err != nil {
				return false
			}
		}
		return true
	}}
	deps = []*Dep{Chromium, NodePackages, Redis}
)

// NodeDirs are the directories with a package-lock.json that tests need
// installed (npm ci --prefix DIR), relative to the module root.
var NodeDirs = []string{"web/playground", "tests/apollo-client", "tests/urql", "tests/relay", "tests/graphql-http", "tests/live-clients", "tests/codegen"}

var chromiumNames = []string{"chromium", "chromium-browser"}

// InCI reports whether the tests run under CI (CI=true).
func InCI() bool { return os.Getenv("CI") == "true" }

var (
	mu      sync.Mutex
	skipped = map[*Dep]int{}
)

// Missing stops the test because dep is unavailable: a skip on a developer
// machine, a failure in CI. what says precisely what is missing (a program,
// a file); err, when not nil, is why.
func Missing(t testing.TB, dep *Dep, what string, err error) {
	t.Helper()
	reason := what
	if err != nil {
		reason += ": " + err.Error()
	}
	if InCI() {
		t.Fatalf("%s is required under CI=true but unavailable (%s)", dep.Name, reason)
	}
	mu.Lock()
	skipped[dep]++
	mu.Unlock()
	noCache()
	t.Skipf("%s unavailable (%s); `%s` installs it or says how", dep.Name, reason, InstallCommand)
}

// LookPath returns the path of the first of names on PATH, or stops the test
// via Missing.
func LookPath(t testing.TB, dep *Dep, names ...string) string {
	t.Helper()
	if p := lookAny(names...); p != "" {
		return p
	}
	Missing(t, dep, strings.Join(names, " or ")+" not on PATH", nil)
	return ""
}

// LookChromium returns the path of Chromium, or stops the test via Missing.
func LookChromium(t testing.TB) string {
	t.Helper()
	return LookPath(t, Chromium, chromiumNames...)
}

func lookAny(names ...string) string {
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	return ""
}

// StampFile is written in the module root (and ignored by git) whenever a
// test skips; see noCache.
const StampFile = ".testenv-skipped"

// noCache keeps go test from caching a run that skipped: a cached result
// replays no output, so the next `go test ./...` would show no summary. go
// test refuses to cache a run that opened a file inside the module modified
// less than two seconds before the run ended, which this write is.
func noCache() {
	if root := moduleRoot(); root != "" {
		_ = os.WriteFile(filepath.Join(root, StampFile), []byte(time.Now().Format(time.RFC3339Nano)+"\n"), 0o644)
	}
}

// Main runs the package's tests (call it from TestMain) and, when any test
// skipped for a missing dependency, prints one line naming every dependency
// of the suite that is missing and the command that installs it.
//
// go test hides what a passing package prints unless run with -v, so on
// Linux the line goes to the go command's own standard output. When that is
// a regular file (go test ./... > out.txt), a write of ours now would be
// overwritten, since the go command writes at its own offset: a child
// process appends the line once the go command has exited. Of the packages
// one go command runs, only the first to finish with a skip prints; it
// names everything, so the line appears once.
func Main(m *testing.M) {
	if pid, line := os.Getenv(appendPIDEnv), os.Getenv(appendLineEnv); pid != "" {
		appendWhenGone(pid, line) // this process is that child
		os.Exit(0)
	}
	code := m.Run()
	mu.Lock()
	n := len(skipped)
	mu.Unlock()
	if n > 0 {
		printSummary()
	}
	os.Exit(code)
}

func printSummary() {
	root := moduleRoot()
	var missing []string
	for _, d := range deps {
		if !d.present(root) {
			missing = append(missing, d.Name)
		}
	}
	if len(missing) == 0 { // installed while the tests ran
		return
	}
	line := fmt.Sprintf("SKIPPED: tests that need %s; install with `%s` (go test -v lists the skips; CI=true fails them)\n",
		strings.Join(missing, ", "), InstallCommand)
	w, claimed := goCommandOutput(line)
	if !claimed {
		return // another package of this go test run has printed it
	}
	if w == nil {
		return // a child appends it
	}
	_, _ = io.WriteString(w, line)
	if c, ok := w.(io.Closer); ok && w != os.Stdout {
		_ = c.Close()
	}
}

// goCommandOutput is where the summary should go, and whether this process
// is the one to print it; nil when a child will append line after the go
// command has exited.
func goCommandOutput(line string) (io.Writer, bool) {
	ppid := os.Getppid()
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", ppid))
	if err != nil || strings.TrimSuffix(filepath.Base(exe), ".exe") != "go" {
		return os.Stdout, true // not run by go test (or not Linux)
	}
	marker := filepath.Join(os.TempDir(), fmt.Sprintf("seatable-graphql-skips-%d", ppid))
	clearStaleMarkers()
	f, err := os.OpenFile(marker, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, false
		}
		return os.Stdout, true
	}
	_ = f.Close()
	if v := flagValue("test.v"); v != "" && v != "false" {
		return os.Stdout, true // -v and -json show our output
	}
	path := fmt.Sprintf("/proc/%d/fd/1", ppid)
	fi, err := os.Stat(path)
	if err != nil {
		return os.Stdout, true
	}
	if fi.Mode().IsRegular() {
		if appendAfterExit(ppid, path, line) != nil {
			return os.Stdout, true
		}
		return nil, true
	}
	out, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return os.Stdout, true
	}
	return out, true
}

// The environment of the child that appends the summary (see Main).
const (
	appendPIDEnv  = "SEATABLE_GRAPHQL_TESTENV_APPEND_AFTER"
	appendLineEnv = "SEATABLE_GRAPHQL_TESTENV_LINE"
)

// appendAfterExit starts this test binary again, detached from the go
// command's pipes, with path (the go command's standard output) open for
// appending as its file descriptor 3; it appends line once process goPID
// has exited.
func appendAfterExit(goPID int, path, line string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command(exe)
	// No stdin, stdout or stderr: the go command waits until the test
	// binary's output pipe closes, which a child holding it would delay.
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d", appendPIDEnv, goPID), appendLineEnv+"="+line)
	cmd.ExtraFiles = []*os.File{f}
	if err := cmd.Start(); err != nil {
		return err
	}
	return cmd.Process.Release()
}

// appendWhenGone waits (at most an hour) until process pid has exited, then
// appends line to file descriptor 3.
func appendWhenGone(pid, line string) {
	for deadline := time.Now().Add(time.Hour); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat("/proc/" + pid); errors.Is(err, os.ErrNotExist) {
			break
		}
	}
	out := os.NewFile(3, "go test output")
	_, _ = io.WriteString(out, line)
	_ = out.Close()
}

// clearStaleMarkers removes the markers of go commands that have ended.
func clearStaleMarkers() {
	old, _ := filepath.Glob(filepath.Join(os.TempDir(), "seatable-graphql-skips-*"))
	for _, m := range old {
		pid := strings.TrimPrefix(filepath.Base(m), "seatable-graphql-skips-")
		if _, err := os.Stat("/proc/" + pid); errors.Is(err, os.ErrNotExist) {
			_ = os.Remove(m)
		}
	}
}

// flagValue is the value of a parsed command-line flag ("" if undefined).
func flagValue(name string) string {
	if f := flag.Lookup(name); f != nil {
		return f.Value.String()
	}
	return ""
}

// moduleRoot is the directory holding go.mod, found upwards from the
// working directory (go test runs each package in its own directory).
func moduleRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}
