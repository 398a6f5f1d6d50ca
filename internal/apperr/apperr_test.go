package apperr

import (
	"strings"
	"testing"
)

func TestEcho(t *testing.T) {
	for in, want := range map[string]string{
		"short":                    `"short"`,
		strings.Repeat("x", 40):    `"` + strings.Repeat("x", 40) + `"`,
		strings.Repeat("x", 100e3): `"` + strings.Repeat("x", 40) + `"…`,
		strings.Repeat("é", 30):    `"` + strings.Repeat("é", 20) + `"…`, // cut on a rune boundary
	} {
		if got := Echo(in); got != want {
			t.Errorf("Echo(%d bytes) = %s, want %s", len(in), got, want)
		}
	}
}
