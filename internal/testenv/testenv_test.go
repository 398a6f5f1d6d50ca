package testenv

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
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
