package upstream

// Names the external tests (package upstream_test) need and production
// code has no use for; this file is compiled only into tests.

// WithBackoff replaces the wait before each retry: tests make retries
// instant or deliberately longer than a deadline.
var WithBackoff = withBackoff

// ErrUnknownShape is what a body that is JSON but no known workspace list
// wraps.
var ErrUnknownShape = errUnknownShape

// StatusError is SeaTable's own account of a failure, kept for logs.
type StatusError = seatableStatus
