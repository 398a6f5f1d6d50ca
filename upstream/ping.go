package upstream

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
)

// Ping calls SeaTable's unauthenticated GET /api2/ping/, which answers
// "pong": it tells whether the server is reachable without using anyone's
// token. Failures are *apperr.Error like every other call. A probe is not
// retried: it should report what it sees now, quickly.
func (c *Client) Ping(ctx context.Context) error {
	return c.send(ctx, "", http.MethodGet, "api2/ping/", nil, nil, false, func(body io.Reader) error {
		var pong string
		if err := json.NewDecoder(io.LimitReader(body, 1<<10)).Decode(&pong); err != nil {
			return err
		}
		if pong != "pong" {
			return errors.New("SeaTable ping did not answer pong")
		}
		return nil
	})
}
