package graph

import (
	"context"
	"errors"

	"github.com/99designs/gqlgen/graphql/handler/transport"
)

type initHookKey struct{}

// WithWebsocketInitHook returns ctx with f, which a WebSocket connection
// served with ctx calls once its connection_init was accepted, with the
// connection's context (its caller). f returning false refuses the
// connection after all (close code 4429): the HTTP layer counts
// connections per token and learns the token only then.
func WithWebsocketInitHook(ctx context.Context, f func(context.Context) bool) context.Context {
	return context.WithValue(ctx, initHookKey{}, f)
}

// afterInit calls the hook of WithWebsocketInitHook after init accepted a
// connection.
func afterInit(init transport.WebsocketInitFunc) transport.WebsocketInitFunc {
	return func(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error) {
		next, p, err := init(ctx, payload)
		if err != nil {
			return next, p, err
		}
		if f, ok := ctx.Value(initHookKey{}).(func(context.Context) bool); ok && !f(next) {
			return transport.WithWebsocketCloseCode(ctx, 4429), nil, errors.New("too many open subscription connections for this token")
		}
		return next, p, nil
	}
}
