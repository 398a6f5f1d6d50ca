// Package graph is the GraphQL layer: the generated executor, the resolvers
// and the error presenter. Resolvers never read SeaTable themselves: they read
// through the per-request loaders in graph/loaders. Mutations write through
// Writer and then invalidate the loaders.
package graph

import (
	"context"
	"log/slog"

	"github.com/seatable-graphql/seatable-graphql/graph/live"
	"github.com/seatable-graphql/seatable-graphql/upstream"
)

//go:generate go tool gqlgen generate

// Writer is the part of the SeaTable client mutations need. Its write
// methods are never retried: each mutation is one write call.
//
// The Lister is here, and not only behind the loaders, because SeaTable
// addresses most writes by workspace id and base name: the read that maps
// a uuid to that name must see SeaTable's state now. The loaders may read
// through a cache, a coalesced call that started before the mutation, or
// another replica's Redis entry; after a rename made outside this server
// such a name can belong to another base, and the write would hit it.
type Writer interface {
	upstream.Lister
	CreateDTable(ctx context.Context, token string, in upstream.CreateDTable) (*upstream.DTable, error)
	UpdateDTable(ctx context.Context, token, workspaceID, name string, in upstream.UpdateDTable) (*upstream.DTable, error)
	DeleteDTable(ctx context.Context, token, workspaceID, name string) error
	CopyDTable(ctx context.Context, token, src, dst, name string) (*upstream.DTable, error)
	StarDTable(ctx context.Context, token, uuid string) error
	UnstarDTable(ctx context.Context, token, uuid string) error
}

var _ Writer = (*upstream.Client)(nil)

// Resolver is the root resolver. It holds no per-request or per-user state;
// that lives in the loaders on the request context.
type Resolver struct {
	// Writer performs mutations; nil makes every mutation fail as INTERNAL.
	Writer Writer
	// Live runs the pollers behind subscriptions; nil refuses every
	// subscription as INTERNAL.
	Live *live.Hub
	// MaxSubscriptionsPerConnection caps a WebSocket connection's
	// concurrent subscriptions; 0 is unlimited.
	MaxSubscriptionsPerConnection int
	// MaxNodeIDs caps the ids of one nodes(ids:) call; 0 is unlimited.
	MaxNodeIDs int
	// Log receives what goroutines of resolvers cannot return (a
	// subscription's panic); nil: dropped.
	Log *slog.Logger
}
