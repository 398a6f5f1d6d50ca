package testenv

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestMain(m *testing.M) { Main(m) }

// TestMissing runs helperMissing in a child process (this test binary
// again), without chromium, node or redis-server on PATH: on a laptop the
// test skips and the run ends with the summary naming all three; under
// CI=true the same test fails.
func TestMissing(t *testing.T) {
	for _, ci := range []string{"", "true"} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperMissing$", "-test.v")
		cmd.Env = append(os.Environ(), "TESTENV_HELPER=1", "PATH="+t.TempDir(), "CI="+ci)
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		failed := errors.As(err, &exit)
		if err != nil && !failed {
			t.Fatalf("CI=%q: %v", ci, err)
		}
		switch ci {
		case "":
			if failed || !strings.Contains(string(out), "--- SKIP: TestHelperMissing") ||
				!strings.Contains(string(out), "SKIPPED: tests that need chromium, node packages, redis-server; install with `bash scripts/dev-deps.sh`") {
				t.Errorf("without CI: want a skip and the summary, got %v:\n%s", err, out)
			}
		case "true":
			if !failed || !strings.Contains(string(out), "redis-server is required under CI=true but unavailable (redis-server not on PATH)") ||
				strings.Contains(string(out), "SKIPPED") {
				t.Errorf("CI=true: want a failure naming redis-server and no summary, got %v:\n%s", err, out)
			}
		}
	}
}

// TestHelperMissing is TestMissing's child; on its own it does nothing.
func TestHelperMissing(t *testing.T) {
	if os.Getenv("TESTENV_HELPER") != "1" {
		return
	}
	LookPath(t, Redis, "redis-server")
	t.Error("LookPath returned without redis-server on PATH")
}

// TestSummaryReachesAFile: go test ./... > out.txt must keep the SKIPPED
// line too. A real go command runs TestHelperMissing with its output in a
// regular file, and a PATH holding only go (no chromium, node or
// redis-server); the line must be in the file, once, after the go
// command's own lines, which must be intact.
func TestSummaryReachesAFile(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the summary finds the go command's output through /proc")
	}
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	bin := t.TempDir()
	if err := os.Symlink(goBin, filepath.Join(bin, "go")); err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(filepath.Join(t.TempDir(), "out.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd := exec.Command(goBin, "test", "-count=1", "-run=^TestHelperMissing$", ".")
	cmd.Env = append(os.Environ(), "TESTENV_HELPER=1", "PATH="+bin, "CI=", "CGO_ENABLED=0")
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		t.Fatalf("go test: %v", err)
	}
	const want = "SKIPPED: tests that need chromium, node packages, redis-server; install with `bash scripts/dev-deps.sh`"
	var got []byte
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if got, _ = os.ReadFile(out.Name()); strings.Contains(string(got), want) {
			break
		}
	}
	lines := strings.Split(strings.TrimSpace(string(got)), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "ok  \tgithub.com/seatable-graphql/seatable-graphql/internal/testenv\t") || !strings.HasPrefix(lines[1], want) {
		t.Errorf("go test > file wrote:\n%s\nwant the ok line, then %q", got, want)
	}
}
