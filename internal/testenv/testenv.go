// Package testenv holds helpers for tests that need something outside Go
// (a browser, redis-server, Node). Outside CI a missing dependency skips the
// test with a reason; under CI=true it fails it, so CI can never pass by
// silently running nothing.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// InCI reports whether the tests run under CI (CI=true).
func InCI() bool { return os.Getenv("CI") == "true" }

// Missing stops the test because a dependency is unavailable: a skip on a
// developer machine, a failure in CI.
func Missing(t testing.TB, what string, err error) {
	t.Helper()
	if InCI() {
		t.Fatalf("%s is required under CI=true but unavailable: %v", what, err)
	}
	t.Skipf("%s unavailable (%v); install it to run this test (CI installs it in .ci/setup.d)", what, err)
}

// LookPath returns the path of an executable, or stops the test via Missing.
func LookPath(t testing.TB, names ...string) string {
	t.Helper()
	var lastErr error
	for _, n := range names {
		p, err := exec.LookPath(n)
		if err == nil {
			return p
		}
		lastErr = err
	}
	Missing(t, names[0], lastErr)
	return ""
}
