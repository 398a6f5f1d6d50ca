package app

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/seatable-graphql/seatable-graphql/app/internal/readiness"
	"github.com/seatable-graphql/seatable-graphql/internal/apperr"
	"github.com/seatable-graphql/seatable-graphql/upstream"
)

// upstreamFailureLogger logs every failed SeaTable call with its cause
// (upstream.Cause: DNS, refused, TLS, an HTTP status at a path), so that a
// wrong SEATABLE_URL can be told from a SeaTable that is down. Failures
// that say SeaTable or its URL is wrong are warnings; those a caller
// causes (a bad token, a base it cannot see), a cancelled request or an
// open breaker (whose opening is logged once) are debug.
func upstreamFailureLogger(log *slog.Logger) func(ctx context.Context, endpoint string, err error) {
	return func(ctx context.Context, endpoint string, err error) {
		code := apperr.CodeOf(err)
		cause := upstream.Cause(err)
		level := slog.LevelDebug
		switch code {
		case apperr.UpstreamUnavailable, apperr.UpstreamTimeout, apperr.UpstreamBadResponse:
			level = slog.LevelWarn
		case apperr.NotFound:
			if upstream.WrongPath(err) {
				level = slog.LevelWarn
			}
		}
		if upstream.Quiet(err) {
			level = slog.LevelDebug
		}
		log.Log(ctx, level, "SeaTable call failed", "endpoint", endpoint, "code", string(code), "cause", cause)
	}
}

// pingAtStart logs, once, whether SeaTable answers GET /api2/ping/, so the
// first lines of the log say whether SEATABLE_URL works. It runs beside
// the start (SeaTable being slow must not delay serving); wait returns once
// it is done.
func pingAtStart(ctx context.Context, c *upstream.Client, log *slog.Logger) (wait func()) {
	var wg sync.WaitGroup
	wg.Go(func() {
		defer func() {
			if v := recover(); v != nil {
				log.Error("panic in the start-up ping", "panic", v)
			}
		}()
		ctx, cancel := context.WithTimeout(ctx, readiness.DefaultTimeout)
		defer cancel()
		start := time.Now()
		err := c.Ping(ctx)
		switch {
		case err == nil:
			log.Info("SeaTable answered GET /api2/ping/", "seatable", c.BaseURL(), "duration_ms", float64(time.Since(start).Microseconds())/1000)
		case errors.Is(ctx.Err(), context.Canceled):
			// Stopped before the answer: nothing to report.
		default:
			log.Warn("SeaTable did not answer GET /api2/ping/: every request will fail until it does",
				"seatable", c.BaseURL(), "cause", upstream.Cause(err))
		}
	})
	return wg.Wait
}
