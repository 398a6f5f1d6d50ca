package upstream

import (
	"context"
	"encoding/json"
	"io"
	"net/http"

	"github.com/seatable-graphql/seatable-graphql/internal/apperr"
)

// Ping calls SeaTable's unauthenticated GET /api2/ping/, which answers
// "pong": it tells whether the server is reachable without using anyone's
// token. Failures are *apperr.Error like every other call.
func (c *Client) Ping(ctx context.Context) error {
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	u := c.base.JoinPath("api2", "ping") // JoinPath drops the trailing slash
	u.Path += "/"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return apperr.Wrap(apperr.Internal, "could not build upstream request", err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	resp, err := c.http.Do(req)
	if err != nil {
		return transportError(ctx, err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return statusError(resp, c.maxBytes, "")
	}
	var pong string
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<10)).Decode(&pong); err != nil || pong != "pong" {
		return &apperr.Error{Code: apperr.UpstreamBadResponse, Message: "SeaTable ping did not answer pong", UpstreamStatus: resp.StatusCode, Err: err}
	}
	return nil
}
