package playground

import (
	"testing"

	"github.com/seatable-graphql/seatable-graphql/internal/testenv"
)

// TestMain prints one line after the run when tests skipped for want of
// something outside Go (internal/testenv.Main), since go test ./... hides
// the skips of passing packages.
func TestMain(m *testing.M) { testenv.Main(m) }
