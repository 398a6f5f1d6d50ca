// Package readiness answers "can this instance serve traffic?" for /readyz:
// it runs a check (is SeaTable reachable?) at most once per TTL, however
// often and however concurrently it is probed, so that probes from many
// orchestrator replicas never turn into load on SeaTable.
package readiness

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/seatable-graphql/seatable-graphql/internal/apperr"
)

// Defaults for a Probe.
const (
	DefaultTTL     = 5 * time.Second
	DefaultTimeout = 3 * time.Second
)

// Probe caches the result of check for TTL. The zero value is not usable;
// call New.
type Probe struct {
	check   func(context.Context) error
	TTL     time.Duration
	Timeout time.Duration    // bounds one check, whoever is waiting for it
	Now     func() time.Time // the clock; tests replace it
	// Describe, when set, says why a check failed after its code on the
	// 503 page ("DNS lookup failed: no such host"); it must name no URL,
	// token or upstream body.
	Describe func(error) string

	mu      sync.Mutex // held during a check: concurrent probes wait and share its result
	checked time.Time
	last    error
}

// New returns a probe running check, with the default TTL and timeout.
func New(check func(context.Context) error) *Probe {
	return &Probe{check: check, TTL: DefaultTTL, Timeout: DefaultTimeout, Now: time.Now}
}

// Check returns the last result if it is younger than TTL, otherwise runs
// the check. The check runs detached from ctx (bounded by Timeout) so one
// impatient prober cannot poison the cached result for the others.
func (p *Probe) Check(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.checked.IsZero() && p.Now().Sub(p.checked) < p.TTL {
		return p.last
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.Timeout)
	defer cancel()
	p.last = p.check(cctx)
	p.checked = p.Now()
	return p.last
}

// ServeHTTP answers 200 "ready" or 503 with a short reason (the error code
// and what Describe says, never an upstream URL or body).
func (p *Probe) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	err := p.Check(r.Context())
	if err == nil {
		_, _ = w.Write([]byte("ready\n"))
		return
	}
	w.WriteHeader(http.StatusServiceUnavailable)
	reason := string(apperr.CodeOf(err))
	if p.Describe != nil {
		if d := p.Describe(err); d != "" {
			reason += ": " + d
		}
	}
	_, _ = w.Write([]byte("not ready: SeaTable check failed: " + reason + "\n"))
}
